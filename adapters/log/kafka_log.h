#pragma once
// The Kafka adapter: librdkafka idempotent producer (acks=all), records placed by
// Log::partition_for (murmur2 of the organisation id), topics created when missing.
// Consumers assign partitions explicitly; offsets are stored by the caller with its state,
// never by Kafka's auto-commit. No librdkafka header appears here.
#include <chrono>
#include <memory>
#include <string>

#include "adapters/log/log.h"

namespace pulse::log {

struct KafkaOptions {
  std::string brokers;      // "host:port,host:port"
  int32_t partitions = 4;   // for topics this process creates; existing topics must match
  int16_t replication = 1;  // for topics this process creates
  std::string client_id = "pulse";
  // Opening fails with Errc::unavailable when the brokers don't answer within this bound.
  std::chrono::milliseconds connect_timeout{10'000};
  // A record not acknowledged within this bound fails its append (message.timeout.ms). The
  // server uses a short one (AppOptions::kafka_delivery_timeout) so that a write routed to a
  // dead broker answers 503 promptly instead of retrying in the background: once an append has
  // failed, librdkafka no longer retries its records, so a command the client was told failed
  // can't be applied later, except when the failure says the records were possibly persisted
  // (sent, never acknowledged), which the error's details say.
  std::chrono::milliseconds delivery_timeout{30'000};
  // How often the brokers are probed (metadata, then the end of every partition of both
  // topics) for Log::reachable(). While a probe fails, appends fail at once.
  std::chrono::milliseconds probe_interval{500};
  // How long a reader's fetch may wait for records (fetch.wait.max.ms). A real broker answers
  // as soon as a record arrives; librdkafka's mock broker always waits this long, so use a
  // short wait against the mock.
  std::chrono::milliseconds fetch_wait{100};
  // Readers' consumer group ids are "pulse-reader-<pid>-<salt>-<n>": the salt tells apart
  // processes that share a pid (every container's first process is pid 1). Callers draw it
  // from their RandomSource.
  uint64_t reader_salt = 0;
};

Result<std::unique_ptr<Log>> open_kafka_log(const KafkaOptions& options);

// librdkafka's in-process mock cluster (rdkafka_mock.h): real Kafka protocol on loopback TCP
// ports, reachable from other processes too. For tests, benchmarks and `pulse serve --kafka mock`.
// Owns a librdkafka handle and its threads.
class MockKafkaCluster {
 public:
  // Creates pulse.commands, pulse.events and pulse.webhook-deliveries with `partitions`
  // partitions: the mock broker does not implement the CreateTopics admin request
  // (librdkafka 2.0).
  static Result<std::unique_ptr<MockKafkaCluster>> start(int brokers = 1, int32_t partitions = 4);
  virtual ~MockKafkaCluster() = default;
  virtual std::string bootstrap_servers() const = 0;
  // Broker ids start at 1. A down broker drops its connections and refuses new ones; its
  // partitions keep it as leader (no failover), so their appends fail until it is up again.
  virtual void set_broker_down(int broker_id, bool down) = 0;
  // Answers the next `count` AddPartitionsToTxn requests (a transaction's first request to
  // its coordinator, whoever sends it) with PRODUCER_FENCED: what a real coordinator answers
  // a writer whose transactional.id a newer producer initialised since. librdkafka 2.0's mock
  // coordinator gives that newer producer a new producer id instead of bumping the epoch, so
  // it never fences anyone by itself (nor writes transaction markers: aborted records stay
  // visible there).
  virtual void fence_next_transactions(int count) = 0;
};

}  // namespace pulse::log
