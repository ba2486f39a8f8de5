#pragma once
// Shared by the HTTP route files (internal to adapters/http): the context handlers run in and
// the helpers that map Results to responses. Each capability registers its routes in its own
// file through an add_*_routes function.
#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "adapters/app.h"
#include "adapters/http/api_server.h"
#include "adapters/http/limits.h"
#include "adapters/http/page_cache.h"
#include "adapters/http/router.h"
#include "adapters/runtime/read_models.h"
#include "adapters/service/ports.h"
#include "domain/commands.h"
#include "domain/result.h"

namespace pulse::http {

inline constexpr const char* kJson = "application/json";

// Who is calling: the organisation the request acts for, and through which credential.
struct Caller {
  OrgId org;
  Plan plan = Plan::free;
  std::optional<UserId> user;   // a session token (login)
  std::optional<ApiKeyId> key;  // a token minted from an API key
  std::string id() const { return user ? user->value : key ? key->value : std::string(); }
};

struct Context {
  App& app;
  const ServerOptions& options;
  RateLimiter& rates;
  LoginGuard& logins;
  std::atomic<int>& held_polls;  // long polls being held now
  std::atomic<bool>& stopping;   // the server is shutting down: release held requests
  const service::Deps& service;  // the use cases' ports (adapters/http/service_ports.h)
  PageCache& pages;              // encoded answers of queries, by read-model version

  // Verifies the bearer token and picks the organisation: X-Organization-Id (checked against
  // the caller's memberships) or the token's. 401/403 otherwise.
  Result<Caller> authenticate(const httplib::Request& req) const;
  // A new command acting for `org`, accepted now.
  CommandEnvelope envelope(OrgId org, Command body) const;
  // Appends a command and waits until its outcome is projected (read-your-writes). Returns the
  // rejection when the decider refused it, 503 when it was not applied in time.
  Status execute(const CommandEnvelope& cmd) const;
  // The version of `org`'s read models for PageCache: the projector's applied event offset of
  // its partition (0 on a read-only server, whose views never change); nullopt when this
  // process does not project that partition, so it cannot tell when they change.
  std::optional<int64_t> views_version(const OrgId& org) const;
  // Applies `per_minute` for `bucket`, setting the X-RateLimit-* headers; 429 when exhausted.
  Status rate_limit(httplib::Response& res, const std::string& bucket, int64_t per_minute) const;
};

// The random part of a new id (the server's injected source).
uint64_t random64(const Context& ctx);
void reply(httplib::Response& res, int status, const std::string& body);
void reply_error(httplib::Response& res, const Error& e);
Error not_found(std::string what);
// ?name=N within [1, max]; the default when absent.
Result<size_t> limit_param(const httplib::Request& req, const char* name, size_t fallback,
                           size_t max);

using Handler = void (*)(const Context&, const httplib::Request&, httplib::Response&);
// A route's callback: `server.Post("/api/x", bind<post_x>(ctx))`.
template <Handler H>
auto bind(const Context& ctx) {
  return [&ctx](const httplib::Request& req, httplib::Response& res) { H(ctx, req, res); };
}

void add_sms_routes(Router& server, const Context& ctx);
// GET /openapi.yaml and GET /reference (the API reference: Scalar, offline, try it live).
void add_docs_routes(Router& server, const Context& ctx);
void add_auth_routes(Router& server, const Context& ctx);
void add_gateway_routes(Router& server, const Context& ctx);
// GET /metrics (Prometheus) and GET /readyz; registers the scrape-time gauges.
void add_ops_routes(Router& server, const Context& ctx);
// Contact lists (contact_routes.cpp) and campaigns (campaign_routes.cpp).
void add_contact_routes(Router& server, const Context& ctx);
void add_campaign_routes(Router& server, const Context& ctx);
void add_opt_out_routes(Router& server, const Context& ctx);
void add_message_routes(Router& server, const Context& ctx);
void add_conversation_routes(Router& server, const Context& ctx);
// A page of messages as GET /api/messages answers it: `q`'s filters, with ?limit= and ?cursor=
// read from `req`; a bare array, X-Next-Cursor when more may follow.
void reply_messages(const Context& ctx, const httplib::Request& req, httplib::Response& res,
                    const OrgId& org, runtime::MessageQuery q);
void add_stats_routes(Router& server, const Context& ctx);
void add_webhook_routes(Router& server, const Context& ctx);
// The SMSGate app's device API under /mobile/v1 (smsgate_routes.cpp, gateway/SMSGATE.md), and
// the single-use numeric code POST /api/devices/pairing answers beside its pairing token.
void add_smsgate_routes(Router& server, const Context& ctx);
// The body a phone sends: the message's own, or its sealed one opened (a verification code,
// masked everywhere else).
Result<std::string> body_to_send(const Context& ctx, const OrgId& org,
                                 const projections::MessageView& m);
// POST /api/verify/start|check|cancel, and SendPulse's /v1/verify/start|check (verify_routes.cpp).
void add_verify_routes(Router& server, const Context& ctx);
Result<std::string> create_pairing_code(const Context& ctx, const OrgId& org, TimePoint expires);
// The dashboard under /app (its pages and POST /api/auth/logout; dashboard_routes.cpp) and the
// organisation's live changes, GET /api/stream (stream_routes.cpp).
void add_dashboard_routes(Router& server, const Context& ctx);
void add_stream_routes(Router& server, const Context& ctx);

}  // namespace pulse::http
