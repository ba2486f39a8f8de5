#pragma once
// The decider: a pure function (state, command) -> events | rejection, and evolve(state, event).
// One decider is the only writer for its partition, so its checks are consistent. Its state is
// kept per log key: an organisation ("org_…") or a user ("user:<email>").
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "domain/commands.h"
#include "domain/events.h"
#include "domain/plans.h"
#include "domain/result.h"

namespace pulse::commands {

// What the decider remembers of one organisation.
struct OrgState {
  bool exists = false;
  Plan plan = Plan::free;
  std::set<std::string> api_keys;  // active key ids
  int64_t campaigns = 0;
  int64_t messages = 0;
  std::string month;           // "2026-11": the UTC month month_messages counts
  int64_t month_messages = 0;  // messages queued in that month
  auto operator<=>(const OrgState&) const = default;
};

// What the decider remembers of one user (keyed by e-mail).
struct UserState {
  bool registered = false;
  std::string user_id;
  int64_t organizations = 0;  // owned, the default one included
  auto operator<=>(const UserState&) const = default;
};

struct DeciderState {
  static constexpr std::string_view kType = "DeciderState";
  static constexpr int kVersion = 1;
  OrgState org;
  UserState user;
  auto operator<=>(const DeciderState&) const = default;
};

struct DeciderConfig {
  PlanTable plans;
};

// The events a command produces, in order, or why the decider refuses it.
Result<std::vector<Event>> decide(const DeciderConfig& config, const DeciderState& state,
                                  const CommandEnvelope& cmd);

// Applies an event the decider produced to its state.
void evolve(DeciderState& state, const Event& event, TimePoint at);

// "2026-11" for any time in November 2026 (UTC).
std::string utc_month(TimePoint t);

// Messages the organisation may still queue this month (kUnlimited when unlimited).
int64_t sms_remaining(const DeciderConfig& config, const OrgState& org, TimePoint at);

}  // namespace pulse::commands
