#include "projections/webhooks.h"

#include <algorithm>
#include <cassert>

#include "domain/json_writer.h"
#include "domain/overloaded.h"
#include "domain/webhooks.h"
#include "projections/conversations.h"
#include "projections/view_json.h"

namespace pulse::projections {
namespace {

// As GET /api/campaigns/{id} shows a message (the reference's Step 5).
std::string message_json(const MessageView& m) {
  JsonWriter w;
  write_message(w, m);
  return w.take();
}

// As GET /api/campaigns/{id} shows a campaign, without its messages.
std::string campaign_json(const CampaignView& c) {
  JsonWriter w;
  w.begin_object();
  write_campaign_fields(w, c);
  w.end_object();
  return w.take();
}

std::string device_json(const DeviceView& d, const std::optional<std::string>& reason) {
  JsonWriter w;
  w.begin_object().field("id", d.id.value).field("deviceName", d.name).field("status", d.status);
  write_time_or_null(w, "lastSeenAt", d.last_seen_at);
  w.field("reason", reason).end_object();
  return w.take();
}

template <class Batch>
void per_message(ReadModelTx& tx, const EventEnvelope& env, const Batch& e, std::string_view type,
                 std::vector<WebhookNotice>& out) {
  // Only messages this event moved to the type's status: a late report that merely refines a
  // message already past it (a "sent" after "delivered") notifies nobody.
  const auto status = type.substr(type.find('.') + 1);
  for (size_t i = 0; i < e.messages.size(); ++i)
    if (auto m = tx.get(table::message(env.org, e.messages[i].id)); m && m->status == status)
      out.push_back({std::string(type), static_cast<int32_t>(i), message_json(*m)});
}

void campaign_notice(ReadModelTx& tx, const EventEnvelope& env, const CampaignId& id,
                     std::string_view type, std::vector<WebhookNotice>& out) {
  if (auto c = tx.get(table::campaign(env.org, id)))
    out.push_back({std::string(type), 0, campaign_json(*c)});
}

void device_notice(ReadModelTx& tx, const EventEnvelope& env, const DeviceId& id,
                   std::string_view type, const std::optional<std::string>& reason,
                   std::vector<WebhookNotice>& out) {
  if (auto d = tx.get(table::device(env.org, id)))
    out.push_back({std::string(type), 0, device_json(*d, reason)});
}

WebhookSet webhooks_of(ReadModelTx& tx, const OrgId& org) {
  return tx.get(table::webhooks(org)).value_or(WebhookSet{});
}

WebhookView* find(WebhookSet& set, const WebhookId& id) {
  for (auto& w : set.webhooks)
    if (w.id == id) return &w;
  return nullptr;
}

OutboxRecord outbox(const EventEnvelope& env, int32_t item, std::string kind,
                    const WebhookId& webhook) {
  OutboxRecord r;
  r.partition = env.source.command.partition.value;
  r.offset = env.source.command.offset.value;
  r.index = env.source.index;
  r.item = item;
  r.kind = std::move(kind);
  r.org = env.org;
  r.webhook = webhook;
  r.event_id = event_id(env.source);
  r.created_at = env.at;
  return r;
}

void put_delivery(ReadModelTx& tx, const EventEnvelope& env, const WebhookId& webhook, int32_t item,
                  std::string_view type, std::string_view data) {
  auto r = outbox(env, item, "delivery", webhook);
  r.delivery_id = delivery_id(r.event_id, item, webhook);
  r.event_type = std::string(type);
  r.payload = webhook_payload(r.delivery_id, type, env.at, env.org, data);
  tx.put(table::outbox_record(r), r);
}

// Endpoint changes; true when the event was one.
bool apply_endpoint(ReadModelTx& tx, const EventEnvelope& env) {
  auto update = [&](const WebhookId& id, auto&& change) {
    auto set = webhooks_of(tx, env.org);
    auto* w = find(set, id);
    if (!w) return;
    change(*w);
    w->updated_at = env.at;
    tx.put(table::webhooks(env.org), set);
  };
  return std::visit(
      Overloaded{
          [&](const WebhookCreated& e) {
            auto set = webhooks_of(tx, env.org);
            if (find(set, e.webhook_id)) return true;
            WebhookView v;
            v.id = e.webhook_id;
            v.url = e.url;
            v.events = e.events;
            v.description = e.description;
            v.secret = e.secret;
            v.created_at = env.at;
            v.updated_at = env.at;
            set.webhooks.push_back(std::move(v));
            tx.put(table::webhooks(env.org), set);
            return true;
          },
          [&](const WebhookUpdated& e) {
            update(e.webhook_id, [&](WebhookView& w) {
              if (e.url) w.url = *e.url;
              if (e.events) w.events = *e.events;
              if (e.description) w.description = *e.description;
              if (e.enabled) {
                w.enabled = *e.enabled;
                if (w.enabled) w.disabled_reason.reset();
              }
            });
            return true;
          },
          [&](const WebhookDisabled& e) {
            update(e.webhook_id, [&](WebhookView& w) {
              w.enabled = false;
              w.disabled_reason = e.reason;
            });
            return true;
          },
          [&](const WebhookSecretRotated& e) {
            update(e.webhook_id, [&](WebhookView& w) {
              w.previous_secret = w.secret;
              w.previous_valid_until = e.previous_valid_until;
              w.secret = e.secret;
            });
            return true;
          },
          [&](const WebhookDeleted& e) {
            auto set = webhooks_of(tx, env.org);
            std::erase_if(set.webhooks, [&](const WebhookView& w) { return w.id == e.webhook_id; });
            tx.put(table::webhooks(env.org), set);
            return true;
          },
          [&](const WebhookPinged& e) {
            auto set = webhooks_of(tx, env.org);
            if (auto* w = find(set, e.webhook_id)) {
              JsonWriter data;
              data.begin_object().field("webhookId", w->id.value).field("url", w->url).end_object();
              put_delivery(tx, env, w->id, 0, kWebhookPing, data.str());
            }
            return true;
          },
          [&](const WebhookRedeliveryRequested& e) {
            auto r = outbox(env, 0, "redeliver", e.webhook_id);
            r.delivery_id = e.delivery_id;
            tx.put(table::outbox_record(r), r);
            return true;
          },
          [&](const WebhookReplayRequested& e) {
            auto r = outbox(env, 0, "replay", e.webhook_id);
            r.since = e.since;
            r.until = e.until;
            tx.put(table::outbox_record(r), r);
            return true;
          },
          [&](const NoneOf<WebhookEvents> auto&) { return false; },
      },
      env.body);
}

}  // namespace

std::vector<WebhookNotice> webhook_notices(ReadModelTx& tx, const EventEnvelope& env,
                                           const std::function<bool(std::string_view)>& wanted) {
  std::vector<WebhookNotice> out;
  auto message = [&](const auto& e, std::string_view type) {
    if (wanted(type)) per_message(tx, env, e, type, out);
  };
  auto campaign = [&](const CampaignId& id, std::string_view type) {
    if (wanted(type)) campaign_notice(tx, env, id, type, out);
  };
  auto device = [&](const DeviceId& id, std::string_view type,
                    const std::optional<std::string>& why) {
    if (wanted(type)) device_notice(tx, env, id, type, why, out);
  };
  std::visit(
      Overloaded{
          [&](const MessagesSent& e) { message(e, "message.sent"); },
          [&](const MessagesDelivered& e) { message(e, "message.delivered"); },
          [&](const MessagesFailed& e) { message(e, "message.failed"); },
          // A send starts its campaign with the command that creates it: the payload is read
          // once its messages are queued (the last MessagesQueued of that command), so that it
          // counts them, as GET /api/campaigns/{id} does; with no message to queue (every
          // recipient opted out) at its creation. A campaign of the campaigns API (drafted,
          // then launched or scheduled) starts with CampaignStarted.
          [&](const CampaignCreated& e) {
            if (e.total_messages == 0) campaign(e.id, "campaign.started");
          },
          [&](const MessagesQueued& e) {
            if (!wanted("campaign.started")) return;
            auto c = tx.get(table::campaign(env.org, e.campaign_id));
            if (c && c->queued_count == c->total_messages)
              out.push_back({"campaign.started", 0, campaign_json(*c)});
          },
          [&](const CampaignStarted& e) { campaign(e.campaign_id, "campaign.started"); },
          [&](const CampaignCompleted& e) { campaign(e.campaign_id, "campaign.completed"); },
          // After the presence window: the last device that could send it went offline.
          [&](const CampaignStalled& e) { campaign(e.campaign_id, "campaign.stalled"); },
          // Follows the MessagesFailed of its queued messages: the payload counts them failed.
          [&](const CampaignCancelled& e) { campaign(e.campaign_id, "campaign.cancelled"); },
          // As GET /api/messages/{id} shows it (direction, replyTo and the linked campaign).
          [&](const SmsReceived&) {
            if (!wanted("message.received")) return;
            if (auto m = tx.get(table::message(env.org, inbound_message_id(env)))) {
              JsonWriter w;
              w.begin_object();
              write_message_fields(w, *m, MessageJson::resource);
              w.end_object();
              out.push_back({"message.received", 0, w.take()});
            }
          },
          // A request closed by its checks: approved, or failed at the last wrong code.
          [&](const VerificationChecked& e) {
            const auto type = e.status == verify::status::approved ? "verify.approved"
                              : e.status == verify::status::failed ? "verify.failed"
                                                                   : "";
            if (!*type || !wanted(type)) return;
            if (auto v = tx.get(table::verification(env.org, e.request_id))) {
              JsonWriter w;
              w.begin_object();
              write_verification_fields(w, *v, v->status);
              w.end_object();
              out.push_back({type, 0, w.take()});
            }
          },
          [&](const DeviceConnected& e) { device(e.device_id, "device.connected", std::nullopt); },
          [&](const DeviceDisconnected& e) {
            device(e.device_id, "device.disconnected", e.reason);
          },
          [&](const auto&) {},
      },
      env.body);
  return out;
}

std::string webhook_payload(std::string_view delivery_id, std::string_view type, TimePoint at,
                            const OrgId& org, std::string_view data) {
  JsonWriter w;
  w.begin_object()
      .field("id", delivery_id)
      .field("type", type)
      .field("createdAt", format_iso8601(at))
      .field("organizationId", org.value)
      .key("data")
      .raw(data)
      .end_object();
  return w.take();
}

void apply_webhooks(ReadModelTx& tx, const EventEnvelope& env) {
  if (apply_endpoint(tx, env)) return;
  std::optional<WebhookSet> set;  // read once, and only for an event that maps to a type
  auto subscribed = [](const WebhookView& w, std::string_view type) {
    return w.enabled && std::find(w.events.begin(), w.events.end(), type) != w.events.end();
  };
  auto notices = webhook_notices(tx, env, [&](std::string_view type) {
    if (!set) set = webhooks_of(tx, env.org);
    return std::any_of(set->webhooks.begin(), set->webhooks.end(),
                       [&](const WebhookView& w) { return subscribed(w, type); });
  });
  if (notices.empty()) return;
  assert(set && "a notice is only made for a type some endpoint wants");
  for (const auto& w : set->webhooks) {
    for (const auto& n : notices)
      if (subscribed(w, n.type)) put_delivery(tx, env, w.id, n.item, n.type, n.data);
  }
}

}  // namespace pulse::projections
