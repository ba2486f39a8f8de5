#include "adapters/runtime/projector_runner.h"

#include "adapters/codec/json_codec.h"
#include "adapters/runtime/logging.h"
#include "projections/read_model.h"

namespace pulse::runtime {
namespace {
constexpr size_t kBatch = 1024;
constexpr auto kPoll = std::chrono::milliseconds(100);
// apply_appended applies on the caller's thread only batches of events up to this size: a few
// commands' worth, whose latency one hand-off fewer shortens. Larger ones are applied here, in
// parallel with the decider's next batch (applying them inline cut bulk ingest by a third).
constexpr size_t kInlineBytes = 32 * 1024;
}  // namespace

ProjectorRunner::ProjectorRunner(log::Log& log, store::KvStore& views, Watermarks& watermarks,
                                 std::vector<Partition> partitions, Signal* work, Signal* outbox)
    : log_(log),
      views_(views),
      watermarks_(watermarks),
      work_(work),
      outbox_(outbox),
      partitions_(std::move(partitions)) {}

Status ProjectorRunner::load_positions() {
  ReadModels models(views_);
  positions_.clear();
  for (auto p : partitions_) {
    auto pos = models.position(p);
    if (!pos) return pos.error();
    positions_[p.value] = *pos;
    {
      std::lock_guard lock(applied_mu_);
      applied_[p.value] = pos->next_offset;
    }
    watermarks_.advance(p, pos->watermark);
  }
  return open_reader();
}

Status ProjectorRunner::open_reader() {
  // Each reader starts with the partition after the previous one's first: a reader fills a
  // batch partition by partition, and a fed runner opens one per catch-up, so a fixed order
  // would let a busy low partition keep the others from being read.
  std::vector<log::Assignment> assignments;
  const size_t n = partitions_.size();
  for (size_t i = 0; i < n; ++i) {
    const auto p = partitions_[(first_read_ + i) % n];
    assignments.push_back({p, Offset{positions_.at(p.value).next_offset}});
  }
  first_read_ = n ? (first_read_ + 1) % n : 0;
  auto reader = log_.reader(log::kEventsTopic, std::move(assignments));
  if (!reader) return reader.error();
  reader_ = std::move(reader).value();
  return ok_status();
}

bool ProjectorRunner::wait_until_behind() {
  const auto seen = behind_signal_.generation();
  if (behind_.exchange(false)) return true;
  if (behind_signal_.wait(seen, std::chrono::steady_clock::now() + kPoll))
    return behind_.exchange(false);
  // Quiet for a while: a look at the log's ends catches events that no one handed over (an
  // append apply_appended never saw); its cost is a lookup per partition every kPoll.
  std::map<int32_t, int64_t> applied;
  {
    std::lock_guard lock(applied_mu_);
    applied = applied_;
  }
  auto ends = this->ends(applied);
  if (!ends) return true;
  for (const auto& [p, end] : *ends)
    if (applied[p] < end) return true;
  return false;
}

void ProjectorRunner::report_behind() {
  behind_ = true;
  behind_signal_.notify();
}

Status ProjectorRunner::start() {
  if (auto st = load_positions(); !st) return st;
  worker_.start([this] { step(); });
  return ok_status();
}

void ProjectorRunner::step() {
  if (fed_) {
    if (!wait_until_behind()) return;
    // Read from where applying stands, to the end as it is: the events appended meanwhile are
    // apply_appended's, or reported again.
    Status opened = ok_status();
    {
      std::lock_guard lock(process_mu_);
      opened = open_reader();
    }
    if (!opened) {
      log_line("projector", "{}: {}; retrying", opened.error().message, opened.error().details);
      behind_ = true;
      worker_.pause(std::chrono::seconds(1));
      return;
    }
  }
  auto batch = reader_->poll(kBatch, fed_ ? std::chrono::milliseconds(0) : kPoll);
  if (fed_ && batch && batch->size() == kBatch) behind_ = true;  // more to read: come back
  Status st = ok_status();
  if (!batch) {
    st = batch.error();
  } else {
    std::lock_guard lock(process_mu_);
    drop_applied(*batch);
    st = process(*batch);
  }
  if (!st) {
    // An event this build can't read is not skipped: the projector stops here, says why,
    // and tries again (an upgrade fixes it) from what it committed.
    log_line("projector", "{}: {}; retrying", st.error().message, st.error().details);
    worker_.pause(std::chrono::seconds(1));
    while (!worker_.stopping()) {
      Status reloaded = ok_status();
      {
        std::lock_guard lock(process_mu_);
        reloaded = load_positions();
      }
      if (reloaded) break;
      log_line("projector", "{}: {}", reloaded.error().message, reloaded.error().details);
      worker_.pause(std::chrono::seconds(1));
    }
    behind_ = true;
  }
}

void ProjectorRunner::drop_applied(std::vector<log::StoredRecord>& batch) const {
  std::erase_if(batch, [&](const log::StoredRecord& r) {
    auto pos = positions_.find(r.partition.value);
    return pos != positions_.end() && r.offset.value < pos->second.next_offset;
  });
}

void ProjectorRunner::apply_appended(std::vector<log::StoredRecord> records) {
  size_t bytes = 0;
  for (const auto& r : records) bytes += r.value.size();
  // Bulk (a 500-recipient send's messages): this runner's thread reads them back from the log
  // while the decider goes on deciding; on two threads the two overlap.
  if (bytes > kInlineBytes) return report_behind();
  std::lock_guard lock(process_mu_);
  drop_applied(records);
  // A partition whose first remaining event is not the next one to apply waits for the reader.
  std::map<int32_t, bool> in_order;
  for (const auto& r : records) {
    auto pos = positions_.find(r.partition.value);
    in_order.try_emplace(r.partition.value,
                         pos != positions_.end() && r.offset.value == pos->second.next_offset);
  }
  const auto before = records.size();
  std::erase_if(records, [&](const log::StoredRecord& r) { return !in_order[r.partition.value]; });
  // A failure is the reader's to report and retry: it reads these events again.
  if (!process(records) || records.size() != before) report_behind();
}

Status ProjectorRunner::process(std::vector<log::StoredRecord>& batch) {
  if (batch.empty()) return ok_status();
  ReadModelBatch tx(views_);
  std::map<int32_t, ProjectorPosition> touched;
  std::optional<Error> stop;
  bool queued_work = false;
  for (auto& rec : batch) {
    auto event = codec::decode<EventEnvelope>(rec.value);
    if (!event) {
      stop = Error{event.error().code, event.error().message,
                   fmt::format("event {}@{}: {}", rec.partition.value, rec.offset.value,
                               event.error().details)};
      break;
    }
    auto& pos =
        touched.try_emplace(rec.partition.value, positions_.at(rec.partition.value)).first->second;
    pos.next_offset = rec.offset.value + 1;
    if (event->source.command.partition != rec.partition) {
      stop = Error{Errc::internal, "Partition mismatch",
                   fmt::format("event {}@{} comes from command partition {}: pulse.commands and "
                               "pulse.events must have the same partition count",
                               rec.partition.value, rec.offset.value,
                               event->source.command.partition.value)};
      break;
    }
    if (until_ && event->at > *until_) continue;           // after the moment asked for
    if (pos.last && event->source <= *pos.last) continue;  // a duplicate from a decider re-run
    projections::apply(tx, *event);
    ++applied_events_;
    queued_work = queued_work || std::holds_alternative<MessagesQueued>(event->body) ||
                  std::holds_alternative<MessagesRequeued>(event->body) ||
                  std::holds_alternative<CampaignStarted>(event->body) ||
                  std::holds_alternative<CampaignResumed>(event->body);
    pos.last = event->source;
    const bool command_done = event->source.index + 1 >= event->event_count;
    pos.watermark =
        std::max(pos.watermark, event->source.command.offset.value - (command_done ? 0 : 1));
  }
  for (auto& [p, pos] : touched) tx.put_position(Partition{p}, pos);
  if (!tx.overlay().empty()) {
    auto st = views_.write(tx.overlay().take());
    if (!st) return st;
  }
  {
    std::lock_guard lock(applied_mu_);
    for (auto& [p, pos] : touched) {
      positions_[p] = pos;
      applied_[p] = pos.next_offset;
      watermarks_.advance(Partition{p}, pos.watermark);
    }
  }
  applied_cv_.notify_all();
  if (queued_work && work_) work_->notify();
  if (tx.wrote_outbox() && outbox_) outbox_->notify();
  if (stop) return *stop;
  return ok_status();
}

Result<std::map<int32_t, int64_t>> ProjectorRunner::ends(const std::map<int32_t, int64_t>& next) {
  std::map<int32_t, int64_t> out;
  for (auto p : partitions_) {
    auto end = log_.end_offset(log::kEventsTopic, p);
    if (!end) return end.error();
    out[p.value] = end->value;
    auto n = next.find(p.value);
    if (n != next.end() && n->second >= end->value) continue;
    auto last = log_.last_record(log::kEventsTopic, p);
    if (!last) return last.error();
    out[p.value] = *last ? (*last)->offset.value + 1 : 0;
  }
  return out;
}

Status ProjectorRunner::wait_caught_up(std::chrono::steady_clock::time_point deadline) {
  std::map<int32_t, int64_t> applied;
  {
    std::lock_guard lock(applied_mu_);
    applied = applied_;
  }
  auto ends = this->ends(applied);
  if (!ends) return ends.error();
  std::unique_lock lock(applied_mu_);
  const bool done = applied_cv_.wait_until(lock, deadline, [&] {
    for (auto& [p, end] : *ends)
      if (applied_[p] < end) return false;
    return true;
  });
  if (!done)
    return Error{Errc::unavailable, "Read models are still catching up",
                 "the projector has not reached the end of the event log yet"};
  return ok_status();
}

Result<int64_t> ProjectorRunner::catch_up(std::optional<TimePoint> until) {
  until_ = until;
  if (auto st = load_positions(); !st) return st.error();
  std::map<int32_t, int64_t> next;
  for (auto p : partitions_) next[p.value] = positions_[p.value].next_offset;
  auto ends = this->ends(next);
  if (!ends) return ends.error();
  int64_t applied = 0;
  auto done = [&] {
    for (auto& [p, end] : *ends)
      if (positions_[p].next_offset < end) return false;
    return true;
  };
  while (!done()) {
    auto batch = reader_->poll(kBatch, std::chrono::seconds(5));
    if (!batch) return batch.error();
    applied += static_cast<int64_t>(batch->size());
    if (auto st = process(*batch); !st) return st.error();
  }
  return applied;
}

}  // namespace pulse::runtime
