#pragma once
// The log port: a partitioned, append-only, durable log with Kafka's semantics (topics,
// partitions, offsets, keys, per-partition order). Two adapters implement it: the embedded log
// on RocksDB (default) and Apache Kafka through librdkafka. No library header appears here.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "domain/log_position.h"
#include "domain/result.h"

namespace pulse::log {

inline constexpr std::string_view kCommandsTopic = "pulse.commands";
inline constexpr std::string_view kEventsTopic = "pulse.events";
// The webhook dispatchers' state changes (Kafka only): partition p holds those of the deliveries
// of outbox partition p, appended by its one owner among the dispatchers.
inline constexpr std::string_view kDeliveriesTopic = "pulse.webhook-deliveries";

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
  // partition come in increasing offset order with no record left out; Kafka skips the offsets
  // of transaction markers and of aborted transactions' records (the embedded log has no
  // gaps). An error is a lost connection or a corrupt log, never "nothing yet" (that is an
  // empty vector).
  virtual Result<std::vector<StoredRecord>> poll(size_t max, std::chrono::milliseconds timeout) = 0;
};

// Appends to one partition of one topic for the partition's single writer (its decider).
// Opening one fences every writer opened before it for the same topic and partition, in any
// process: their appends fail with Errc::conflict from then on, and none of their records
// becomes visible to readers unless its append had succeeded before (Kafka: a transactional
// producer with transactional.id "pulse:<topic>:<partition>", one transaction per append,
// readers at isolation.level=read_committed). Owned by one thread at a time.
class PartitionWriter {
 public:
  virtual ~PartitionWriter() = default;
  // As Log::append, for records of this writer's partition only, all or none of them visible.
  // Errc::conflict: fenced by a newer writer; this one fails every append from then on.
  virtual Result<std::vector<LogPosition>> append(std::span<const Record> records) = 0;
};

// A consumer group's hand-over of partitions to a reader (Kafka's group protocol). Both are
// called on the thread that polls the reader, between two polls.
struct GroupHandlers {
  // The partitions this member now owns; returns where to start reading each one. An error
  // fails the reader's next poll (the caller reopens it: it leaves and rejoins the group).
  std::function<Result<std::vector<Assignment>>(const std::vector<Partition>&)> assigned;
  // The partitions it no longer owns; nothing more of them is returned after this.
  std::function<void(const std::vector<Partition>&)> revoked;
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

  // The offset the next appended record of the partition will get (Kafka: the last stable
  // offset; transaction markers occupy offsets, so the last record may be further back).
  virtual Result<Offset> end_offset(std::string_view topic, Partition partition) = 0;

  // The last record of the partition that readers see, if any.
  virtual Result<std::optional<StoredRecord>> last_record(std::string_view topic,
                                                          Partition partition);

  // The writer of one partition (see PartitionWriter). The default fences nothing: the
  // embedded log is written by one process, which holds its lock.
  virtual Result<std::unique_ptr<PartitionWriter>> partition_writer(std::string_view topic,
                                                                    Partition partition);

  virtual Result<std::unique_ptr<Reader>> reader(std::string_view topic,
                                                 std::vector<Assignment> assignments) = 0;

  // Reads `topic` as a member of consumer group `group`: partitions are split among the
  // members, each owned by one member at a time, and move when members come and go. Nothing is
  // committed to the group: the handlers say where to start. Kafka only.
  virtual Result<std::unique_ptr<Reader>> group_reader(std::string_view topic,
                                                       const std::string& group,
                                                       GroupHandlers handlers) {
    (void)topic, (void)group, (void)handlers;
    return Error{Errc::internal, "Consumer groups need Kafka",
                 "split roles (pulse serve --roles) run against --kafka BROKERS"};
  }

  // Whether the log answered its last health probe (Kafka: a broker answered for every
  // partition of both topics). The embedded log is always reachable. For /readyz, and appends
  // fail fast (nothing produced) while it is false.
  virtual bool reachable() const { return true; }
};

uint32_t murmur2(std::string_view data);

}  // namespace pulse::log
