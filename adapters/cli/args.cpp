#include "adapters/cli/args.h"

#include <algorithm>
#include <filesystem>

#include "adapters/log/embedded_log.h"
#include "fmt/format.h"

namespace pulse::cli {

bool Args::has(const std::string& k) const {
  return values.count(k) || std::find(flags.begin(), flags.end(), k) != flags.end();
}

std::string Args::get(const std::string& k, std::string fallback) const {
  auto it = values.find(k);
  return it == values.end() ? fallback : it->second;
}

namespace {

const std::vector<std::string> kBoolFlags = {"--quiet",     "--allow-private-webhooks",
                                             "--verify",    "--quick",
                                             "--follow",    "--swap",
                                             "--read-only", "--check-args"};

}  // namespace

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
  auto log = log::open_embedded_log(log::EmbeddedLogOptions{
      std::filesystem::path(args.get("--data-dir")) / "log", 0, true, true});
  if (!log) return log.error();
  t.log = std::move(log).value();
  return t;
}

}  // namespace pulse::cli
