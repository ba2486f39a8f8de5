// Accounts: sign-up and login, API keys exchanged for JWTs, organisations, and the operator's
// plan changes. The use cases and their rules are in adapters/service/accounts.h; the log-in's
// defences in adapters/service/login_guard.h. The token exchange needs no password hash: an API
// key is looked up by its SHA-256, which is cheap.
#include "adapters/auth/crypto.h"
#include "adapters/auth/jwt.h"
#include "adapters/codec/json_codec.h"
#include "adapters/http/browser_sessions.h"
#include "adapters/http/json_views.h"
#include "adapters/http/request_json.h"
#include "adapters/http/routes.h"
#include "adapters/service/accounts.h"
#include "adapters/service/login_guard.h"
#include "domain/ids.h"
#include "domain/json_writer.h"

namespace pulse::http {
namespace {

using Req = httplib::Request;
using Res = httplib::Response;

// Verifying against this keeps an unknown e-mail as slow as a wrong password.
const std::string& dummy_password_hash() {
  static const std::string hash = auth::hash_password("pulse-dummy-password");
  return hash;
}

std::string token_json(const Context& ctx, const auth::JwtClaims& claims,
                       std::optional<std::string> user_id = std::nullopt) {
  JsonWriter w;
  w.begin_object()
      .field("token", auth::sign_jwt(claims, ctx.app.options().jwt_secret))
      .field("expiresIn", auth::kTokenLifetimeSeconds)
      .field("organizationId", claims.org_id);
  if (user_id) w.field("userId", *user_id);
  w.end_object();
  return w.take();
}

auth::JwtClaims claims_for(const Context& ctx, std::string sub, std::string org, std::string typ) {
  const int64_t now = to_unix_ms(ctx.app.clock().now()) / 1000;
  return auth::JwtClaims{
      std::move(sub),       std::move(org), now, now + auth::kTokenLifetimeSeconds,
      auth::random_hex(12), std::move(typ)};
}

void write_key(JsonWriter& w, const projections::ApiKeyView& k) {
  w.begin_object()
      .field("id", k.id.value)
      .field("name", k.name)
      .field("prefix", k.hint)
      .field("createdAt", format_iso8601(k.created_at));
  w.key("revokedAt");
  if (k.revoked_at)
    w.value(format_iso8601(*k.revoked_at));
  else
    w.null();
  w.end_object();
}

void write_org(JsonWriter& w, const projections::OrganizationView& o, std::string_view role) {
  w.begin_object()
      .field("id", o.id.value)
      .field("name", o.name)
      .field("plan", to_string(o.plan))
      .field("role", role)
      .field("createdAt", format_iso8601(o.created_at))
      .end_object();
}

// A log-in refused before hashing (429), or whose hash was refused or too slow (429, 503).
void reply_refused(Res& res, const service::Refusal& r) {
  res.set_header("Retry-After", std::to_string(r.retry_after));
  reply_error(res, r.error);
}

// POST /api/auth/signup {email, password, name?, organizationName?}
void signup(const Context& ctx, const Req& req, Res& res) {
  auto body = decode_strings(req.body, {"email", "password"}, {"name", "organizationName"});
  if (!body) return reply_error(res, body.error());
  auto& f = *body;
  // Sign-up hashes the password too, on the log-ins' hash pool (service_ports.cpp).
  auto done =
      service::sign_up(ctx.service, {f["email"], f["password"], f["name"], f["organizationName"]});
  if (!done && done.error().code == Errc::rate_limited) res.set_header("Retry-After", "1");
  if (!done) return reply_error(res, done.error());
  JsonWriter w;
  w.begin_object()
      .field("userId", done->user.value)
      .field("organizationId", done->org.value)
      .field("apiKey", done->api_key)
      .end_object();
  reply(res, 201, w.take());
}

// POST /api/auth/login {email, password}
void login(const Context& ctx, const Req& req, Res& res) {
  auto body = decode_strings(req.body, {"email", "password"});
  if (!body) return reply_error(res, body.error());
  auto email = service::normalise_email((*body)["email"]);
  const Error wrong{Errc::unauthorized, "Invalid email or password",
                    "Check your credentials; repeated failures lock the account for a while."};
  if (!email) return reply_error(res, wrong);
  // The socket's peer; X-Forwarded-For only from the configured reverse proxy.
  const auto address = service::client_address(
      req.remote_addr, req.get_header_value("X-Forwarded-For"), ctx.options.trusted_proxy);
  if (auto refused = ctx.logins.admit(address, *email)) return reply_refused(res, *refused);
  auto user = ctx.app.models().user_by_email(*email);
  if (!user) return reply_error(res, user.error());
  // Copies: a check that outlasts the wait finishes after this request has been answered.
  auto checked = ctx.logins.hash<bool>(
      [password = (*body)["password"], stored = *user ? (*user)->password_hash : std::string()] {
        return auth::verify_password(password, stored.empty() ? dummy_password_hash() : stored);
      });
  if (const auto* refused = std::get_if<service::Refusal>(&checked))
    return reply_refused(res, *refused);
  if (!std::get<bool>(checked) || !*user) {
    ctx.logins.failed(address, *email);
    return reply_error(res, wrong);
  }
  ctx.logins.succeeded(address, *email);
  const auto& u = **user;
  start_browser_session(ctx, req, res, u.id, u.default_org);
  reply(res, 200,
        token_json(ctx, claims_for(ctx, u.id.value, u.default_org.value, "session"), u.id.value));
}

// POST /api/auth/token {apiKey}
void token(const Context& ctx, const Req& req, Res& res) {
  auto body = decode_strings(req.body, {"apiKey"});
  if (!body) return reply_error(res, body.error());
  const auto& key = (*body)["apiKey"];
  const Error invalid{Errc::unauthorized, "Invalid API key",
                      "Use an active key from Settings → API Keys (pk_live_…)."};
  if (!service::looks_like_api_key(key)) return reply_error(res, invalid);
  auto found = ctx.app.models().api_key_by_hash(auth::sha256_hex(key));
  if (!found) return reply_error(res, found.error());
  if (!*found || (*found)->revoked_at) return reply_error(res, invalid);
  const auto& k = **found;
  reply(res, 200, token_json(ctx, claims_for(ctx, k.id.value, k.org.value, "key")));
}

// GET /api/api-keys
void list_keys(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto keys = ctx.app.models().api_keys(caller->org);
  if (!keys) return reply_error(res, keys.error());
  JsonWriter w;
  w.begin_array();
  for (const auto& k : *keys) write_key(w, k);
  w.end_array();
  reply(res, 200, w.take());
}

// POST /api/api-keys {name?}
void create_key(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto body = decode_strings(req.body.empty() ? "{}" : req.body, {}, {"name"});
  if (!body) return reply_error(res, body.error());
  auto key = service::create_api_key(ctx.service, caller->org, caller->id(), (*body)["name"]);
  if (!key) return reply_error(res, key.error());
  JsonWriter w;
  w.begin_object()
      .field("id", key->view.id.value)
      .field("name", key->view.name)
      .field("apiKey", key->secret)
      .field("prefix", key->view.hint)
      .field("createdAt", format_iso8601(key->view.created_at))
      .end_object();
  reply(res, 201, w.take());
}

// DELETE /api/api-keys/{id}
void revoke_key(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto key = service::revoke_api_key(ctx.service, caller->org, req.matches[1]);
  if (!key) return reply_error(res, key.error());
  JsonWriter w;
  write_key(w, *key);
  reply(res, 200, w.take());
}

// GET /api/organizations
void list_orgs(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  std::vector<std::pair<OrgId, std::string>> orgs;
  if (caller->user) {
    auto members = ctx.app.models().memberships(*caller->user);
    if (!members) return reply_error(res, members.error());
    for (const auto& m : *members) orgs.emplace_back(m.org, m.role);
  } else {
    orgs.emplace_back(caller->org, "apiKey");
  }
  JsonWriter w;
  w.begin_array();
  for (const auto& [id, role] : orgs) {
    auto org = ctx.app.models().organization(id);
    if (!org) return reply_error(res, org.error());
    if (*org) write_org(w, **org, role);
  }
  w.end_array();
  reply(res, 200, w.take());
}

// POST /api/organizations {name}
void create_org(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  if (auto st = service::may_create_organization(caller->user); !st)
    return reply_error(res, st.error());
  auto body = decode_strings(req.body, {"name"});
  if (!body) return reply_error(res, body.error());
  auto org = service::create_organization(ctx.service, caller->user, caller->plan, (*body)["name"]);
  if (!org) return reply_error(res, org.error());
  JsonWriter w;
  write_org(w, *org, "owner");
  reply(res, 201, w.take());
}

// POST /api/admin/organizations/{id}/plan {plan}, with the operator token.
void set_plan(const Context& ctx, const Req& req, Res& res) {
  const auto& admin = ctx.app.options().admin_token;
  const auto header = req.get_header_value("Authorization");
  if (admin.empty() || !header.starts_with("Bearer ") ||
      !auth::constant_time_equal(std::string_view(header).substr(7), admin))
    return reply_error(res, Error{Errc::unauthorized, "Operator token required",
                                  "Send Authorization: Bearer $PULSE_ADMIN_TOKEN."});
  auto body = decode_strings(req.body, {"plan"});
  if (!body) return reply_error(res, body.error());
  auto org = service::set_plan(ctx.service, OrgId{req.matches[1]}, (*body)["plan"]);
  if (!org) return reply_error(res, org.error());
  JsonWriter w;
  write_org(w, *org, "operator");
  reply(res, 200, w.take());
}

}  // namespace

void add_auth_routes(Router& server, const Context& ctx) {
  server.Post("/api/auth/signup", bind<signup>(ctx));
  server.Post("/api/auth/login", bind<login>(ctx));
  server.Post("/api/auth/token", bind<token>(ctx));
  server.Get("/api/api-keys", bind<list_keys>(ctx));
  server.Post("/api/api-keys", bind<create_key>(ctx));
  server.Delete(R"(/api/api-keys/([^/]+))", bind<revoke_key>(ctx));
  server.Get("/api/organizations", bind<list_orgs>(ctx));
  server.Post("/api/organizations", bind<create_org>(ctx));
  server.Post(R"(/api/admin/organizations/([^/]+)/plan)", bind<set_plan>(ctx));
}

}  // namespace pulse::http
