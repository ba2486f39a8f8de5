// What a hostile client can make the server hold and say: body limits per route (413 before the
// body is read, 411 for chunked bodies), the header block (431), the memory a large body leaves
// behind (the server's RSS), and the public URL, which never comes from the request's headers.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <fstream>
#include <string>
#include <vector>

#include "fmt/format.h"
#include "tests/integration/server_process.h"

using pulse::testing::Account;
using pulse::testing::ServerProcess;
using pulse::testing::TempDir;

namespace {

// The server's resident set, in MiB (/proc/PID/status VmRSS).
double rss_mib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("VmRSS:")) return std::stod(line.substr(6)) / 1024.0;
  FAIL("no VmRSS for ", pid);
  return 0;
}

// The documented error shape: {"error": string, "details": string}.
void check_error_shape(const httplib::Result& res, int status) {
  REQUIRE(res);
  CHECK(res->status == status);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE_MESSAGE(!parser.parse(res->body).get(doc), "not JSON: ", res->body);
  std::string_view error, details;
  CHECK(!doc["error"].get_string().get(error));
  CHECK(!doc["details"].get_string().get(details));
  CHECK(!error.empty());
}

struct BodyRoute {
  const char* method;
  std::string path;
  size_t limit;
};

// Every route that takes a body, with the limit adapters/http/server_limits.h gives it.
std::vector<BodyRoute> body_routes() {
  constexpr size_t kDefault = 256 << 10;
  std::vector<BodyRoute> routes;
  for (const char* path : {"/api/auth/signup",
                           "/api/auth/login",
                           "/api/auth/token",
                           "/api/auth/logout",
                           "/api/api-keys",
                           "/api/organizations",
                           "/api/admin/organizations/org_x/plan",
                           "/api/campaigns",
                           "/api/campaigns/c/pause",
                           "/api/campaigns/c/resume",
                           "/api/campaigns/c/cancel",
                           "/api/contacts",
                           "/api/contacts/l/contacts",
                           "/api/devices/pairing",
                           "/api/gateway/register",
                           "/api/gateway/heartbeat",
                           "/api/gateway/messages/claim",
                           "/api/gateway/messages/status",
                           "/api/gateway/inbound",
                           "/api/opt-outs",
                           "/api/sms/send",
                           "/mobile/v1/device",
                           "/api/webhooks",
                           "/api/webhooks/w/rotate-secret",
                           "/api/webhooks/w/test",
                           "/api/webhooks/w/replay",
                           "/api/webhooks/w/deliveries/d/retry"})
    routes.push_back({"POST", path, kDefault});
  routes.push_back({"POST", "/api/contacts/l/import", 8 << 20});
  for (const char* path :
       {"/api/contacts/l/contacts/p", "/api/devices/d", "/mobile/v1/device", "/api/webhooks/w"})
    routes.push_back({"PATCH", path, kDefault});
  for (const char* path : {"/mobile/v1/message", "/mobile/v1/messages"})
    routes.push_back({"PATCH", path, 2 << 20});
  for (const char* path : {"/api/api-keys/k", "/api/contacts/l", "/api/contacts/l/contacts/p",
                           "/api/devices/d", "/api/opt-outs/p", "/api/webhooks/w"})
    routes.push_back({"DELETE", path, kDefault});
  return routes;
}

httplib::Result send(httplib::Client& c, const BodyRoute& r, const std::string& body,
                     const char* type = "application/json") {
  const std::string m = r.method;
  if (m == "POST") return c.Post(r.path, body, type);
  if (m == "PATCH") return c.Patch(r.path, body, type);
  return c.Delete(r.path, body, type);
}

// A JSON document of `size` bytes that is expensive to parse (one value per two bytes).
std::string json_of_size(size_t size) {
  std::string s = "[";
  while (s.size() + 3 < size) s += "1,";
  s += "1]";
  return s;
}

// A client that isn't recorded for the contract tests (tests/schema): the statuses these
// tests provoke (411, 431, 413 on every route) are the server's limits, not each route's.
std::unique_ptr<httplib::Client> unrecorded(const ServerProcess& server,
                                            const std::string& token = {}) {
  auto c = std::make_unique<httplib::Client>(server.base_url());
  c->set_connection_timeout(5);
  c->set_read_timeout(60);
  c->set_write_timeout(60);
  if (!token.empty()) c->set_bearer_token_auth(token);
  return c;
}

}  // namespace

TEST_CASE("large bodies: 413 before the body is read, 411 for chunks, and the RSS stays bounded") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  const Account a = server.signup({}, false);
  auto c = unrecorded(server, a.token);
  // Warm up the worker threads and the read models, then take the baseline.
  for (int i = 0; i < 20; ++i) REQUIRE(c->Get("/api/contacts"));
  const double baseline = rss_mib(server.pid());

  // Three 15 MB bodies to the unauthenticated token route (the original report).
  const std::string huge(15 << 20, ' ');
  for (int i = 0; i < 3; ++i)
    check_error_shape(unrecorded(server)->Post("/api/auth/token", huge, "application/json"), 413);

  // Every body route: one byte over its limit is refused, and a body just under its limit is
  // parsed (whatever the route then answers) and its memory given back.
  for (const auto& r : body_routes()) {
    CAPTURE(r.method);
    CAPTURE(r.path);
    check_error_shape(send(*c, r, std::string(r.limit + 1, ' ')), 413);
    const bool csv = r.path.ends_with("/import");
    auto res = send(*c, r, json_of_size(r.limit - 16), csv ? "text/csv" : "application/json");
    REQUIRE(res);
    CHECK(res->status != 413);
    CHECK(res->status != 500);
  }
  // A chunked body can't be bounded before it is read: refused, and read into nothing.
  auto chunked = c->Post(
      "/api/auth/token",
      [&](size_t offset, httplib::DataSink& sink) {
        if (offset >= (16u << 20)) {
          sink.done();
          return true;
        }
        const std::string chunk(1 << 20, ' ');
        return sink.write(chunk.data(), chunk.size());
      },
      "application/json");
  check_error_shape(chunked, 411);

  // The server still answers, and holds at most a few tens of MiB more than before.
  auto health = unrecorded(server)->Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  const double after = rss_mib(server.pid());
  MESSAGE(fmt::format("RSS {:.0f} MiB before the large bodies, {:.0f} MiB after", baseline, after));
  CHECK(after - baseline < 64);
}

TEST_CASE("headers: a line over 8 KiB is a 400, a header block over 16 KiB a 431") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  auto c = unrecorded(server);
  // One line over 8 KiB: httplib refuses it while reading (400).
  check_error_shape(c->Get("/healthz", {{"X-Filler", std::string(9 << 10, 'a')}}), 400);
  httplib::Headers many;
  for (int i = 0; i < 40; ++i) many.emplace(fmt::format("X-Filler-{}", i), std::string(500, 'a'));
  check_error_shape(c->Get("/healthz", many), 431);
  check_error_shape(c->Post("/api/auth/token", many, "{}", "application/json"), 431);
  // The connection is usable afterwards, and ordinary headers pass.
  auto ok = c->Get("/healthz", {{"X-Filler", std::string(4 << 10, 'a')}});
  REQUIRE(ok);
  CHECK(ok->status == 200);
}

TEST_CASE("the public URL comes from configuration, never from the request's headers") {
  TempDir dir;
  for (const bool configured : {false, true}) {
    CAPTURE(configured);
    std::vector<std::string> extra;
    if (configured) extra = {"--public-url", "https://pulse.example.com/"};
    ServerProcess server(dir.path() / (configured ? "configured" : "default"), extra);
    const std::string expected = configured ? "https://pulse.example.com" : server.base_url();
    Account a = server.signup({}, false);
    auto c = server.client(a);
    const std::string long_host(3000, 'h');
    for (const httplib::Headers& hostile :
         {httplib::Headers{{"Host", "evil.example:443"}}, httplib::Headers{{"Host", long_host}},
          httplib::Headers{{"X-Forwarded-Host", "evil.example"}, {"X-Forwarded-Proto", "https"}},
          httplib::Headers{{"Forwarded", "host=evil.example;proto=https"}}}) {
      auto pairing = c->Post("/api/devices/pairing", hostile, "{}", "application/json");
      REQUIRE(pairing);
      REQUIRE(pairing->status == 201);
      CHECK(pairing->body.find("evil") == std::string::npos);
      CHECK(pairing->body.find(long_host.substr(0, 100)) == std::string::npos);
      CHECK(pairing->body.find(R"(\"server\":\")" + expected + R"(\")") != std::string::npos);
      const std::string svg_url = pulse::testing::json_field(pairing->body, "qrSvgUrl");
      auto svg = c->Get(svg_url, hostile);
      REQUIRE(svg);
      CHECK(svg->status == 200);
      CHECK(svg->body.starts_with("<svg"));
      // The dashboard's pages don't name the host either (pages are not in the API contract).
      for (const char* page : {"/app", "/app/", "/reference"}) {
        auto res = unrecorded(server)->Get(page, hostile);
        REQUIRE(res);
        CHECK(res->body.find("evil.example") == std::string::npos);
        CHECK(res->body.find(long_host.substr(0, 100)) == std::string::npos);
      }
    }
  }
}
