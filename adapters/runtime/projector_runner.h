#pragma once
// Runs the read-model projector over partitions of pulse.events: every event applied in log
// order, duplicates (same or older source than the last applied) dropped, the read-model writes
// and the new positions committed in one RocksDB WriteBatch, then the watermarks published.
// Owns one thread.
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "adapters/log/log.h"
#include "adapters/runtime/read_models.h"
#include "adapters/runtime/watermarks.h"
#include "adapters/runtime/worker.h"
#include "adapters/store/kv_store.h"

namespace pulse::runtime {

class ProjectorRunner {
 public:
  // `work`, when given, is notified after a batch that queued messages (gateway long polls);
  // `outbox` after a batch that wrote webhook outbox records (the dispatcher).
  ProjectorRunner(log::Log& log, store::KvStore& views, Watermarks& watermarks,
                  std::vector<Partition> partitions, Signal* work = nullptr,
                  Signal* outbox = nullptr);
  ~ProjectorRunner() { worker_.stop(); }

  Status start();
  void stop() { worker_.stop(); }

  // Events this process's decider has just appended to the embedded log. A small batch is
  // applied on the caller's thread when everything before it is applied, so a write handler is
  // woken by the decider's thread instead of waiting for this runner's too; a large one, or a
  // partition whose earlier events are not applied yet, is left to this runner's thread, which
  // reads it from the log (events apply in log order). Each event is applied once.
  void apply_appended(std::vector<log::StoredRecord> records);
  // Before start(), when apply_appended is handed every event appended to the partitions this
  // runner applies (one process on the embedded log, whose decider is their only writer): the
  // runner then reads the log only to catch up, at start and after apply_appended met a gap or
  // a failure, instead of waking for every append to find it applied already.
  void fed_by_appends() { fed_ = true; }

  // Waits until every owned partition has been applied up to the log's end as it is now.
  Status wait_caught_up(std::chrono::steady_clock::time_point deadline);

  // Applies everything up to the current end of the log, on the calling thread (replay); with
  // `until`, events that happened after it are read and not applied (the read models as of a
  // past moment). Returns the records read. Not to be mixed with start().
  Result<int64_t> catch_up(std::optional<TimePoint> until = std::nullopt);
  // The next event offset of each partition, as applied (metrics, /readyz). Thread-safe.
  std::map<int32_t, int64_t> applied_offsets() {
    std::lock_guard lock(applied_mu_);
    return applied_;
  }
  // The next event offset of one partition as applied, nullopt when this runner does not own
  // it: it moves whenever the partition's read models change (PageCache's version).
  std::optional<int64_t> applied_offset(Partition p) {
    std::lock_guard lock(applied_mu_);
    auto it = applied_.find(p.value);
    if (it == applied_.end()) return std::nullopt;
    return it->second;
  }
  // Events applied so far (duplicates and events after `until` are not).
  int64_t applied() const { return applied_events_; }

 private:
  // Per partition, where reading the events topic ends for now: its end offset, or, for a
  // partition not read that far (`next` below it), one past its last record: on Kafka the
  // offsets after the last event may be transaction markers, which no reader returns.
  Result<std::map<int32_t, int64_t>> ends(const std::map<int32_t, int64_t>& next);
  Status load_positions();
  // A reader from the positions applied (process_mu_ held).
  Status open_reader();
  // fed_: waits (up to kPoll) for apply_appended to report events it could not apply; true when
  // there are some, then read from the log by the caller.
  bool wait_until_behind();
  // From apply_appended: the log holds events it did not apply; wakes the runner's thread.
  void report_behind();
  void step();
  Status process(std::vector<log::StoredRecord>& batch);
  // process_mu_ held: drops the records before each partition's next offset (applied already).
  void drop_applied(std::vector<log::StoredRecord>& batch) const;

  log::Log& log_;
  store::KvStore& views_;
  Watermarks& watermarks_;
  Signal* work_;
  Signal* outbox_;
  std::optional<TimePoint> until_;  // catch_up's filter
  int64_t applied_events_ = 0;
  const std::vector<Partition> partitions_;
  // The worker thread and apply_appended's caller take turns applying: process_mu_ guards
  // positions_ and every read-model write.
  std::mutex process_mu_;
  std::map<int32_t, ProjectorPosition> positions_;
  std::mutex applied_mu_;
  std::condition_variable applied_cv_;
  std::map<int32_t, int64_t> applied_;  // next offset per partition, for wait_caught_up
  std::unique_ptr<log::Reader> reader_;
  size_t first_read_ = 0;  // open_reader's first partition (an index into partitions_)
  bool fed_ = false;
  std::atomic<bool> behind_{true};  // fed_: the log may hold events not applied yet
  Signal behind_signal_;
  Worker worker_;
};

}  // namespace pulse::runtime
