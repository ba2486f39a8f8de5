// pulse: one binary for the server, the gateway simulator and the operators' tools.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "adapters/app.h"
#include "adapters/codec/json_codec.h"
#include "adapters/http/api_server.h"
#include "adapters/log/embedded_log.h"
#include "adapters/log/kafka_log.h"
#include "adapters/runtime/projector_runner.h"
#include "adapters/runtime/read_models.h"
#include "adapters/runtime/system_clock.h"
#include "fmt/format.h"

namespace {

using namespace pulse;

constexpr const char* kUsage = R"(usage: pulse <command> [options]

commands:
  serve        run the server
               [--listen 127.0.0.1:8080] [--data-dir DIR] [--kafka BROKERS|mock]
               [--partitions N] [--monthly-sms-limit N] [--allow-private-webhooks]
  events       print the event log as NDJSON          --data-dir DIR [--kafka BROKERS]
  status       log ends, consumer positions and lag   --data-dir DIR [--kafka BROKERS]
  replay       rebuild the read models from the event log into a fresh directory
               --data-dir DIR --into DIR [--kafka BROKERS] [--verify]
  dump         print a store's keys and values        --data-dir DIR [--store views|state]
  gateway-sim  a simulated fleet of gateway phones    (not implemented yet)
  admin        operator commands                      (not implemented yet)
  bench        benchmarks                             (not implemented yet)
)";

struct Args {
  std::map<std::string, std::string> values;
  std::vector<std::string> flags;
  bool has(const std::string& k) const {
    return values.count(k) || std::find(flags.begin(), flags.end(), k) != flags.end();
  }
  std::string get(const std::string& k, std::string fallback = {}) const {
    auto it = values.find(k);
    return it == values.end() ? fallback : it->second;
  }
};

const std::vector<std::string> kBoolFlags = {"--allow-private-webhooks", "--verify", "--quick"};

std::optional<Args> parse_args(int argc, char** argv, int first) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string s = argv[i];
    if (!s.starts_with("--")) {
      fmt::print(stderr, "pulse: unexpected argument '{}'\n", s);
      return std::nullopt;
    }
    if (auto eq = s.find('='); eq != std::string::npos) {
      a.values[s.substr(0, eq)] = s.substr(eq + 1);
    } else if (std::find(kBoolFlags.begin(), kBoolFlags.end(), s) != kBoolFlags.end()) {
      a.flags.push_back(s);
    } else if (i + 1 < argc) {
      a.values[s] = argv[++i];
    } else {
      fmt::print(stderr, "pulse: {} needs a value\n", s);
      return std::nullopt;
    }
  }
  return a;
}

int fail(const Error& e) {
  fmt::print(stderr, "pulse: {}: {}\n", e.message, e.details);
  return 1;
}

std::optional<int> parse_int(const std::string& s) {
  try {
    size_t used = 0;
    int v = std::stoi(s, &used);
    if (used != s.size()) return std::nullopt;
    return v;
  } catch (...) {
    return std::nullopt;
  }
}

// Blocks SIGINT/SIGTERM in every thread; the main thread waits for them with sigwait.
sigset_t block_termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// `--kafka mock` starts librdkafka's mock cluster inside this process (development and tests).
struct KafkaTarget {
  std::unique_ptr<log::MockKafkaCluster> mock;
  std::string brokers;
};

Result<KafkaTarget> kafka_target(const Args& args) {
  KafkaTarget t;
  t.brokers = args.get("--kafka");
  if (t.brokers == "mock") {
    auto mock = log::MockKafkaCluster::start(1);
    if (!mock) return mock.error();
    t.mock = std::move(mock).value();
    t.brokers = t.mock->bootstrap_servers();
    fmt::print("pulse: started a librdkafka mock cluster at {}\n", t.brokers);
  }
  return t;
}

int serve(const Args& args) {
  const sigset_t signals = block_termination_signals();
  AppOptions options;
  options.data_dir = std::filesystem::absolute(args.get("--data-dir", "pulse-data"));
  options.allow_private_webhooks = args.has("--allow-private-webhooks");
  if (args.has("--partitions")) {
    auto n = parse_int(args.get("--partitions"));
    if (!n || *n < 1 || *n > 1024) return fail(validation_error("Invalid --partitions", "1..1024"));
    options.partitions = *n;
  }
  if (args.has("--monthly-sms-limit")) {
    auto n = parse_int(args.get("--monthly-sms-limit"));
    if (!n || *n < 0) return fail(validation_error("Invalid --monthly-sms-limit", ">= 0"));
    options.decider.monthly_sms_limit = *n;
  }
  const auto listen = args.get("--listen", "127.0.0.1:8080");
  const auto colon = listen.rfind(':');
  const auto port = colon == std::string::npos ? std::nullopt : parse_int(listen.substr(colon + 1));
  if (!port || *port < 0 || *port > 65535)
    return fail(validation_error("Invalid --listen", "expected HOST:PORT"));
  const auto host = listen.substr(0, colon);

  auto kafka = kafka_target(args);
  if (!kafka) return fail(kafka.error());
  options.kafka = kafka->brokers;

  runtime::SystemTimeSource clock;
  auto app = App::open(options, clock);
  if (!app) return fail(app.error());
  fmt::print("pulse: data directory {}\n", options.data_dir.string());
  fmt::print("pulse: event log {} ({} partitions)\n",
             options.kafka.empty() ? "embedded (" + (options.data_dir / "log").string() + ")"
                                   : "kafka " + options.kafka,
             (*app)->options().partitions);
  std::fflush(stdout);
  if (auto st = (*app)->wait_ready(std::chrono::steady_clock::now() + std::chrono::minutes(30));
      !st)
    return fail(st.error());

  http::ApiServer server(**app);
  auto bound = server.bind(host, *port);
  if (!bound) return fail(bound.error());
  std::thread http_thread([&] { server.run(); });
  fmt::print("pulse: listening on http://{}:{}\n", host, *bound);
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  fmt::print("pulse: shutting down\n");
  std::fflush(stdout);
  server.stop();
  http_thread.join();
  return 0;
}

// The log a tool reads: Kafka when --kafka is given, else the embedded log, read-only, so a
// running server keeps it.
struct ToolLog {
  KafkaTarget kafka;
  std::unique_ptr<log::Log> log;
};

Result<ToolLog> open_tool_log(const Args& args) {
  ToolLog t;
  if (args.has("--kafka")) {
    auto k = kafka_target(args);
    if (!k) return k.error();
    t.kafka = std::move(k).value();
    auto n = parse_int(args.get("--partitions", "4"));
    auto log = log::open_kafka_log(log::KafkaOptions{t.kafka.brokers, n.value_or(4)});
    if (!log) return log.error();
    t.log = std::move(log).value();
    return t;
  }
  if (!args.has("--data-dir"))
    return validation_error("Missing --data-dir", "the server's data directory");
  auto log = log::open_embedded_log(
      log::EmbeddedLogOptions{std::filesystem::path(args.get("--data-dir")) / "log", 0, true, true});
  if (!log) return log.error();
  t.log = std::move(log).value();
  return t;
}

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

int not_implemented(const std::string& cmd, int issue) {
  fmt::print(stderr, "pulse {}: not implemented yet (tracked in issue {})\n", cmd, issue);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "help") {
    fmt::print("{}", kUsage);
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  auto args = parse_args(argc, argv, 2);
  if (!args) return 2;
  if (cmd == "serve") return serve(*args);
  if (cmd == "events") return events(*args);
  if (cmd == "status") return status(*args);
  if (cmd == "replay") return replay(*args);
  if (cmd == "dump") return dump(*args);
  if (cmd == "gateway-sim") return not_implemented(cmd, 4);
  if (cmd == "admin") return not_implemented(cmd, 3);
  if (cmd == "bench") return not_implemented(cmd, 8);
  fmt::print(stderr, "pulse: unknown command '{}'\n{}", cmd, kUsage);
  return 2;
}
