#pragma once
// Read models of webhooks: an organisation's endpoints, and the outbox records the
// projector writes for the dispatcher (adapters/webhooks/dispatcher.h) to pick up.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/ids.h"
#include "domain/sealed.h"
#include "domain/time.h"

namespace pulse::projections {

// The secrets are copied from the events as they are there: sealed (or, from events written
// before sealing, in clear); the dispatcher opens them to sign.
struct WebhookView {
  static constexpr std::string_view kType = "WebhookView";
  static constexpr int kVersion = 2;  // v2: secrets sealed
  WebhookId id;
  std::string url;
  std::vector<std::string> events;
  std::string description;
  SecretValue secret;
  std::optional<SecretValue> previous_secret;  // still signs until previous_valid_until
  std::optional<TimePoint> previous_valid_until;
  bool enabled = true;
  std::optional<std::string> disabled_reason;  // set when Pulse disabled it (410, failing)
  TimePoint created_at;
  TimePoint updated_at;
  auto operator<=>(const WebhookView&) const = default;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("id", s.id), f("url", s.url), f("events", s.events), f("description", s.description),
        f("secret", s.secret), f("previousSecret", s.previous_secret),
        f("previousValidUntil", s.previous_valid_until), f("enabled", s.enabled),
        f("disabledReason", s.disabled_reason), f("createdAt", s.created_at),
        f("updatedAt", s.updated_at);
  }
};

// All endpoints of one organisation in one record (at most kMaxWebhooksPerOrg), so the
// projector finds the subscribers of an event with one read.
struct WebhookSet {
  static constexpr std::string_view kType = "WebhookSet";
  static constexpr int kVersion = 2;  // v2: WebhookView v2
  std::vector<WebhookView> webhooks;  // in creation order
  auto operator<=>(const WebhookSet&) const = default;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("webhooks", s.webhooks);
  }
};

// One record of the outbox, keyed by the source event's position and the item within it, so a
// rebuild writes the same keys: kind "delivery" (a new delivery, its payload final), or a
// request about existing deliveries: "redeliver" (delivery_id) or "replay" (since, until).
struct OutboxRecord {
  static constexpr std::string_view kType = "WebhookOutbox";
  static constexpr int kVersion = 1;
  int32_t partition = 0;
  int64_t offset = 0;
  int32_t index = 0;
  int32_t item = 0;
  std::string kind;
  OrgId org;
  WebhookId webhook;
  std::string delivery_id;
  std::string event_type;
  std::string event_id;
  TimePoint created_at;
  std::string payload;
  std::optional<TimePoint> since;
  std::optional<TimePoint> until;
  auto operator<=>(const OutboxRecord&) const = default;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("partition", s.partition), f("offset", s.offset), f("index", s.index), f("item", s.item),
        f("kind", s.kind), f("orgId", s.org), f("webhookId", s.webhook),
        f("deliveryId", s.delivery_id), f("eventType", s.event_type), f("eventId", s.event_id),
        f("createdAt", s.created_at), f("payload", s.payload), f("since", s.since),
        f("until", s.until);
  }
};

}  // namespace pulse::projections
