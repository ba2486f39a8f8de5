// Webhooks: endpoints, secret rotation, test pings, the delivery log, redelivery and
// replay. Endpoint changes are commands; the delivery log is the dispatcher's store.
#include "adapters/http/request_json.h"
#include "adapters/http/routes.h"
#include "adapters/service/webhooks.h"
#include "adapters/webhooks/signing.h"
#include "domain/ids.h"
#include "domain/json_writer.h"
#include "domain/webhooks.h"
#include "fmt/format.h"

namespace pulse::http {
namespace {

// On a node that keeps no copy of the dispatchers' store: the embedded log's nodes without the
// dispatcher role, and read-only servers.
Error no_delivery_log() {
  return Error{Errc::unavailable, "Delivery log not on this node",
               "It is kept by the dispatcher (and, with Kafka, by every API node); ask one."};
}

using Req = httplib::Request;
using Res = httplib::Response;

constexpr size_t kDefaultDeliveries = 20;
constexpr size_t kMaxDeliveries = 100;

void write_webhook(JsonWriter& w, const projections::WebhookView& v,
                   const std::string* secret = nullptr) {
  w.begin_object().field("id", v.id.value).field("url", v.url).key("events").begin_array();
  for (const auto& e : v.events) w.value(e);
  w.end_array().field("description", v.description);
  if (secret) w.field("secret", *secret);
  w.field("enabled", v.enabled)
      .field("disabledReason", v.disabled_reason)
      .field("createdAt", format_iso8601(v.created_at))
      .field("updatedAt", format_iso8601(v.updated_at))
      .end_object();
}

Result<projections::WebhookView> load(const Context& ctx, const OrgId& org, const std::string& id) {
  return service::find_webhook(ctx.service, org, id);
}

service::WebhookFields fields_of(WebhookRequest body) {
  return {std::move(body.url), std::move(body.events), std::move(body.description), body.enabled};
}

void create(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto body = decode_webhook_request(req.body);
  if (!body) return reply_error(res, body.error());
  auto created = service::create_webhook(ctx.service, caller->org, fields_of(std::move(*body)));
  if (!created) return reply_error(res, created.error());
  JsonWriter w;
  write_webhook(w, created->view, &created->secret);
  reply(res, 201, w.take());
}

void list(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto set = ctx.app.models().webhooks(caller->org);
  if (!set) return reply_error(res, set.error());
  JsonWriter w;
  w.begin_array();
  for (const auto& v : set->webhooks) write_webhook(w, v);
  w.end_array();
  reply(res, 200, w.take());
}

void get(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto view = load(ctx, caller->org, req.matches[1]);
  if (!view) return reply_error(res, view.error());
  JsonWriter w;
  write_webhook(w, *view);
  reply(res, 200, w.take());
}

void update(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto view = load(ctx, caller->org, req.matches[1]);
  if (!view) return reply_error(res, view.error());
  auto body = decode_webhook_request(req.body);
  if (!body) return reply_error(res, body.error());
  auto after =
      service::update_webhook(ctx.service, caller->org, *view, fields_of(std::move(*body)));
  if (!after) return reply_error(res, after.error());
  JsonWriter w;
  write_webhook(w, *after);
  reply(res, 200, w.take());
}

void remove(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  if (auto st = service::delete_webhook(ctx.service, caller->org, req.matches[1]); !st)
    return reply_error(res, st.error());
  res.status = 204;
}

void rotate(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  if (auto st = check_unused_body(req.body); !st) return reply_error(res, st.error());
  auto rotated = service::rotate_webhook_secret(ctx.service, caller->org, req.matches[1]);
  if (!rotated) return reply_error(res, rotated.error());
  const auto& after = rotated->view;
  JsonWriter w;
  w.begin_object()
      .field("id", after.id.value)
      .field("secret", rotated->secret)
      .field("previousSecretExpiresAt",
             after.previous_valid_until ? format_iso8601(*after.previous_valid_until) : "")
      .end_object();
  reply(res, 200, w.take());
}

void test(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  if (auto st = check_unused_body(req.body); !st) return reply_error(res, st.error());
  auto view = service::ping_webhook(ctx.service, caller->org, req.matches[1]);
  if (!view) return reply_error(res, view.error());
  JsonWriter w;
  w.begin_object()
      .field("webhookId", view->id.value)
      .field("type", kWebhookPing)
      .field("status", "queued")
      .end_object();
  reply(res, 202, w.take());
}

void write_delivery(JsonWriter& w, const DeliveryState& d) {
  w.begin_object()
      .field("id", d.id)
      .field("webhookId", d.webhook.value)
      .field("eventType", d.event_type)
      .field("eventId", d.event_id)
      .field("status", d.status)
      .field("createdAt", format_iso8601(d.created_at))
      .key("nextAttemptAt");
  if (d.next_at && d.status == "pending")
    w.value(format_iso8601(*d.next_at));
  else
    w.null();
  w.key("attempts").begin_array();
  for (const auto& a : d.attempts)
    w.begin_object()
        .field("at", format_iso8601(a.at))
        .key("statusCode")
        .value(a.status_code)
        .field("latencyMs", a.latency_ms)
        .field("response", a.response)
        .end_object();
  w.end_array().key("payload").raw(d.payload).end_object();
}

void deliveries(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto view = load(ctx, caller->org, req.matches[1]);
  if (!view) return reply_error(res, view.error());
  auto limit = limit_param(req, "limit", kDefaultDeliveries, kMaxDeliveries);
  if (!limit) return reply_error(res, limit.error());
  webhooks::DeliveryFilter filter;
  if (req.has_param("status")) {
    filter.status = req.get_param_value("status");
    if (*filter.status != "pending" && *filter.status != "succeeded" && *filter.status != "dead")
      return reply_error(res, validation_error("Invalid query parameter",
                                               "status must be pending, succeeded or dead"));
  }
  if (req.has_param("event")) {
    filter.event_type = req.get_param_value("event");
    if (!is_webhook_event_type(*filter.event_type) && *filter.event_type != kWebhookPing)
      return reply_error(
          res, validation_error("Invalid query parameter", "event must be an event type"));
  }
  std::optional<std::string> cursor;
  if (req.has_param("cursor")) {
    cursor = req.get_param_value("cursor");
    if (!is_valid_delivery_id(*cursor))
      return reply_error(
          res, validation_error("Invalid query parameter", "cursor must be a delivery id"));
  }
  auto* store = ctx.app.deliveries();
  if (!store) return reply_error(res, no_delivery_log());
  auto got = store->list(caller->org, view->id, *limit, cursor, filter);
  if (!got) return reply_error(res, got.error());
  webhooks::DeliveryPage page = std::move(got).value();
  JsonWriter w;
  w.begin_object().key("deliveries").begin_array();
  for (const auto& d : page.deliveries) write_delivery(w, d);
  w.end_array().field("nextCursor", page.next_cursor).end_object();
  reply(res, 200, w.take());
}

void retry(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  if (auto st = check_unused_body(req.body); !st) return reply_error(res, st.error());
  auto view = load(ctx, caller->org, req.matches[1]);
  if (!view) return reply_error(res, view.error());
  const std::string id = req.matches[2];
  const auto missing = not_found("Delivery not found");
  if (!ctx.app.deliveries()) return reply_error(res, no_delivery_log());
  if (!is_valid_delivery_id(id)) return reply_error(res, missing);
  auto d = ctx.app.deliveries()->get(id);
  if (!d) return reply_error(res, d.error());
  if (!*d || (*d)->org != caller->org || (*d)->webhook != view->id)
    return reply_error(res, missing);
  if (auto st = ctx.execute(ctx.envelope(caller->org, RedeliverWebhook{view->id, id})); !st)
    return reply_error(res, st.error());
  JsonWriter w;
  w.begin_object().field("deliveryId", id).field("status", "pending").end_object();
  reply(res, 202, w.take());
}

void replay(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto view = load(ctx, caller->org, req.matches[1]);
  if (!view) return reply_error(res, view.error());
  auto body = decode_strings(req.body, {"since"}, {"until"});
  if (!body) return reply_error(res, body.error());
  auto window =
      service::replay_webhook(ctx.service, caller->org, *view, (*body)["since"], (*body)["until"]);
  if (!window) return reply_error(res, window.error());
  JsonWriter w;
  w.begin_object()
      .field("webhookId", window->webhook.value)
      .field("since", format_iso8601(window->since))
      .field("until", format_iso8601(window->until))
      .field("status", "queued")
      .end_object();
  reply(res, 202, w.take());
}

}  // namespace

void add_webhook_routes(Router& server, const Context& ctx) {
  server.Post("/api/webhooks", bind<create>(ctx));
  server.Get("/api/webhooks", bind<list>(ctx));
  server.Get(R"(/api/webhooks/([^/]+))", bind<get>(ctx));
  server.Patch(R"(/api/webhooks/([^/]+))", bind<update>(ctx));
  server.Delete(R"(/api/webhooks/([^/]+))", bind<remove>(ctx));
  server.Post(R"(/api/webhooks/([^/]+)/rotate-secret)", bind<rotate>(ctx));
  server.Post(R"(/api/webhooks/([^/]+)/test)", bind<test>(ctx));
  server.Get(R"(/api/webhooks/([^/]+)/deliveries)", bind<deliveries>(ctx));
  server.Post(R"(/api/webhooks/([^/]+)/deliveries/([^/]+)/retry)", bind<retry>(ctx));
  server.Post(R"(/api/webhooks/([^/]+)/replay)", bind<replay>(ctx));
}

}  // namespace pulse::http
