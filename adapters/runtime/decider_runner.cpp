#include "adapters/runtime/decider_runner.h"

#include "adapters/codec/json_codec.h"
#include "adapters/runtime/logging.h"
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
                             std::vector<Partition> partitions)
    : log_(log), state_(state), config_(config), partitions_(std::move(partitions)) {}

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

Status DeciderRunner::start() {
  // What pulse.events already holds: its last event per partition. Events re-derived after a
  // crash at or below it were appended before and are not appended again.
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
  if (auto st = open_reader(); !st) return st;
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
      auto reopened = open_reader();
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
  for (auto& rec : batch) {
    next_offsets[rec.partition.value] = rec.offset.value + 1;
    auto cmd = codec::decode_command(rec.value);
    std::vector<Event> events;
    CommandEnvelope env;
    if (!cmd) {
      // A command this build can't read (corrupt, or from a newer version) is refused with
      // the reason in the log rather than misread.
      env.org = OrgId{rec.key};
      env.at = from_unix_ms(rec.timestamp_ms);
      events.push_back(
          CommandRejected{"unknown", Errc::validation, cmd.error().message, cmd.error().details});
      log_line("decider", "command {}@{} refused: {}: {}", rec.partition.value, rec.offset.value,
               cmd.error().message, cmd.error().details);
    } else {
      env = std::move(cmd).value();
    }
    // The state is the log key's: an organisation's or a user's.
    auto state = state_of(rec.key);
    if (!state) return state.error();
    if (cmd) {
      auto decided = commands::decide(config_, **state, env);
      if (decided) {
        events = std::move(decided).value();
      } else {
        const auto& e = decided.error();
        events.push_back(
            CommandRejected{std::string(command_type(env.body)), e.code, e.message, e.details});
      }
    }
    const auto count = static_cast<int32_t>(events.size());
    auto emitted = emitted_.find(rec.partition.value);
    for (int32_t i = 0; i < count; ++i) {
      EventEnvelope ev{EventSource{{rec.partition, rec.offset}, i}, env.id, env.org, env.at, count,
                       std::move(events[static_cast<size_t>(i)])};
      commands::evolve(**state, ev.body, env.at);
      if (emitted != emitted_.end() && ev.source <= emitted->second) continue;
      out.push_back(log::Record{rec.key, codec::encode_event(ev)});
    }
    dirty[rec.key] = true;
  }

  // The events first: once they are durable the state may follow; if we die in between, the
  // commands are decided again, to the same events, which are not appended twice.
  if (!out.empty()) {
    auto appended = log_.append(log::kEventsTopic, out);
    if (!appended) return appended.error();
  }
  std::vector<store::WriteOp> ops;
  for (auto& [org, _] : dirty) ops.push_back({state_key(org), codec::encode(cache_.at(org))});
  for (auto& [p, next] : next_offsets)
    ops.push_back({position_key(Partition{p}), std::to_string(next)});
  return state_.write(ops);
}

}  // namespace pulse::runtime
