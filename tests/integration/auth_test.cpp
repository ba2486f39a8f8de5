// Accounts end to end: the reference's Step 1, token expiry and revocation, tenant isolation on
// every route, rate limits, and no secret in clear anywhere under the data directory.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <thread>
#include <vector>

#include "adapters/auth/jwt.h"
#include "adapters/log/embedded_log.h"
#include "fmt/format.h"
#include "tests/integration/api_helpers.h"
#include "tests/integration/server_process.h"

using pulse::testing::Account;
using pulse::testing::ServerProcess;
using pulse::testing::TempDir;

namespace {

using pulse::testing::parse;

std::string field(const std::string& body, const char* name) {
  simdjson::dom::parser parser;
  std::string_view v;
  REQUIRE_MESSAGE(!parse(parser, body)[name].get_string().get(v), name, " in ", body);
  return std::string(v);
}

const char* kOneSms = R"({"recipients":[{"phone":"+14155552671","name":"Alice"}],"message":"Hi"})";

// Every file under `dir`, as bytes.
std::string all_bytes(const std::filesystem::path& dir) {
  std::string out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    out.append(std::istreambuf_iterator<char>(in), {});
  }
  return out;
}

}  // namespace

TEST_CASE("the reference's Step 1: exchange an API key for a token, call the API with it") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  auto c = server.client();
  auto signup = c->Post("/api/auth/signup",
                        R"({"email":"Grace@Example.com","password":"correct horse battery",)"
                        R"("name":"Grace","organizationName":"Hopper Labs"})",
                        "application/json");
  REQUIRE(signup);
  REQUIRE(signup->status == 201);
  const auto api_key = field(signup->body, "apiKey");
  const auto org = field(signup->body, "organizationId");
  CHECK(api_key.starts_with("pk_live_"));
  CHECK(api_key.size() == 8 + 32);

  // Verbatim from the reference: POST /api/auth/token {"apiKey": ...}.
  auto res = c->Post("/api/auth/token", "{\"apiKey\": \"" + api_key + "\"}", "application/json");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  simdjson::dom::parser parser;
  auto doc = parse(parser, res->body);
  CHECK(int64_t(doc["expiresIn"]) == 86400);
  CHECK(std::string_view(doc["organizationId"]) == org);
  const std::string token{std::string_view(doc["token"])};
  // An HS256 JWT with sub, orgId, iat, exp, jti.
  CHECK(token.starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."));
  auto claims = pulse::auth::verify_jwt(token, pulse::testing::kTestJwtSecret,
                                        pulse::from_unix_ms(1795329938000));
  REQUIRE(claims.ok());
  CHECK(claims->org_id == org);
  CHECK(claims->exp - claims->iat == 86400);
  CHECK(claims->sub.starts_with("key_"));
  CHECK(!claims->jti.empty());

  httplib::Headers bearer = {{"Authorization", "Bearer " + token}};
  // Sends need an online gateway (the reference's Step 2).
  pulse::testing::Account account{"grace@example.com", api_key, org, "", token, "", ""};
  server.connect_device(account);
  auto list = c->Get("/api/campaigns", bearer);
  REQUIRE(list);
  CHECK(list->status == 200);
  auto send = c->Post("/api/sms/send", bearer, kOneSms, "application/json");
  REQUIRE(send);
  CHECK(send->status == 201);
  auto orgs = c->Get("/api/organizations", bearer);
  REQUIRE(orgs);
  REQUIRE(orgs->status == 200);
  CHECK(orgs->body.find("\"name\":\"Hopper Labs\"") != std::string::npos);

  // Login with the password (any case of the address) gives a session token too.
  auto login = c->Post("/api/auth/login",
                       R"({"email":"grace@example.COM","password":"correct horse battery"})",
                       "application/json");
  REQUIRE(login);
  REQUIRE(login->status == 200);
  CHECK(field(login->body, "organizationId") == org);

  // Wrong keys and passwords: 401 with the documented shape.
  for (const std::string& bad :
       {std::string("pk_live_") + std::string(32, '0'), std::string("pk_test_") + api_key.substr(8),
        api_key + "0", std::string("")}) {
    auto r = c->Post("/api/auth/token", R"({"apiKey":")" + bad + R"("})", "application/json");
    REQUIRE(r);
    CHECK(r->status == 401);
    CHECK(field(r->body, "error") == "Invalid API key");
  }
  auto wrong = c->Post("/api/auth/login", R"({"email":"grace@example.com","password":"nope nope"})",
                       "application/json");
  REQUIRE(wrong);
  CHECK(wrong->status == 401);
  auto dup =
      c->Post("/api/auth/signup", R"({"email":"grace@example.com","password":"another password"})",
              "application/json");
  REQUIRE(dup);
  CHECK(dup->status == 409);
}

TEST_CASE("expired, tampered and foreign tokens get 401") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  const auto account = server.signup();
  auto c = server.client();
  auto claims = pulse::auth::verify_jwt(account.token, pulse::testing::kTestJwtSecret,
                                        pulse::from_unix_ms(1795329938000));
  REQUIRE(claims.ok());

  auto expired = *claims;
  expired.iat -= 2 * 86400;
  expired.exp = expired.iat + 86400;
  auto tampered = account.token;
  tampered[tampered.find('.') + 3] ^= 1;
  auto other = *claims;
  const std::vector<std::string> tokens = {
      pulse::auth::sign_jwt(expired, pulse::testing::kTestJwtSecret), tampered,
      pulse::auth::sign_jwt(other, "some-other-server-secret-0123456789abcdef"), "not-a-jwt", ""};
  for (const auto& t : tokens) {
    CAPTURE(t);
    auto r = c->Get("/api/campaigns", {{"Authorization", "Bearer " + t}});
    REQUIRE(r);
    CHECK(r->status == 401);
    CHECK(field(r->body, "error").size() > 0);
  }
  auto none = c->Get("/api/campaigns");
  REQUIRE(none);
  CHECK(none->status == 401);
  CHECK(field(none->body, "error") == "Missing bearer token");
}

TEST_CASE("a revoked key's tokens stop working at once") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  const auto account = server.signup();
  server.set_plan(account, "pro");  // more than one key
  auto keyed = server.client(account);
  auto created = keyed->Post("/api/api-keys", R"({"name":"ci"})", "application/json");
  REQUIRE(created);
  REQUIRE(created->status == 201);
  const auto second_key = field(created->body, "apiKey");
  const auto second_id = field(created->body, "id");
  CHECK(field(created->body, "prefix").starts_with("pk_live_" + second_key.substr(8, 4)));

  auto c = server.client();
  auto tok =
      c->Post("/api/auth/token", R"({"apiKey":")" + second_key + R"("})", "application/json");
  REQUIRE(tok);
  REQUIRE(tok->status == 200);
  httplib::Headers second = {{"Authorization", "Bearer " + field(tok->body, "token")}};
  auto before = c->Get("/api/campaigns", second);
  REQUIRE(before);
  CHECK(before->status == 200);

  auto revoked = keyed->Delete(("/api/api-keys/" + second_id).c_str());
  REQUIRE(revoked);
  REQUIRE(revoked->status == 200);
  CHECK(revoked->body.find("\"revokedAt\":null") == std::string::npos);

  auto after = c->Get("/api/campaigns", second);
  REQUIRE(after);
  CHECK(after->status == 401);
  CHECK(field(after->body, "error") == "API key revoked");
  auto exchange =
      c->Post("/api/auth/token", R"({"apiKey":")" + second_key + R"("})", "application/json");
  REQUIRE(exchange);
  CHECK(exchange->status == 401);
  // The first key is unaffected.
  auto first = keyed->Get("/api/campaigns");
  REQUIRE(first);
  CHECK(first->status == 200);
  auto again = keyed->Delete(("/api/api-keys/" + second_id).c_str());
  REQUIRE(again);
  CHECK(again->status == 404);
}

TEST_CASE("plans: API key and organisation limits answer 403 until the plan allows more") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  const auto account = server.signup();
  auto keyed = server.client(account);
  auto refused = keyed->Post("/api/api-keys", "{}", "application/json");
  REQUIRE(refused);
  CHECK(refused->status == 403);
  CHECK(field(refused->body, "error") == "API key limit reached");

  auto c = server.client();
  auto login = c->Post("/api/auth/login",
                       R"({"email":")" + account.email + R"(","password":"correct horse battery"})",
                       "application/json");
  REQUIRE(login);
  REQUIRE(login->status == 200);
  httplib::Headers session = {{"Authorization", "Bearer " + field(login->body, "token")}};
  auto org2 = c->Post("/api/organizations", session, R"({"name":"Second"})", "application/json");
  REQUIRE(org2);
  CHECK(org2->status == 403);
  CHECK(field(org2->body, "error") == "Organization limit reached");
  // API-key tokens don't create organisations: a user does.
  auto by_key = keyed->Post("/api/organizations", R"({"name":"Second"})", "application/json");
  REQUIRE(by_key);
  CHECK(by_key->status == 403);

  server.set_plan(account, "pro");
  auto ok = c->Post("/api/organizations", session, R"({"name":"Second"})", "application/json");
  REQUIRE(ok);
  REQUIRE(ok->status == 201);
  const auto second_org = field(ok->body, "id");
  auto list = c->Get("/api/organizations", session);
  REQUIRE(list);
  CHECK(list->body.find(second_org) != std::string::npos);
  CHECK(list->body.find(account.org_id) != std::string::npos);
  // The plan is the account's: the new organisation has Pro's limits too, and a change of the
  // account's plan reaches every organisation of it.
  CHECK(field(ok->body, "plan") == "pro");
  auto plans_of = [&] {
    std::map<std::string, std::string> out;
    auto r = c->Get("/api/organizations", session);
    REQUIRE(r);
    const std::regex row(R"re(\{"id":"(org_[0-9a-z]+)"[^}]*"plan":"([a-z]+)")re");
    for (std::sregex_iterator it(r->body.begin(), r->body.end(), row), end; it != end; ++it)
      out[(*it)[1].str()] = (*it)[2].str();
    return out;
  };
  CHECK(plans_of() ==
        std::map<std::string, std::string>{{account.org_id, "pro"}, {second_org, "pro"}});
  // Pro allows 5 organisations.
  for (int i = 3; i <= 5; ++i) {
    auto more = c->Post("/api/organizations", session, R"({"name":"More"})", "application/json");
    REQUIRE(more);
    CHECK(more->status == 201);
  }
  auto sixth = c->Post("/api/organizations", session, R"({"name":"Sixth"})", "application/json");
  REQUIRE(sixth);
  CHECK(sixth->status == 403);
  server.set_plan(account, "enterprise");
  for (const auto& entry : plans_of()) {
    CAPTURE(entry.first);
    CHECK(entry.second == "enterprise");
  }
  CHECK(plans_of().size() == 5);
  // The session acts in the second organisation with X-Organization-Id (a member).
  auto headers = session;
  headers.emplace("X-Organization-Id", second_org);
  auto no_device = c->Post("/api/sms/send", headers, kOneSms, "application/json");
  REQUIRE(no_device);
  CHECK(no_device->status == 400);
  CHECK(field(no_device->body, "error") ==
        "No online devices. Connect at least one device to send SMS.");
  auto pairing = c->Post("/api/devices/pairing", headers, "{}", "application/json");
  REQUIRE(pairing);
  REQUIRE(pairing->status == 201);
  auto reg = c->Post("/api/gateway/register",
                     R"({"pairingToken":")" + field(pairing->body, "pairingToken") + R"("})",
                     "application/json");
  REQUIRE(reg);
  REQUIRE(reg->status == 201);
  CHECK(field(reg->body, "organizationId") == second_org);
  auto send = c->Post("/api/sms/send", headers, kOneSms, "application/json");
  REQUIRE(send);
  CHECK(send->status == 201);
  // That campaign is the second organisation's, not the first's.
  const auto campaign = field(send->body, "campaignId");
  auto in_first = keyed->Get(("/api/campaigns/" + campaign).c_str());
  REQUIRE(in_first);
  CHECK(in_first->status == 404);
  auto in_second = c->Get(("/api/campaigns/" + campaign).c_str(), headers);
  REQUIRE(in_second);
  CHECK(in_second->status == 200);

  // The operator route needs the operator's token.
  auto no_admin = c->Post(("/api/admin/organizations/" + account.org_id + "/plan").c_str(), session,
                          R"({"plan":"enterprise"})", "application/json");
  REQUIRE(no_admin);
  CHECK(no_admin->status == 401);
}

TEST_CASE("tenant isolation: organisation A's credentials never reach B's data (every route)") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  const auto a = server.signup();
  const auto b = server.signup();
  auto as_a = server.client(a);
  auto as_b = server.client(b);

  auto sent = as_b->Post("/api/sms/send", kOneSms, "application/json");
  REQUIRE(sent);
  REQUIRE(sent->status == 201);
  const auto b_campaign = field(sent->body, "campaignId");
  auto b_keys = as_b->Get("/api/api-keys");
  REQUIRE(b_keys);
  simdjson::dom::parser parser;
  const std::string b_key_id{std::string_view(parse(parser, b_keys->body).at(0)["id"])};

  struct Probe {
    std::string method, path;
    int expected;
  };
  const std::vector<Probe> probes = {
      {"GET", "/api/campaigns/" + b_campaign, 404},
      {"GET", "/api/campaigns/" + b_campaign + "?limit=1", 404},
      {"DELETE", "/api/api-keys/" + b_key_id, 404},
      {"GET", "/api/devices/" + b.device_id, 404},
      {"PATCH", "/api/devices/" + b.device_id, 404},
      {"DELETE", "/api/devices/" + b.device_id, 404},
  };
  for (const auto& p : probes) {
    CAPTURE(p.method);
    CAPTURE(p.path);
    auto r = p.method == "GET" ? as_a->Get(p.path.c_str())
             : p.method == "PATCH"
                 ? as_a->Patch(p.path.c_str(), R"({"deviceName":"mine now"})", "application/json")
                 : as_a->Delete(p.path.c_str());
    REQUIRE(r);
    CHECK(r->status == p.expected);
    CHECK(r->body.find(b_campaign) == std::string::npos);
    CHECK(r->body.find(b.device_id) == std::string::npos);
  }
  // A's gateway can't report B's messages: they don't exist in A's organisation.
  auto b_campaign_doc = as_b->Get(("/api/campaigns/" + b_campaign).c_str());
  REQUIRE(b_campaign_doc);
  simdjson::dom::parser msg_parser;
  const std::string b_message{
      std::string_view(parse(msg_parser, b_campaign_doc->body)["messages"].at(0)["id"])};
  auto report =
      server.gateway(a)->Post("/api/gateway/messages/status",
                              R"({"reports":[{"messageId":")" + b_message +
                                  R"(","status":"delivered","at":"2026-11-22T08:00:00.000Z"}]})",
                              "application/json");
  REQUIRE(report);
  CHECK(report->status == 200);
  CHECK(report->body.find(R"("accepted":false)") != std::string::npos);
  // A's gateway can't claim B's queued message either.
  auto claim =
      server.gateway(a)->Post("/api/gateway/messages/claim", R"({"max":10})", "application/json");
  REQUIRE(claim);
  CHECK(claim->body.find(b_message) == std::string::npos);
  // Lists show only A's own resources.
  for (const char* path :
       {"/api/campaigns", "/api/api-keys", "/api/organizations", "/api/devices"}) {
    CAPTURE(path);
    auto r = as_a->Get(path);
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body.find(b.org_id) == std::string::npos);
    CHECK(r->body.find(b_campaign) == std::string::npos);
    CHECK(r->body.find(b_key_id) == std::string::npos);
    CHECK(r->body.find(b.device_id) == std::string::npos);
  }
  // Naming B's organisation doesn't help: 403 for an API key of A's, on every route.
  httplib::Headers to_b = {{"X-Organization-Id", b.org_id}};
  for (const char* path : {"/api/campaigns", "/api/api-keys", "/api/organizations", "/api/devices",
                           "/api/campaigns/cmp_0000000000000000"}) {
    CAPTURE(path);
    auto r = as_a->Get(path, to_b);
    REQUIRE(r);
    CHECK(r->status == 403);
  }
  auto post = as_a->Post("/api/sms/send", to_b, kOneSms, "application/json");
  REQUIRE(post);
  CHECK(post->status == 403);
  // B's key still works and B's campaign is still there.
  auto still = as_b->Get(("/api/campaigns/" + b_campaign).c_str());
  REQUIRE(still);
  CHECK(still->status == 200);
}

TEST_CASE("rate limit: 10 sends a minute by default, with the X-RateLimit headers") {
  TempDir dir;
  const auto plans = (dir.path() / "plans.json").string();
  std::ofstream(plans) << R"({"pro": {"sendPerMinute": 3}})";
  ServerProcess server(dir.path() / "data", {"--plans", plans});
  const auto free = server.signup();
  const auto pro = server.signup();
  server.set_plan(pro, "pro");
  auto c = server.client(free);
  for (int i = 0; i < 10; ++i) {
    auto r = c->Post("/api/sms/send", kOneSms, "application/json");
    REQUIRE(r);
    CHECK(r->status == 201);
    CHECK(r->get_header_value("X-RateLimit-Limit") == "10");
    CHECK(r->get_header_value("X-RateLimit-Remaining") == std::to_string(9 - i));
    CHECK(!r->get_header_value("X-RateLimit-Reset").empty());
  }
  auto limited = c->Post("/api/sms/send", kOneSms, "application/json");
  REQUIRE(limited);
  CHECK(limited->status == 429);
  CHECK(limited->get_header_value("X-RateLimit-Remaining") == "0");
  CHECK(std::stoi(limited->get_header_value("Retry-After")) >= 1);
  CHECK(field(limited->body, "error") == "Rate limit exceeded");

  // Configured per plan: Pro gets 3 here.
  auto p = server.client(pro);
  for (int i = 0; i < 3; ++i) {
    auto r = p->Post("/api/sms/send", kOneSms, "application/json");
    REQUIRE(r);
    CHECK(r->status == 201);
  }
  auto pro_limited = p->Post("/api/sms/send", kOneSms, "application/json");
  REQUIRE(pro_limited);
  CHECK(pro_limited->status == 429);
  CHECK(pro_limited->get_header_value("X-RateLimit-Limit") == "3");
}

TEST_CASE("repeated failed logins slow down, then lock") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  const auto account = server.signup();
  auto c = server.client();
  const std::string wrong = R"({"email":")" + account.email + R"(","password":"not the password"})";
  for (int i = 0; i < 3; ++i) {
    auto r = c->Post("/api/auth/login", wrong, "application/json");
    REQUIRE(r);
    CHECK(r->status == 401);
  }
  // The next attempt, even with the right password, must wait.
  auto r = c->Post("/api/auth/login",
                   R"({"email":")" + account.email + R"(","password":"correct horse battery"})",
                   "application/json");
  REQUIRE(r);
  CHECK(r->status == 429);
  CHECK(r->get_header_value("Retry-After") == "1");
  CHECK(field(r->body, "error") == "Too many failed logins");
}

TEST_CASE("a log-in flood from one address gets 429s; the owner logs in from another") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  const auto account = server.signup({}, false);
  // Loopback answers for all of 127/8: each client binds its own source address.
  auto flood = server.client();
  flood->set_interface("127.0.0.3");
  int unauthorized = 0, refused = 0;
  for (int i = 0; i < 40; ++i) {
    // Half at the owner's account, half at made-up ones (no lock-out follows those).
    const auto email = i % 2 ? account.email : "nobody" + std::to_string(i) + "@example.com";
    auto r = flood->Post("/api/auth/login",
                         R"({"email":")" + email + R"(","password":"not the password"})",
                         "application/json");
    REQUIRE(r);
    if (r->status == 401) {
      ++unauthorized;
    } else {
      REQUIRE(r->status == 429);
      ++refused;
      CHECK(std::stoi(r->get_header_value("Retry-After")) >= 1);
      CHECK_FALSE(field(r->body, "error").empty());
      CHECK_FALSE(field(r->body, "details").empty());
    }
  }
  CHECK(refused >= 19);  // the address's bucket holds 20 attempts
  CHECK(unauthorized <= 21);
  // The right password from the flood's address is refused too...
  auto again =
      flood->Post("/api/auth/login",
                  R"({"email":")" + account.email + R"(","password":"correct horse battery"})",
                  "application/json");
  REQUIRE(again);
  CHECK(again->status == 429);
  // ...but the owner, from another address, logs in.
  auto owner = server.client();
  owner->set_interface("127.0.0.2");
  auto mine =
      owner->Post("/api/auth/login",
                  R"({"email":")" + account.email + R"(","password":"correct horse battery"})",
                  "application/json");
  REQUIRE(mine);
  CHECK(mine->status == 200);
  CHECK_FALSE(field(mine->body, "token").empty());
}

TEST_CASE("log-ins from many addresses beyond the hash queue get 429 with Retry-After") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  const auto account = server.signup({}, false);
  // The server's pool: one hashing thread per 2 cores, 8 waiting per thread. Send more at once
  // than run and wait together, each from its own address for its own e-mail, so neither the
  // throttle nor a lock-out answers first: the queue does.
  const int threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / 2);
  const int burst = threads * 9 + 16;
  std::vector<int> status(static_cast<size_t>(burst));
  std::vector<std::string> retry_after(status.size()), error(status.size());
  std::vector<std::thread> senders;
  for (int i = 0; i < burst; ++i)
    senders.emplace_back([&, i] {
      auto c = server.client();
      c->set_interface(fmt::format("127.0.{}.{}", 10 + i / 200, 1 + i % 200));
      auto r = c->Post("/api/auth/login",
                       fmt::format(R"({{"email":"nobody{}@example.com","password":"wrong"}})", i),
                       "application/json");
      if (!r) return;
      const auto k = static_cast<size_t>(i);
      status[k] = r->status;
      retry_after[k] = r->get_header_value("Retry-After");
      if (r->status != 401) error[k] = field(r->body, "error");
    });
  for (auto& t : senders) t.join();
  int busy = 0;
  for (size_t k = 0; k < status.size(); ++k) {
    // 401 checked, 429 queue full, 503 not checked in time: nothing else, and no 5xx crash.
    CHECK_MESSAGE((status[k] == 401 || status[k] == 429 || status[k] == 503), status[k]);
    if (status[k] == 429 || status[k] == 503) {
      CHECK(retry_after[k] == "1");
      CHECK(error[k] == "Server busy");
      busy += status[k] == 429;
    }
  }
  CHECK(busy >= 1);
  // Once the flood has been answered, the owner logs in (after the Retry-After if still busy).
  auto owner = server.client();
  owner->set_interface("127.0.0.2");
  int got = 0;
  for (int attempt = 0; attempt < 10 && got != 200; ++attempt) {
    auto mine =
        owner->Post("/api/auth/login",
                    R"({"email":")" + account.email + R"(","password":"correct horse battery"})",
                    "application/json");
    REQUIRE(mine);
    got = mine->status;
    if (got == 429 || got == 503) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  CHECK(got == 200);
}

TEST_CASE("X-Forwarded-For counts only from the --trusted-proxy") {
  TempDir dir;
  ServerProcess server(dir.path() / "data", {"--trusted-proxy", "127.0.0.5"});
  const auto account = server.signup({}, false);
  const std::string wrong = R"({"email":")" + account.email + R"(","password":"not the password"})";
  const std::string right =
      R"({"email":")" + account.email + R"(","password":"correct horse battery"})";
  auto login = [&](const char* from, const char* forwarded, const std::string& body) {
    auto c = server.client();
    c->set_interface(from);
    return c->Post("/api/auth/login", {{"X-Forwarded-For", forwarded}}, body, "application/json");
  };
  // Through the proxy, a client locks out only itself...
  for (int i = 0; i < 3; ++i) {
    auto r = login("127.0.0.5", "198.51.100.7", wrong);
    REQUIRE(r);
    CHECK(r->status == 401);
  }
  auto locked = login("127.0.0.5", "203.0.113.1, 198.51.100.7", right);
  REQUIRE(locked);
  CHECK(locked->status == 429);
  // ...while the owner, behind the same proxy, logs in.
  auto owner = login("127.0.0.5", "203.0.113.9", right);
  REQUIRE(owner);
  CHECK(owner->status == 200);
  // From anyone else the header is ignored: the peer 127.0.0.6 is not locked out.
  for (int i = 0; i < 3; ++i) {
    auto r = login("127.0.0.6", "198.51.100.7", wrong);
    REQUIRE(r);
    CHECK(r->status == 401);
  }
  auto other = login("127.0.0.7", "198.51.100.7", right);
  REQUIRE(other);
  CHECK(other->status == 200);
}

TEST_CASE("no secret appears in clear in the log, the read models, or the server's output") {
  TempDir dir;
  const auto data = dir.path() / "data";
  std::vector<std::string> secrets = {pulse::testing::kTestJwtSecret};
  {
    ServerProcess server(data);
    const auto account = server.signup();
    server.set_plan(account, "pro");
    secrets.push_back(account.api_key);
    secrets.push_back(account.token);
    secrets.push_back(account.device_token);
    secrets.push_back("correct horse battery");  // the harness's password
    auto keyed = server.client(account);
    auto created = keyed->Post("/api/api-keys", R"({"name":"second"})", "application/json");
    REQUIRE(created);
    REQUIRE(created->status == 201);
    secrets.push_back(field(created->body, "apiKey"));
    auto c = server.client();
    auto login =
        c->Post("/api/auth/login",
                R"({"email":")" + account.email + R"(","password":"correct horse battery"})",
                "application/json");
    REQUIRE(login);
    REQUIRE(login->status == 200);
    secrets.push_back(field(login->body, "token"));
    auto sent = keyed->Post("/api/sms/send", kOneSms, "application/json");
    REQUIRE(sent);
    REQUIRE(sent->status == 201);
    CHECK(server.terminate() == 0);
  }
  // Raw bytes of every file (log, state, views, the server's stderr), and the logical content
  // of every store, since RocksDB may compress what it writes.
  std::string haystack = all_bytes(dir.path());
  for (const char* store : {"views", "state"}) {
    auto [code, out] = pulse::testing::run_command(
        {PULSE_BINARY, "dump", "--data-dir", data.string(), "--store", store});
    REQUIRE(code == 0);
    haystack += out;
  }
  auto log = pulse::log::open_embedded_log({data / "log", 0, true, true});
  REQUIRE(log.ok());
  for (const char* topic : {"pulse.commands", "pulse.events"}) {
    std::vector<pulse::log::Assignment> all;
    for (int32_t p = 0; p < (*log)->partition_count(); ++p)
      all.push_back({pulse::Partition{p}, pulse::Offset{0}});
    auto reader = (*log)->reader(topic, all);
    REQUIRE(reader.ok());
    for (;;) {
      auto batch = (*reader)->poll(1000, std::chrono::milliseconds(0));
      REQUIRE(batch.ok());
      if (batch->empty()) break;
      for (const auto& r : *batch) haystack += r.value;
    }
  }
  CHECK(haystack.find("UserRegistered") != std::string::npos);  // the dump is not empty
  for (const auto& s : secrets) {
    CAPTURE(s);
    CHECK(haystack.find(s) == std::string::npos);
  }
}

TEST_CASE("pulse admin set-plan changes a plan through the log, with the operator token") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  const auto account = server.signup();
  ::setenv("PULSE_ADMIN_TOKEN", pulse::testing::kTestAdminToken, 1);
  auto [code, out] =
      pulse::testing::run_command({PULSE_BINARY, "admin", "set-plan", "--org", account.org_id,
                                   "--plan", "pro", "--server", server.base_url()});
  CHECK(code == 0);
  CHECK(out.find(R"("plan":"pro")") != std::string::npos);
  ::setenv("PULSE_ADMIN_TOKEN", "not-the-operator-token", 1);
  auto [refused, _] =
      pulse::testing::run_command({PULSE_BINARY, "admin", "set-plan", "--org", account.org_id,
                                   "--plan", "enterprise", "--server", server.base_url()});
  CHECK(refused == 1);
  ::unsetenv("PULSE_ADMIN_TOKEN");
  auto orgs = server.client(account)->Get("/api/organizations");
  REQUIRE(orgs);
  CHECK(orgs->body.find(R"("plan":"pro")") != std::string::npos);
}
