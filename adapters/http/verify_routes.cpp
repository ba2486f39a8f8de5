// Phone verification: POST /api/verify/start sends a one-time code, POST /api/verify/check
// checks one, POST /api/verify/cancel ends a request, GET /api/verify/{requestId} shows it.
// SendPulse's paths (/v1/verify/start, /v1/verify/check) and field names (code_length,
// request_id) are accepted too, so their snippets work with the base URL changed.
#include "adapters/http/request_json.h"
#include "adapters/http/routes.h"
#include "adapters/service/verify.h"
#include "domain/json_writer.h"
#include "projections/view_json.h"

namespace pulse::http {
namespace {

using Req = httplib::Request;
using Res = httplib::Response;

std::string verification_json(const service::VerifyAnswer& a, bool with_valid) {
  JsonWriter w;
  w.begin_object();
  if (with_valid) w.field("valid", a.valid);
  projections::write_verification_fields(w, a.request, a.status);
  w.end_object();
  return w.take();
}

void start(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  // A code is a send: the same per-minute limit.
  const auto per_minute = ctx.service.plans[caller->plan].send_per_minute;
  if (auto st = ctx.rate_limit(res, "send/" + caller->org.value, per_minute); !st)
    return reply_error(res, st.error());
  auto body = decode_verify_start(req.body);
  if (!body) return reply_error(res, body.error());
  auto r = service::start_verification(ctx.service, caller->org, *body);
  if (!r) return reply_error(res, r.error());
  reply(res, 201, verification_json(*r, false));
}

void check(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto body = decode_verify_check(req.body, true);
  if (!body) return reply_error(res, body.error());
  auto r = service::check_verification(ctx.service, caller->org, body->request_id, body->code);
  if (!r) return reply_error(res, r.error());
  reply(res, 200, verification_json(*r, true));
}

void cancel(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto body = decode_verify_check(req.body, false);
  if (!body) return reply_error(res, body.error());
  auto r = service::cancel_verification(ctx.service, caller->org, body->request_id);
  if (!r) return reply_error(res, r.error());
  reply(res, 200, verification_json(*r, false));
}

void get(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto r = service::get_verification(ctx.service, caller->org, req.matches[1]);
  if (!r) return reply_error(res, r.error());
  reply(res, 200, verification_json(*r, false));
}

}  // namespace

void add_verify_routes(Router& server, const Context& ctx) {
  server.Post("/api/verify/start", bind<start>(ctx));
  server.Post("/api/verify/check", bind<check>(ctx));
  server.Post("/api/verify/cancel", bind<cancel>(ctx));
  server.Get(R"(/api/verify/([^/]+))", bind<get>(ctx));
  server.Post("/v1/verify/start", bind<start>(ctx));
  server.Post("/v1/verify/check", bind<check>(ctx));
}

}  // namespace pulse::http
