// The operators' and analysts' tools: events, status, replay, dump.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <vector>

#include "adapters/cli/args.h"
#include "adapters/runtime/projector_runner.h"
#include "adapters/runtime/read_models.h"
#include "adapters/runtime/watermarks.h"
#include "adapters/store/kv_store.h"
#include "fmt/format.h"

namespace pulse::cli {

int events(const Args& args) {
  auto t = open_tool_log(args);
  if (!t) return fail(t.error());
  auto& log = *t->log;
  std::vector<log::Assignment> assignments;
  std::map<int32_t, int64_t> ends;
  for (int32_t p = 0; p < log.partition_count(); ++p) {
    auto end = log.end_offset(log::kEventsTopic, Partition{p});
    if (!end) return fail(end.error());
    ends[p] = end->value;
    if (end->value > 0) assignments.push_back({Partition{p}, Offset{0}});
  }
  if (assignments.empty()) return 0;
  auto reader = log.reader(log::kEventsTopic, assignments);
  if (!reader) return fail(reader.error());
  std::map<int32_t, int64_t> next;
  auto done = [&] {
    for (auto& [p, end] : ends)
      if (next[p] < end) return false;
    return true;
  };
  std::string out;
  while (!done()) {
    auto batch = (*reader)->poll(4096, std::chrono::seconds(10));
    if (!batch) return fail(batch.error());
    if (batch->empty()) return fail(Error{Errc::unavailable, "Event log stalled", "no progress"});
    for (auto& rec : *batch) {
      next[rec.partition.value] = rec.offset.value + 1;
      if (rec.offset.value >= ends[rec.partition.value]) continue;
      out.append(rec.value);
      out.push_back('\n');
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    out.clear();
  }
  return 0;
}

int status(const Args& args) {
  auto t = open_tool_log(args);
  if (!t) return fail(t.error());
  auto& log = *t->log;
  const std::filesystem::path dir = args.get("--data-dir", "pulse-data");
  auto views = store::KvStore::open(dir / "views", true);
  auto state = store::KvStore::open(dir / "state", true);
  fmt::print("{:>9} {:>12} {:>12} {:>12} {:>12} {:>10}\n", "partition", "commands", "decided",
             "events", "projected", "lag");
  for (int32_t p = 0; p < log.partition_count(); ++p) {
    auto cmd_end = log.end_offset(log::kCommandsTopic, Partition{p});
    auto evt_end = log.end_offset(log::kEventsTopic, Partition{p});
    if (!cmd_end) return fail(cmd_end.error());
    if (!evt_end) return fail(evt_end.error());
    int64_t decided = -1, projected = -1;
    if (state) {
      auto raw = (*state)->get(fmt::format("_d/{:05}", p));
      if (raw && raw->has_value()) decided = std::stoll(**raw);
    }
    if (views) {
      runtime::ReadModels models(**views);
      auto pos = models.position(Partition{p});
      if (pos) projected = pos->next_offset;
    }
    const int64_t lag = (cmd_end->value - std::max<int64_t>(decided, 0)) +
                        (evt_end->value - std::max<int64_t>(projected, 0));
    fmt::print("{:>9} {:>12} {:>12} {:>12} {:>12} {:>10}\n", p, cmd_end->value, decided,
               evt_end->value, projected, lag);
  }
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

}  // namespace

int replay(const Args& args) {
  if (!args.has("--into")) return fail(validation_error("Missing --into", "a fresh directory"));
  const std::filesystem::path into = args.get("--into");
  if (std::filesystem::exists(into / "views") && !std::filesystem::is_empty(into / "views"))
    return fail(validation_error("--into is not empty", (into / "views").string()));
  auto t = open_tool_log(args);
  if (!t) return fail(t.error());
  auto views = store::KvStore::open(into / "views");
  if (!views) return fail(views.error());
  runtime::Watermarks watermarks(t->log->partition_count());
  std::vector<Partition> all;
  for (int32_t p = 0; p < t->log->partition_count(); ++p) all.push_back(Partition{p});
  runtime::ProjectorRunner projector(*t->log, **views, watermarks, all);
  const auto start = std::chrono::steady_clock::now();
  auto applied = projector.catch_up();
  if (!applied) return fail(applied.error());
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("replayed {} events in {:.2f} s ({:.0f} events/s) into {}\n", *applied, secs,
             secs > 0 ? static_cast<double>(*applied) / secs : 0.0, (into / "views").string());
  if (args.has("--verify")) {
    auto live = store::KvStore::open(std::filesystem::path(args.get("--data-dir")) / "views", true);
    if (!live) return fail(live.error());
    auto same = same_store(**live, **views);
    if (!same) return fail(same.error());
    return *same ? 0 : 3;
  }
  return 0;
}

int dump(const Args& args) {
  if (!args.has("--data-dir")) return fail(validation_error("Missing --data-dir", ""));
  const auto which = args.get("--store", "views");
  if (which != "views" && which != "state")
    return fail(validation_error("Invalid --store", "views or state"));
  auto kv = store::KvStore::open(std::filesystem::path(args.get("--data-dir")) / which, true);
  if (!kv) return fail(kv.error());
  auto st = (*kv)->scan("", "", false, [](std::string_view k, std::string_view v) {
    fmt::print("{}\t{}\n", k, v);
    return true;
  });
  return st ? 0 : fail(st.error());
}

}  // namespace pulse::cli
