#pragma once
// Webhooks: the endpoint commands and events (organisation data, decided like any
// other), the event types subscribers receive, and the pure rules of delivery: the retry
// schedule and what one attempt's outcome does to a delivery. No I/O.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/ids.h"
#include "domain/sealed.h"
#include "domain/time.h"
#include "domain/type_list.h"

namespace pulse {

// What a subscriber can subscribe to (`ping` is sent by POST /api/webhooks/{id}/test only).
inline constexpr std::array<std::string_view, 12> kWebhookEventTypes = {
    "message.sent",     "message.delivered",   "message.failed",     "message.received",
    "campaign.started", "campaign.completed",  "campaign.cancelled", "campaign.stalled",
    "device.connected", "device.disconnected", "verify.approved",    "verify.failed"};
inline constexpr std::string_view kWebhookPing = "ping";
bool is_webhook_event_type(std::string_view type);

inline constexpr size_t kMaxWebhooksPerOrg = 20;
// A rotated-out secret keeps verifying (and signing) for this long.
inline constexpr Millis kSecretOverlap{24LL * 3600'000};

// What a webhook's signing secret is sealed for (domain/sealed.h): it opens for this endpoint only.
std::string webhook_secret_context(const WebhookId& webhook);

// ---- commands -------------------------------------------------------------------------------

// The secret enters the log sealed (v2; v1 held it in clear): replaying the log rebuilds the
// read models with the same ciphertext, and only the dispatcher opens it, to sign.
struct CreateWebhook {
  static constexpr std::string_view kType = "CreateWebhook";
  static constexpr int kVersion = 2;  // v2: secret sealed
  WebhookId webhook_id;
  std::string url;
  std::vector<std::string> events;
  std::string description;
  SecretValue secret;  // "whsec_<base64 of 24 random bytes>", sealed
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("webhookId", s.webhook_id), f("url", s.url), f("events", s.events),
        f("description", s.description), f("secret", s.secret);
  }
};

struct UpdateWebhook {
  static constexpr std::string_view kType = "UpdateWebhook";
  static constexpr int kVersion = 1;
  WebhookId webhook_id;
  std::optional<std::string> url;
  std::optional<std::vector<std::string>> events;
  std::optional<std::string> description;
  std::optional<bool> enabled;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("webhookId", s.webhook_id), f("url", s.url), f("events", s.events),
        f("description", s.description), f("enabled", s.enabled);
  }
};

struct DeleteWebhook {
  static constexpr std::string_view kType = "DeleteWebhook";
  static constexpr int kVersion = 1;
  WebhookId webhook_id;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("webhookId", s.webhook_id);
  }
};

struct RotateWebhookSecret {
  static constexpr std::string_view kType = "RotateWebhookSecret";
  static constexpr int kVersion = 2;  // v2: secret sealed
  WebhookId webhook_id;
  SecretValue secret;  // the new one
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("webhookId", s.webhook_id), f("secret", s.secret);
  }
};

// POST /api/webhooks/{id}/test: one `ping` delivery.
struct PingWebhook {
  static constexpr std::string_view kType = "PingWebhook";
  static constexpr int kVersion = 1;
  WebhookId webhook_id;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("webhookId", s.webhook_id);
  }
};

// Appended by the dispatcher: the endpoint answered 410, or failed for too long.
struct DisableWebhook {
  static constexpr std::string_view kType = "DisableWebhook";
  static constexpr int kVersion = 1;
  WebhookId webhook_id;
  std::string reason;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("webhookId", s.webhook_id), f("reason", s.reason);
  }
};

// POST /api/webhooks/{id}/deliveries/{deliveryId}/retry.
struct RedeliverWebhook {
  static constexpr std::string_view kType = "RedeliverWebhook";
  static constexpr int kVersion = 1;
  WebhookId webhook_id;
  std::string delivery_id;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("webhookId", s.webhook_id), f("deliveryId", s.delivery_id);
  }
};

// POST /api/webhooks/{id}/replay: every delivery created in [since, until) sent again.
struct ReplayWebhook {
  static constexpr std::string_view kType = "ReplayWebhook";
  static constexpr int kVersion = 1;
  WebhookId webhook_id;
  TimePoint since;
  TimePoint until;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("webhookId", s.webhook_id), f("since", s.since), f("until", s.until);
  }
};

// ---- events ---------------------------------------------------------------------------------

struct WebhookCreated {
  static constexpr std::string_view kType = "WebhookCreated";
  static constexpr int kVersion = 2;  // v2: secret sealed
  WebhookId webhook_id;
  std::string url;
  std::vector<std::string> events;
  std::string description;
  SecretValue secret;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("webhookId", s.webhook_id), f("url", s.url), f("events", s.events),
        f("description", s.description), f("secret", s.secret);
  }
};

// Only the fields that changed are set.
struct WebhookUpdated {
  static constexpr std::string_view kType = "WebhookUpdated";
  static constexpr int kVersion = 1;
  WebhookId webhook_id;
  std::optional<std::string> url;
  std::optional<std::vector<std::string>> events;
  std::optional<std::string> description;
  std::optional<bool> enabled;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("webhookId", s.webhook_id), f("url", s.url), f("events", s.events),
        f("description", s.description), f("enabled", s.enabled);
  }
};

struct WebhookDeleted {
  static constexpr std::string_view kType = "WebhookDeleted";
  static constexpr int kVersion = 1;
  WebhookId webhook_id;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("webhookId", s.webhook_id);
  }
};

struct WebhookSecretRotated {
  static constexpr std::string_view kType = "WebhookSecretRotated";
  static constexpr int kVersion = 2;  // v2: secret sealed
  WebhookId webhook_id;
  SecretValue secret;
  TimePoint previous_valid_until;  // the old secret still signs until then
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("webhookId", s.webhook_id), f("secret", s.secret),
        f("previousValidUntil", s.previous_valid_until);
  }
};

struct WebhookPinged {
  static constexpr std::string_view kType = "WebhookPinged";
  static constexpr int kVersion = 1;
  WebhookId webhook_id;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("webhookId", s.webhook_id);
  }
};

struct WebhookDisabled {
  static constexpr std::string_view kType = "WebhookDisabled";
  static constexpr int kVersion = 1;
  WebhookId webhook_id;
  std::string reason;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("webhookId", s.webhook_id), f("reason", s.reason);
  }
};

struct WebhookRedeliveryRequested {
  static constexpr std::string_view kType = "WebhookRedeliveryRequested";
  static constexpr int kVersion = 1;
  WebhookId webhook_id;
  std::string delivery_id;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("webhookId", s.webhook_id), f("deliveryId", s.delivery_id);
  }
};

struct WebhookReplayRequested {
  static constexpr std::string_view kType = "WebhookReplayRequested";
  static constexpr int kVersion = 1;
  WebhookId webhook_id;
  TimePoint since;
  TimePoint until;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("webhookId", s.webhook_id), f("since", s.since), f("until", s.until);
  }
};

// ---- delivery ---------------------------------------------------------------------------------

// "dlv_<partition>-<offset>-<index>-<item>_<webhook id body>": the source event's id, the item
// within it (a batch event gives one delivery per message) and the endpoint. Stable across
// retries, restarts and read-model rebuilds: subscribers deduplicate on it (webhook-id).
std::string delivery_id(std::string_view event_id, int32_t item, const WebhookId& webhook);
bool is_valid_delivery_id(std::string_view id);

struct WebhookAttempt {
  TimePoint at;
  int32_t status_code = 0;  // 0: no HTTP answer (connection, timeout, refused address)
  int64_t latency_ms = 0;
  std::string response;  // the first bytes of the answer, or why there was none
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("at", s.at), f("statusCode", s.status_code), f("latencyMs", s.latency_ms),
        f("response", s.response);
  }
};

// Dispatch state of one delivery (not an event: attempts are the dispatcher's business).
// status: pending (a next attempt is due at next_at), succeeded, dead (dead-lettered: attempts
// used up, 410, or the endpoint is gone or disabled).
struct DeliveryState {
  static constexpr std::string_view kType = "WebhookDelivery";
  static constexpr int kVersion = 1;
  std::string id;
  OrgId org;
  WebhookId webhook;
  std::string event_type;
  std::string event_id;
  TimePoint created_at;
  std::string status = "pending";
  std::optional<TimePoint> next_at;
  int32_t round = 0;  // attempts since the delivery was (re)scheduled: indexes the schedule
  std::vector<WebhookAttempt> attempts;
  std::string payload;  // the body, byte for byte the same on every attempt
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("id", s.id), f("orgId", s.org), f("webhookId", s.webhook), f("eventType", s.event_type),
        f("eventId", s.event_id), f("createdAt", s.created_at), f("status", s.status),
        f("nextAt", s.next_at), f("round", s.round), f("attempts", s.attempts),
        f("payload", s.payload);
  }
};

// A change to the dispatchers' store (data-dir/webhooks): a key set to a value, or deleted.
struct DeliveryStoreWrite {
  std::string key;
  std::optional<std::string> value;  // nullopt: deleted
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("key", s.key), f("value", s.value);
  }
};

// One write of a dispatcher to its store, as a record of pulse.webhook-deliveries (Kafka): the
// partition's owner appends it, and every node that keeps a copy of the store applies it in
// offset order (DeliveryReplica). The values are the store's own (DeliveryState, EndpointHealth
// and the outbox cursor), so a copy is the owner's store byte for byte.
struct DeliveryChanges {
  static constexpr std::string_view kType = "WebhookDeliveryChanges";
  static constexpr int kVersion = 1;
  std::vector<DeliveryStoreWrite> writes;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("writes", s.writes);
  }
};

// How long an endpoint may fail before it is disabled, per endpoint.
struct EndpointHealth {
  static constexpr std::string_view kType = "WebhookEndpointHealth";
  static constexpr int kVersion = 1;
  std::optional<TimePoint> failing_since;  // the first failure after the last success
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("failingSince", s.failing_since);
  }
};

struct RetryPolicy {
  // Delay before attempt i+1 (attempt 1 is immediate): Standard Webhooks' schedule.
  std::vector<Millis> schedule = {Millis{0},
                                  Millis{5'000},
                                  Millis{5 * 60'000},
                                  Millis{30 * 60'000},
                                  Millis{2 * 3600'000},
                                  Millis{5 * 3600'000},
                                  Millis{10 * 3600'000},
                                  Millis{24 * 3600'000}};
  double jitter = 0.2;                        // each delay varies by up to ±20 %
  Millis max_retry_after{24 * 3600'000};      // a Retry-After longer than this is capped
  Millis disable_after{5LL * 24 * 3600'000};  // failing this long disables the endpoint
};

// "0,5s,300ms,2m,1h" -> delays; nullopt when malformed or empty.
std::optional<std::vector<Millis>> parse_retry_schedule(std::string_view text);

struct AttemptOutcome {
  int32_t status_code = 0;
  int64_t latency_ms = 0;
  std::string response;
  std::optional<Millis> retry_after;
};

enum class EndpointAction { none, disable_gone, disable_failing };

// Records an attempt made at `at` and moves the delivery on: succeeded on 2xx; dead on 410 or
// after the schedule's last attempt; else pending again after the next delay (jittered by
// `jitter01` in [0, 1), never sooner than Retry-After). Updates the endpoint's health and says
// whether the endpoint must be disabled.
EndpointAction record_attempt(DeliveryState& d, EndpointHealth& health, const RetryPolicy& policy,
                              TimePoint at, const AttemptOutcome& outcome, double jitter01);

// A new round of attempts from `at` (a manual retry or a replay).
void reschedule(DeliveryState& d, TimePoint at);

using WebhookCommands = Types<CreateWebhook, UpdateWebhook, DeleteWebhook, RotateWebhookSecret,
                              PingWebhook, DisableWebhook, RedeliverWebhook, ReplayWebhook>;
using WebhookEvents =
    Types<WebhookCreated, WebhookUpdated, WebhookDeleted, WebhookSecretRotated, WebhookPinged,
          WebhookDisabled, WebhookRedeliveryRequested, WebhookReplayRequested>;

}  // namespace pulse
