#include "adapters/runtime/ticker.h"

#include "adapters/codec/json_codec.h"
#include "adapters/runtime/logging.h"
#include "domain/commands.h"
#include "domain/ids.h"

namespace pulse::runtime {

Ticker::Ticker(log::Log& log, Deadlines& deadlines, const TimeSource& clock, RandomSource& random,
               Millis period)
    : log_(log), deadlines_(deadlines), clock_(clock), random_(random), period_(period) {
  for (int32_t p = 0; p < deadlines_.partitions(); ++p) keys_[p] = key_for(log_, Partition{p});
}

std::string Ticker::key_for(const log::Log& log, Partition p) {
  for (int n = 0;; ++n) {
    auto key = "tick-" + std::to_string(n);
    if (log.partition_for(key) == p) return key;
  }
}

void Ticker::start() {
  worker_.start([this] { step(); });
}

void Ticker::step() {
  const auto now = clock_.now();
  for (const auto& [p, key] : keys_) {
    const auto due = deadlines_.get(Partition{p});
    if (!due || *due > now) continue;
    // At most one tick per period and partition: the decider needs a moment to act on it.
    if (auto last = last_.find(p); last != last_.end() && now - last->second < period_) continue;
    const CommandEnvelope cmd{CommandId{make_id(id_prefix::command, now, random_.next())}, OrgId{},
                              now, ClockTick{p}};
    const log::Record record{key, codec::encode(cmd)};
    if (auto st = log_.append(log::kCommandsTopic, std::span(&record, 1)); !st) {
      log_line("ticker", "{}: {}", st.error().message, st.error().details);
      continue;
    }
    last_[p] = now;
  }
  worker_.pause(period_ / 2);
}

}  // namespace pulse::runtime
