// The organisation's opt-out (suppression) list: GET/POST /api/opt-outs,
// DELETE /api/opt-outs/{phone}. Sends skip these numbers (the decider filters them).
#include "adapters/http/request_json.h"
#include "adapters/http/routes.h"
#include "adapters/service/opt_outs.h"
#include "domain/json_writer.h"

namespace pulse::http {
namespace {

using Req = httplib::Request;
using Res = httplib::Response;

constexpr size_t kDefaultLimit = 100;
constexpr size_t kMaxLimit = 1000;
void write_opt_out(JsonWriter& w, const projections::OptOutView& v) {
  w.begin_object().field("phone", v.phone).key("reason");
  if (v.reason.empty())
    w.null();
  else
    w.value(v.reason);
  w.field("source", v.source).field("createdAt", format_iso8601(v.created_at)).end_object();
}

void add_opt_out(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto body = decode_strings(req.body, {"phone"}, {"reason"});
  if (!body) return reply_error(res, body.error());
  auto v = service::add_opt_out(ctx.service, caller->org, (*body)["phone"], (*body)["reason"]);
  if (!v) return reply_error(res, v.error());
  JsonWriter w;
  write_opt_out(w, *v);
  reply(res, 201, w.take());
}

void list_opt_outs(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto limit = limit_param(req, "limit", kDefaultLimit, kMaxLimit);
  if (!limit) return reply_error(res, limit.error());
  std::optional<std::string> after;
  if (req.has_param("cursor")) {
    const auto raw = req.get_param_value("cursor");
    auto phone = service::lookup_key(ctx.service.phones, raw);
    if (!phone)
      return reply_error(res, service::phone_field(ctx.service.phones, raw, "cursor").error());
    after = *phone;
  }
  auto list = ctx.app.models().opt_outs(caller->org, *limit + 1, after);
  if (!list) return reply_error(res, list.error());
  if (list->size() > *limit) {
    list->pop_back();
    res.set_header("X-Next-Cursor", list->back().phone);
  }
  JsonWriter w;
  w.begin_array();
  for (const auto& v : *list) write_opt_out(w, v);
  w.end_array();
  reply(res, 200, w.take());
}

void remove_opt_out(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto phone = service::remove_opt_out(ctx.service, caller->org, std::string(req.matches[1]));
  if (!phone) return reply_error(res, phone.error());
  JsonWriter w;
  w.begin_object().field("phone", *phone).field("status", "removed").end_object();
  reply(res, 200, w.take());
}

}  // namespace

void add_opt_out_routes(Router& server, const Context& ctx) {
  server.Get("/api/opt-outs", bind<list_opt_outs>(ctx));
  server.Post("/api/opt-outs", bind<add_opt_out>(ctx));
  server.Delete(R"(/api/opt-outs/([^/]+))", bind<remove_opt_out>(ctx));
}

}  // namespace pulse::http
