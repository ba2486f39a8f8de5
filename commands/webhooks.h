#pragma once
// The webhook endpoints' decider: create, update, delete, rotate, ping, disable, redeliver,
// replay. Pure.
#include <optional>
#include <vector>

#include "commands/decider.h"

namespace pulse::commands {

// The decision for a webhook command (WebhookCommands).
Result<std::vector<Event>> decide_webhooks(const OrgState& org, const CommandEnvelope& cmd);
void evolve_webhooks(OrgState& org, const Event& event);

}  // namespace pulse::commands
