// Accounts: sign-up and login, API keys exchanged for JWTs, organisations, and the operator's
// plan changes. Secrets are hashed here, before anything reaches the log.
#include <algorithm>
#include <cctype>

#include "adapters/auth/crypto.h"
#include "adapters/auth/jwt.h"
#include "adapters/codec/json_codec.h"
#include "adapters/http/json_views.h"
#include "adapters/http/routes.h"
#include "domain/ids.h"
#include "domain/json_writer.h"
#include "fmt/format.h"

namespace pulse::http {
namespace {

using Req = httplib::Request;
using Res = httplib::Response;

constexpr std::string_view kKeyPrefix = "pk_live_";
// Verifying against this keeps an unknown e-mail as slow as a wrong password.
const std::string& dummy_password_hash() {
  static const std::string hash = auth::hash_password("pulse-dummy-password");
  return hash;
}

Result<std::string> normalise_email(std::string email) {
  std::transform(email.begin(), email.end(), email.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto at = email.find('@');
  const bool ok = email.size() <= 254 && at != std::string::npos && at > 0 &&
                  at + 1 < email.size() && email.find('@', at + 1) == std::string::npos &&
                  email.find_first_of(" \t\r\n<>(),;:\"") == std::string::npos &&
                  email.find('.', at) != std::string::npos;
  if (!ok) return validation_error("Invalid email", "expected an address like ada@example.com");
  return email;
}

Status check_password(const std::string& password) {
  if (password.size() < 8 || password.size() > 256)
    return validation_error("Invalid password", "use 8 to 256 characters");
  return ok_status();
}

// A new key: the secret (shown once) and what the log keeps of it (hash and hint).
struct MintedKey {
  std::string secret;
  NewApiKey key;
};

MintedKey mint_key(const Context& ctx, std::string name) {
  MintedKey m;
  m.secret = std::string(kKeyPrefix) + auth::random_hex(16);
  const auto hex = std::string_view(m.secret).substr(kKeyPrefix.size());
  m.key =
      NewApiKey{ApiKeyId{make_id(id_prefix::api_key, ctx.app.clock().now(), random64())},
                std::move(name), auth::sha256_hex(m.secret),
                fmt::format("{}{}…{}", kKeyPrefix, hex.substr(0, 4), hex.substr(hex.size() - 4))};
  return m;
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

// POST /api/auth/signup {email, password, name?, organizationName?}
void signup(const Context& ctx, const Req& req, Res& res) {
  auto body = codec::decode_strings(req.body, {"email", "password"}, {"name", "organizationName"});
  if (!body) return reply_error(res, body.error());
  auto& f = *body;
  auto email = normalise_email(f["email"]);
  if (!email) return reply_error(res, email.error());
  if (auto st = check_password(f["password"]); !st) return reply_error(res, st.error());
  if (f["name"].size() > 200 || f["organizationName"].size() > 200)
    return reply_error(res, validation_error("Name too long", "use at most 200 characters"));

  const auto now = ctx.app.clock().now();
  const UserId user{make_id(id_prefix::user, now, random64())};
  const OrgId org{make_id(id_prefix::org, now, random64())};
  // The user first (one decider per e-mail address: two racing sign-ups can't both pass), then
  // the organisation with its first API key.
  auto registered = ctx.execute(ctx.envelope(
      org, RegisterUser{user, *email, f["name"], auth::hash_password(f["password"]), org}));
  if (!registered) return reply_error(res, registered.error());
  auto minted = mint_key(ctx, "Default key");
  std::string org_name = f["organizationName"];
  if (org_name.empty())
    org_name = f["name"].empty() ? "My organization" : f["name"] + "'s organization";
  auto created = ctx.execute(ctx.envelope(org, CreateOrganization{org_name, user, minted.key}));
  if (!created) return reply_error(res, created.error());

  JsonWriter w;
  w.begin_object()
      .field("userId", user.value)
      .field("organizationId", org.value)
      .field("apiKey", minted.secret)
      .end_object();
  reply(res, 201, w.take());
}

// POST /api/auth/login {email, password}
void login(const Context& ctx, const Req& req, Res& res) {
  auto body = codec::decode_strings(req.body, {"email", "password"});
  if (!body) return reply_error(res, body.error());
  auto email = normalise_email((*body)["email"]);
  const Error wrong{Errc::unauthorized, "Invalid email or password",
                    "Check your credentials; repeated failures lock the account for a while."};
  if (!email) return reply_error(res, wrong);
  if (const auto wait = ctx.logins.wait_seconds(*email); wait > 0) {
    res.set_header("Retry-After", std::to_string(wait));
    return reply_error(res, Error{Errc::rate_limited, "Too many failed logins",
                                  fmt::format("Try again in {} s.", wait)});
  }
  auto user = ctx.app.models().user_by_email(*email);
  if (!user) return reply_error(res, user.error());
  const auto& stored = *user ? (*user)->password_hash : dummy_password_hash();
  if (!auth::verify_password((*body)["password"], stored) || !*user) {
    ctx.logins.failed(*email);
    return reply_error(res, wrong);
  }
  ctx.logins.succeeded(*email);
  const auto& u = **user;
  reply(res, 200,
        token_json(ctx, claims_for(ctx, u.id.value, u.default_org.value, "session"), u.id.value));
}

// POST /api/auth/token {apiKey}
void token(const Context& ctx, const Req& req, Res& res) {
  auto body = codec::decode_strings(req.body, {"apiKey"});
  if (!body) return reply_error(res, body.error());
  const auto& key = (*body)["apiKey"];
  const Error invalid{Errc::unauthorized, "Invalid API key",
                      "Use an active key from Settings → API Keys (pk_live_…)."};
  if (!key.starts_with(kKeyPrefix) || key.size() != kKeyPrefix.size() + 32)
    return reply_error(res, invalid);
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
  auto body = codec::decode_strings(req.body.empty() ? "{}" : req.body, {}, {"name"});
  if (!body) return reply_error(res, body.error());
  auto minted = mint_key(ctx, (*body)["name"].empty() ? "API key" : (*body)["name"]);
  const auto id = minted.key.id;
  auto st = ctx.execute(ctx.envelope(caller->org, CreateApiKey{minted.key, caller->id()}));
  if (!st) return reply_error(res, st.error());
  auto view = ctx.app.models().api_key(caller->org, id);
  if (!view) return reply_error(res, view.error());
  if (!*view) return reply_error(res, not_found("API key not found"));
  JsonWriter w;
  w.begin_object()
      .field("id", id.value)
      .field("name", (*view)->name)
      .field("apiKey", minted.secret)
      .field("prefix", (*view)->hint)
      .field("createdAt", format_iso8601((*view)->created_at))
      .end_object();
  reply(res, 201, w.take());
}

// DELETE /api/api-keys/{id}
void revoke_key(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  const ApiKeyId id{req.matches[1]};
  if (!is_valid_id(id_prefix::api_key, id.value))
    return reply_error(res, not_found("API key not found"));
  auto st = ctx.execute(ctx.envelope(caller->org, RevokeApiKey{id}));
  if (!st) return reply_error(res, st.error());
  auto view = ctx.app.models().api_key(caller->org, id);
  if (!view) return reply_error(res, view.error());
  if (!*view) return reply_error(res, not_found("API key not found"));
  JsonWriter w;
  write_key(w, **view);
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
  if (!caller->user)
    return reply_error(res, Error{Errc::forbidden, "Organizations are created by users",
                                  "Log in with POST /api/auth/login to create one."});
  auto body = codec::decode_strings(req.body, {"name"});
  if (!body) return reply_error(res, body.error());
  const auto& name = (*body)["name"];
  if (name.empty() || name.size() > 200)
    return reply_error(res, validation_error("Invalid name", "use 1 to 200 characters"));
  auto user = ctx.app.models().user(*caller->user);
  if (!user) return reply_error(res, user.error());
  if (!*user) return reply_error(res, Error{Errc::unauthorized, "Invalid or expired token", ""});
  const OrgId org{make_id(id_prefix::org, ctx.app.clock().now(), random64())};
  const auto allowance = ctx.app.options().decider.plans[caller->plan].organizations;
  auto claimed = ctx.execute(
      ctx.envelope(org, ClaimOrganization{*caller->user, (*user)->email, org, allowance}));
  if (!claimed) return reply_error(res, claimed.error());
  auto created = ctx.execute(ctx.envelope(org, CreateOrganization{name, *caller->user, {}}));
  if (!created) return reply_error(res, created.error());
  auto view = ctx.app.models().organization(org);
  if (!view) return reply_error(res, view.error());
  if (!*view) return reply_error(res, not_found("Organization not found"));
  JsonWriter w;
  write_org(w, **view, "owner");
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
  const OrgId org{req.matches[1]};
  auto body = codec::decode_strings(req.body, {"plan"});
  if (!body) return reply_error(res, body.error());
  auto plan = plan_from_string((*body)["plan"]);
  if (!plan) return reply_error(res, validation_error("Invalid plan", "free, pro or enterprise"));
  if (!is_valid_id(id_prefix::org, org.value))
    return reply_error(res, not_found("Organization not found"));
  auto st = ctx.execute(ctx.envelope(org, SetPlan{*plan}));
  if (!st) return reply_error(res, st.error());
  auto view = ctx.app.models().organization(org);
  if (!view) return reply_error(res, view.error());
  if (!*view) return reply_error(res, not_found("Organization not found"));
  JsonWriter w;
  write_org(w, **view, "operator");
  reply(res, 200, w.take());
}

template <void (*Handler)(const Context&, const Req&, Res&)>
auto bind(const Context& ctx) {
  return [&ctx](const Req& req, Res& res) { Handler(ctx, req, res); };
}

}  // namespace

void add_auth_routes(httplib::Server& server, const Context& ctx) {
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
