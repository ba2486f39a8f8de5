// pulse bench: every figure beside the raw baseline of the part underneath it, in one run on
// one machine, loopback only, bounded counts and durations. Prints a table, then one JSON line
// per measured figure (lines starting with '{', for tooling).
#include "adapters/bench/bench.h"

#include <cmath>
#include <cstdio>
#include <functional>
#include <set>
#include <sstream>

#include "adapters/bench/figures.h"
#include "adapters/bench/harness.h"
#include "fmt/format.h"

namespace pulse::bench {
namespace {

using cmdline::fail;

struct Figure {
  std::string name;
  std::function<std::vector<Row>(const bench::Settings&)> run;
};

const std::vector<Figure>& figures() {
  static const std::vector<Figure> all = {
      {"ingest_embedded", bench::ingest_embedded},
      {"ingest_kafka", bench::ingest_kafka},
      {"command_latency", bench::command_latency},
      {"query", bench::query},
      {"replay", bench::replay},
      {"memory", bench::memory},
      {"campaign_get_10k", bench::campaign_get_10k},
      {"gateway", bench::gateway},
      {"webhooks", bench::webhooks},
      {"login_flood", bench::login_flood},
      {"growth", bench::growth},
  };
  return all;
}

std::string number(std::optional<double> v) {
  if (!v) return "—";
  const double a = std::fabs(*v);
  if (a >= 1000) return fmt::format("{:.0f}", *v);
  if (a >= 10) return fmt::format("{:.1f}", *v);
  return fmt::format("{:.3f}", *v);
}

std::string json_number(std::optional<double> v) {
  if (!v || !std::isfinite(*v)) return "null";
  return fmt::format("{:.4f}", *v);
}

std::string met_text(const Row& r) {
  if (!r.value) return r.emit_json ? "no" : "n/a";
  if (!r.met) return "—";
  return *r.met ? "yes" : "NO";
}

void print_table(const std::vector<Row>& rows) {
  fmt::print("\n{:<21} {:>12} {:>12} {:>12} {:>8}  {:<12} {}\n", "figure", "pulse", "baseline",
             "unit", "ratio", "target", "met");
  fmt::print("{}\n", std::string(92, '-'));
  for (const auto& r : rows) {
    const std::string value = r.value ? number(r.value) : (r.emit_json ? "failed" : "n/a");
    fmt::print("{:<21} {:>12} {:>12} {:>12} {:>8}  {:<12} {}\n", r.figure, value,
               number(r.baseline), r.unit, r.ratio ? fmt::format("{:.3f}", *r.ratio) : "—",
               r.target, met_text(r));
  }
  fmt::print("\n");
  for (const auto& r : rows)
    if (!r.note.empty()) fmt::print("  {}: {}\n", r.figure, r.note);
  fmt::print("\n");
}

void print_json(const Row& r) {
  fmt::print(
      R"({{"figure":"{}","value":{},"unit":"{}","baseline":{},"ratio":{},"target":"{}","met":{}}})"
      "\n",
      r.figure, json_number(r.value), r.unit, json_number(r.baseline), json_number(r.ratio),
      r.target, r.met ? (*r.met ? "true" : "false") : "null");
}

}  // namespace

int run(const cmdline::Args& args) {
  Settings settings;
  settings.quick = args.has("--quick");
  std::set<std::string> only;
  if (args.has("--only")) {
    std::stringstream list(args.get("--only"));
    for (std::string name; std::getline(list, name, ',');) {
      bool known = false;
      for (const auto& f : figures()) known = known || f.name == name;
      if (!known) {
        std::string names;
        for (const auto& f : figures()) names += (names.empty() ? "" : ", ") + f.name;
        return fail(validation_error("Unknown figure", name + " (one of: " + names + ")"));
      }
      only.insert(name);
    }
  }
  const auto t0 = bench::Clock::now();
  std::vector<Row> rows;
  for (const auto& f : figures()) {
    if (!only.empty() && !only.count(f.name)) continue;
    fmt::print(stderr, "pulse bench: {}…\n", f.name);
    const auto started = bench::Clock::now();
    auto got = f.run(settings);
    fmt::print(stderr, "pulse bench: {} done in {:.1f} s\n", f.name, bench::seconds_since(started));
    rows.insert(rows.end(), got.begin(), got.end());
  }
  print_table(rows);
  for (const auto& r : rows)
    if (r.emit_json && r.value) print_json(r);
  fmt::print(stderr, "pulse bench: {} in {:.0f} s{}\n", only.empty() ? "all figures" : "done",
             bench::seconds_since(t0), settings.quick ? " (--quick)" : "");
  std::fflush(stdout);
  return 0;
}

}  // namespace pulse::bench
