// Two-way messaging: GET /api/conversations (one row per number that wrote in, newest first),
// GET /api/conversations/{phone} (its messages, both directions), POST .../read and a reply
// (POST .../messages) that leaves from the phone and SIM the contact last wrote to.
#include "adapters/http/json_views.h"
#include "adapters/http/request_json.h"
#include "adapters/http/routes.h"
#include "adapters/runtime/read_models.h"
#include "adapters/service/conversations.h"
#include "domain/json_writer.h"
#include "projections/view_json.h"

namespace pulse::http {
namespace {

using Req = httplib::Request;
using Res = httplib::Response;

constexpr size_t kDefaultLimit = 50;
constexpr size_t kMaxConversations = 200;

void write_conversation(JsonWriter& w, const projections::ConversationView& c,
                        const std::optional<projections::MessageView>& last) {
  w.begin_object().field("phone", c.phone).key("contactName");
  if (c.contact_name.empty())
    w.null();
  else
    w.value(c.contact_name);
  w.key("lastMessage");
  if (last) {
    w.begin_object();
    projections::write_message_fields(w, *last, projections::MessageJson::resource);
    w.end_object();
  } else {
    w.null();
  }
  w.field("unreadCount", c.unread)
      .field("receivedCount", c.received)
      .field("deviceId", c.device_id)
      .field("simSlot", c.sim_slot)
      .field("lastReceivedAt", format_iso8601(c.last_received_at))
      .field("createdAt", format_iso8601(c.created_at))
      .end_object();
}

void list_conversations(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto limit = limit_param(req, "limit", kDefaultLimit, kMaxConversations);
  if (!limit) return reply_error(res, limit.error());
  std::optional<std::string> cursor;
  if (req.has_param("cursor")) cursor = req.get_param_value("cursor");
  auto page = ctx.app.models().conversations(caller->org, *limit, cursor);
  if (!page) return reply_error(res, page.error());
  if (page->next_cursor) res.set_header("X-Next-Cursor", *page->next_cursor);
  JsonWriter w;
  w.begin_array();
  for (const auto& c : page->conversations) {
    auto last = ctx.app.models().last_message(caller->org, c.phone);
    if (!last) return reply_error(res, last.error());
    write_conversation(w, c, *last);
  }
  w.end_array();
  reply(res, 200, w.take());
}

void get_conversation(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto c = service::find_conversation(ctx.service, caller->org, req.matches[1]);
  if (!c) return reply_error(res, c.error());
  runtime::MessageQuery q;
  q.phone = c->phone;
  reply_messages(ctx, req, res, caller->org, std::move(q));
}

void mark_read(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  if (auto st = check_unused_body(req.body); !st) return reply_error(res, st.error());
  auto c = service::mark_conversation_read(ctx.service, caller->org, req.matches[1]);
  if (!c) return reply_error(res, c.error());
  auto last = ctx.app.models().last_message(caller->org, c->phone);
  if (!last) return reply_error(res, last.error());
  JsonWriter w;
  write_conversation(w, *c, *last);
  reply(res, 200, w.take());
}

void reply_to(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  // A reply is a send: the same per-minute limit.
  const auto per_minute = ctx.service.plans[caller->plan].send_per_minute;
  if (auto st = ctx.rate_limit(res, "send/" + caller->org.value, per_minute); !st)
    return reply_error(res, st.error());
  auto body = decode_strings(req.body, {"message"});
  if (!body) return reply_error(res, body.error());
  std::optional<std::string> key;
  if (req.has_header("Idempotency-Key")) key = req.get_header_value("Idempotency-Key");
  auto sent = service::reply_to_conversation(ctx.service, caller->org, req.matches[1],
                                             (*body)["message"], std::move(key));
  if (!sent) return reply_error(res, sent.error());
  if (sent->replayed) res.set_header("Idempotent-Replayed", "true");
  reply(res, 201, send_result_json(sent->campaign_id.value, sent->recipients));
}

}  // namespace

void add_conversation_routes(Router& server, const Context& ctx) {
  server.Get("/api/conversations", bind<list_conversations>(ctx));
  server.Get(R"(/api/conversations/([^/]+))", bind<get_conversation>(ctx));
  server.Post(R"(/api/conversations/([^/]+)/read)", bind<mark_read>(ctx));
  server.Post(R"(/api/conversations/([^/]+)/messages)", bind<reply_to>(ctx));
}

}  // namespace pulse::http
