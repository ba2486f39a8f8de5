#pragma once
// The decider: a pure function (state, command) -> events | rejection, and evolve(state, event).
// One decider is the only writer for its partition, so its checks are consistent.
#include <cstdint>
#include <string>
#include <vector>

#include "domain/commands.h"
#include "domain/events.h"
#include "domain/result.h"

namespace pulse::commands {

// What the decider remembers of one organisation.
struct OrgState {
  static constexpr std::string_view kType = "OrgState";
  static constexpr int kVersion = 1;
  int64_t campaigns = 0;
  int64_t messages = 0;
  std::string month;           // "2026-11": the UTC month month_messages counts
  int64_t month_messages = 0;  // messages queued in that month
  auto operator<=>(const OrgState&) const = default;
};

struct DeciderConfig {
  int64_t monthly_sms_limit = 0;  // 0: unlimited (plans replace this per organisation)
};

// The events a command produces, in order, or why the decider refuses it.
Result<std::vector<Event>> decide(const DeciderConfig& config, const OrgState& state,
                                  const CommandEnvelope& cmd);

// Applies an event the decider produced to its state.
void evolve(OrgState& state, const Event& event, TimePoint at);

// "2026-11" for any time in November 2026 (UTC).
std::string utc_month(TimePoint t);

}  // namespace pulse::commands
