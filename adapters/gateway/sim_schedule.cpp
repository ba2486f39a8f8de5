#include "adapters/gateway/sim_schedule.h"

#include <algorithm>
#include <array>
#include <cassert>

#include "fmt/format.h"

namespace pulse::gateway {

uint64_t outcome_seed(uint64_t seed, int index) {
  return seed + static_cast<uint64_t>(index);
}

uint64_t backoff_seed(uint64_t seed, int index) {
  // Any fixed bijection of the outcome seed gives an unrelated mt19937_64 stream.
  return (seed + static_cast<uint64_t>(index)) ^ 0x9e3779b97f4a7c15ULL;
}

DeviceProfile device_profile(int index, int sims) {
  assert(index >= 0 && index < kMaxDevices);
  static constexpr std::array<const char*, 5> kModels = {"Pixel 8", "Pixel 7a", "Pixel 8 Pro",
                                                         "Pixel 7", "Pixel 6a"};
  static constexpr std::array<const char*, 3> kOs = {"15", "14", "13"};
  static constexpr std::array<const char*, 4> kCarriers = {"T-Mobile", "AT&T", "Verizon",
                                                           "Google Fi"};
  const auto i = static_cast<size_t>(index);
  DeviceProfile p;
  p.device_name = fmt::format("Sim Pixel {}", index + 1);
  p.model = kModels[i % kModels.size()];
  p.os_version = kOs[i % kOs.size()];
  p.app_version = "1.4.2";
  // SIM k of phone i: +1 650 5<k>5 <i>, from the next carrier along.
  for (int k = 0; k < sims; ++k)
    p.sims.push_back(SimCard{k, fmt::format("+16505{}5{:04}", 5 + k, index + 1),
                             kCarriers[(i + static_cast<size_t>(k)) % 4]});
  return p;
}

PlannedRound plan_round(std::span<const ClaimedMessage> messages, TimePoint claimed_at,
                        const Behaviour& b, SimRng& rng) {
  PlannedRound r;
  TimePoint t = claimed_at;
  r.receipts_due = claimed_at;
  for (const auto& m : messages) {
    t += rng.jitter(b.send_delay);
    const bool failed = rng.chance(b.fail_rate);
    const bool receipt = rng.chance(b.delivery_rate);
    const TimePoint delivered_at = t + rng.jitter(b.delivery_delay);
    if (failed) {
      r.outcomes.push_back(Report{m.id, ReportStatus::failed, kFailureError, t});
      continue;
    }
    r.outcomes.push_back(Report{m.id, ReportStatus::sent, {}, t});
    if (receipt) {
      r.receipts.push_back(Report{m.id, ReportStatus::delivered, {}, delivered_at});
      r.receipts_due = std::max(r.receipts_due, delivered_at);
    }
  }
  r.sends_done = t;
  // A phone reports a message sent before it reports it delivered.
  r.receipts_due = std::max(r.receipts_due, r.sends_done);
  return r;
}

void Outbox::add(TimePoint due, std::vector<Report> reports) {
  if (!reports.empty()) batches_.emplace(due, std::move(reports));
}

std::vector<Report> Outbox::take_due(TimePoint now) {
  std::vector<Report> out;
  auto end = batches_.upper_bound(now);
  for (auto it = batches_.begin(); it != end; ++it)
    std::move(it->second.begin(), it->second.end(), std::back_inserter(out));
  batches_.erase(batches_.begin(), end);
  return out;
}

std::optional<TimePoint> Outbox::next_due() const {
  if (batches_.empty()) return std::nullopt;
  return batches_.begin()->first;
}

size_t Outbox::size() const {
  size_t n = 0;
  for (const auto& [due, reports] : batches_) n += reports.size();
  return n;
}

Millis Backoff::next() {
  const auto d = current_;
  current_ = std::min(current_ * 2, kMax);
  const auto half = d.count() / 2;
  return Millis{half +
                static_cast<int64_t>(rng_.uniform() * static_cast<double>(d.count() - half))};
}

DeviceSchedule::DeviceSchedule(ScheduleConfig config, TimePoint start, uint64_t seed)
    : config_(config), rng_(seed), next_heartbeat_(start), busy_until_(start) {}

Step DeviceSchedule::next(TimePoint now) const {
  using K = Step::Kind;
  if (config_.offline_at && now >= *config_.offline_at) return Step{K::go_offline};
  const auto due = outbox_.next_due();
  if (due && *due <= now) {
    const bool silent = config_.silent_at && now >= *config_.silent_at;
    return Step{silent ? K::withhold : K::report};
  }
  if (now >= next_heartbeat_) return Step{K::heartbeat};
  // The next moment something is due.
  TimePoint event = next_heartbeat_;
  if (due) event = std::min(event, *due);
  if (config_.offline_at) event = std::min(event, *config_.offline_at);
  if (now < busy_until_) return Step{K::wait, std::min(event, busy_until_)};
  const auto seconds = std::chrono::floor<std::chrono::seconds>(event - now).count();
  // Something is due within the second: claim without holding (an empty answer is not
  // repeated for kMinClaimInterval), so short heartbeat intervals never starve claiming.
  if (seconds < 1) return Step{K::claim, {}, 0};
  const int wait = std::clamp(config_.claim_wait_seconds, 0, kMaxClaimWaitSeconds);
  return Step{K::claim, {}, static_cast<int>(std::min<int64_t>(seconds, wait))};
}

void DeviceSchedule::claimed(std::span<const ClaimedMessage> messages, TimePoint asked_at,
                             TimePoint now) {
  if (messages.empty()) {
    busy_until_ = std::max(busy_until_, asked_at + kMinClaimInterval);
    return;
  }
  auto round = plan_round(messages, now, config_.behaviour, rng_);
  busy_until_ = round.sends_done;
  outbox_.add(round.sends_done, std::move(round.outcomes));
  outbox_.add(round.receipts_due, std::move(round.receipts));
}

void DeviceSchedule::put_back(std::vector<Report> reports, TimePoint now) {
  outbox_.add(now, std::move(reports));
}

}  // namespace pulse::gateway
