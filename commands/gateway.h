#pragma once
// The gateway part of the decider: pairing and registration, presence, work handed out under
// leases with per-device pacing and per-SIM daily caps, forward-only status reports, campaign
// completion, and the clock. Pure: time comes with the command.
#include <vector>

#include "commands/decider.h"

namespace pulse::commands {

Result<std::vector<Event>> decide_gateway(const DeciderConfig& config, const DeciderState& state,
                                          const CommandEnvelope& cmd);
// Applies a gateway event (a no-op for any other event).
void evolve_gateway(const DeciderConfig& config, OrgState& org, const Event& event, TimePoint at);

// Campaign ids of CampaignCompleted events for every running campaign whose messages are all
// finished.
std::vector<Event> completions(const OrgState& org);
// MessagesFailed (in events of at most kMaxMessagesPerEvent) for every message of campaign `q`
// that no device holds: those requeued, and those not yet handed out below index `end`.
std::vector<Event> fail_unclaimed(const std::string& campaign, const CampaignQueue& q, int32_t end,
                                  TimePoint at, std::string_view why);

std::string utc_day(TimePoint t);

}  // namespace pulse::commands
