#include "adapters/webhooks/delivery_replica.h"

#include <charconv>

#include "adapters/codec/json_codec.h"
#include "adapters/runtime/logging.h"
#include "adapters/webhooks/delivery_store.h"
#include "domain/webhooks.h"
#include "fmt/format.h"

namespace pulse::webhooks {
namespace {

constexpr size_t kBatch = 512;
constexpr std::chrono::milliseconds kPoll{200};

std::vector<store::WriteOp> with_offset(std::vector<store::WriteOp> ops, Partition p, Offset at) {
  ops.push_back({keys::applied(p.value), std::to_string(at.value)});
  return ops;
}

}  // namespace

DeliveryReplica::DeliveryReplica(log::Log& log, store::KvStore& kv, int32_t partitions)
    : log_(log), kv_(kv), partitions_(partitions), next_(partitions, 0), own_(partitions, -1) {}

DeliveryReplica::~DeliveryReplica() {
  stop();
}

Status DeliveryReplica::start() {
  std::vector<log::Assignment> from;
  {
    std::lock_guard lock(mu_);
    for (int32_t p = 0; p < partitions_; ++p) {
      auto raw = kv_.get(keys::applied(p));
      if (!raw) return raw.error();
      int64_t last = -1;
      if (*raw) std::from_chars((*raw)->data(), (*raw)->data() + (*raw)->size(), last);
      next_[p] = last + 1;
      own_[p] = last;
      from.push_back({Partition{p}, Offset{next_[p]}});
    }
    stopping_ = false;
  }
  auto reader = log_.reader(log::kDeliveriesTopic, std::move(from));
  if (!reader) return reader.error();
  reader_ = std::move(reader).value();
  worker_.start([this] { step(); });
  return ok_status();
}

void DeliveryReplica::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  applied_cv_.notify_all();
  worker_.stop();
  reader_.reset();
}

Offset DeliveryReplica::next(Partition p) const {
  std::lock_guard lock(mu_);
  return Offset{next_.at(p.value)};
}

bool DeliveryReplica::wait_applied(Partition p, Offset offset,
                                   std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  return applied_cv_.wait_until(lock, deadline, [&] {
    return stopping_ || next_.at(p.value) >= offset.value;
  }) && !stopping_;
}

Status DeliveryReplica::apply_own(Partition p, Offset at, const std::vector<store::WriteOp>& ops) {
  std::lock_guard lock(mu_);
  if (auto st = kv_.write(with_offset(ops, p, at)); !st) return st;
  own_.at(p.value) = std::max(own_.at(p.value), at.value);
  return ok_status();
}

Status DeliveryReplica::apply(const log::StoredRecord& r) {
  std::lock_guard lock(mu_);
  const auto p = r.partition.value;
  if (p < 0 || p >= partitions_) return ok_status();
  if (r.offset.value > own_[p]) {
    // Not written here: a record of another node (or of this one before a restart).
    auto changes = codec::decode<DeliveryChanges>(r.value);
    if (!changes) {
      return Error{Errc::internal, "Delivery log corrupt",
                   fmt::format("{}/{} at offset {}: {}", log::kDeliveriesTopic, p, r.offset.value,
                               changes.error().details)};
    }
    std::vector<store::WriteOp> ops;
    ops.reserve(changes->writes.size() + 1);
    for (auto& w : changes->writes) ops.push_back({std::move(w.key), std::move(w.value)});
    if (auto st = kv_.write(with_offset(std::move(ops), r.partition, r.offset)); !st) return st;
  }
  next_[p] = std::max(next_[p], r.offset.value + 1);
  return ok_status();
}

void DeliveryReplica::step() {
  auto records = reader_->poll(kBatch, kPoll);
  if (!records) {
    runtime::log_line("webhooks", "delivery log replica: {}: {}", records.error().message,
                      records.error().details);
    worker_.pause(std::chrono::seconds(1));
    return;
  }
  for (const auto& r : *records) {
    if (auto st = apply(r); !st) {
      // Applied up to here; the rest of the batch is read again from the store's offsets.
      runtime::log_line("webhooks", "delivery log replica: {}: {}", st.error().message,
                        st.error().details);
      worker_.pause(std::chrono::seconds(1));
      std::vector<log::Assignment> from;
      {
        std::lock_guard lock(mu_);
        for (int32_t p = 0; p < partitions_; ++p) from.push_back({Partition{p}, Offset{next_[p]}});
      }
      if (auto reader = log_.reader(log::kDeliveriesTopic, std::move(from)))
        reader_ = std::move(reader).value();
      return;
    }
  }
  if (!records->empty()) applied_cv_.notify_all();
}

}  // namespace pulse::webhooks
