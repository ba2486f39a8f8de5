#include "adapters/service/webhooks.h"

#include <algorithm>

#include "adapters/service/errors.h"
#include "domain/text.h"
#include "domain/webhooks.h"
#include "fmt/format.h"

namespace pulse::service {
namespace {

Result<std::vector<std::string>> check_events(const std::vector<std::string>& events) {
  if (events.empty())
    return validation_error("Invalid events", "subscribe to at least one event type");
  std::vector<std::string> out;
  for (const auto& e : events) {
    if (!is_webhook_event_type(e)) {
      std::string known;
      for (auto k : kWebhookEventTypes) known += (known.empty() ? "" : ", ") + std::string(k);
      return validation_error(
          "Invalid events", fmt::format("unknown event '{}' (one of: {})", e.substr(0, 64), known));
    }
    if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(e);
  }
  return out;
}

Status check_description(const std::optional<std::string>& d) {
  if (d && d->size() > kMaxWebhookDescription)
    return validation_error("Invalid description",
                            fmt::format("at most {} characters", kMaxWebhookDescription));
  if (d)
    if (auto st = check_text("description", *d); !st) return st.error();
  return ok_status();
}

// A new signing secret for `webhook`: in clear for the caller (shown once), sealed for the log.
struct NewSecret {
  std::string clear;
  SealedValue sealed;
};
Result<NewSecret> new_secret(const Deps& d, const WebhookId& webhook) {
  auto clear = d.secrets.webhook_secret();
  auto sealed =
      d.sealer.seal(clear, webhook_secret_context(webhook), d.secrets.random_hex(kSealNonceBytes));
  if (!sealed) return sealed.error();
  return NewSecret{std::move(clear), std::move(sealed).value()};
}

}  // namespace

Result<projections::WebhookView> find_webhook(const Deps& d, const OrgId& org,
                                              const std::string& id) {
  const Error missing = not_found("Webhook not found");
  if (!is_valid_id(id_prefix::webhook, id)) return missing;
  auto set = d.reads.webhooks(org);
  if (!set) return set.error();
  for (auto& w : set->webhooks)
    if (w.id.value == id) return w;
  return missing;
}

Result<CreatedWebhook> create_webhook(const Deps& d, const OrgId& org, const WebhookFields& in) {
  if (!in.url) return validation_error("Invalid request body", "url is required");
  if (!in.events) return validation_error("Invalid request body", "events is required");
  if (auto st = check_description(in.description); !st) return st.error();
  auto events = check_events(*in.events);
  if (!events) return events.error();
  if (auto st = check_text("url", *in.url); !st) return st.error();
  if (auto st = d.urls.check(*in.url); !st) return st.error();
  const WebhookId id{make_id(id_prefix::webhook, d.clock.now(), d.secrets.random64())};
  auto secret = new_secret(d, id);
  if (!secret) return secret.error();
  if (auto st = d.log.execute(
          org, CreateWebhook{id, *in.url, *events, in.description.value_or(""), secret->sealed});
      !st)
    return st.error();
  auto view = find_webhook(d, org, id.value);
  if (!view) return view.error();
  return CreatedWebhook{std::move(view).value(), std::move(secret->clear)};
}

Result<projections::WebhookView> update_webhook(const Deps& d, const OrgId& org,
                                                const projections::WebhookView& view,
                                                const WebhookFields& in) {
  if (auto st = check_description(in.description); !st) return st.error();
  UpdateWebhook cmd{view.id, in.url, std::nullopt, in.description, in.enabled};
  if (in.events) {
    auto events = check_events(*in.events);
    if (!events) return events.error();
    cmd.events = *events;
  }
  if (in.url) {
    if (auto st = check_text("url", *in.url); !st) return st.error();
    if (auto st = d.urls.check(*in.url); !st) return st.error();
  }
  if (auto st = d.log.execute(org, cmd); !st) return st.error();
  return find_webhook(d, org, view.id.value);
}

Status delete_webhook(const Deps& d, const OrgId& org, const std::string& id) {
  auto view = find_webhook(d, org, id);
  if (!view) return view.error();
  return d.log.execute(org, DeleteWebhook{view->id});
}

Result<RotatedSecret> rotate_webhook_secret(const Deps& d, const OrgId& org,
                                            const std::string& id) {
  auto view = find_webhook(d, org, id);
  if (!view) return view.error();
  auto secret = new_secret(d, view->id);
  if (!secret) return secret.error();
  if (auto st = d.log.execute(org, RotateWebhookSecret{view->id, secret->sealed}); !st)
    return st.error();
  auto after = find_webhook(d, org, view->id.value);
  if (!after) return after.error();
  return RotatedSecret{std::move(after).value(), std::move(secret->clear)};
}

Result<projections::WebhookView> ping_webhook(const Deps& d, const OrgId& org,
                                              const std::string& id) {
  auto view = find_webhook(d, org, id);
  if (!view) return view.error();
  if (auto st = d.log.execute(org, PingWebhook{view->id}); !st) return st.error();
  return view;
}

Result<ReplayWindow> replay_webhook(const Deps& d, const OrgId& org,
                                    const projections::WebhookView& view,
                                    const std::string& since_text, const std::string& until_text) {
  const auto since = parse_iso8601(since_text);
  const auto until =
      until_text.empty() ? std::optional(d.clock.now() + Millis{1}) : parse_iso8601(until_text);
  if (!since || !until)
    return validation_error("Invalid request body", "since and until must be ISO 8601 times");
  if (*until <= *since) return validation_error("Invalid window", "until must be after since");
  if (auto st = d.log.execute(org, ReplayWebhook{view.id, *since, *until}); !st) return st.error();
  return ReplayWindow{view.id, *since, *until};
}

}  // namespace pulse::service
