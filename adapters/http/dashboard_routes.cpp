// The dashboard (/app): its browser sessions and its static files. The files are built at build
// time from adapters/http/dashboard (npm packages pinned by its lock file, bundled by esbuild;
// dashboard/assets.cmake) and embedded in the binary, so serving them needs no Node and no
// network. The dashboard calls only the public REST API.
#include <algorithm>
#include <deque>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "adapters/auth/crypto.h"
#include "adapters/http/browser_sessions.h"
#include "adapters/http/json_views.h"
#include "adapters/http/request_json.h"
#include "fmt/format.h"

// Defined by the generated dashboard_assets.cpp (.incbin of the built files).
extern "C" {
extern const char pulse_dashboard_index_html[];
extern const char pulse_dashboard_index_html_end[];
extern const char pulse_dashboard_app_js[];
extern const char pulse_dashboard_app_js_end[];
extern const char pulse_dashboard_app_css[];
extern const char pulse_dashboard_app_css_end[];
}

namespace pulse::http {
namespace {

using Req = httplib::Request;
using Res = httplib::Response;

constexpr auto kSessionLifetime = std::chrono::hours(12);  // absolute
constexpr auto kSessionIdle = std::chrono::hours(2);       // without a request
constexpr size_t kMaxSessions = 20000;                     // per process
constexpr size_t kMaxSessionsPerUser = 20;                 // the oldest ends first

struct BrowserSession {
  UserId user;
  OrgId org;  // the user's default organisation
  std::string csrf;
  TimePoint expires;
  TimePoint idle_until;
};

// Keyed by the SHA-256 of the cookie's value: a memory dump shows no usable session id.
class SessionStore {
 public:
  std::pair<std::string, std::string> create(const UserId& user, const OrgId& org, TimePoint now) {
    std::lock_guard lock(mu_);
    sweep(now);
    auto& mine = by_user_[user.value];
    while (mine.size() >= kMaxSessionsPerUser) {
      sessions_.erase(mine.front());
      mine.pop_front();
    }
    if (sessions_.size() >= kMaxSessions) evict_soonest();
    std::string id = auth::random_hex(32);
    std::string csrf = auth::random_hex(16);
    const auto key = auth::sha256_hex(id);
    sessions_[key] = BrowserSession{user, org, csrf, now + kSessionLifetime, now + kSessionIdle};
    mine.push_back(key);
    return {std::move(id), std::move(csrf)};
  }

  std::optional<BrowserSession> find(std::string_view id, TimePoint now) {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(auth::sha256_hex(id));
    if (it == sessions_.end()) return std::nullopt;
    if (now >= it->second.expires || now >= it->second.idle_until) {
      erase(it);
      return std::nullopt;
    }
    it->second.idle_until = std::min(it->second.expires, now + kSessionIdle);
    return it->second;
  }

  void revoke(std::string_view id) {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(auth::sha256_hex(id));
    if (it != sessions_.end()) erase(it);
  }

 private:
  using Map = std::unordered_map<std::string, BrowserSession>;
  void erase(Map::iterator it) {
    auto& mine = by_user_[it->second.user.value];
    mine.erase(std::remove(mine.begin(), mine.end(), it->first), mine.end());
    if (mine.empty()) by_user_.erase(it->second.user.value);
    sessions_.erase(it);
  }
  void sweep(TimePoint now) {
    if (++creates_ % 256 != 0) return;
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      auto next = std::next(it);
      if (now >= it->second.expires || now >= it->second.idle_until) erase(it);
      it = next;
    }
  }
  void evict_soonest() {
    auto victim = std::min_element(sessions_.begin(), sessions_.end(), [](auto& a, auto& b) {
      return a.second.idle_until < b.second.idle_until;
    });
    if (victim != sessions_.end()) erase(victim);
  }

  std::mutex mu_;
  Map sessions_;
  std::unordered_map<std::string, std::deque<std::string>> by_user_;
  uint64_t creates_ = 0;
};

SessionStore& sessions() {
  static SessionStore store;
  return store;
}

bool is_safe_method(const std::string& m) {
  return m == "GET" || m == "HEAD" || m == "OPTIONS";
}

bool behind_tls(const Req& req) {
  return req.get_header_value("X-Forwarded-Proto") == "https" ||
         req.get_header_value("Origin").starts_with("https://");
}

// The Origin header names this server (the host the request was sent to).
bool same_origin(const Req& req) {
  const auto origin = req.get_header_value("Origin");
  const auto scheme_end = origin.find("://");
  if (origin.empty() || scheme_end == std::string::npos) return false;
  const auto origin_host = std::string_view(origin).substr(scheme_end + 3);
  auto host = req.get_header_value("X-Forwarded-Host");
  if (host.empty()) host = req.get_header_value("Host");
  return !host.empty() && origin_host == host;
}

std::string cookie_attributes(const Req& req, bool http_only, int64_t max_age) {
  return fmt::format("; Path=/; Max-Age={}; SameSite=Lax{}{}", max_age,
                     http_only ? "; HttpOnly" : "", behind_tls(req) ? "; Secure" : "");
}

void clear_cookies(const Req& req, Res& res) {
  res.set_header("Set-Cookie", std::string(kSessionCookie) + "=" + cookie_attributes(req, true, 0));
  res.set_header("Set-Cookie", std::string(kCsrfCookie) + "=" + cookie_attributes(req, false, 0));
}

// POST /api/auth/logout: ends the browser session of the cookie (and clears the cookies).
void logout(const Context& ctx, const Req& req, Res& res) {
  if (auto st = check_unused_body(req.body); !st) return reply_error(res, st.error());
  const auto id = cookie_value(req, kSessionCookie);
  if (!id.empty()) {
    // Same rules as any write with the cookie: a cross-site page can't log a user out.
    auto caller = session_caller(ctx, req);
    if (caller && !*caller) return reply_error(res, caller->error());
    sessions().revoke(id);
  } else {
    auto caller = ctx.authenticate(req);
    if (!caller) return reply_error(res, caller.error());
  }
  clear_cookies(req, res);
  reply(res, 200, R"({"status":"logged_out"})");
}

std::string_view asset(const char* begin, const char* end) {
  return std::string_view(begin, static_cast<size_t>(end - begin));
}

void serve(Res& res, std::string_view body, const char* type, const char* cache) {
  res.status = 200;
  res.set_content(body.data(), body.size(), type);
  res.set_header("Cache-Control", cache);
  res.set_header("X-Content-Type-Options", "nosniff");
}

void serve_page(const Req&, Res& res) {
  serve(res, asset(pulse_dashboard_index_html, pulse_dashboard_index_html_end),
        "text/html; charset=utf-8", "no-cache");
  // Only this server's own script, styles, images and API.
  res.set_header("Content-Security-Policy",
                 "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                 "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
  res.set_header("Referrer-Policy", "same-origin");
  res.set_header("X-Frame-Options", "DENY");
}

}  // namespace

std::string cookie_value(const Req& req, std::string_view name) {
  // Several Cookie headers are possible (HTTP/2 proxies): read them all.
  const auto count = req.get_header_value_count("Cookie");
  for (size_t i = 0; i < count; ++i) {
    const std::string header = req.get_header_value("Cookie", i);
    std::string_view rest = header;
    while (!rest.empty()) {
      const auto end = rest.find(';');
      auto pair = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      const auto eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name)
        return std::string(pair.substr(eq + 1));
    }
  }
  return {};
}

std::optional<Result<Caller>> session_caller(const Context& ctx, const Req& req) {
  const auto id = cookie_value(req, kSessionCookie);
  if (id.empty()) return std::nullopt;
  const Error expired{Errc::unauthorized, "Session expired",
                      "Log in again (POST /api/auth/login), or send a Bearer token."};
  auto session = sessions().find(id, ctx.app.clock().now());
  if (!session) return Result<Caller>(expired);
  if (!is_safe_method(req.method)) {
    const auto sent = req.get_header_value("X-CSRF-Token");
    if (!same_origin(req) || sent.empty() || !auth::constant_time_equal(sent, session->csrf))
      return Result<Caller>(
          Error{Errc::forbidden, "Cross-site request refused",
                "Writes with the session cookie must come from this server's pages and send the "
                "pulse_csrf cookie's value in X-CSRF-Token."});
  }
  Caller caller;
  caller.user = session->user;
  std::string asked = req.get_header_value("X-Organization-Id");
  if (asked.empty()) asked = cookie_value(req, kOrgCookie);
  caller.org = asked.empty() ? session->org : OrgId{asked};
  auto member = ctx.app.models().membership(*caller.user, caller.org);
  if (!member) return Result<Caller>(member.error());
  if (!*member)
    return Result<Caller>(Error{Errc::forbidden, "Organization not accessible",
                                "You are not a member of this organization."});
  auto org = ctx.app.models().organization(caller.org);
  if (!org) return Result<Caller>(org.error());
  if (*org) caller.plan = (*org)->plan;
  return Result<Caller>(std::move(caller));
}

void start_browser_session(const Context& ctx, const Req& req, Res& res, const UserId& user,
                           const OrgId& org) {
  if (!same_origin(req)) return;
  auto [id, csrf] = sessions().create(user, org, ctx.app.clock().now());
  const auto max_age = std::chrono::duration_cast<std::chrono::seconds>(kSessionLifetime).count();
  res.set_header("Set-Cookie",
                 std::string(kSessionCookie) + "=" + id + cookie_attributes(req, true, max_age));
  res.set_header("Set-Cookie",
                 std::string(kCsrfCookie) + "=" + csrf + cookie_attributes(req, false, max_age));
}

void add_dashboard_routes(Router& server, const Context& ctx) {
  server.Post("/api/auth/logout", [&ctx](const Req& req, Res& res) { logout(ctx, req, res); });
  server.Get("/", [](const Req&, Res& res) {
    res.status = 302;
    res.set_header("Location", "/app/");
  });
  server.Get("/app/assets/app.js", [](const Req&, Res& res) {
    serve(res, asset(pulse_dashboard_app_js, pulse_dashboard_app_js_end),
          "text/javascript; charset=utf-8", "public, max-age=3600");
  });
  server.Get("/app/assets/app.css", [](const Req&, Res& res) {
    serve(res, asset(pulse_dashboard_app_css, pulse_dashboard_app_css_end),
          "text/css; charset=utf-8", "public, max-age=3600");
  });
  // Every other path under /app is a page of the dashboard: the same document, routed in the
  // browser.
  server.Get("/app", serve_page);
  server.Get(R"(/app/.*)", serve_page);
}

}  // namespace pulse::http
