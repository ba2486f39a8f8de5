#pragma once
// Browser sessions for the dashboard: POST /api/auth/login from a same-origin page also sets an
// HttpOnly session cookie, which the API accepts beside Bearer tokens. State-changing requests
// that ride on the cookie must come from the same origin and echo the csrf cookie in
// X-CSRF-Token (double submit). Sessions live in this process's memory: they expire, and
// POST /api/auth/logout ends one; a restart ends them all (users log in again).
#include <httplib.h>

#include <optional>

#include "adapters/http/routes.h"

namespace pulse::http {

inline constexpr const char* kSessionCookie = "pulse_session";
inline constexpr const char* kCsrfCookie = "pulse_csrf";
inline constexpr const char* kOrgCookie = "pulse_org";

// nullopt when the request carries no session cookie (the caller then asks for a Bearer token);
// otherwise the caller, or why the cookie is refused (expired, cross-site, missing CSRF token).
std::optional<Result<Caller>> session_caller(const Context& ctx, const httplib::Request& req);

// After a successful log-in: when the request comes from a page of this server (its Origin),
// starts a session and sets its cookies on `res`. Scripts (no Origin) get only the token.
void start_browser_session(const Context& ctx, const httplib::Request& req, httplib::Response& res,
                           const UserId& user, const OrgId& org);

// The value of cookie `name` in the request's Cookie header ("" when absent).
std::string cookie_value(const httplib::Request& req, std::string_view name);

}  // namespace pulse::http
