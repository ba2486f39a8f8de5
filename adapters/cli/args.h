#pragma once
// The sub-commands of pulse, and what several of them share.
#include <memory>
#include <string>

#include "adapters/cmdline/args.h"
#include "adapters/log/kafka_log.h"
#include "adapters/log/log.h"
#include "domain/result.h"

namespace pulse::cli {

using cmdline::Args;
using cmdline::fail;
using cmdline::parse_args;
using cmdline::parse_int;

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
int gateway_sim(const Args& args);

}  // namespace pulse::cli
