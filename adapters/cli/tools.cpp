// The operators' and analysts' tools: events, status, replay, dump.
#include <fcntl.h>
#include <simdjson.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "adapters/cli/args.h"
#include "adapters/codec/json_codec.h"
#include "adapters/codec/value_codec.h"
#include "adapters/runtime/projector_runner.h"
#include "adapters/runtime/read_models.h"
#include "adapters/runtime/watermarks.h"
#include "adapters/store/kv_store.h"
#include "adapters/webhooks/delivery_store.h"
#include "fmt/format.h"
#include "projections/read_model.h"

namespace pulse::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// ---- bounds: an offset (every partition), P:O,P:O… (per partition) or an ISO 8601 time ----

struct Bound {
  std::optional<int64_t> offset;  // the same offset in every partition
  std::map<int32_t, int64_t> per_partition;
  std::optional<TimePoint> time;

  bool empty() const { return !offset && per_partition.empty() && !time; }
  std::optional<int64_t> offset_of(int32_t p) const {
    if (auto it = per_partition.find(p); it != per_partition.end()) return it->second;
    return offset;
  }
};

std::optional<int64_t> parse_i64(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || v > (INT64_MAX - 9) / 10) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

Result<Bound> parse_bound(const Args& args, const std::string& name) {
  Bound b;
  if (!args.has(name)) return b;
  const auto s = args.get(name);
  const auto bad = [&] {
    return validation_error(
        fmt::format("Invalid {}", name),
        fmt::format("'{}': expected an offset (120), per-partition offsets (0:120,3:7) or an "
                    "ISO 8601 time (2026-11-15T10:00:00Z)",
                    s));
  };
  if (auto o = parse_i64(s)) {
    b.offset = *o;
    return b;
  }
  if (s.find('T') != std::string::npos) {
    auto t = parse_iso8601(s);
    if (!t) return bad();
    b.time = *t;
    return b;
  }
  size_t pos = 0;
  while (pos <= s.size()) {
    auto comma = s.find(',', pos);
    if (comma == std::string::npos) comma = s.size();
    const auto item = std::string_view(s).substr(pos, comma - pos);
    const auto colon = item.find(':');
    if (colon == std::string_view::npos) return bad();
    auto p = parse_i64(item.substr(0, colon));
    auto o = parse_i64(item.substr(colon + 1));
    if (!p || !o || *p > INT32_MAX) return bad();
    b.per_partition[static_cast<int32_t>(*p)] = *o;
    pos = comma + 1;
  }
  return b;
}

// ---- the envelope's header fields, read without parsing the whole event -----------------
// The encoder writes {"type","v","id","orgId","at","commandId","eventCount","data"} in this
// order; anything else falls back to a full parse.

struct Header {
  std::string_view type, org, at;
};

std::string_view string_field(std::string_view header, std::string_view name) {
  std::string pattern = fmt::format("\"{}\":\"", name);
  const auto at = header.find(pattern);
  if (at == std::string_view::npos) return {};
  const auto begin = at + pattern.size();
  const auto end = header.find('"', begin);
  if (end == std::string_view::npos) return {};
  return header.substr(begin, end - begin);
}

std::optional<Header> fast_header(std::string_view json) {
  const auto data = json.find(",\"data\":");
  if (!json.starts_with("{\"type\":\"") || data == std::string_view::npos) return std::nullopt;
  const auto head = json.substr(0, data);
  if (head.find('\\') != std::string_view::npos) return std::nullopt;  // escapes: parse
  Header h{string_field(head, "type"), string_field(head, "orgId"), string_field(head, "at")};
  if (h.type.empty() || h.at.empty()) return std::nullopt;
  return h;
}

struct OwnedHeader {
  std::string type, org, at;
};

std::optional<OwnedHeader> parsed_header(std::string_view json) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc)) return std::nullopt;
  OwnedHeader h;
  std::string_view v;
  if (!doc["type"].get_string().get(v)) h.type = v;
  if (!doc["orgId"].get_string().get(v)) h.org = v;
  if (!doc["at"].get_string().get(v)) h.at = v;
  return h;
}

// ---- pulse events ------------------------------------------------------------------------

struct EventFilter {
  std::string org;
  std::set<std::string, std::less<>> types;
  std::optional<std::string> from_time, to_time;  // canonical ISO 8601: compares as a string

  bool time_or_field_filters() const {
    return !org.empty() || !types.empty() || from_time || to_time;
  }
  bool match(std::string_view json) const {
    if (!time_or_field_filters()) return true;
    std::optional<OwnedHeader> owned;
    Header h;
    if (auto fast = fast_header(json)) {
      h = *fast;
    } else {
      owned = parsed_header(json);
      if (!owned) return false;
      h = Header{owned->type, owned->org, owned->at};
    }
    if (!org.empty() && h.org != org) return false;
    if (!types.empty() && !types.count(h.type)) return false;
    if (from_time || to_time) {
      // Times from other writers may not be canonical; normalise those.
      std::string at(h.at);
      if (at.size() != 24 || at.back() != 'Z') {
        auto t = parse_iso8601(at);
        if (!t) return false;
        at = format_iso8601(*t);
      }
      if (from_time && at < *from_time) return false;
      if (to_time && at >= *to_time) return false;
    }
    return true;
  }
};

class Output {
 public:
  Output() { buf_.reserve(kFlushAt + (1 << 16)); }
  ~Output() { flush(); }
  // False once stdout is closed (a pipe to `head`): stop reading.
  bool add(std::string_view line) {
    buf_.append(line);
    buf_.push_back('\n');
    ++lines_;
    return buf_.size() < kFlushAt || flush();
  }
  bool flush() {
    if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), stdout) != buf_.size())
      ok_ = false;
    buf_.clear();
    if (std::fflush(stdout) != 0) ok_ = false;
    return ok_;
  }
  int64_t lines() const { return lines_; }

 private:
  static constexpr size_t kFlushAt = 1 << 20;
  std::string buf_;
  int64_t lines_ = 0;
  bool ok_ = true;
};

// Reads [next[p], stop[p]) of each partition, one partition after the other (a stable order).
// Advances `next`. Returns false when stdout was closed.
Result<bool> export_range(log::Log& log, std::map<int32_t, int64_t>& next,
                          const std::map<int32_t, int64_t>& stop, const EventFilter& filter,
                          Output& out) {
  for (auto& [p, from] : next) {
    int64_t end = stop.at(p);
    if (from >= end) continue;
    // On Kafka the offsets after the last event may be transaction markers, which no reader
    // returns: read up to the last record only.
    auto last = log.last_record(log::kEventsTopic, Partition{p});
    if (!last) return last.error();
    end = std::min(end, *last ? (*last)->offset.value + 1 : 0);
    if (from >= end) continue;
    auto reader = log.reader(log::kEventsTopic, {log::Assignment{Partition{p}, Offset{from}}});
    if (!reader) return reader.error();
    while (from < end) {
      auto batch = (*reader)->poll(8192, std::chrono::seconds(10));
      if (!batch) return batch.error();
      if (batch->empty())
        return Error{Errc::unavailable, "Event log stalled",
                     fmt::format("partition {} made no progress at offset {}", p, from)};
      for (auto& rec : *batch) {
        if (rec.offset.value >= end) break;
        from = rec.offset.value + 1;
        if (filter.match(rec.value) && !out.add(rec.value)) return false;
      }
    }
  }
  return out.flush();
}

}  // namespace

int events(const Args& args) {
  auto from = parse_bound(args, "--from");
  if (!from) return fail(from.error());
  auto to = parse_bound(args, "--to");
  if (!to) return fail(to.error());
  EventFilter filter;
  filter.org = args.get("--org");
  if (args.has("--type")) {
    const auto s = args.get("--type");
    for (size_t pos = 0; pos <= s.size();) {
      auto comma = s.find(',', pos);
      if (comma == std::string::npos) comma = s.size();
      if (comma > pos) filter.types.insert(s.substr(pos, comma - pos));
      pos = comma + 1;
    }
  }
  if (from->time) filter.from_time = format_iso8601(*from->time);
  if (to->time) filter.to_time = format_iso8601(*to->time);
  const bool follow = args.has("--follow");
  if (follow && (to->offset || !to->per_partition.empty()))
    return fail(validation_error("--follow with an offset --to", "follow never ends; drop one"));

  auto t = open_tool_log(args);
  if (!t) {
    // A server that has not appended anything yet: nothing to print (or to wait for).
    if (t.error().code == Errc::not_found && !follow) return 0;
    return fail(t.error());
  }
  std::setvbuf(stdout, nullptr, _IOFBF, 1 << 20);
  const int32_t partitions = t->log->partition_count();
  std::map<int32_t, int64_t> next;
  for (int32_t p = 0; p < partitions; ++p) next[p] = from->offset_of(p).value_or(0);
  Output out;

  auto ends = [&](log::Log& log) -> Result<std::map<int32_t, int64_t>> {
    std::map<int32_t, int64_t> stop;
    for (int32_t p = 0; p < partitions; ++p) {
      auto end = log.end_offset(log::kEventsTopic, Partition{p});
      if (!end) return end.error();
      stop[p] = std::min(end->value, to->offset_of(p).value_or(INT64_MAX));
    }
    return stop;
  };

  auto stop = ends(*t->log);
  if (!stop) return fail(stop.error());
  auto more = export_range(*t->log, next, *stop, filter, out);
  if (!more) return fail(more.error());
  if (!*more || !follow) return 0;

  // --follow: the embedded log is opened read-only, a snapshot of the moment it was opened;
  // reopen it to see what the server appended since. A Kafka log sees new records as is.
  const bool reopen = !args.has("--kafka");
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    if (reopen) {
      t->log.reset();
      auto again = open_tool_log(args);
      if (!again) return fail(again.error());
      t = std::move(again);
    }
    stop = ends(*t->log);
    if (!stop) return fail(stop.error());
    more = export_range(*t->log, next, *stop, filter, out);
    if (!more) return fail(more.error());
    if (!*more) return 0;
  }
}

int status(const Args& args) {
  auto t = open_tool_log(args);
  if (!t) return fail(t.error());
  auto& log = *t->log;
  const fs::path dir = args.get("--data-dir", "pulse-data");
  auto views = store::KvStore::open(dir / "views", true);
  auto state = store::KvStore::open(dir / "state", true);
  // Applied offsets are the next offset each consumer will read; lag = log end - applied.
  fmt::print("{:>9} {:>12} {:>12} {:>12} {:>12} {:>12} {:>14}\n", "partition", "commands",
             "decided", "decider-lag", "events", "projected", "projector-lag");
  int64_t totals[6] = {0, 0, 0, 0, 0, 0};
  auto cell = [](std::optional<int64_t> v) { return v ? std::to_string(*v) : std::string("-"); };
  for (int32_t p = 0; p < log.partition_count(); ++p) {
    auto cmd_end = log.end_offset(log::kCommandsTopic, Partition{p});
    auto evt_end = log.end_offset(log::kEventsTopic, Partition{p});
    if (!cmd_end) return fail(cmd_end.error());
    if (!evt_end) return fail(evt_end.error());
    std::optional<int64_t> decided, projected;
    if (state) {
      auto raw = (*state)->get(fmt::format("_d/{:05}", p));
      decided = raw && raw->has_value() ? parse_i64(**raw).value_or(0) : 0;
    }
    if (views) {
      runtime::ReadModels models(**views);
      auto pos = models.position(Partition{p});
      if (pos) projected = pos->next_offset;
    }
    std::optional<int64_t> decider_lag, projector_lag;
    if (decided) decider_lag = cmd_end->value - *decided;
    if (projected) projector_lag = evt_end->value - *projected;
    fmt::print("{:>9} {:>12} {:>12} {:>12} {:>12} {:>12} {:>14}\n", p, cmd_end->value,
               cell(decided), cell(decider_lag), evt_end->value, cell(projected),
               cell(projector_lag));
    const std::optional<int64_t> row[6] = {cmd_end->value, decided,   decider_lag,
                                           evt_end->value, projected, projector_lag};
    for (int i = 0; i < 6; ++i) totals[i] += row[i].value_or(0);
  }
  fmt::print("{:>9} {:>12} {:>12} {:>12} {:>12} {:>12} {:>14}\n", "total", totals[0],
             state ? std::to_string(totals[1]) : "-", state ? std::to_string(totals[2]) : "-",
             totals[3], views ? std::to_string(totals[4]) : "-",
             views ? std::to_string(totals[5]) : "-");
  if (!state)
    fmt::print("decider: no state in {} ({})\n", (dir / "state").string(), state.error().details);
  if (!views)
    fmt::print("projector: no read models in {} ({})\n", (dir / "views").string(),
               views.error().details);
  // Webhooks: outbox records the dispatcher has not taken over yet, and deliveries waiting for
  // an attempt (new ones and retries).
  auto hooks = store::KvStore::open(dir / "webhooks", true);
  if (!views || !hooks) {
    fmt::print("webhook outbox depth: n/a (no {})\n", !views ? "read models" : "dispatch state");
    return 0;
  }
  int64_t outbox = 0, pending = 0;
  for (int32_t p = 0; p < log.partition_count(); ++p) {
    auto cursor = (*hooks)->get(webhooks::keys::cursor(p));
    projections::ScanRange after_cursor;
    if (cursor && cursor->has_value()) after_cursor.start = **cursor;
    (void)projections::scan_page(**views, codec::value_codec(),
                                 projections::table::outbox(Partition{p}), after_cursor,
                                 [&](std::string_view, const projections::OutboxRecord&) {
                                   ++outbox;
                                   return false;  // counted, not kept
                                 });
  }
  (void)(*hooks)->scan(webhooks::keys::kDuePrefix, "", false,
                       [&](std::string_view, std::string_view) { return ++pending, true; });
  fmt::print(
      "webhook outbox depth: {} not yet taken over by the dispatcher, {} deliveries pending\n",
      outbox, pending);
  return 0;
}

namespace {

// Compares two stores key by key; prints the first difference.
Result<bool> same_store(store::KvStore& a, store::KvStore& b) {
  std::vector<std::pair<std::string, std::string>> left, right;
  auto collect = [](store::KvStore& s, auto& out) {
    return s.scan("", "", false, [&](std::string_view k, std::string_view v) {
      out.emplace_back(std::string(k), std::string(v));
      return true;
    });
  };
  if (auto st = collect(a, left); !st) return st.error();
  if (auto st = collect(b, right); !st) return st.error();
  for (size_t i = 0; i < std::max(left.size(), right.size()); ++i) {
    if (i >= left.size() || i >= right.size() || left[i] != right[i]) {
      fmt::print("first difference at entry {}:\n  live:    {}\n  rebuilt: {}\n", i,
                 i < left.size() ? left[i].first + " = " + left[i].second : "(end)",
                 i < right.size() ? right[i].first + " = " + right[i].second : "(end)");
      return false;
    }
  }
  fmt::print("identical: {} entries\n", left.size());
  return true;
}

// Replay progress on stderr: a self-rewriting line on a terminal (5 updates a second), a plain
// line every 2 s otherwise (CI logs).
class Progress {
 public:
  explicit Progress(int64_t total)
      : total_(total), tty_(::isatty(STDERR_FILENO) == 1), start_(Clock::now()), last_(start_) {}

  void add(int64_t n) {
    done_ += n;
    const auto now = Clock::now();
    if (now - last_ < (tty_ ? std::chrono::milliseconds(200) : std::chrono::seconds(2))) return;
    last_ = now;
    print(now, false);
  }
  void finish() {
    if (tty_) print(Clock::now(), true);
  }

 private:
  void print(Clock::time_point now, bool final) {
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double rate = secs > 0 ? static_cast<double>(done_) / secs : 0.0;
    const double pct = total_ > 0 ? 100.0 * static_cast<double>(done_) / total_ : 100.0;
    const double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : 0.0;
    fmt::print(stderr, "{}replay: {}/{} events ({:.1f}%), {:.0f} events/s, ETA {:.0f} s{}",
               tty_ ? "\r\033[K" : "", done_, total_, pct, rate, std::max(eta, 0.0),
               tty_ && !final ? "" : "\n");
    std::fflush(stderr);
  }

  const int64_t total_;
  const bool tty_;
  const Clock::time_point start_;
  Clock::time_point last_;
  int64_t done_ = 0;
};

// The log as the projector reads it during a replay: every polled batch counts as progress.
class ProgressReader final : public log::Reader {
 public:
  ProgressReader(std::unique_ptr<log::Reader> inner, Progress& progress)
      : inner_(std::move(inner)), progress_(progress) {}
  Result<std::vector<log::StoredRecord>> poll(size_t max,
                                              std::chrono::milliseconds timeout) override {
    auto batch = inner_->poll(max, timeout);
    if (batch) progress_.add(static_cast<int64_t>(batch->size()));
    return batch;
  }

 private:
  std::unique_ptr<log::Reader> inner_;
  Progress& progress_;
};

class ProgressLog final : public log::Log {
 public:
  ProgressLog(log::Log& inner, Progress& progress) : inner_(inner), progress_(progress) {}
  int32_t partition_count() const override { return inner_.partition_count(); }
  Result<std::vector<LogPosition>> append(std::string_view topic,
                                          std::span<const log::Record> records) override {
    return Error{Errc::unavailable, "Replay does not append", std::string(topic)};
  }
  Result<Offset> end_offset(std::string_view topic, Partition p) override {
    return inner_.end_offset(topic, p);
  }
  Result<std::unique_ptr<log::Reader>> reader(std::string_view topic,
                                              std::vector<log::Assignment> assignments) override {
    auto r = inner_.reader(topic, std::move(assignments));
    if (!r) return r.error();
    return std::unique_ptr<log::Reader>(
        std::make_unique<ProgressReader>(std::move(r).value(), progress_));
  }

 private:
  log::Log& inner_;
  Progress& progress_;
};

// The live read models are locked by the server that serves them (RocksDB's LOCK file, an
// fcntl lock). Taking that lock proves no server uses them and keeps one from opening them
// until the swap is done. No RocksDB handle is held across the rename: closing one would tidy
// up files under its old path, which by then is the other store.
class ViewsLock {
 public:
  static Result<std::unique_ptr<ViewsLock>> take(const fs::path& views) {
    const auto file = views / "LOCK";
    if (!fs::exists(file)) return Error{Errc::not_found, "No live read models", views.string()};
    std::unique_ptr<ViewsLock> lock(new ViewsLock(::open(file.c_str(), O_RDWR | O_CLOEXEC)));
    struct flock f = {};
    f.l_type = F_WRLCK;
    f.l_whence = SEEK_SET;
    if (lock->fd_ < 0 || ::fcntl(lock->fd_, F_SETLK, &f) != 0)
      return Error{Errc::conflict, "The live read models are in use",
                   fmt::format("{} is open in a running pulse serve: stop it, then run --swap "
                               "again (a replay can run while it serves; a swap cannot)",
                               views.string())};
    return lock;
  }
  ~ViewsLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  explicit ViewsLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace

int replay(const Args& args) {
  const bool verify = args.has("--verify");
  const bool swap = args.has("--swap");
  std::optional<TimePoint> until;
  if (args.has("--until")) {
    until = parse_iso8601(args.get("--until"));
    if (!until) return fail(validation_error("Invalid --until", "an ISO 8601 time"));
    if (verify || swap)
      return fail(validation_error("--until with --verify or --swap",
                                   "read models as of a past moment are served read-only "
                                   "(pulse serve --read-only), never compared or swapped in"));
  }
  if (!args.has("--data-dir")) return fail(validation_error("Missing --data-dir", ""));
  const fs::path data_dir = args.get("--data-dir");
  std::optional<fs::path> scratch;  // --verify without --into: a temporary directory
  if (!args.has("--into")) {
    if (!verify || swap) return fail(validation_error("Missing --into", "a fresh directory"));
    char tmpl[] = "/tmp/pulse-replay-XXXXXX";
    if (!::mkdtemp(tmpl)) return fail(Error{Errc::unavailable, "Cannot create a temp dir", ""});
    scratch = tmpl;
  }
  const fs::path into = scratch ? *scratch : fs::path(args.get("--into"));
  struct Cleanup {
    std::optional<fs::path> dir;
    ~Cleanup() {
      std::error_code ec;
      if (dir) fs::remove_all(*dir, ec);
    }
  } cleanup{scratch};
  if (fs::exists(into / "views") && !fs::is_empty(into / "views"))
    return fail(validation_error("--into is not empty", (into / "views").string()));
  if (swap) {  // fail before the work, not after it
    auto live = ViewsLock::take(data_dir / "views");
    if (!live) return fail(live.error());
  }

  auto t = open_tool_log(args);
  if (!t) return fail(t.error());
  int64_t total = 0;
  for (int32_t p = 0; p < t->log->partition_count(); ++p) {
    auto end = t->log->end_offset(log::kEventsTopic, Partition{p});
    if (!end) return fail(end.error());
    total += end->value;
  }
  auto views = store::KvStore::open(into / "views", false, /*derived=*/true);
  if (!views) return fail(views.error());
  Progress progress(total);
  ProgressLog log(*t->log, progress);
  const auto start = Clock::now();
  // Webhooks stay off: a replay runs the read-model projector only, never a side effect.
  runtime::Watermarks watermarks(t->log->partition_count());
  std::vector<Partition> all;
  for (int32_t p = 0; p < t->log->partition_count(); ++p) all.push_back(Partition{p});
  runtime::ProjectorRunner projector(log, **views, watermarks, all);
  Result<int64_t> applied = projector.catch_up(until);
  if (applied && until) applied = projector.applied();
  progress.finish();
  if (!applied) return fail(applied.error());
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  fmt::print("replayed {} events in {:.2f} s ({:.0f} events/s) into {}{}\n", total, secs,
             secs > 0 ? static_cast<double>(total) / secs : 0.0, (into / "views").string(),
             until ? fmt::format(" as of {} ({} applied)", format_iso8601(*until), *applied) : "");
  std::fflush(stdout);
  if (verify) {
    auto live = store::KvStore::open(data_dir / "views", true);
    if (!live) return fail(live.error());
    auto same = same_store(**live, **views);
    if (!same) return fail(same.error());
    if (!*same) return 3;
  }
  if (swap) {
    views->reset();
    auto live = ViewsLock::take(data_dir / "views");  // held until the exchange is done
    if (!live) return fail(live.error());
    // One atomic exchange: the server's views/ becomes the rebuilt store and the old one
    // lands in --into, kept for a look or a swap back.
    if (::renameat2(AT_FDCWD, (data_dir / "views").c_str(), AT_FDCWD, (into / "views").c_str(),
                    RENAME_EXCHANGE) != 0)
      return fail(Error{Errc::unavailable, "Swap failed",
                        fmt::format("exchanging {} and {}: {} (both must be on one filesystem)",
                                    (data_dir / "views").string(), (into / "views").string(),
                                    std::strerror(errno))});
    fmt::print("swapped: {} now holds the rebuilt read models; the previous ones are in {}\n",
               (data_dir / "views").string(), (into / "views").string());
  }
  return 0;
}

int dump(const Args& args) {
  if (!args.has("--data-dir")) return fail(validation_error("Missing --data-dir", ""));
  const auto which = args.get("--store", "views");
  if (which != "views" && which != "state")
    return fail(validation_error("Invalid --store", "views or state"));
  auto kv = store::KvStore::open(fs::path(args.get("--data-dir")) / which, true);
  if (!kv) return fail(kv.error());
  auto st = (*kv)->scan("", "", false, [](std::string_view k, std::string_view v) {
    fmt::print("{}\t{}\n", k, v);
    return true;
  });
  return st ? 0 : fail(st.error());
}

}  // namespace pulse::cli
