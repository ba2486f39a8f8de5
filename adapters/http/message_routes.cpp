// GET /api/messages (filtered, cursor-paginated, from the read model's indexes) and
// GET /api/messages/{id} with its timeline.
#include "adapters/http/routes.h"
#include "adapters/runtime/read_models.h"
#include "adapters/service/opt_outs.h"
#include "domain/ids.h"
#include "domain/json_writer.h"
#include "domain/phone.h"
#include "fmt/format.h"
#include "projections/view_json.h"

namespace pulse::http {
namespace {

using Req = httplib::Request;
using Res = httplib::Response;

constexpr size_t kDefaultLimit = 50;
constexpr size_t kMaxLimit = 500;

Result<std::optional<TimePoint>> time_param(const Req& req, const char* name) {
  if (!req.has_param(name)) return std::optional<TimePoint>{};
  auto t = parse_iso8601(req.get_param_value(name));
  if (!t)
    return validation_error(
        "Invalid query parameter",
        fmt::format("{} must be an ISO 8601 time, e.g. 2026-11-22T10:00:00Z", name));
  return std::optional<TimePoint>{*t};
}

void list_messages(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  runtime::MessageQuery q;
  if (req.has_param("status")) {
    q.status = req.get_param_value("status");
    if (*q.status != "queued" && *q.status != "sending" && *q.status != "sent" &&
        *q.status != "delivered" && *q.status != "failed" && *q.status != "received")
      return reply_error(res, validation_error("Invalid query parameter",
                                               "status must be queued, sending, sent, delivered, "
                                               "failed or received"));
  }
  if (req.has_param("direction")) {
    q.direction = req.get_param_value("direction");
    if (*q.direction != "inbound" && *q.direction != "outbound")
      return reply_error(res, validation_error("Invalid query parameter",
                                               "direction must be inbound or outbound"));
  }
  if (req.has_param("campaignId")) {
    q.campaign = CampaignId{req.get_param_value("campaignId")};
    if (!is_valid_id(id_prefix::campaign, q.campaign->value))
      return reply_error(
          res, validation_error("Invalid query parameter", "campaignId must be a campaign id"));
  }
  if (req.has_param("phone")) {
    const auto raw = req.get_param_value("phone");
    auto phone = service::lookup_key(ctx.service.phones, raw);
    if (!phone) {
      auto why = service::phone_field(ctx.service.phones, raw, "phone");
      return reply_error(res, validation_error("Invalid query parameter", why.error().details));
    }
    q.phone = *phone;
  }
  auto from = time_param(req, "from");
  if (!from) return reply_error(res, from.error());
  auto to = time_param(req, "to");
  if (!to) return reply_error(res, to.error());
  q.from = *from;
  q.to = *to;
  if (q.from && q.to && *q.from >= *q.to)
    return reply_error(res, validation_error("Invalid query parameter", "from must be before to"));
  reply_messages(ctx, req, res, caller->org, std::move(q));
}

void get_message(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  const MessageId id{req.matches[1]};
  if (!is_valid_id(id_prefix::message, id.value))
    return reply_error(res, not_found("Message not found"));
  auto m = ctx.app.models().message(caller->org, id);
  if (!m) return reply_error(res, m.error());
  if (!*m) return reply_error(res, not_found("Message not found"));
  auto timeline = ctx.app.models().timeline(caller->org, id);
  if (!timeline) return reply_error(res, timeline.error());
  JsonWriter w;
  w.begin_object();
  projections::write_message_fields(w, **m, projections::MessageJson::resource);
  w.key("timeline").begin_array();
  // Its creation is the first state: queued, or received (by its phone) for an inbound one.
  const bool inbound = (*m)->inbound();
  w.begin_object()
      .field("status", inbound ? "received" : "queued")
      .field("at", format_iso8601((*m)->created_at))
      .field("deviceId", inbound ? (*m)->device_id : std::nullopt)
      .field("simSlot", inbound ? (*m)->sim_slot : std::nullopt)
      .field("attempt", std::optional<int32_t>{})
      .field("error", std::optional<std::string>{})
      .end_object();
  for (const auto& e : *timeline)
    w.begin_object()
        .field("status", e.status)
        .field("at", format_iso8601(e.at))
        .field("deviceId", e.device_id)
        .field("simSlot", e.sim_slot)
        .field("attempt", e.attempt)
        .field("error", e.error)
        .end_object();
  w.end_array().end_object();
  reply(res, 200, w.take());
}

}  // namespace

void reply_messages(const Context& ctx, const Req& req, Res& res, const OrgId& org,
                    runtime::MessageQuery q) {
  auto limit = limit_param(req, "limit", kDefaultLimit, kMaxLimit);
  if (!limit) return reply_error(res, limit.error());
  q.limit = *limit;
  if (req.has_param("cursor")) {
    q.cursor = MessageId{req.get_param_value("cursor")};
    if (!is_valid_id(id_prefix::message, q.cursor->value))
      return reply_error(
          res, validation_error("Invalid query parameter", "cursor must be a message id"));
  }
  auto page = ctx.app.models().messages(org, q);
  if (!page) return reply_error(res, page.error());
  if (page->next_cursor) res.set_header("X-Next-Cursor", *page->next_cursor);
  JsonWriter w;
  w.begin_array();
  for (const auto& m : page->messages) {
    w.begin_object();
    projections::write_message_fields(w, m, projections::MessageJson::resource);
    w.end_object();
  }
  w.end_array();
  reply(res, 200, w.take());
}

void add_message_routes(Router& server, const Context& ctx) {
  server.Get("/api/messages", bind<list_messages>(ctx));
  server.Get(R"(/api/messages/([^/]+))", bind<get_message>(ctx));
}

}  // namespace pulse::http
