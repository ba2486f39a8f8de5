// Replay figure: rebuild every read model from the event log into a fresh store
// (ProjectorRunner::catch_up, as `pulse replay` does) beside a sequential scan of the same log.
#include <map>
#include <random>

#include "adapters/bench/figures.h"
#include "adapters/bench/harness.h"
#include "adapters/log/embedded_log.h"
#include "adapters/runtime/projector_runner.h"
#include "fmt/format.h"

namespace pulse::bench {
namespace {

struct Scan {
  int64_t records = 0;
  int64_t bytes = 0;
  uint64_t checksum = 0;  // so the bytes are really read
  double seconds = 0;
};

// Every record of pulse.events, polled like the projector polls (batches of 1024).
Result<Scan> scan_events(log::Log& log) {
  std::vector<log::Assignment> assignments;
  std::map<int32_t, int64_t> ends, next;
  for (int32_t p = 0; p < log.partition_count(); ++p) {
    auto end = log.end_offset(log::kEventsTopic, Partition{p});
    if (!end) return end.error();
    ends[p] = end->value;
    next[p] = 0;
    assignments.push_back({Partition{p}, Offset{0}});
  }
  const auto t0 = Clock::now();
  auto reader = log.reader(log::kEventsTopic, assignments);
  if (!reader) return reader.error();
  Scan scan;
  auto done = [&] {
    for (auto& [p, end] : ends)
      if (next[p] < end) return false;
    return true;
  };
  while (!done()) {
    auto batch = (*reader)->poll(1024, std::chrono::seconds(5));
    if (!batch) return batch.error();
    if (batch->empty()) return Error{Errc::unavailable, "Event log stalled", "scan"};
    for (const auto& rec : *batch) {
      next[rec.partition.value] = rec.offset.value + 1;
      ++scan.records;
      scan.bytes += static_cast<int64_t>(rec.value.size());
      uint64_t sum = 0;
      for (unsigned char c : rec.value) sum += c;
      scan.checksum += sum;
    }
  }
  scan.seconds = seconds_since(t0);
  return scan;
}

}  // namespace

std::vector<Row> replay(const Settings& s) {
  const int commands = s.quick ? 200 : 800;  // of 500 recipients each
  constexpr int kRecipients = 500;
  constexpr double kGoal = 0.3;
  auto fail = [&](const std::string& why) {
    return std::vector<Row>{failed_row("replay", "events/s", at_least(kGoal), why)};
  };
  TempDir dir("replay");
  int64_t messages = 0;
  {
    // The log a live server would have written: commands decided and projected by the App.
    runtime::SystemTimeSource clock;
    SeededRandom random{std::random_device{}()};
    auto app = App::open(bench_app_options(dir.path() / "data"), clock, random);
    if (!app) return fail(app.error().details);
    const auto orgs = spread_orgs(8, (*app)->log().partition_count());
    if (auto st = provision(**app, orgs); !st) return fail(st.error().details);
    std::vector<CommandEnvelope> cmds;
    for (int i = 0; i < commands; ++i)
      cmds.push_back(send_command(orgs[static_cast<size_t>(i % 8)], kRecipients, clock.now(), i));
    auto done = append_and_wait(**app, cmds, std::chrono::seconds(600));
    if (!done) return fail(done.error().details);
    messages = *done;
  }

  auto log = log::open_embedded_log(log::EmbeddedLogOptions{dir.path() / "data" / "log"});
  if (!log) return fail(log.error().details);
  // A first scan warms the page cache for both runs.
  if (auto warm = scan_events(**log); !warm) return fail(warm.error().details);

  auto views = store::KvStore::open(dir.path() / "rebuilt", false, /*derived=*/true);
  if (!views) return fail(views.error().details);
  runtime::Watermarks watermarks((*log)->partition_count());
  std::vector<Partition> all;
  for (int32_t p = 0; p < (*log)->partition_count(); ++p) all.push_back(Partition{p});
  runtime::ProjectorRunner runner(**log, **views, watermarks, all);
  const auto t0 = Clock::now();
  auto applied = runner.catch_up();
  const double replay_s = seconds_since(t0);
  if (!applied) return fail(applied.error().details);

  // The scan is short: three of them, the fastest counts.
  std::optional<Scan> best;
  for (int i = 0; i < 3; ++i) {
    auto scan = scan_events(**log);
    if (!scan) return fail(scan.error().details);
    if (!best || scan->seconds < best->seconds) best = *scan;
  }
  const auto& scan = best;

  Row r;
  r.figure = "replay";
  r.value = static_cast<double>(*applied) / replay_s;
  r.unit = "events/s";
  r.baseline = static_cast<double>(scan->records) / scan->seconds;
  r.ratio = *r.value / *r.baseline;
  r.target = at_least(kGoal);
  r.met = *r.ratio >= kGoal;
  r.note = fmt::format(
      "{} events ({} messages, {:.0f} MiB of JSON) rebuilt in {:.2f} s = {:.0f} messages/s; "
      "scan (best of 3) {:.3f} s",
      *applied, messages, static_cast<double>(scan->bytes) / (1 << 20), replay_s,
      static_cast<double>(messages) / replay_s, scan->seconds);
  return {r};
}

}  // namespace pulse::bench
