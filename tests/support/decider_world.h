#pragma once
// One organisation's deciders driven by hand: each command is decided and its events evolved in
// order, time is a value the test passes, and every event is kept. Capability tests derive their
// own world from it and add the helpers they need.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "commands/decider.h"

namespace pulse::testing {

inline const TimePoint kT0 = from_unix_ms(1795329938000);  // 2026-11-22T06:05:38Z
inline const OrgId kOrg{"org_01m80zvb19jvjvzb"};

inline TimePoint at(int64_t seconds) {
  return kT0 + Millis{seconds * 1000};
}

inline DeviceId device(int i) {
  return DeviceId{make_id(id_prefix::device, kT0, static_cast<uint64_t>(i))};
}

struct DeciderWorld {
  commands::DeciderConfig config;
  commands::DeciderState state;
  std::vector<Event> log;  // every event, in order
  uint64_t issued = 0;     // commands run so far: their ids are unique

  DeciderWorld() {
    config.plans.free.monthly_sms = kUnlimited;
    state.org.exists = true;
  }

  Result<std::vector<Event>> run(Command c, TimePoint t) {
    const CommandEnvelope env{CommandId{make_id(id_prefix::command, t, issued++)}, kOrg, t,
                              std::move(c)};
    auto r = commands::decide(config, state, env);
    if (r)
      for (const auto& e : *r) {
        commands::evolve(config, state, e, t);
        log.push_back(e);
      }
    return r;
  }
  std::vector<Event> must(Command c, TimePoint t) {
    auto r = run(std::move(c), t);
    REQUIRE_MESSAGE(r.ok(), r.error().message, ": ", r.error().details);
    return std::move(r).value();
  }
  std::vector<Event> tick(TimePoint t) {
    auto events = commands::decide_tick(config, state, t);
    for (const auto& e : events) {
      commands::evolve(config, state, e, t);
      log.push_back(e);
    }
    return events;
  }
  std::vector<ClaimedMessage> claim(const DeviceId& d, int max, TimePoint t) {
    for (const auto& e : must(ClaimMessages{d, max}, t))
      if (auto* c = std::get_if<MessagesClaimed>(&e)) return c->messages;
    return {};
  }
  template <class E>
  int count() const {
    return static_cast<int>(std::count_if(
        log.begin(), log.end(), [](const Event& e) { return std::holds_alternative<E>(e); }));
  }
};

}  // namespace pulse::testing
