#pragma once
// The log port: a partitioned, append-only, durable log with Kafka's semantics (topics,
// partitions, offsets, keys, per-partition order). Two adapters implement it: the embedded log
// on RocksDB (default) and Apache Kafka through librdkafka. No library header appears here.
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "domain/log_position.h"
#include "domain/result.h"

namespace pulse::log {

inline constexpr std::string_view kCommandsTopic = "pulse.commands";
inline constexpr std::string_view kEventsTopic = "pulse.events";

struct Record {
  std::string key;    // the organisation id: picks the partition
  std::string value;  // a JSON envelope
};

struct StoredRecord {
  Partition partition;
  Offset offset;
  int64_t timestamp_ms = 0;  // when the log stored it (informational; never used by deciders)
  std::string key;
  std::string value;
};

struct Assignment {
  Partition partition;
  Offset from;  // the first offset to read
};

// Reads a set of partitions of one topic in offset order per partition.
// Owned by one thread at a time.
class Reader {
 public:
  virtual ~Reader() = default;
  // Up to `max` records, waiting up to `timeout` when none is available. Records of one
  // partition come in offset order with no gaps. An error is a lost connection or a
  // corrupt log, never "nothing yet" (that is an empty vector).
  virtual Result<std::vector<StoredRecord>> poll(size_t max, std::chrono::milliseconds timeout) = 0;
};

class Log {
 public:
  virtual ~Log() = default;

  virtual int32_t partition_count() const = 0;

  // The partition of a key: murmur2 (Kafka's Java default), positive, modulo the count. Both
  // adapters place records with it, so commands and events of one organisation share a
  // partition number in both topics.
  Partition partition_for(std::string_view key) const;

  // Appends records durably and in order (per partition); returns each one's position once
  // every record is acknowledged (fsync'd for the embedded log, acks=all for Kafka).
  // Thread-safe; concurrent appends share one sync. On error none of the records is
  // acknowledged (some may still have been written: callers rely on idempotent consumers).
  virtual Result<std::vector<LogPosition>> append(std::string_view topic,
                                                  std::span<const Record> records) = 0;

  // The offset the next appended record of the partition will get.
  virtual Result<Offset> end_offset(std::string_view topic, Partition partition) = 0;

  virtual Result<std::unique_ptr<Reader>> reader(std::string_view topic,
                                                 std::vector<Assignment> assignments) = 0;
};

uint32_t murmur2(std::string_view data);

}  // namespace pulse::log
