#include "commands/webhooks.h"

#include "domain/overloaded.h"
#include "fmt/format.h"

namespace pulse::commands {
namespace {

using Decision = Result<std::vector<Event>>;

Error webhook_not_found() {
  return Error{Errc::not_found, "Webhook not found", "It does not exist in this organization."};
}

const WebhookState* find(const OrgState& org, const WebhookId& id) {
  if (!org.webhooks) return nullptr;
  auto it = org.webhooks->find(id.value);
  return it == org.webhooks->end() ? nullptr : &it->second;
}

Decision one(Event e) {
  std::vector<Event> out;
  out.push_back(std::move(e));
  return out;
}

}  // namespace

Decision decide_webhooks(const OrgState& org, const CommandEnvelope& cmd) {
  auto existing = [&](const WebhookId& id) -> std::optional<Error> {
    if (!org.exists) return Error{Errc::not_found, "Organization not found", "It does not exist."};
    if (!find(org, id)) return webhook_not_found();
    return std::nullopt;
  };
  return *std::visit(
      Overloaded{
          [&](const CreateWebhook& c) -> std::optional<Decision> {
            if (!org.exists)
              return Decision(
                  Error{Errc::not_found, "Organization not found", "It does not exist."});
            if (find(org, c.webhook_id))
              return Decision(Error{Errc::conflict, "Webhook already exists", "Its id is taken."});
            if (org.webhooks && org.webhooks->size() >= kMaxWebhooksPerOrg)
              return Decision(Error{Errc::forbidden, "Webhook limit reached",
                                    fmt::format("An organization has at most {} webhooks; "
                                                "delete one first.",
                                                kMaxWebhooksPerOrg)});
            return one(WebhookCreated{c.webhook_id, c.url, c.events, c.description, c.secret});
          },
          [&](const UpdateWebhook& c) -> std::optional<Decision> {
            if (auto e = existing(c.webhook_id)) return Decision(*e);
            return one(WebhookUpdated{c.webhook_id, c.url, c.events, c.description, c.enabled});
          },
          [&](const DeleteWebhook& c) -> std::optional<Decision> {
            if (auto e = existing(c.webhook_id)) return Decision(*e);
            return one(WebhookDeleted{c.webhook_id});
          },
          [&](const RotateWebhookSecret& c) -> std::optional<Decision> {
            if (auto e = existing(c.webhook_id)) return Decision(*e);
            return one(WebhookSecretRotated{c.webhook_id, c.secret, cmd.at + kSecretOverlap});
          },
          [&](const PingWebhook& c) -> std::optional<Decision> {
            if (auto e = existing(c.webhook_id)) return Decision(*e);
            return one(WebhookPinged{c.webhook_id});
          },
          [&](const DisableWebhook& c) -> std::optional<Decision> {
            // The dispatcher's verdict on an endpoint already gone or disabled: nothing to do.
            const auto* w = find(org, c.webhook_id);
            if (!w || !w->enabled) return Decision(std::vector<Event>{});
            return one(WebhookDisabled{c.webhook_id, c.reason});
          },
          [&](const RedeliverWebhook& c) -> std::optional<Decision> {
            if (auto e = existing(c.webhook_id)) return Decision(*e);
            return one(WebhookRedeliveryRequested{c.webhook_id, c.delivery_id});
          },
          [&](const ReplayWebhook& c) -> std::optional<Decision> {
            if (auto e = existing(c.webhook_id)) return Decision(*e);
            if (c.until <= c.since)
              return Decision(validation_error("Invalid window", "until must be after since"));
            return one(WebhookReplayRequested{c.webhook_id, c.since, c.until});
          },
          // Unreachable: decide() routes only WebhookCommands here.
          [&](const NoneOf<WebhookCommands> auto&) -> std::optional<Decision> {
            return misrouted(cmd);
          },
      },
      cmd.body);
}

void evolve_webhooks(OrgState& org, const Event& event) {
  std::visit(Overloaded{
                 [&](const WebhookCreated& e) {
                   if (!org.webhooks) org.webhooks.emplace();
                   (*org.webhooks)[e.webhook_id.value] = WebhookState{true};
                 },
                 [&](const WebhookUpdated& e) {
                   if (!org.webhooks || !e.enabled) return;
                   auto it = org.webhooks->find(e.webhook_id.value);
                   if (it != org.webhooks->end()) it->second.enabled = *e.enabled;
                 },
                 [&](const WebhookDisabled& e) {
                   if (!org.webhooks) return;
                   auto it = org.webhooks->find(e.webhook_id.value);
                   if (it != org.webhooks->end()) it->second.enabled = false;
                 },
                 [&](const WebhookDeleted& e) {
                   if (org.webhooks) org.webhooks->erase(e.webhook_id.value);
                 },
                 // Deliveries, not endpoint state: the dispatcher acts on these.
                 [&](const WebhookSecretRotated&) {},
                 [&](const WebhookPinged&) {},
                 [&](const WebhookRedeliveryRequested&) {},
                 [&](const WebhookReplayRequested&) {},
                 [&](const NoneOf<WebhookEvents> auto&) {},
             },
             event);
}

}  // namespace pulse::commands
