#pragma once
// Deciding phone verification (domain/verify.h): opening a request and sending its code,
// resending it (throttled per number), checking codes (attempts counted, valid once) and
// cancelling. The code itself never reaches the decider: only its salted hash and the sealed SMS.
#include <vector>

#include "commands/decider.h"

namespace pulse::commands {

Result<std::vector<Event>> decide_verify(const DeciderConfig& config, const OrgState& org,
                                         const CommandEnvelope& env);
void evolve_verify(OrgState& org, const Event& event, TimePoint at);

}  // namespace pulse::commands
