#pragma once
// The simulated phone's decisions, as pure functions of time and a seeded RNG: what the device
// does next (heartbeat, claim, report, wait, go dark), when each claimed message is "sent",
// which ones fail or get a delivery receipt, and how long to back off after an error. The HTTP
// side (adapters/gateway/simulator.cpp) only carries these decisions out, so tests drive them
// with a fake clock and no sockets.
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "adapters/gateway/protocol_json.h"
#include "domain/time.h"

namespace pulse::gateway {

// How the simulated phones behave (the --fail-rate, --*-delay-ms and --delivery-rate flags).
struct Behaviour {
  double fail_rate = 0.05;      // P(a message is reported failed instead of sent)
  Millis send_delay{200};       // per message, jittered ×[0.5, 1.5), one message after another
  Millis delivery_delay{1000};  // from sent to the delivery receipt, jittered the same way
  double delivery_rate = 1.0;   // P(a sent message gets a delivery receipt)
};

inline constexpr const char* kFailureError = "Generic failure";

// A seeded random stream whose values are the same on every platform (the standard
// distributions are not), so a --seed reproduces a run anywhere.
class SimRng {
 public:
  explicit SimRng(uint64_t seed) : engine_(seed) {}
  uint64_t next() { return engine_(); }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  bool chance(double p) { return uniform() < p; }
  Millis jitter(Millis base) {
    return Millis{static_cast<int64_t>(static_cast<double>(base.count()) * (0.5 + uniform()))};
  }

 private:
  std::mt19937_64 engine_;
};

// Device `index` (0-based) of a fleet run with `seed`: its outcome stream and its backoff
// stream are separate, so network trouble never changes which messages fail.
uint64_t outcome_seed(uint64_t seed, int index);
uint64_t backoff_seed(uint64_t seed, int index);

// "Sim Pixel <index+1>", a Pixel model, Android 13–15, `sims` SIMs (slot k: +16505<5+k>5<4 digits>;
// valid US numbers) on carriers; a function of the index and `sims` alone. Up to kMaxDevices
// distinct numbers per slot.
inline constexpr int kMaxDevices = 9999;
DeviceProfile device_profile(int index, int sims = 1);

// What one claim round becomes: the messages are sent one after another from `claimed_at`; the
// round's sent/failed reports go out together once the last one is sent, its delivery receipts
// together once the last receipt has arrived. Each report's `at` is its own event's time.
struct PlannedRound {
  TimePoint sends_done;
  std::vector<Report> outcomes;  // one per message: sent | failed
  TimePoint receipts_due;
  std::vector<Report> receipts;  // delivered, for some of the sent ones
};
// Draws exactly four numbers per message (send jitter, failure, receipt, receipt jitter), so
// changing one rate does not reshuffle the others' outcomes.
PlannedRound plan_round(std::span<const ClaimedMessage> messages, TimePoint claimed_at,
                        const Behaviour& b, SimRng& rng);

// Batches of reports waiting for their time.
class Outbox {
 public:
  void add(TimePoint due, std::vector<Report> reports);
  // Every report due at `now`, in due order, removed from the outbox.
  std::vector<Report> take_due(TimePoint now);
  std::optional<TimePoint> next_due() const;
  size_t size() const;  // reports waiting

 private:
  std::multimap<TimePoint, std::vector<Report>> batches_;
};

// Capped exponential backoff, 100 ms doubling to 5 s, each delay drawn in [d/2, d) so a fleet
// does not reconnect in lockstep after a server restart.
class Backoff {
 public:
  static constexpr Millis kFirst{100};
  static constexpr Millis kMax{5000};
  explicit Backoff(uint64_t seed) : rng_(seed) {}
  Millis next();
  void reset() { current_ = kFirst; }

 private:
  SimRng rng_;
  Millis current_ = kFirst;
};

struct ScheduleConfig {
  Behaviour behaviour;
  Millis heartbeat_interval{30'000};
  int batch = 10;
  int claim_wait_seconds = 20;          // the long poll's waitSeconds, at most
  std::optional<TimePoint> offline_at;  // stops heartbeating, claiming and reporting
  std::optional<TimePoint> silent_at;   // keeps claiming, stops reporting outcomes
};

inline constexpr int kMaxClaimWaitSeconds = 25;  // the protocol's cap
// A claim that came back empty in under this is not repeated before it has passed (a server
// that does not hold the poll, or --claim-wait 0, must not be hammered).
inline constexpr Millis kMinClaimInterval{1000};

// One device's next move.
struct Step {
  enum class Kind {
    go_offline,  // --offline-after passed: the phone is dead
    report,      // reports are due: take_due() and POST them
    withhold,    // reports are due but the phone is silent: take_due() and drop them
    heartbeat,   // a heartbeat is due
    claim,       // long-poll for work for up to `wait_seconds`
    wait,        // nothing to do before `until`
  };
  Kind kind = Kind::wait;
  TimePoint until{};
  int wait_seconds = 0;
};

// The device's timeline. Priorities: going dark, then due reports (outcomes must reach the
// server inside the lease), then a due heartbeat, then work. A phone sends one claimed batch
// at a time, so it claims again only once the current round is sent; a long poll never waits
// past the next due report or heartbeat (nor past --claim-wait), and when that is under a
// second away the device waits for it instead of polling.
class DeviceSchedule {
 public:
  DeviceSchedule(ScheduleConfig config, TimePoint start, uint64_t seed);

  Step next(TimePoint now) const;
  void heartbeat_done(TimePoint now) { next_heartbeat_ = now + config_.heartbeat_interval; }
  // Plans the batch a claim sent at `asked_at` brought back at `now`.
  void claimed(std::span<const ClaimedMessage> messages, TimePoint asked_at, TimePoint now);
  std::vector<Report> take_due(TimePoint now) { return outbox_.take_due(now); }
  // Reports whose POST failed: due again at once.
  void put_back(std::vector<Report> reports, TimePoint now);
  size_t pending_reports() const { return outbox_.size(); }
  const ScheduleConfig& config() const { return config_; }

 private:
  ScheduleConfig config_;
  SimRng rng_;
  TimePoint next_heartbeat_;
  TimePoint busy_until_;  // sending a round, or pausing after an empty claim: no claim before
  Outbox outbox_;
};

}  // namespace pulse::gateway
