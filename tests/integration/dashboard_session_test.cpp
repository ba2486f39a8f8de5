// The dashboard's server side: browser sessions (cookie beside Bearer, the Origin check and the
// CSRF token, log-out, expiry by revocation) and GET /api/stream (events, the bound per
// organisation). The browser itself is tested by tests/integration/dashboard/run.sh.
#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "tests/integration/server_process.h"

using pulse::testing::Account;
using pulse::testing::ServerProcess;
using pulse::testing::TempDir;

namespace {

std::string cookie_from(const httplib::Result& res, const std::string& name) {
  for (size_t i = 0; i < res->get_header_value_count("Set-Cookie"); ++i) {
    const auto c = res->get_header_value("Set-Cookie", i);
    if (c.starts_with(name + "=")) return c.substr(name.size() + 1, c.find(';') - name.size() - 1);
  }
  return {};
}

struct Browser {
  std::string origin, session, csrf;
  httplib::Headers headers(bool write, const std::string& from = {}) const {
    httplib::Headers h{{"Cookie", "pulse_session=" + session + "; pulse_csrf=" + csrf}};
    if (write) {
      h.emplace("Origin", from.empty() ? origin : from);
      h.emplace("X-CSRF-Token", csrf);
    }
    return h;
  }
};

Browser log_in(const ServerProcess& server, const Account& a) {
  Browser b{server.base_url()};
  auto res = server.client()->Post(
      "/api/auth/login", {{"Origin", b.origin}},
      R"({"email":")" + a.email + R"(","password":"correct horse battery"})", "application/json");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  b.session = cookie_from(res, "pulse_session");
  b.csrf = cookie_from(res, "pulse_csrf");
  REQUIRE(!b.session.empty());
  REQUIRE(!b.csrf.empty());
  return b;
}

}  // namespace

TEST_CASE("a browser session: cookie beside Bearer, writes need the origin and the CSRF token") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  const auto a = server.signup({}, false);
  auto c = server.client();

  // A script's log-in (no Origin) gets its token and no cookie; a page's gets both cookies.
  auto script = c->Post("/api/auth/login",
                        R"({"email":")" + a.email + R"(","password":"correct horse battery"})",
                        "application/json");
  REQUIRE(script);
  CHECK(script->status == 200);
  CHECK(script->get_header_value_count("Set-Cookie") == 0);
  const auto b = log_in(server, a);
  auto page = c->Post("/api/auth/login", {{"Origin", b.origin}},
                      R"({"email":")" + a.email + R"(","password":"correct horse battery"})",
                      "application/json");
  REQUIRE(page);
  const auto set = page->get_header_value("Set-Cookie", 0);
  CHECK(set.find("HttpOnly") != std::string::npos);
  CHECK(set.find("SameSite=Lax") != std::string::npos);
  CHECK(set.find("Secure") == std::string::npos);  // plain HTTP here
  // A cross-site page can't start a session (no login CSRF).
  auto cross = c->Post("/api/auth/login", {{"Origin", "http://evil.example"}},
                       R"({"email":")" + a.email + R"(","password":"correct horse battery"})",
                       "application/json");
  REQUIRE(cross);
  CHECK(cross->get_header_value_count("Set-Cookie") == 0);

  auto orgs = c->Get("/api/organizations", b.headers(false));
  REQUIRE(orgs);
  CHECK(orgs->status == 200);
  CHECK(orgs->body.find(a.org_id) != std::string::npos);

  const std::string list = R"({"name":"Customers"})";
  auto no_token =
      c->Post("/api/contacts", {{"Cookie", "pulse_session=" + b.session}, {"Origin", b.origin}},
              list, "application/json");
  REQUIRE(no_token);
  CHECK(no_token->status == 403);
  auto other_site =
      c->Post("/api/contacts", b.headers(true, "http://127.0.0.1:1"), list, "application/json");
  REQUIRE(other_site);
  CHECK(other_site->status == 403);
  auto wrong_token = b.headers(true);
  wrong_token.erase("X-CSRF-Token");
  wrong_token.emplace("X-CSRF-Token", std::string(b.csrf.size(), '0'));
  auto forged = c->Post("/api/contacts", wrong_token, list, "application/json");
  REQUIRE(forged);
  CHECK(forged->status == 403);
  auto ok = c->Post("/api/contacts", b.headers(true), list, "application/json");
  REQUIRE(ok);
  CHECK(ok->status == 201);

  // Bearer clients are unaffected, whatever cookie they carry.
  auto bearer = server.client(a);
  auto with_junk =
      bearer->Post("/api/contacts", {{"Cookie", "pulse_session=junk"}}, list, "application/json");
  REQUIRE(with_junk);
  CHECK(with_junk->status == 201);

  // Another organisation's id is refused as with a token.
  const auto other = server.signup({}, false);
  auto h = b.headers(false);
  h.emplace("X-Organization-Id", other.org_id);
  auto foreign = c->Get("/api/contacts", h);
  REQUIRE(foreign);
  CHECK(foreign->status == 403);

  // Log-out ends the session; the cookie is refused afterwards.
  auto out = c->Post("/api/auth/logout", b.headers(true), "", "application/json");
  REQUIRE(out);
  CHECK(out->status == 200);
  auto after = c->Get("/api/organizations", b.headers(false));
  REQUIRE(after);
  CHECK(after->status == 401);
}

TEST_CASE("GET /api/stream sends the organisation's changes and is bounded per organisation") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  auto a = server.signup({}, false);

  std::mutex mu;
  std::condition_variable cv;
  std::string seen;
  std::atomic<bool> stop{false};
  auto listen = server.client(a);
  std::thread reader([&] {
    listen->Get("/api/stream", [&](const char* data, size_t n) {
      {
        std::lock_guard lock(mu);
        seen.append(data, n);
      }
      cv.notify_all();
      return !stop.load();
    });
  });
  auto wait_for = [&](const std::string& what) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10),
                       [&] { return seen.find(what) != std::string::npos; });
  };
  CHECK(wait_for("event: ready"));
  server.connect_device(a);  // a new device: an event, without polling the API
  CHECK(wait_for("event: device"));
  CHECK(wait_for(a.device_id));

  // Seven more fill the organisation's eight; the ninth is refused with the error shape.
  std::vector<std::unique_ptr<httplib::Client>> clients;
  std::vector<std::thread> threads;
  std::atomic<int> started{0};
  for (int i = 0; i < 7; ++i) {
    clients.push_back(server.client(a));
    threads.emplace_back([&, c = clients.back().get()] {
      bool counted = false;
      c->Get("/api/stream", [&](const char*, size_t) {
        if (!counted) {
          counted = true;
          ++started;
          cv.notify_all();
        }
        return !stop.load();
      });
    });
  }
  {
    std::unique_lock lock(mu);
    CHECK(cv.wait_for(lock, std::chrono::seconds(10), [&] { return started.load() == 7; }));
  }
  auto refused = server.client(a)->Get("/api/stream");
  REQUIRE(refused);
  CHECK(refused->status == 429);
  CHECK(refused->body.find("Too many live streams") != std::string::npos);

  stop = true;
  listen->stop();
  for (auto& c : clients) c->stop();
  reader.join();
  for (auto& t : threads) t.join();
}
