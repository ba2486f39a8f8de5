#pragma once
// Webhook endpoints: create, change, delete, rotate the secret, ping, replay a window of events.
// The delivery log and redelivery read the dispatcher's store and stay with the HTTP routes.
#include <optional>
#include <string>
#include <vector>

#include "adapters/service/ports.h"

namespace pulse::service {

inline constexpr size_t kMaxWebhookDescription = 500;

// The fields of POST /api/webhooks (url and events required) and PATCH (all optional).
struct WebhookFields {
  std::optional<std::string> url;
  std::optional<std::vector<std::string>> events;
  std::optional<std::string> description;
  std::optional<bool> enabled;
};

// The webhook `id` of `org`; 404 when it is malformed or unknown.
Result<projections::WebhookView> find_webhook(const Deps& d, const OrgId& org,
                                              const std::string& id);

struct CreatedWebhook {
  projections::WebhookView view;
  std::string secret;  // shown once
};
Result<CreatedWebhook> create_webhook(const Deps& d, const OrgId& org, const WebhookFields& in);
// `view` is the webhook as find_webhook returned it (before the body is read: an unknown
// webhook is a 404 whatever the body holds).
Result<projections::WebhookView> update_webhook(const Deps& d, const OrgId& org,
                                                const projections::WebhookView& view,
                                                const WebhookFields& in);
Status delete_webhook(const Deps& d, const OrgId& org, const std::string& id);

struct RotatedSecret {
  projections::WebhookView view;  // after the rotation: previous_valid_until set
  std::string secret;             // the new one, shown once
};
Result<RotatedSecret> rotate_webhook_secret(const Deps& d, const OrgId& org, const std::string& id);
// Queues a test delivery; returns the webhook.
Result<projections::WebhookView> ping_webhook(const Deps& d, const OrgId& org,
                                              const std::string& id);

struct ReplayWindow {
  WebhookId webhook;
  TimePoint since;
  TimePoint until;
};
// Redelivers the events of [since, until); `until` empty means now.
Result<ReplayWindow> replay_webhook(const Deps& d, const OrgId& org,
                                    const projections::WebhookView& view, const std::string& since,
                                    const std::string& until);

}  // namespace pulse::service
