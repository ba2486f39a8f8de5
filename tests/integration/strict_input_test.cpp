// Hostile input over HTTP: malformed JSON on every route that takes a body, bytes that are not
// UTF-8 in paths, control characters in text, and webhook URLs aimed at internal addresses.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <string>
#include <thread>
#include <vector>

#include "fmt/format.h"
#include "tests/integration/server_process.h"

using pulse::testing::json_field;
using pulse::testing::ServerProcess;
using pulse::testing::TempDir;

namespace {

// simdjson validates UTF-8 as it parses: a body it takes is valid JSON text.
void check_error_body(const httplib::Result& res, int status) {
  REQUIRE(res);
  CHECK_MESSAGE(res->status == status, res->body);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE_MESSAGE(!parser.parse(res->body).get(doc), "not valid JSON: " << res->body);
  std::string_view error, details;
  CHECK(!doc["error"].get_string().get(error));
  CHECK(!doc["details"].get_string().get(details));
}

httplib::Result send(httplib::Client& c, const std::string& method, const std::string& path,
                     const std::string& body) {
  if (method == "PATCH") return c.Patch(path, body, "application/json");
  if (method == "PUT") return c.Put(path, body, "application/json");
  return c.Post(path, body, "application/json");
}

}  // namespace

TEST_CASE("malformed JSON is a 400 on every route that takes a body") {
  TempDir dir;
  ServerProcess server(dir.path() / "data", {"--allow-private-webhooks"});
  auto account = server.signup();
  auto c = server.client(account);
  // What the routes act on: a list with a contact, a running campaign, a webhook, a session.
  auto list = c->Post("/api/contacts",
                      R"({"name":"VIP","contacts":[{"phone":"+14155552671","firstName":"Ada"}]})",
                      "application/json");
  REQUIRE(list);
  REQUIRE_MESSAGE(list->status == 201, list->body);
  const auto list_id = json_field(list->body, "id");
  auto campaign = c->Post(
      "/api/campaigns", R"({"name":"Spring","message":"Hi","contactListId":")" + list_id + R"("})",
      "application/json");
  REQUIRE(campaign);
  REQUIRE_MESSAGE(campaign->status == 201, campaign->body);
  const auto campaign_id = json_field(campaign->body, "id");
  auto hook =
      c->Post("/api/webhooks", R"({"url":"http://127.0.0.1:9/h","events":["message.delivered"]})",
              "application/json");
  REQUIRE(hook);
  REQUIRE_MESSAGE(hook->status == 201, hook->body);
  const auto hook_id = json_field(hook->body, "id");
  const std::string credentials =
      R"({"email":")" + account.email + R"(","password":"correct horse battery"})";
  auto login = server.client()->Post("/api/auth/login", credentials, "application/json");
  // A machine busy with other work may not hash the password in time ("Server busy"): a client
  // retries after Retry-After, as the API documents.
  for (int attempt = 0; attempt < 30 && login && login->status == 503 &&
                        login->body.find("Server busy") != std::string::npos;
       ++attempt) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    login = server.client()->Post("/api/auth/login", credentials, "application/json");
  }
  REQUIRE(login);
  REQUIRE_MESSAGE(login->status == 200, login->body);
  auto session = server.client();
  session->set_bearer_token_auth(json_field(login->body, "token"));
  auto admin = server.client();
  admin->set_bearer_token_auth(pulse::testing::kTestAdminToken);
  auto phone = server.gateway(account);
  // An SMSGate phone, registered with a pairing code; another code for the register route.
  auto code_of = [&] {
    auto p = c->Post("/api/devices/pairing", "", "application/json");
    REQUIRE(p);
    REQUIRE(p->status == 201);
    return json_field(p->body, "code");
  };
  auto app = server.client();
  app->set_default_headers({{"Authorization", "Code " + code_of()}});
  auto reg = app->Post("/mobile/v1/device", R"({"name":"Pixel"})", "application/json");
  REQUIRE(reg);
  REQUIRE_MESSAGE(reg->status == 201, reg->body);
  auto smsgate = server.client();
  smsgate->set_bearer_token_auth(json_field(reg->body, "token"));
  auto new_app = server.client();
  new_app->set_default_headers({{"Authorization", "Code " + code_of()}});

  struct Route {
    std::string method, path;
    httplib::Client* client;
  };
  const std::string cmp = "/api/campaigns/" + campaign_id;
  const std::string hk = "/api/webhooks/" + hook_id;
  const std::vector<Route> routes = {
      {"POST", "/api/auth/signup", app.get()},
      {"POST", "/api/auth/login", app.get()},
      {"POST", "/api/auth/token", app.get()},
      {"POST", "/api/auth/logout", c.get()},
      {"POST", "/api/api-keys", c.get()},
      {"POST", "/api/organizations", session.get()},
      {"POST", "/api/admin/organizations/" + account.org_id + "/plan", admin.get()},
      {"POST", "/api/sms/send", c.get()},
      {"POST", "/api/campaigns", c.get()},
      {"POST", cmp + "/pause", c.get()},
      {"POST", cmp + "/resume", c.get()},
      {"POST", cmp + "/cancel", c.get()},
      {"POST", "/api/contacts", c.get()},
      {"POST", "/api/contacts/" + list_id + "/contacts", c.get()},
      {"PATCH", "/api/contacts/" + list_id + "/contacts/%2B14155552671", c.get()},
      {"POST", "/api/opt-outs", c.get()},
      {"POST", "/api/devices/pairing", c.get()},
      {"PATCH", "/api/devices/" + account.device_id, c.get()},
      {"POST", "/api/gateway/register", app.get()},
      {"POST", "/api/gateway/heartbeat", phone.get()},
      {"POST", "/api/gateway/messages/claim", phone.get()},
      {"POST", "/api/gateway/messages/status", phone.get()},
      {"POST", "/api/gateway/inbound", phone.get()},
      {"POST", "/api/webhooks", c.get()},
      {"PATCH", hk, c.get()},
      {"POST", hk + "/rotate-secret", c.get()},
      {"POST", hk + "/test", c.get()},
      {"POST", hk + "/deliveries/dlv_0000000000000000/retry", c.get()},
      {"POST", hk + "/replay", c.get()},
      {"POST", "/mobile/v1/device", new_app.get()},
      {"PATCH", "/mobile/v1/device", smsgate.get()},
      {"PATCH", "/mobile/v1/message", smsgate.get()},
      {"PATCH", "/mobile/v1/messages", smsgate.get()},
  };
  for (const auto& r : routes) {
    for (const std::string body : {"{", "[1,", "{\"a\":}", "nul", "{} x"}) {
      INFO(r.method, " ", r.path, " ", body);
      check_error_body(send(*r.client, r.method, r.path, body), 400);
    }
  }
  // An optional body may still be empty: the pairing and a campaign's pause answer as before.
  auto pairing = c->Post("/api/devices/pairing", "", "application/json");
  REQUIRE(pairing);
  CHECK(pairing->status == 201);
  auto paused = c->Post((cmp + "/pause").c_str(), "", "application/json");
  REQUIRE(paused);
  CHECK_MESSAGE(paused->status == 200, paused->body);
}

TEST_CASE("error bodies are valid UTF-8 JSON, whatever bytes the request held") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  auto account = server.signup("", false);
  auto c = server.client(account);
  auto opt_out = c->Delete("/api/opt-outs/%FF");
  check_error_body(opt_out, 400);
  CHECK(opt_out->body.find("\xEF\xBF\xBD") != std::string::npos);  // U+FFFD for the byte
  check_error_body(c->Delete("/api/opt-outs/%C3%28%FE%80"), 400);
  // An unknown route echoes its path too (a client that records nothing: it is no API route).
  httplib::Client raw(server.base_url());
  check_error_body(raw.Get("/no/such/%FF%FE"), 404);
  check_error_body(c->Get("/api/campaigns/%FF"), 404);
  check_error_body(c->Delete("/api/contacts/%FF/contacts/%FF"), 404);
}

TEST_CASE("control characters are refused where text enters, line breaks kept in bodies") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  auto c = server.client();
  auto nul_email = c->Post("/api/auth/signup",
                           R"({"email":"a@x.com\u0000admin","password":"correct horse battery"})",
                           "application/json");
  check_error_body(nul_email, 400);
  CHECK(nul_email->body.find("Invalid email") != std::string::npos);
  auto account = server.signup();
  auto a = server.client(account);
  check_error_body(a->Post("/api/contacts", R"({"name":"VIP\u0001"})", "application/json"), 400);
  check_error_body(a->Post("/api/api-keys", R"({"name":")" + std::string(201, 'k') + R"("})",
                           "application/json"),
                   400);
  check_error_body(a->Post("/api/api-keys", R"({"name":"ci\u007f"})", "application/json"), 400);
  check_error_body(
      a->Post("/api/sms/send", R"({"recipients":[{"phone":"+14155552671"}],"message":"Hi\u0000"})",
              "application/json"),
      400);
  auto gw = server.gateway(account);
  check_error_body(gw->Post("/api/gateway/inbound", R"({"from":"+14155552671\u0000","body":"hi"})",
                            "application/json"),
                   400);
  auto ok = a->Post("/api/sms/send",
                    R"({"recipients":[{"phone":"+14155552671"}],"message":"Hi\r\n\tthere"})",
                    "application/json");
  REQUIRE(ok);
  CHECK_MESSAGE(ok->status == 201, ok->body);
}

TEST_CASE("webhook URLs aimed at internal addresses are refused; allowed for development") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  auto c = server.client(server.signup("", false));
  for (const std::string url :
       {"http://[64:ff9b::7f00:1]/", "http://[2002:7f00:1::1]/", "http://[fec0::1]/",
        "http://198.18.0.1/", "http://[::ffff:127.0.0.1]/", "http://169.254.169.254/latest",
        "http://localhost:8080/", "http://127.1/", "http://[2001:0:7f00:1::f7f7:f7f7]/"}) {
    INFO(url);
    auto res = c->Post("/api/webhooks", R"({"url":")" + url + R"(","events":["message.sent"]})",
                       "application/json");
    check_error_body(res, 400);
    CHECK(res->body.find("Webhook URL not allowed") != std::string::npos);
  }
  TempDir dev_dir;
  ServerProcess dev(dev_dir.path() / "data", {"--allow-private-webhooks"});
  auto d = dev.client(dev.signup("", false));
  auto res = d->Post("/api/webhooks",
                     R"({"url":"http://[64:ff9b::7f00:1]:9/h","events":["message.sent"]})",
                     "application/json");
  REQUIRE(res);
  CHECK_MESSAGE(res->status == 201, res->body);
}
