#include <charconv>

#include "adapters/auth/jwt.h"
#include "adapters/codec/json_codec.h"
#include "adapters/http/browser_sessions.h"
#include "adapters/http/json_views.h"
#include "adapters/http/routes.h"
#include "adapters/http/service_ports.h"
#include "adapters/service/errors.h"
#include "domain/ids.h"
#include "fmt/format.h"

namespace pulse::http {

uint64_t random64(const Context& ctx) {
  return ctx.service.secrets.random64();
}

void reply(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, kJson);
}

void reply_error(httplib::Response& res, const Error& e) {
  reply(res, http_status(e.code), error_body(e));
  if (e.code == Errc::unavailable && !res.has_header("Retry-After"))
    res.set_header("Retry-After", "1");
  if (e.retry_after) res.set_header("Retry-After", std::to_string(*e.retry_after));
  if (e.quota) {
    res.set_header("X-Quota-Limit", std::to_string(e.quota->limit));
    res.set_header("X-Quota-Remaining", std::to_string(e.quota->remaining));
    res.set_header("X-Quota-Reset",
                   std::to_string(to_unix_ms(e.quota->reset_at) / 1000));  // unix seconds
  }
}

Result<std::string> body_to_send(const Context& ctx, const OrgId& org,
                                 const projections::MessageView& m) {
  if (!m.sealed_body) return m.body;
  return ctx.service.sealer.open(*m.sealed_body, verify::body_context(org));
}

Error not_found(std::string what) {
  return service::not_found(std::move(what));
}

Result<size_t> limit_param(const httplib::Request& req, const char* name, size_t fallback,
                           size_t max) {
  if (!req.has_param(name)) return fallback;
  const auto s = req.get_param_value(name);
  size_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v < 1 || v > max)
    return validation_error("Invalid query parameter",
                            fmt::format("{} must be an integer from 1 to {}", name, max));
  return v;
}

Result<Caller> Context::authenticate(const httplib::Request& req) const {
  const auto header = req.get_header_value("Authorization");
  if (!header.starts_with("Bearer "))
    if (auto session = session_caller(*this, req)) return std::move(*session);
  if (!header.starts_with("Bearer "))
    return Error{Errc::unauthorized, "Missing bearer token",
                 "Send Authorization: Bearer <token>; exchange an API key for one at "
                 "POST /api/auth/token."};
  auto claims = auth::verify_jwt(std::string_view(header).substr(7), app.options().jwt_secret,
                                 app.clock().now());
  if (!claims) return claims.error();
  const std::string asked = req.get_header_value("X-Organization-Id");
  Caller caller;
  if (claims->typ == "key") {
    caller.org = OrgId{claims->org_id};
    caller.key = ApiKeyId{claims->sub};
    auto key = app.models().api_key(caller.org, *caller.key);
    if (!key) return key.error();
    if (!*key || (*key)->revoked_at)
      return Error{Errc::unauthorized, "API key revoked",
                   "Tokens minted from a revoked key no longer work; use another key."};
    if (!asked.empty() && asked != caller.org.value)
      return Error{Errc::forbidden, "Organization not accessible",
                   "An API key acts only for its own organization."};
  } else if (claims->typ == "session") {
    caller.user = UserId{claims->sub};
    auto user = app.models().user(*caller.user);
    if (!user) return user.error();
    if (!*user) return Error{Errc::unauthorized, "Invalid or expired token", "Unknown user."};
    caller.org = OrgId{asked.empty() ? claims->org_id : asked};
    auto member = app.models().membership(*caller.user, caller.org);
    if (!member) return member.error();
    if (!*member)
      return Error{Errc::forbidden, "Organization not accessible",
                   "You are not a member of this organization."};
  } else {
    return Error{Errc::unauthorized, "Invalid or expired token", "Unknown token type."};
  }
  auto org = app.models().organization(caller.org);
  if (!org) return org.error();
  if (*org) caller.plan = (*org)->plan;
  return caller;
}

CommandEnvelope Context::envelope(OrgId org, Command body) const {
  const auto now = app.clock().now();
  return CommandEnvelope{CommandId{make_id(id_prefix::command, now, random64(*this))},
                         std::move(org), now, std::move(body)};
}

std::optional<int64_t> Context::views_version(const OrgId& org) const {
  if (app.options().read_only) return 0;
  auto* projector = app.projector();
  if (!projector) return std::nullopt;
  return projector->applied_offset(app.log().partition_for(org.value));
}

Status Context::rate_limit(httplib::Response& res, const std::string& bucket,
                           int64_t per_minute) const {
  const auto d = rates.take(bucket, per_minute);
  if (d.limit == kUnlimited) return ok_status();
  res.set_header("X-RateLimit-Limit", std::to_string(d.limit));
  res.set_header("X-RateLimit-Remaining", std::to_string(d.remaining));
  res.set_header("X-RateLimit-Reset", std::to_string(d.reset_seconds));
  if (d.allowed) return ok_status();
  res.set_header("Retry-After", std::to_string(d.retry_after));
  return Error{Errc::rate_limited, "Rate limit exceeded",
               fmt::format("{} requests per minute; retry in {} s", d.limit, d.retry_after)};
}

Status Context::execute(const CommandEnvelope& cmd) const {
  return execute_command(app, options, cmd);
}

}  // namespace pulse::http
