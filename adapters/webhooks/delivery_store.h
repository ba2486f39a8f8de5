#pragma once
// The dispatch state of webhook deliveries (data-dir/webhooks, a RocksDB of its own): what the
// dispatcher took over from the outbox, every attempt, and what is due next. Kept apart from
// views/ on purpose: views/ can be deleted and rebuilt from the log at any time, and a rebuild
// must neither lose the attempts nor send again what was sent (the dispatcher's per-partition
// cursors into the outbox survive the rebuild, whose outbox keys are the same).
//
// Keys:
//   d/<delivery id>                                  DeliveryState
//   q/<endpoint>/<due unix ms, 13 digits>/<delivery id> "" (pending, by endpoint and due time)
//   l/<org>/<webhook>/<created unix ms>/<delivery id> "" (the delivery log, by creation)
//   e/<org>/<webhook>                                EndpointHealth
//   c/<partition, 5 digits>                          the last outbox key taken over
//   _init                                            set once the cursors were placed
//   o/<partition, 5 digits>                          with Kafka: the last pulse.webhook-deliveries
//                                                    offset applied (DeliveryReplica)
#include <optional>
#include <string>
#include <vector>

#include "adapters/store/kv_store.h"
#include "domain/webhooks.h"

namespace pulse::webhooks {

namespace keys {
std::string delivery(std::string_view id);
// Pending deliveries by endpoint (the webhook id's body, as in the delivery id), then due time.
std::string due(TimePoint at, std::string_view id);
std::string due_prefix(std::string_view endpoint);
inline constexpr std::string_view kDuePrefix = "q/";
// A key that due() made, read back.
struct DueKey {
  std::string endpoint;
  int64_t ms = 0;
  std::string id;
};
DueKey parse_due(std::string_view key);
std::string listing_prefix(const OrgId& org, const WebhookId& webhook);
std::string listing(const DeliveryState& d);
std::string health(const OrgId& org, const WebhookId& webhook);
std::string cursor(int32_t partition);
std::string applied(int32_t partition);
inline constexpr std::string_view kInit = "_init";
}  // namespace keys

struct DeliveryFilter {
  std::optional<std::string> status;      // pending | succeeded | dead
  std::optional<std::string> event_type;  // message.sent, …
};

struct DeliveryPage {
  std::vector<DeliveryState> deliveries;  // newest first
  std::optional<std::string> next_cursor;
};

class DeliveryStore {
 public:
  explicit DeliveryStore(store::KvStore& kv) : kv_(kv) {}
  Result<std::optional<DeliveryState>> get(std::string_view id);
  // An endpoint's deliveries, newest first, strictly older than the delivery `cursor` names.
  Result<DeliveryPage> list(const OrgId& org, const WebhookId& webhook, size_t limit,
                            const std::optional<std::string>& cursor, const DeliveryFilter& filter);
  store::KvStore& kv() { return kv_; }

 private:
  store::KvStore& kv_;
};

}  // namespace pulse::webhooks
