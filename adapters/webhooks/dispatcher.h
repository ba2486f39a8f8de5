#pragma once
// The webhook dispatcher: takes new deliveries over from the outbox the projector
// writes (views/, keys wo/…) into its own store (DeliveryStore), posts each one signed to its
// endpoint with retries, and records every attempt. Self-contained: it needs the log (to
// append DisableWebhook), the read models (endpoints and the outbox), its store and a clock,
// so it can run as a role of its own. Owns one scheduler thread and `threads` worker threads,
// and their HTTP clients.
//
// Alone (the embedded log), it owns every outbox partition and writes its store directly.
// With a consumer group (Kafka), dispatchers split the outbox partitions among themselves: a
// partition's owner writes through pulse.webhook-deliveries (DeliveryReplica), so when a
// dispatcher leaves or dies, the next owner of its partitions takes them over with every
// delivery's attempts and due time and the outbox cursor, and sends only what was not recorded
// as done: at most the requests the previous owner had in flight are made again.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adapters/log/log.h"
#include "adapters/runtime/watermarks.h"
#include "adapters/store/kv_store.h"
#include "adapters/webhooks/delivery_store.h"
#include "domain/random.h"
#include "domain/sealed.h"
#include "domain/time.h"
#include "domain/webhooks.h"

namespace pulse::webhooks {

// A Retry-After header's wait (RFC 9110: delay-seconds or an HTTP-date, relative to `now`);
// nullopt when absent or malformed.
std::optional<Millis> parse_retry_after(const std::string& v, TimePoint now);

struct DispatcherOptions {
  RetryPolicy policy;
  Millis timeout{10'000};  // connect, write and read, each
  int threads = 16;        // requests in flight over all endpoints
  int per_endpoint = 4;    // requests in flight to one endpoint: a slow one keeps the others
  bool allow_private = false;
  Millis poll{50};  // how often due deliveries are looked for without a wake-up
  // Kafka: the consumer group through which dispatchers share the outbox partitions (needs a
  // DeliveryReplica). Empty: this dispatcher owns every partition.
  std::string group;
};

class DeliveryReplica;

class Dispatcher {
 public:
  // `ready` blocks until the read models have caught up with the log (bounded, true when they
  // have); the dispatcher sends nothing, and places its first cursors, only then.
  // `random` jitters the retry delays; `sealer` opens the endpoints' secrets to sign.
  // `replica` (with options.group) keeps `state` a copy of pulse.webhook-deliveries.
  Dispatcher(log::Log* log, store::KvStore& views, store::KvStore& state, int32_t partitions,
             const TimeSource& clock, RandomSource& random, const Sealer& sealer,
             DispatcherOptions options, std::function<bool()> ready,
             DeliveryReplica* replica = nullptr);
  ~Dispatcher();

  // On a store that has never dispatched, the cursors start at the outbox's current end:
  // deliveries projected before (a data directory rebuilt with `pulse replay`) are not sent.
  Status start();
  void stop();
  // Wakes the scheduler: the projector wrote outbox records.
  runtime::Signal& outbox_signal();
  // The outbox partitions this dispatcher delivers now (all of them when it runs alone, once
  // started).
  std::vector<int32_t> active_partitions() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pulse::webhooks
