#pragma once
// Command-line plumbing shared by pulse's sub-commands.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapters/log/kafka_log.h"
#include "adapters/log/log.h"
#include "domain/result.h"

namespace pulse::cli {

struct Args {
  std::map<std::string, std::string> values;
  std::vector<std::string> flags;
  bool has(const std::string& k) const;
  std::string get(const std::string& k, std::string fallback = {}) const;
};

// "--name value", "--name=value", and the valueless flags pulse knows.
std::optional<Args> parse_args(int argc, char** argv, int first);
// Prints "pulse: <message>: <details>" and returns 1.
int fail(const Error& e);
std::optional<int> parse_int(const std::string& s);

// `--kafka mock` starts librdkafka's mock cluster inside this process (development and tests).
struct KafkaTarget {
  std::unique_ptr<log::MockKafkaCluster> mock;
  std::string brokers;
};
Result<KafkaTarget> kafka_target(const Args& args);

// The log a tool reads: Kafka when --kafka is given, else the embedded log under --data-dir,
// read-only, so a running server keeps it.
struct ToolLog {
  KafkaTarget kafka;
  std::unique_ptr<log::Log> log;
};
Result<ToolLog> open_tool_log(const Args& args);

// The sub-commands.
int serve(const Args& args);
int events(const Args& args);
int status(const Args& args);
int replay(const Args& args);
int dump(const Args& args);
int admin(int argc, char** argv);  // its own sub-commands
int bench(const Args& args);
int gateway_sim(const Args& args);

}  // namespace pulse::cli
