#include "adapters/runtime/decider_runner.h"

#include "adapters/codec/json_codec.h"
#include "adapters/runtime/logging.h"
#include "commands/gateway.h"
#include "fmt/format.h"

namespace pulse::runtime {
namespace {

constexpr size_t kBatch = 256;
constexpr auto kPoll = std::chrono::milliseconds(100);

std::string state_key(const std::string& org) {
  return "s/" + org;
}
std::string position_key(Partition p) {
  return fmt::format("_d/{:05}", p.value);
}

}  // namespace

DeciderRunner::DeciderRunner(log::Log& log, store::KvStore& state, commands::DeciderConfig config,
                             std::vector<Partition> partitions, Decisions& decisions,
                             Deadlines& deadlines)
    : log_(log),
      state_(state),
      config_(config),
      partitions_(std::move(partitions)),
      decisions_(decisions),
      deadlines_(deadlines),
      owned_(partitions_) {}

Status DeciderRunner::load_timers() {
  timers_.clear();
  deadline_of_.clear();
  std::set<int32_t> owned;
  for (auto p : partitions_) owned.insert(p.value);
  std::optional<Error> error;
  auto st = state_.scan("s/", "", false, [&](std::string_view k, std::string_view v) {
    const std::string key(k.substr(2));
    if (!owned.count(log_.partition_for(key).value)) return true;
    auto decoded = codec::decode_decider_state(v);
    if (!decoded) {
      error = decoded.error();
      return false;
    }
    reschedule(key, *decoded);
    return true;
  });
  if (!st) return st;
  if (error) return *error;
  publish_deadlines();
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

Status DeciderRunner::load_emitted() {
  // What pulse.events already holds: its last event per partition. Events re-derived after a
  // crash (or a failed commit) at or below it were appended before and are not appended again.
  emitted_.clear();
  for (auto p : partitions_) {
    auto end = log_.end_offset(log::kEventsTopic, p);
    if (!end) return end.error();
    if (end->value == 0) continue;
    auto reader = log_.reader(log::kEventsTopic, {{p, Offset{end->value - 1}}});
    if (!reader) return reader.error();
    auto last = (*reader)->poll(1, std::chrono::seconds(10));
    if (!last) return last.error();
    if (last->empty())
      return Error{Errc::unavailable, "Event log unavailable",
                   fmt::format("could not read the last event of partition {}", p.value)};
    auto event = codec::decode_event(last->front().value);
    if (!event) return event.error();
    emitted_[p.value] = event->source;
  }
  return ok_status();
}

Status DeciderRunner::start() {
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
  commands::DeciderState state;
  if (raw->has_value()) {
    auto decoded = codec::decode_decider_state(**raw);
    if (!decoded) return decoded.error();
    state = std::move(decoded).value();
  }
  return &cache_.emplace(key, std::move(state)).first->second;
}

void DeciderRunner::step() {
  auto batch = reader_->poll(kBatch, kPoll);
  Status st = batch ? process(*batch) : Status(batch.error());
  if (!st) {
    log_line("decider", "{}: {}; retrying", st.error().message, st.error().details);
    worker_.pause(std::chrono::milliseconds(500));
    // Start again from what is committed: the in-memory state may be ahead of it.
    while (!worker_.stopping()) {
      auto reopened = load_emitted();
      if (reopened) reopened = open_reader();
      if (reopened) reopened = load_timers();
      if (reopened) break;
      log_line("decider", "{}: {}; retrying", reopened.error().message, reopened.error().details);
      worker_.pause(std::chrono::seconds(1));
    }
  }
}

Status DeciderRunner::process(std::vector<log::StoredRecord>& batch) {
  if (batch.empty()) return ok_status();
  std::vector<log::Record> out;
  std::map<std::string, bool> dirty;
  std::map<int32_t, int64_t> next_offsets;
  std::vector<std::pair<LogPosition, bool>> decided;  // for the waiting write handlers
  std::map<int32_t, EventSource> appended_last;       // per partition, once `out` is appended
  for (auto& rec : batch) {
    next_offsets[rec.partition.value] = rec.offset.value + 1;
    auto cmd = codec::decode_command(rec.value);
    // (record key, event): a ClockTick makes events for many keys, any other command for its own.
    std::vector<std::pair<std::string, Event>> events;
    CommandEnvelope env;
    if (!cmd) {
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
    if (cmd && std::holds_alternative<ClockTick>(env.body)) {
      auto ticked = tick(rec.partition, env.at, dirty);
      if (!ticked) return ticked.error();
      events = std::move(ticked).value();
    } else {
      // The state is the log key's: an organisation's or a user's.
      auto state = state_of(rec.key);
      if (!state) return state.error();
      if (cmd) {
        auto result = commands::decide(config_, **state, env);
        if (result) {
          for (auto& e : *result) events.emplace_back(rec.key, std::move(e));
        } else {
          const auto& e = result.error();
          events.emplace_back(rec.key, CommandRejected{std::string(command_type(env.body)), e.code,
                                                       e.message, e.details});
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
      out.push_back(log::Record{key, codec::encode_event(ev)});
    }
    decided.emplace_back(LogPosition{rec.partition, rec.offset}, count > 0);
  }

  // The events first: once they are durable the state may follow; if we die in between, the
  // commands are decided again, to the same events, which are not appended twice.
  if (!out.empty()) {
    auto appended = log_.append(log::kEventsTopic, out);
    if (!appended) return appended.error();
    for (const auto& [p, source] : appended_last) emitted_[p] = source;
  }
  std::vector<store::WriteOp> ops;
  for (auto& [key, _] : dirty) ops.push_back({state_key(key), codec::encode(cache_.at(key))});
  for (auto& [p, next] : next_offsets)
    ops.push_back({position_key(Partition{p}), std::to_string(next)});
  if (auto st = state_.write(ops); !st) return st;
  for (const auto& [pos, produced] : decided)
    decisions_.record(pos.partition, pos.offset.value, produced);
  publish_deadlines();
  return ok_status();
}

}  // namespace pulse::runtime
