#include "adapters/cli/args.h"

#include <filesystem>
#include <random>

#include "adapters/log/embedded_log.h"
#include "fmt/format.h"

namespace pulse::cli {

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
    log::KafkaOptions options{t.kafka.brokers, n.value_or(4)};
    options.reader_salt = std::random_device{}();  // this process's entropy, as serve's
    auto log = log::open_kafka_log(options);
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
