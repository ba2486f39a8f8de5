#include "adapters/runtime/decider_runner.h"

#include <future>
#include <optional>

#include "adapters/codec/json_codec.h"
#include "adapters/runtime/logging.h"
#include "commands/gateway.h"
#include "fmt/format.h"

namespace pulse::runtime {
namespace {

constexpr size_t kBatch = 256;
constexpr auto kPoll = std::chrono::milliseconds(100);
constexpr auto kFlushInterval = std::chrono::milliseconds(1000);
constexpr size_t kMaxUnwritten = 4096;  // states

// An organisation's (or user's) state under s/<key>, without its campaign queues: each of those
// is under q/<key>/<campaign id>, written when it changes.
std::string state_key(const std::string& org) {
  return "s/" + org;
}
std::string queue_prefix(std::string_view key) {
  return fmt::format("q/{}/", key);
}
std::string position_key(Partition p) {
  return fmt::format("_d/{:05}", p.value);
}
// The end of pulse.events after this node's last append there: where catch_up starts reading.
std::string events_key(Partition p) {
  return fmt::format("_de/{:05}", p.value);
}

}  // namespace

DeciderRunner::DeciderRunner(log::Log& log, store::KvStore& state, commands::DeciderConfig config,
                             std::vector<Partition> partitions, Decisions& decisions,
                             Deadlines& deadlines, DeciderOptions options)
    : log_(log),
      state_(state),
      config_(config),
      options_(std::move(options)),
      partitions_(options_.group.empty() ? std::move(partitions) : std::vector<Partition>{}),
      decisions_(decisions),
      deadlines_(deadlines),
      owned_(partitions_) {}

Status DeciderRunner::load_timers() {
  timers_.clear();
  deadline_of_.clear();
  std::set<int32_t> owned;
  for (auto p : partitions_) owned.insert(p.value);
  std::optional<Error> error;
  // One state at a time (its queues' scan runs beside this one's iterator).
  auto st = state_.scan("s/", "", false, [&](std::string_view k, std::string_view v) {
    const std::string key(k.substr(2));
    if (!owned.count(log_.partition_for(key).value)) return true;
    auto state = load_state(key, std::string(v));
    if (!state) {
      error = state.error();
      return false;
    }
    reschedule(key, *state);
    return true;
  });
  if (!st) return st;
  if (error) return *error;
  publish_deadlines();
  return ok_status();
}

Result<commands::DeciderState> DeciderRunner::load_state(const std::string& key,
                                                         std::optional<std::string> raw) {
  commands::DeciderState state;
  if (!raw) {
    state.org.queues.written();  // nothing stored
    return state;
  }
  auto decoded = codec::decode<commands::DeciderState>(*raw);
  if (!decoded) return decoded.error();
  state = std::move(decoded).value();
  // Queues inline: a v1 state. They stay unwritten, so the next write moves them to their keys.
  if (!state.org.queues.empty()) return state;
  std::optional<Error> error;
  auto& queues = state.org.queues.mut();
  const auto prefix = queue_prefix(key);
  auto st = state_.scan(prefix, "", false, [&](std::string_view k, std::string_view v) {
    auto q = codec::decode<commands::CampaignQueue>(v);
    if (!q) {
      error = q.error();
      return false;
    }
    queues.emplace_hint(queues.end(), k.substr(prefix.size()), std::move(q).value());
    return true;
  });
  if (!st) return st.error();
  if (error) return *error;
  state.org.queues.written();
  return state;
}

Status DeciderRunner::stage_state(const std::string& key, commands::DeciderState& state,
                                  std::vector<store::WriteOp>& ops) {
  auto& queues = state.org.queues;
  const auto prefix = queue_prefix(key);
  if (queues.all_unwritten()) {
    auto st = state_.scan(prefix, "", false, [&](std::string_view k, std::string_view) {
      if (!queues.count(std::string(k.substr(prefix.size()))))
        ops.push_back({std::string(k), std::nullopt});
      return true;
    });
    if (!st) return st;
    for (const auto& [id, q] : queues) ops.push_back({prefix + id, codec::encode(q)});
  } else {
    for (const auto& id : queues.unwritten()) {
      auto q = queues.find(id);
      ops.push_back({prefix + id,
                     q == queues.end() ? std::nullopt : std::optional(codec::encode(q->second))});
    }
  }
  // The state itself without its queues (moved out and back: no copy).
  commands::CampaignQueues held = std::move(queues);
  queues = commands::CampaignQueues{};
  ops.push_back({state_key(key), codec::encode(state)});
  queues = std::move(held);
  return ok_status();
}

void DeciderRunner::reschedule(const std::string& key, const commands::DeciderState& state) {
  const auto p = log_.partition_for(key).value;
  if (auto old = deadline_of_.find(key); old != deadline_of_.end()) {
    timers_[p].erase({old->second, key});
    deadline_of_.erase(old);
  }
  if (auto next = commands::next_deadline(config_, state)) {
    const int64_t ms = to_unix_ms(*next);
    timers_[p].insert({ms, key});
    deadline_of_[key] = ms;
  }
}

void DeciderRunner::publish_deadlines() {
  for (auto p : partitions_) {
    auto& t = timers_[p.value];
    deadlines_.set(
        p, t.empty() ? std::nullopt : std::optional<TimePoint>(from_unix_ms(t.begin()->first)));
  }
}

Result<std::vector<std::pair<std::string, Event>>> DeciderRunner::tick(
    Partition p, TimePoint at, std::map<std::string, bool>& dirty) {
  std::vector<std::string> due;
  for (const auto& [ms, key] : timers_[p.value]) {
    if (ms > to_unix_ms(at)) break;
    due.push_back(key);
  }
  std::vector<std::pair<std::string, Event>> out;
  for (const auto& key : due) {
    auto state = state_of(key);
    if (!state) return state.error();
    for (auto& e : commands::decide_tick(config_, **state, at)) {
      commands::evolve(config_, **state, e, at);
      out.emplace_back(key, std::move(e));
    }
    reschedule(key, **state);
    dirty[key] = true;
  }
  return out;
}

Result<int64_t> DeciderRunner::committed_offset(Partition p) {
  auto raw = state_.get(position_key(p));
  if (!raw) return raw.error();
  if (!raw->has_value()) return int64_t{0};
  return std::stoll(**raw);
}

Status DeciderRunner::open_reader() {
  cache_.clear();
  if (!options_.group.empty()) {
    // Leave the group (if in it) and join again: the group assigns partitions in a poll.
    release(partitions_);
    reader_.reset();
    log::GroupHandlers handlers;
    handlers.assigned = [this](const std::vector<Partition>& ps) { return take_over(ps); };
    handlers.revoked = [this](const std::vector<Partition>& ps) { release(ps); };
    auto reader = log_.group_reader(log::kCommandsTopic, options_.group, std::move(handlers));
    if (!reader) return reader.error();
    reader_ = std::move(reader).value();
    return ok_status();
  }
  std::vector<log::Assignment> assignments;
  for (auto p : partitions_) {
    auto offset = committed_offset(p);
    if (!offset) return offset.error();
    assignments.push_back({p, Offset{*offset}});
  }
  auto reader = log_.reader(log::kCommandsTopic, std::move(assignments));
  if (!reader) return reader.error();
  reader_ = std::move(reader).value();
  return ok_status();
}

Status DeciderRunner::open_writers(const std::vector<Partition>& ps) {
  std::map<int32_t, std::unique_ptr<log::PartitionWriter>> writers;
  for (auto p : ps) {
    if (auto it = writers_.find(p.value); it != writers_.end()) {
      writers[p.value] = std::move(it->second);
      continue;
    }
    auto w = log_.partition_writer(log::kEventsTopic, p);
    if (!w) return w.error();
    writers[p.value] = std::move(w).value();
  }
  writers_ = std::move(writers);
  return ok_status();
}

Result<std::optional<EventEnvelope>> DeciderRunner::last_event(Partition p) {
  auto last = log_.last_record(log::kEventsTopic, p);
  if (!last) return last.error();
  if (!last->has_value()) return std::optional<EventEnvelope>{};
  auto event = codec::decode<EventEnvelope>((*last)->value);
  if (!event) return event.error();
  return std::optional<EventEnvelope>{std::move(event).value()};
}

Status DeciderRunner::load_emitted() {
  // What pulse.events already holds: its last event per partition. Events re-derived after a
  // crash (or a failed commit) at or below it were appended before and are not appended again.
  emitted_.clear();
  for (auto p : partitions_) {
    auto last = last_event(p);
    if (!last) return last.error();
    if (*last) emitted_[p.value] = (*last)->source;
  }
  return ok_status();
}

void DeciderRunner::set_owned() {
  std::lock_guard lock(owned_mu_);
  owned_ = partitions_;
}

Result<std::vector<log::Assignment>> DeciderRunner::take_over(const std::vector<Partition>& ps) {
  if (auto st = flush(); !st) return st.error();
  cache_.clear();
  // Fence the previous owners first: nothing of theirs is appended after catch_up's read.
  if (auto st = open_writers(ps); !st) return st.error();
  std::vector<log::Assignment> out;
  std::string names;
  for (auto p : ps) {
    auto next = catch_up(p);
    if (!next) return next.error();
    out.push_back({p, Offset{*next}});
    names += fmt::format("{}{}@{}", names.empty() ? "" : ", ", p.value, *next);
  }
  partitions_ = ps;
  set_owned();
  if (auto st = load_timers(); !st) return st.error();
  log_line("decider", "deciding partitions [{}] of {}", names, log::kCommandsTopic);
  return out;
}

void DeciderRunner::release(const std::vector<Partition>& ps) {
  // What the released partitions decided is written before another node takes them over (it
  // reads the event log, not this state, but this node may get them back later).
  if (auto st = flush(); !st) {
    log_line("decider", "{}: {}; decided again when taken back", st.error().message,
             st.error().details);
    discard_unwritten();
  }
  cache_.clear();
  for (auto p : ps) {
    deadlines_.set(p, std::nullopt);  // the new owner's ticker ticks it
    emitted_.erase(p.value);
    writers_.erase(p.value);
    if (auto t = timers_.find(p.value); t != timers_.end()) {
      for (const auto& [ms, key] : t->second) deadline_of_.erase(key);
      timers_.erase(t);
    }
    std::erase(partitions_, p);
  }
  set_owned();
  if (!ps.empty()) log_line("decider", "released {} partition(s)", ps.size());
}

Result<int64_t> DeciderRunner::catch_up(Partition p) {
  // The last event of the partition tells which command was decided last (every batch ends
  // with an event or a CommandDecided mark): that command, or the next one when all of its
  // events are in the log.
  // The end of what is read below: one past the last event (transaction markers may follow).
  auto last_rec = log_.last_record(log::kEventsTopic, p);
  if (!last_rec) return last_rec.error();
  const Offset end{*last_rec ? (*last_rec)->offset.value + 1 : 0};
  std::optional<EventEnvelope> last;
  if (*last_rec) {
    auto event = codec::decode<EventEnvelope>((*last_rec)->value);
    if (!event) return event.error();
    last = std::move(event).value();
  }
  if (last)
    emitted_[p.value] = last->source;
  else
    emitted_.erase(p.value);
  const bool last_complete = last && last->source.index + 1 >= last->event_count;
  const int64_t required =
      last ? last->source.command.offset.value + (last_complete ? 1 : 0) : int64_t{0};
  auto local = committed_offset(p);
  if (!local) return local.error();
  if (*local == required) {  // this node decided it last
    log_line("decider", "partition {}: resuming at command {}", p.value, required);
    return required;
  }

  // Commands below `decided` are in the stored state; evolve the events of the others.
  int64_t decided = *local;
  int64_t from = 0;
  std::vector<store::WriteOp> ops;
  if (*local < required) {
    auto raw = state_.get(events_key(p));
    if (!raw) return raw.error();
    if (raw->has_value()) from = std::stoll(**raw);
  } else {
    // Ahead of the log (its events were lost, or another cluster's): start from nothing.
    decided = 0;
    auto st = state_.scan("s/", "", false, [&](std::string_view k, std::string_view) {
      if (log_.partition_for(k.substr(2)) == p) ops.push_back({std::string(k), std::nullopt});
      return true;
    });
    if (!st) return st.error();
  }
  std::map<std::string, commands::DeciderState> states;
  for (const auto& op : ops) states[op.key.substr(2)] = commands::DeciderState{};
  int64_t evolved = 0;
  if (from < end.value) {
    auto reader = log_.reader(log::kEventsTopic, {{p, Offset{from}}});
    if (!reader) return reader.error();
    int64_t next = from;
    while (next < end.value) {
      auto batch = (*reader)->poll(1024, std::chrono::seconds(10));
      if (!batch) return batch.error();
      if (batch->empty())
        return Error{Errc::unavailable, "Event log unavailable",
                     fmt::format("partition {} stopped at {} of {}", p.value, next, end.value)};
      for (auto& rec : *batch) {
        next = rec.offset.value + 1;
        if (rec.offset.value >= end.value) break;
        auto event = codec::decode<EventEnvelope>(rec.value);
        if (!event) return event.error();
        const auto cmd = event->source.command.offset.value;
        if (cmd < decided || cmd >= required) continue;  // in the state / decided again
        if (std::holds_alternative<CommandDecided>(event->body)) continue;
        auto it = states.find(rec.key);
        if (it == states.end()) {
          auto raw = state_.get(state_key(rec.key));
          if (!raw) return raw.error();
          auto st = load_state(rec.key, std::move(raw).value());
          if (!st) return st.error();
          it = states.emplace(rec.key, std::move(st).value()).first;
        }
        commands::evolve(config_, it->second, event->body, event->at);
        ++evolved;
      }
    }
  }
  for (auto& [key, st] : states) {
    // A state started from nothing (ahead of the log) is unwritten whole: its stored queues go.
    if (auto staged = stage_state(key, st, ops); !staged) return staged.error();
  }
  ops.push_back({position_key(p), std::to_string(required)});
  ops.push_back({events_key(p), std::to_string(end.value)});
  if (auto st = state_.write(ops); !st) return st.error();
  log_line("decider", "partition {}: caught up from command {} to {} ({} events evolved)", p.value,
           decided, required, evolved);
  return required;
}

Status DeciderRunner::start() {
  if (options_.group.empty()) {
    if (auto st = open_writers(partitions_); !st) return st;
  }
  if (auto st = load_emitted(); !st) return st;
  if (auto st = open_reader(); !st) return st;
  if (auto st = load_timers(); !st) return st;
  worker_.start([this] { step(); });
  return ok_status();
}

Result<commands::DeciderState*> DeciderRunner::state_of(const std::string& key) {
  auto it = cache_.find(key);
  if (it != cache_.end()) return &it->second;
  auto raw = state_.get(state_key(key));
  if (!raw) return raw.error();
  auto state = load_state(key, std::move(raw).value());
  if (!state) return state.error();
  return &cache_.emplace(key, std::move(state).value()).first->second;
}

void DeciderRunner::step() {
  auto batch = reader_->poll(kBatch, kPoll);
  Status st = batch ? process(*batch) : Status(batch.error());
  if (!st) {
    log_line("decider", "{}: {}; retrying", st.error().message, st.error().details);
    worker_.pause(std::chrono::milliseconds(500));
    // Start again from what is committed: the in-memory state may be ahead of it.
    discard_unwritten();
    drop_fenced();
    while (!worker_.stopping()) {
      // A writer that failed may be left mid-transaction: open its partitions' writers again.
      Status reopened = ok_status();
      if (options_.group.empty()) {
        writers_.clear();
        reopened = open_writers(partitions_);
      }
      if (reopened) reopened = load_emitted();
      if (reopened) reopened = open_reader();
      if (reopened) reopened = load_timers();
      if (reopened) break;
      log_line("decider", "{}: {}; retrying", reopened.error().message, reopened.error().details);
      worker_.pause(std::chrono::seconds(1));
    }
  }
}

void DeciderRunner::drop_fenced() {
  if (fenced_.empty()) return;
  std::vector<Partition> ps;
  for (auto p : fenced_) ps.push_back(Partition{p});
  fenced_.clear();
  if (!options_.group.empty()) {
    // The group moved them (this node missed it): rejoining it (open_reader) releases them.
    log_line("decider", "fenced on {} partition(s): rejoining the group", ps.size());
    return;
  }
  // Explicit partitions: another process decides them now; taking them back would fence it in
  // turn. They stay with it until this process restarts.
  for (auto p : ps)
    log_line("decider", "partition {} fenced: another decider owns it; no longer deciding it",
             p.value);
  release(ps);
}

Status DeciderRunner::process(std::vector<log::StoredRecord>& batch) {
  if (batch.empty()) {
    // Idle: write what is pending once the interval has passed, so the stored offsets (and
    // the lag they show) catch up.
    if (std::chrono::steady_clock::now() - last_flush_ >= kFlushInterval) return flush();
    return ok_status();
  }
  std::vector<log::Record> out;
  std::map<std::string, bool> dirty;
  std::map<int32_t, int64_t> next_offsets;
  std::vector<std::pair<LogPosition, bool>> decided;  // for the waiting write handlers
  std::map<int32_t, EventSource> appended_last;       // per partition, once `out` is appended
  // Per partition, the batch's last command when it produced no events (mark_decided).
  std::map<int32_t, std::optional<EventEnvelope>> unmarked;
  for (auto& rec : batch) {
    next_offsets[rec.partition.value] = rec.offset.value + 1;
    auto cmd = codec::decode<CommandEnvelope>(rec.value);
    // (record key, event): a ClockTick makes events for many keys, any other command for its own.
    std::vector<std::pair<std::string, Event>> events;
    CommandEnvelope env;
    const bool decoded = cmd.ok();
    if (!decoded) {
      // A command this build can't read (corrupt, or from a newer version) is refused with
      // the reason in the log rather than misread.
      env.org = OrgId{rec.key};
      env.at = from_unix_ms(rec.timestamp_ms);
      events.emplace_back(rec.key, CommandRejected{"unknown", Errc::validation, cmd.error().message,
                                                   cmd.error().details});
      log_line("decider", "command {}@{} refused: {}: {}", rec.partition.value, rec.offset.value,
               cmd.error().message, cmd.error().details);
    } else {
      env = std::move(cmd).value();
    }
    if (decoded && std::holds_alternative<ClockTick>(env.body)) {
      auto ticked = tick(rec.partition, env.at, dirty);
      if (!ticked) return ticked.error();
      events = std::move(ticked).value();
    } else {
      // The state is the log key's: an organisation's or a user's.
      auto state = state_of(rec.key);
      if (!state) return state.error();
      if (decoded) {
        auto result = commands::decide(config_, **state, env);
        if (result) {
          for (auto& e : *result) events.emplace_back(rec.key, std::move(e));
        } else {
          const auto& e = result.error();
          events.emplace_back(
              rec.key, CommandRejected{std::string(command_type(env.body)), e.code, e.message,
                                       e.details, e.quota, e.retry_after});
        }
      }
      for (const auto& [key, e] : events) commands::evolve(config_, **state, e, env.at);
      reschedule(rec.key, **state);
      dirty[rec.key] = true;
    }
    const auto count = static_cast<int32_t>(events.size());
    auto emitted = emitted_.find(rec.partition.value);
    for (int32_t i = 0; i < count; ++i) {
      auto& [key, body] = events[static_cast<size_t>(i)];
      const OrgId org = std::holds_alternative<ClockTick>(env.body) ? OrgId{key} : env.org;
      EventEnvelope ev{
          EventSource{{rec.partition, rec.offset}, i}, env.id, org, env.at, count, std::move(body)};
      if (emitted != emitted_.end() && ev.source <= emitted->second) continue;
      appended_last[rec.partition.value] = ev.source;
      out.push_back(log::Record{key, codec::encode(ev)});
    }
    decided.emplace_back(LogPosition{rec.partition, rec.offset}, count > 0);
    auto& mark = unmarked[rec.partition.value];
    mark.reset();
    if (count == 0 && options_.mark_decided)
      mark = EventEnvelope{EventSource{{rec.partition, rec.offset}, 0},
                           env.id,
                           OrgId{rec.key},
                           env.at,
                           1,
                           CommandDecided{}};
  }
  for (auto& [p, mark] : unmarked) {
    if (!mark) continue;
    if (auto e = emitted_.find(p); e != emitted_.end() && mark->source <= e->second) continue;
    appended_last[p] = mark->source;
    out.push_back(log::Record{mark->org.value, codec::encode(*mark)});
  }

  std::map<int32_t, int64_t> events_end;  // per partition, after this batch's append
  // The events first: once they are durable the state may follow; if we die in between, the
  // commands are decided again, to the same events, which are not appended twice.
  // Each partition's events in one transaction of its writer (all or none visible). The
  // partitions' appends run side by side: Kafka commits the transactions in parallel, the
  // embedded log shares one sync among them.
  std::map<int32_t, std::vector<log::Record>> per_partition;
  for (auto& r : out) per_partition[log_.partition_for(r.key).value].push_back(std::move(r));
  std::vector<std::pair<int32_t, std::future<Result<std::vector<LogPosition>>>>> appends;
  for (auto& [p, records] : per_partition) {
    auto w = writers_.find(p);
    if (w == writers_.end())
      return Error{Errc::internal, "No event writer",
                   fmt::format("partition {} is decided without a writer", p)};
    log::PartitionWriter* writer = w->second.get();
    const auto how = per_partition.size() > 1 ? std::launch::async : std::launch::deferred;
    appends.emplace_back(
        p, std::async(how, [writer, &records = records] { return writer->append(records); }));
  }
  std::optional<Error> failed;
  std::vector<log::StoredRecord> durable;  // for options_.appended
  for (auto& [p, pending] : appends) {
    auto appended = pending.get();
    if (!appended) {
      if (appended.error().code == Errc::conflict) fenced_.insert(p);
      if (!failed) failed = appended.error();
      continue;
    }
    if (auto last = appended_last.find(p); last != appended_last.end()) emitted_[p] = last->second;
    for (const auto& pos : *appended) events_end[pos.partition.value] = pos.offset.value + 1;
    if (!options_.appended) continue;
    auto& records = per_partition[p];
    for (size_t i = 0; i < appended->size() && i < records.size(); ++i) {
      const auto& pos = (*appended)[i];
      durable.push_back(
          {pos.partition, pos.offset, 0, std::move(records[i].key), std::move(records[i].value)});
    }
  }
  if (failed) return *failed;
  if (!durable.empty()) options_.appended(std::move(durable));
  for (auto& [p, end] : events_end) unwritten_events_end_[p] = end;
  for (auto& [key, _] : dirty) unwritten_.insert(key);
  for (auto& [p, next] : next_offsets) unwritten_next_[p] = next;
  if (std::chrono::steady_clock::now() - last_flush_ >= kFlushInterval ||
      unwritten_.size() >= kMaxUnwritten)
    if (auto st = flush(); !st) return st;
  for (const auto& [pos, produced] : decided)
    decisions_.record(pos.partition, pos.offset.value, produced);
  publish_deadlines();
  return ok_status();
}

Status DeciderRunner::flush() {
  last_flush_ = std::chrono::steady_clock::now();
  if (unwritten_.empty() && unwritten_next_.empty() && unwritten_events_end_.empty())
    return ok_status();
  std::vector<store::WriteOp> ops;
  for (auto& [p, end] : unwritten_events_end_)
    ops.push_back({events_key(Partition{p}), std::to_string(end)});
  for (const auto& key : unwritten_)
    if (auto st = stage_state(key, cache_.at(key), ops); !st) return st;
  for (auto& [p, next] : unwritten_next_)
    ops.push_back({position_key(Partition{p}), std::to_string(next)});
  if (auto st = state_.write(ops); !st) return st;
  for (const auto& key : unwritten_) cache_.at(key).org.queues.written();
  discard_unwritten();
  return ok_status();
}

void DeciderRunner::discard_unwritten() {
  unwritten_.clear();
  unwritten_next_.clear();
  unwritten_events_end_.clear();
}

void DeciderRunner::stop() {
  worker_.stop();
  if (auto st = flush(); !st)
    log_line("decider", "{}: {}; the unwritten states are decided again at the next start",
             st.error().message, st.error().details);
}

}  // namespace pulse::runtime
