#pragma once
// With Kafka, the dispatchers' store (data-dir/webhooks) is a copy of pulse.webhook-deliveries:
// each partition's owner appends its writes there (DeliveryChanges), and every node that
// dispatches or answers the delivery log applies every partition in offset order. A partition
// that moves to another dispatcher therefore moves with its deliveries, attempts, due times and
// outbox cursor, and any API node answers the delivery log of any organisation.
//
// The owner applies its own writes at once (apply_own), so it reads what it wrote; the
// replica's thread then skips those records when it reads them back. The last applied offset
// of each partition is kept in the store itself (keys::applied), in the same write as the
// changes, so a restart resumes where the store is.
//
// Owns one reader thread.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "adapters/log/log.h"
#include "adapters/runtime/worker.h"
#include "adapters/store/kv_store.h"

namespace pulse::webhooks {

class DeliveryReplica {
 public:
  DeliveryReplica(log::Log& log, store::KvStore& kv, int32_t partitions);
  ~DeliveryReplica();
  DeliveryReplica(const DeliveryReplica&) = delete;
  DeliveryReplica& operator=(const DeliveryReplica&) = delete;

  // Reads where each partition stands in the store, then follows the topic on a thread.
  Status start();
  void stop();

  // The offset of partition p's next record to apply (everything before it is in the store).
  Offset next(Partition p) const;
  // Waits until next(p) >= offset; false when `deadline` came first or the replica stopped.
  bool wait_applied(Partition p, Offset offset, std::chrono::steady_clock::time_point deadline);

  // The owner of p appended `ops` at `at`: applies them now with the offset, so that the
  // replica's thread skips the record when it comes back.
  Status apply_own(Partition p, Offset at, const std::vector<store::WriteOp>& ops);

 private:
  void step();
  Status apply(const log::StoredRecord& r);

  log::Log& log_;
  store::KvStore& kv_;
  int32_t partitions_;
  std::unique_ptr<log::Reader> reader_;
  runtime::Worker worker_;
  mutable std::mutex mu_;  // applies, next_ and own_
  std::condition_variable applied_cv_;
  std::vector<int64_t> next_;  // per partition: the next offset the replica applies
  std::vector<int64_t> own_;   // per partition: the last offset applied by its owner here
  bool stopping_ = false;
};

}  // namespace pulse::webhooks
