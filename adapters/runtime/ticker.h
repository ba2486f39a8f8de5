#pragma once
// The ticker: appends a ClockTick to a partition of pulse.commands when the decider has
// something due there (presence timeouts, lease ends, delivery windows, expiries), so that time
// enters the log as a command and replays stay deterministic. Owns one thread.
#include <map>
#include <string>

#include "adapters/log/log.h"
#include "adapters/runtime/watermarks.h"
#include "adapters/runtime/worker.h"
#include "domain/random.h"
#include "domain/time.h"

namespace pulse::runtime {

class Ticker {
 public:
  // `random` makes the ticks' command ids unique.
  Ticker(log::Log& log, Deadlines& deadlines, const TimeSource& clock, RandomSource& random,
         Millis period = Millis{250});
  ~Ticker() { worker_.stop(); }
  void start();
  void stop() { worker_.stop(); }

  // A record key that lands on partition `p` ("tick-<n>" for the first n that does).
  static std::string key_for(const log::Log& log, Partition p);

 private:
  void step();

  log::Log& log_;
  Deadlines& deadlines_;
  const TimeSource& clock_;
  RandomSource& random_;
  const Millis period_;
  std::map<int32_t, std::string> keys_;
  std::map<int32_t, TimePoint> last_;  // when a tick was last appended, per partition
  Worker worker_;
};

}  // namespace pulse::runtime
