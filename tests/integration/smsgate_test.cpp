// The SMSGate Android app against `pulse serve --tls-cert --tls-key`: its requests replayed as
// its source (capcom6/android-sms-gateway v1.68.0, GatewayApi.kt, SSEManager.kt) sends them:
// the paths under <server>/mobile/v1, "Authorization: Code"/"Bearer", its User-Agent, Gson's
// JSON (nulls left out, dates as yyyy-MM-dd'T'HH:mm:ss.SSSXXX), and the SSE framing it parses.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <simdjson.h>
#include <sys/socket.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "adapters/auth/crypto.h"
#include "fmt/format.h"
#include "tests/integration/api_helpers.h"
#include "tests/integration/server_process.h"
#include "tests/support/eventually.h"

using pulse::testing::Account;
using pulse::testing::make_certificate;
using pulse::testing::ServerProcess;
using pulse::testing::TempDir;

namespace {

using pulse::testing::parse;

using pulse::testing::eventually;

std::string str(simdjson::dom::element e) {
  std::string_view v;
  return e.get_string().get(v) ? std::string() : std::string(v);
}

// The app's HTTP client: OkHttp through Ktor, trusting the certificate as a user CA.
class App {
 public:
  App(const ServerProcess& server, const std::filesystem::path& ca) : ca_(ca.string()) {
    port_ = server.port();
  }
  std::unique_ptr<httplib::SSLClient> client() const {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", port_);
    c->set_ca_cert_path(ca_.c_str());
    c->enable_server_certificate_verification(true);
    c->set_connection_timeout(5);
    c->set_read_timeout(20);
    return c;
  }
  httplib::Headers headers(const std::string& authorization = {}) const {
    httplib::Headers h = {{"User-Agent", "me.capcom.smsgateway/1.68.0"},
                          {"Accept", "application/json"},
                          {"Accept-Charset", "UTF-8"}};
    if (!authorization.empty()) h.emplace("Authorization", authorization);
    return h;
  }
  httplib::Result get(const std::string& path, const std::string& auth) const {
    return client()->Get(path, headers(auth));
  }
  httplib::Result post(const std::string& path, const std::string& auth,
                       const std::string& body) const {
    return client()->Post(path, headers(auth), body, "application/json");
  }
  httplib::Result patch(const std::string& path, const std::string& auth,
                        const std::string& body) const {
    return client()->Patch(path, headers(auth), body, "application/json");
  }

  int port_ = 0;
  std::string ca_;
};

// SSEManager.kt: GET <server>/events with "Authorization: Bearer <token>", read as it comes.
class EventStream {
 public:
  EventStream(const App& app, const std::string& token) : client_(app.client()) {
    client_->set_read_timeout(60);
    thread_ = std::thread([this, headers = app.headers("Bearer " + token)] {
      auto res = client_->Get(
          "/mobile/v1/events", headers,
          [this](const httplib::Response& r) {
            std::lock_guard lock(mu_);
            status_ = r.status;
            content_type_ = r.get_header_value("Content-Type");
            cv_.notify_all();
            return true;
          },
          [this](const char* data, size_t n) {
            std::lock_guard lock(mu_);
            text_.append(data, n);
            cv_.notify_all();
            return true;
          });
      std::lock_guard lock(mu_);
      ended_ = true;
      if (res && status_ == 0) status_ = res->status;
      if (res && body_.empty()) body_ = res->body;
      cv_.notify_all();
    });
  }
  ~EventStream() {
    client_->stop();
    thread_.join();
  }
  // Waits (bounded) until the answer's headers came; returns its status.
  int status() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return status_ != 0 || ended_; });
    return status_;
  }
  bool wait_for(const std::string& needle, std::chrono::seconds bound) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, bound, [&] { return text_.find(needle) != std::string::npos; });
  }
  bool wait_ended(std::chrono::seconds bound) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, bound, [&] { return ended_; });
  }
  std::string text() {
    std::lock_guard lock(mu_);
    return text_;
  }
  std::string content_type() {
    std::lock_guard lock(mu_);
    return content_type_;
  }
  std::string body() {
    std::lock_guard lock(mu_);
    return body_;
  }

 private:
  std::unique_ptr<httplib::SSLClient> client_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string text_, content_type_, body_;
  int status_ = 0;
  bool ended_ = false;
};

// A webhook subscriber on 127.0.0.1 that keeps what it gets.
class Subscriber {
 public:
  Subscriber() {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      got_.push_back(req);
      res.status = 200;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Subscriber() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return fmt::format("http://127.0.0.1:{}/hook", port_); }
  std::vector<httplib::Request> got() {
    std::lock_guard lock(mu_);
    return got_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<httplib::Request> got_;
};

// Standard Webhooks: "v1,<base64 HMAC(key, id.timestamp.body)>", key = base64-decoded secret.
bool signed_with(const std::string& secret, const httplib::Request& req) {
  static const std::string chars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string key;
  int val = 0, bits = -8;
  for (char c : secret.substr(6)) {
    if (c == '=') break;
    val = (val << 6) + static_cast<int>(chars.find(c));
    bits += 6;
    if (bits >= 0) {
      key.push_back(static_cast<char>((val >> bits) & 0xff));
      bits -= 8;
    }
  }
  const auto payload = req.get_header_value("webhook-id") + "." +
                       req.get_header_value("webhook-timestamp") + "." + req.body;
  const auto expected = "v1," + pulse::auth::base64(pulse::auth::hmac_sha256(key, payload));
  return req.get_header_value("webhook-signature").find(expected) != std::string::npos;
}

std::string pairing_code(const ServerProcess& server, const Account& a) {
  auto res = server.client(a)->Post("/api/devices/pairing", "{}", "application/json");
  REQUIRE(res);
  REQUIRE_MESSAGE(res->status == 201, res->body);
  auto code = pulse::testing::json_field(res->body, "code");
  CHECK(code.size() == 8);
  CHECK(code.find_first_not_of("0123456789") == std::string::npos);
  return code;
}

// What RegistrationWorker sends: name "MANUFACTURER/PRODUCT", no pushToken (SSE only), SIMs
// with their numbers and carriers redacted to the last four characters.
constexpr const char* kRegisterBody =
    R"({"name":"Google/husky","simCards":[)"
    R"({"slotIndex":0,"simNumber":1,"phoneNumber":"********2671","carrierName":"*****bile",)"
    R"("iccid":"****************1234"},)"
    R"({"slotIndex":1,"simNumber":2,"carrierName":"***da"}]})";

struct Registered {
  std::string id, token, login;
};

Registered register_phone(const App& app, const std::string& code) {
  auto res = app.post("/mobile/v1/device", "Code " + code, kRegisterBody);
  REQUIRE(res);
  REQUIRE_MESSAGE(res->status == 201, res->body);
  simdjson::dom::parser p;
  auto doc = parse(p, res->body);
  Registered r{str(doc["id"]), str(doc["token"]), str(doc["login"])};
  CHECK(doc["password"].error() == simdjson::NO_SUCH_FIELD);  // the app's password is nullable
  return r;
}

// PATCH /mobile/v1/message as SendStateWorker builds it: one message, its recipients, and the
// time of each state it went through.
std::string state_patch(const std::string& id, const std::string& phone, const std::string& state,
                        const std::vector<std::string>& history, const std::string& error = {}) {
  std::string states;
  for (size_t i = 0; i < history.size(); ++i)
    states +=
        fmt::format(R"({}"{}":"2026-12-04T17:0{}:00.000+01:00")", i ? "," : "", history[i], i);
  return fmt::format(
      R"([{{"id":"{}","state":"{}","recipients":[{{"phoneNumber":"{}","state":"{}"{}}}],)"
      R"("states":{{{}}}}}])",
      id, state, phone, state, error.empty() ? "" : R"(,"error":")" + error + R"(")", states);
}

std::string message_status(const ServerProcess& server, const Account& a, const std::string& id) {
  auto res = server.client(a)->Get("/api/messages/" + id);
  if (!res || res->status != 200) return "?";
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  if (p.parse(res->body).get(doc)) return "?";
  return str(doc["status"]);
}

// A TLS handshake with 127.0.0.1:port at most `max_version`, offering only `ciphers` (TLS 1.2
// names; empty: OpenSSL's defaults).
bool handshake(int port, int max_version, const char* ciphers) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        &SSL_CTX_free);
  SSL_CTX_set_security_level(ctx.get(), 0);  // let the client offer what the server must refuse
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_VERSION);
  SSL_CTX_set_max_proto_version(ctx.get(), max_version);
  if (*ciphers) SSL_CTX_set_cipher_list(ctx.get(), ciphers);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    SSL* ssl = SSL_new(ctx.get());
    SSL_set_fd(ssl, fd);
    ok = SSL_connect(ssl) == 1;
    SSL_free(ssl);
  }
  ::close(fd);
  return ok;
}

}  // namespace

TEST_CASE("the SMSGate app over HTTPS: code, SSE, messages, states, webhooks, unpairing") {
  TempDir dir;
  if (!make_certificate(dir.path())) {
    MESSAGE("no openssl command: skipped");
    return;
  }
  std::optional<ServerProcess> server;
  server.emplace(dir.path() / "data",
                 std::vector<std::string>{"--tls-cert", (dir.path() / "cert.pem").string(),
                                          "--tls-key", (dir.path() / "key.pem").string(),
                                          "--lease-seconds", "5", "--allow-private-webhooks"});
  CHECK(server->base_url().starts_with("https://"));
  // Modern TLS only: 1.2 with forward-secret AEAD ciphers, or 1.3.
  CHECK(handshake(server->port(), TLS1_3_VERSION, ""));
  CHECK(handshake(server->port(), TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256"));
  CHECK_FALSE(handshake(server->port(), TLS1_1_VERSION, ""));
  CHECK_FALSE(handshake(server->port(), TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA"));  // CBC
  CHECK_FALSE(handshake(server->port(), TLS1_2_VERSION, "AES128-GCM-SHA256"));       // no ECDHE
  App app(*server, dir.path() / "cert.pem");
  Account account = server->signup({}, /*with_device=*/false);
  auto api = server->client(account);
  simdjson::dom::parser parser;

  Subscriber subscriber;
  auto hook = api->Post("/api/webhooks",
                        R"({"url":")" + subscriber.url() +
                            R"(","events":["message.sent","message.delivered","message.failed"]})",
                        "application/json");
  REQUIRE(hook);
  REQUIRE_MESSAGE(hook->status == 201, hook->body);
  const auto secret = pulse::testing::json_field(hook->body, "secret");

  // ---- registration = pairing -------------------------------------------------------------
  const auto code = pairing_code(*server, account);
  for (const auto& bad :
       {std::string("Code 00000000"), std::string("Code "), std::string("Basic VVNFUjpwYXNz"),
        std::string("Bearer pt_nope"), std::string()}) {
    CAPTURE(bad);
    auto res = app.post("/mobile/v1/device", bad, kRegisterBody);
    REQUIRE(res);
    CHECK(res->status == 401);
    CHECK(res->body.find(R"("error":)") != std::string::npos);
  }
  {  // malformed body with a good code: 400, and the code is still good
    auto res = app.post("/mobile/v1/device", "Code " + code, "{\"simCards\":7}");
    REQUIRE(res);
    CHECK(res->status == 400);
  }
  const auto phone = register_phone(app, code);
  CHECK(phone.id.starts_with("dvc_"));
  CHECK(phone.token.starts_with("gw_"));
  CHECK(phone.login == account.org_id);
  {  // the code is single-use
    auto res = app.post("/mobile/v1/device", "Code " + code, kRegisterBody);
    REQUIRE(res);
    CHECK(res->status == 401);
  }
  const std::string bearer = "Bearer " + phone.token;

  // The phone is online with its SIMs.
  {
    auto res = api->Get("/api/devices");
    REQUIRE(res);
    auto devices = parse(parser, res->body).get_array();
    REQUIRE(devices.size() == 1);
    auto d = devices.at(0);
    CHECK(str(d["id"]) == phone.id);
    CHECK(str(d["status"]) == "online");
    CHECK(str(d["deviceName"]) == "Google/husky");
    CHECK(str(d["appVersion"]) == "1.68.0");
    auto sims = d["sims"].get_array();
    REQUIRE(sims.size() == 2);
    CHECK(int64_t(sims.at(0)["slot"]) == 0);
    CHECK(str(sims.at(0)["phoneNumber"]).empty());  // the app redacts it: no number
    CHECK(d["phoneNumber"].is_null());
    CHECK(str(sims.at(0)["carrier"]) == "*****bile");
    CHECK(int64_t(sims.at(1)["slot"]) == 1);
    CHECK(str(sims.at(1)["carrier"]) == "***da");
  }
  {  // GET /device: with the token, the device; without, the reference's bare answer
    auto res = app.get("/mobile/v1/device", bearer);
    REQUIRE(res);
    REQUIRE(res->status == 200);
    auto doc = parse(parser, res->body);
    CHECK(str(doc["device"]["id"]) == phone.id);
    CHECK(str(doc["device"]["name"]) == "Google/husky");
    CHECK(int64_t(doc["device"]["simCards"].at(1)["simNumber"]) == 2);
    CHECK(str(doc["externalIp"]) == "127.0.0.1");
    auto bare = app.get("/mobile/v1/device", "");
    REQUIRE(bare);
    CHECK(bare->status == 200);
    CHECK(bare->body == R"({"externalIp":"127.0.0.1"})");
  }
  {  // PATCH /device (GatewayService.updateDevice): 204; another id 403
    auto ok =
        app.patch("/mobile/v1/device", bearer,
                  R"({"id":")" + phone.id + R"(","simCards":[{"slotIndex":0,"simNumber":1}]})");
    REQUIRE(ok);
    CHECK(ok->status == 204);
    auto other = app.patch("/mobile/v1/device", bearer, R"({"id":"dvc_other"})");
    REQUIRE(other);
    CHECK(other->status == 403);
  }
  {  // settings and webhooks
    auto s = app.get("/mobile/v1/settings", bearer);
    REQUIRE(s);
    REQUIRE(s->status == 200);
    auto doc = parse(parser, s->body);
    CHECK(int64_t(doc["messages"]["send_interval_min"]) == 2);  // 30 a minute
    CHECK(str(doc["messages"]["limit_period"]) == "PerDay");
    CHECK(int64_t(doc["messages"]["limit_value"]) == 2000);  // 1000 per SIM, two SIMs
    CHECK(str(doc["messages"]["sim_selection_mode"]) == "OSDefault");
    CHECK(int64_t(doc["ping"]["interval_seconds"]) == 30);
    CHECK(doc["gateway"].error() == simdjson::NO_SUCH_FIELD);
    const auto key = str(doc["webhooks"]["signing_key"]);
    CHECK(key.size() == 32);
    auto w = app.get("/mobile/v1/webhooks", bearer);
    REQUIRE(w);
    REQUIRE(w->status == 200);
    auto hooks = parse(parser, w->body).get_array();
    REQUIRE(hooks.size() == 1);
    CHECK(str(hooks.at(0)["event"]) == "sms:received");
    const auto url = str(hooks.at(0)["url"]);
    REQUIRE(url.starts_with("https://"));
    const auto path = url.substr(url.find("/mobile/v1/"));

    // The app's sms:received webhook (WebhookQueueProcessorWorker, PayloadSingingPlugin):
    // X-Signature = hex HMAC-SHA256(signing key, body + X-Timestamp). A reply from a number no
    // one texted is a conversation of its own; a forged or unsigned one is refused.
    const std::string received =
        R"({"id":"Kx9a","webhookId":"pulse-sms-received","event":"sms:received","deviceId":")" +
        phone.id +
        R"(","payload":{"message":"Hello from a real phone","receivedAt":"2026-12-06T18:41:31.000+07:00",)"
        R"("messageId":"7f3a","sender":"+14155550777","simNumber":2,"phoneNumber":"+14155550777"}})";
    const auto ts = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
    auto signed_post = [&](const std::string& body, const std::string& signature) {
      auto h = app.headers();
      h.emplace("X-Timestamp", ts);
      h.emplace("X-Signature", signature);
      return app.client()->Post(path, h, body, "application/json");
    };
    const auto good = pulse::auth::to_hex(pulse::auth::hmac_sha256(key, received + ts));
    auto forged = signed_post(received, std::string(good.size(), '0'));
    REQUIRE(forged);
    CHECK(forged->status == 401);
    auto tampered = signed_post(received + " ", good);
    REQUIRE(tampered);
    CHECK(tampered->status == 401);
    auto in = signed_post(received, good);
    REQUIRE(in);
    CHECK_MESSAGE(in->status == 200, in->body);
    auto conv = api->Get("/api/conversations/%2B14155550777");
    REQUIRE(conv);
    REQUIRE_MESSAGE(conv->status == 200, conv->body);
    auto thread = parse(parser, conv->body).get_array();
    REQUIRE(thread.size() == 1);
    CHECK(str(thread.at(0)["body"]) == "Hello from a real phone");
    CHECK(str(thread.at(0)["deviceId"]) == phone.id);
    CHECK(int64_t(thread.at(0)["simSlot"]) == 1);  // simNumber 2
    CHECK(str(thread.at(0)["receivedAt"]) == "2026-12-06T11:41:31.000Z");
  }

  // ---- work: SSE, GET and PATCH ---------------------------------------------------------
  std::optional<EventStream> stale(std::in_place, app, phone.token);
  REQUIRE(stale->status() == 200);
  EventStream events(app, phone.token);
  REQUIRE(events.status() == 200);
  CHECK(events.content_type() == "text/event-stream");
  CHECK(stale->wait_ended(std::chrono::seconds(10)));  // the newer stream replaced it
  stale.reset();
  {  // the organisation changes the sending SIMs: SettingsUpdated
    auto res =
        api->Patch("/api/devices/" + phone.id, R"({"sendingSims":[0,1]})", "application/json");
    REQUIRE(res);
    CHECK(res->status == 200);
    auto one = api->Patch("/api/devices/" + phone.id, R"({"sendingSims":[0]})", "application/json");
    REQUIRE(one);
    CHECK(one->status == 200);
    CHECK(events.wait_for("event: SettingsUpdated\ndata: null\n\n", std::chrono::seconds(10)));
    auto back =
        api->Patch("/api/devices/" + phone.id, R"({"sendingSims":[0,1]})", "application/json");
    REQUIRE(back);
  }
  {  // nothing queued: an empty array, nothing claimed
    auto res = app.get("/mobile/v1/message?order=lifo", bearer);
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->body == "[]");
    auto alias = app.get("/mobile/v1/messages", bearer);  // the reference's alias
    REQUIRE(alias);
    CHECK(alias->status == 200);
    CHECK(alias->body == "[]");
  }
  auto sent = api->Post("/api/sms/send",
                        R"({"recipients":[{"phone":"+14152000001"},{"phone":"+14152000002"},)"
                        R"({"phone":"+14152000003"}],"message":"Your code is 4242"})",
                        "application/json");
  REQUIRE(sent);
  REQUIRE_MESSAGE(sent->status == 201, sent->body);
  const auto campaign = pulse::testing::json_field(sent->body, "campaignId");
  REQUIRE(events.wait_for("event: MessageEnqueued\ndata: null\n\n", std::chrono::seconds(10)));

  auto bad_order = app.get("/mobile/v1/message?order=random", bearer);
  REQUIRE(bad_order);
  CHECK(bad_order->status == 400);

  auto got = app.get("/mobile/v1/message?order=fifo", bearer);
  REQUIRE(got);
  REQUIRE(got->status == 200);
  std::map<std::string, std::string> ids;  // phone -> message id
  {
    auto list = parse(parser, got->body).get_array();
    REQUIRE(list.size() == 3);
    for (auto m : list) {
      const auto to = str(m["phoneNumbers"].at(0));
      ids[to] = str(m["id"]);
      CHECK(str(m["id"]).starts_with("msg_"));
      CHECK(str(m["message"]) == "Your code is 4242");
      CHECK(str(m["textMessage"]["text"]) == "Your code is 4242");
      CHECK(m["phoneNumbers"].get_array().size() == 1);
      const int64_t sim = m["simNumber"];
      CHECK((sim == 1 || sim == 2));
      CHECK(bool(m["withDeliveryReport"]) == true);
      CHECK(!str(m["validUntil"]).empty());
      CHECK(str(m["state"]) == "Pending");
      CHECK(!str(m["createdAt"]).empty());
      CHECK(m["isEncrypted"].error() == simdjson::NO_SUCH_FIELD);
      CHECK(m["dataMessage"].error() == simdjson::NO_SUCH_FIELD);
    }
  }
  const auto m1 = ids["+14152000001"], m2 = ids["+14152000002"], m3 = ids["+14152000003"];
  REQUIRE((!m1.empty() && !m2.empty() && !m3.empty()));
  CHECK(message_status(*server, account, m1) == "sending");

  // m1: Processed (nothing yet), Sent, then Delivered; the /messages alias takes PATCH too.
  auto p1 = app.patch("/mobile/v1/message", bearer,
                      state_patch(m1, "+14152000001", "Processed", {"Pending", "Processed"}));
  REQUIRE(p1);
  CHECK(p1->status == 204);
  CHECK(message_status(*server, account, m1) == "sending");
  auto p2 = app.patch("/mobile/v1/messages", bearer,
                      state_patch(m1, "+14152000001", "Sent", {"Pending", "Processed", "Sent"}));
  REQUIRE(p2);
  CHECK(p2->status == 204);
  CHECK(message_status(*server, account, m1) == "sent");
  const auto delivered1 =
      state_patch(m1, "+14152000001", "Delivered", {"Pending", "Processed", "Sent", "Delivered"});
  auto p3 = app.patch("/mobile/v1/message", bearer, delivered1);
  REQUIRE(p3);
  CHECK(p3->status == 204);
  CHECK(message_status(*server, account, m1) == "delivered");
  // Idempotent, forward-only: the same report again, and a late Sent, change nothing.
  CHECK(app.patch("/mobile/v1/message", bearer, delivered1)->status == 204);
  CHECK(app.patch("/mobile/v1/message", bearer,
                  state_patch(m1, "+14152000001", "Sent", {"Pending", "Sent"}))
            ->status == 204);
  CHECK(message_status(*server, account, m1) == "delivered");
  // m2 fails on the phone and keeps its error.
  auto f = app.patch("/mobile/v1/message", bearer,
                     state_patch(m2, "+14152000002", "Failed", {"Pending", "Processed", "Failed"},
                                 "RESULT_ERROR_GENERIC_FAILURE"));
  REQUIRE(f);
  CHECK(f->status == 204);
  CHECK(message_status(*server, account, m2) == "failed");

  // ---- bad input: nothing applied ---------------------------------------------------------
  for (
      const auto& body :
      {std::string("not json"), std::string("{}"), std::string("[]"),
       state_patch(m3, "+14152000003", "Exploded", {"Pending"}),
       R"([{"id":")" + m3 + R"(","state":"Sent","recipients":[],"states":{}}])",
       R"([{"id":")" + m3 +
           R"(","state":"Sent","recipients":[{"phoneNumber":"+14152000003","state":"Sent"}],"states":{"Sent":"yesterday"}}])"}) {
    CAPTURE(body);
    auto res = app.patch("/mobile/v1/message", bearer, body);
    REQUIRE(res);
    CHECK(res->status == 400);
    CHECK(res->body.find(R"("error":)") != std::string::npos);
  }
  {  // 10,000 recipients in one entry, and 101 entries: 400, and m3 untouched
    std::string recipients;
    for (int i = 0; i < 10000; ++i)
      recipients +=
          fmt::format(R"({}{{"phoneNumber":"+1415{:07}","state":"Sent"}})", i ? "," : "", i);
    auto res = app.patch("/mobile/v1/message", bearer,
                         R"([{"id":")" + m3 + R"(","state":"Sent","recipients":[)" + recipients +
                             R"(],"states":{}}])");
    REQUIRE(res);
    CHECK(res->status == 400);
    const auto one = state_patch(m3, "+14152000003", "Sent", {"Sent"});
    std::string many = "[";
    for (int i = 0; i < 101; ++i) many += (i ? "," : "") + one.substr(1, one.size() - 2);
    many += "]";
    auto res2 = app.patch("/mobile/v1/message", bearer, many);
    REQUIRE(res2);
    CHECK(res2->status == 400);
    CHECK(message_status(*server, account, m3) == "sending");
  }
  {  // another organisation's message: ignored, nothing changes there
    Account other = server->signup({}, /*with_device=*/false);
    // This phone pairs with the pairing token as its private token instead of a code.
    auto pairing = server->client(other)->Post("/api/devices/pairing", "{}", "application/json");
    REQUIRE(pairing);
    auto reg = app.post("/mobile/v1/device",
                        "Bearer " + pulse::testing::json_field(pairing->body, "pairingToken"),
                        kRegisterBody);
    REQUIRE(reg);
    REQUIRE_MESSAGE(reg->status == 201, reg->body);
    const Registered other_phone{pulse::testing::json_field(reg->body, "id"),
                                 pulse::testing::json_field(reg->body, "token"), ""};
    auto s = server->client(other)->Post(
        "/api/sms/send", R"({"recipients":[{"phone":"+14152000009"}],"message":"Theirs"})",
        "application/json");
    REQUIRE(s);
    REQUIRE(s->status == 201);
    auto theirs = app.get("/mobile/v1/message", "Bearer " + other_phone.token);
    REQUIRE(theirs);
    auto list = parse(parser, theirs->body).get_array();
    REQUIRE(list.size() == 1);
    const auto their_id = str(list.at(0)["id"]);
    auto res = app.patch("/mobile/v1/message", bearer,
                         state_patch(their_id, "+14152000009", "Delivered", {"Sent", "Delivered"}));
    REQUIRE(res);
    CHECK(res->status == 204);
    CHECK(message_status(*server, other, their_id) == "sending");
    CHECK(message_status(*server, account, their_id) == "?");
  }

  // m3: no report; its lease ends and it is handed out again (attempt 2), then delivered.
  std::string again;
  REQUIRE(eventually(
      [&] {
        auto r = app.get("/mobile/v1/message", bearer);
        if (!r || r->status != 200 || r->body == "[]") return false;
        again = r->body;
        return true;
      },
      std::chrono::seconds(30)));
  {
    auto list = parse(parser, again).get_array();
    REQUIRE(list.size() == 1);
    CHECK(str(list.at(0)["id"]) == m3);
  }
  CHECK(app.patch("/mobile/v1/message", bearer,
                  state_patch(m3, "+14152000003", "Delivered", {"Pending", "Sent", "Delivered"}))
            ->status == 204);

  // The campaign completes; m2 kept its error.
  REQUIRE(eventually(
      [&] {
        auto r = api->Get("/api/campaigns/" + campaign);
        return r && r->body.find(R"("status":"completed")") != std::string::npos;
      },
      std::chrono::seconds(20)));
  {
    auto r = api->Get("/api/messages/" + m2);
    REQUIRE(r);
    CHECK(str(parse(parser, r->body)["error"]) == "RESULT_ERROR_GENERIC_FAILURE");
  }
  // Signed webhooks: message.sent and message.delivered for m1, message.failed for m2.
  const auto seen = [&](const std::string& type, const std::string& id) {
    for (const auto& req : subscriber.got())
      if (req.body.find(R"("type":")" + type + "\"") != std::string::npos &&
          req.body.find(id) != std::string::npos && signed_with(secret, req))
        return true;
    return false;
  };
  CHECK(eventually([&] { return seen("message.sent", m1) && seen("message.delivered", m1); },
                   std::chrono::seconds(20)));
  CHECK(eventually([&] { return seen("message.failed", m2); }, std::chrono::seconds(20)));

  // The stream kept the phone company: a keepalive comment within 15 s of opening.
  CHECK(events.wait_for(":keepalive\n\n", std::chrono::seconds(20)));

  // ---- unpairing: 401 on every route, the stream ends -----------------------------------
  auto del = api->Delete("/api/devices/" + phone.id);
  REQUIRE(del);
  REQUIRE(del->status == 200);
  for (const auto& path :
       {"/mobile/v1/message", "/mobile/v1/settings", "/mobile/v1/webhooks", "/mobile/v1/events"}) {
    CAPTURE(path);
    auto res = app.get(path, bearer);
    REQUIRE(res);
    CHECK(res->status == 401);
    CHECK(res->body.find(R"("error":"Invalid device token")") != std::string::npos);
  }
  CHECK(app.patch("/mobile/v1/message", bearer, delivered1)->status == 401);
  CHECK(events.wait_ended(std::chrono::seconds(10)));

  // Everything went through commands and events: a replay rebuilds the same read models.
  CHECK(server->terminate() == 0);
  server.reset();
  // Named, not a structured binding: CHECK_MESSAGE captures it, which clang 14 refuses.
  const auto replay = pulse::testing::run_command(
      {PULSE_BINARY, "replay", "--data-dir", (dir.path() / "data").string(), "--verify"});
  const int code_replay = replay.first;
  const std::string& out = replay.second;
  CHECK_MESSAGE(code_replay == 0, out);
}

TEST_CASE("pulse serve --tls-cert needs --tls-key and a readable certificate") {
  TempDir dir;
  auto [code, out] = pulse::testing::run_command(
      {PULSE_BINARY, "serve", "--check-args", "--tls-cert", (dir.path() / "x.pem").string()});
  CHECK(code != 0);
  // Unreadable files: the server does not start listening.
  auto [code2, out2] = pulse::testing::run_command(
      {PULSE_BINARY, "serve", "--listen", "127.0.0.1:0", "--data-dir",
       (dir.path() / "data").string(), "--tls-cert", (dir.path() / "none.pem").string(),
       "--tls-key", (dir.path() / "none.pem").string()});
  CHECK(code2 != 0);
  CHECK(out2.find("listening") == std::string::npos);
}

TEST_CASE("pulse gateway-sim --protocol smsgate works a campaign over HTTPS") {
  TempDir dir;
  if (!make_certificate(dir.path())) {
    MESSAGE("no openssl command: skipped");
    return;
  }
  ServerProcess server(dir.path() / "data", {"--tls-cert", (dir.path() / "cert.pem").string(),
                                             "--tls-key", (dir.path() / "key.pem").string()});
  Account account = server.signup({}, /*with_device=*/false);
  auto api = server.client(account);
  pulse::testing::BackgroundProcess sim(
      {PULSE_BINARY, "gateway-sim", "--protocol", "smsgate", "--server", server.base_url(),
       "--api-key", account.api_key, "--devices", "2", "--send-delay-ms", "20",
       "--delivery-delay-ms", "50", "--fail-rate", "0", "--quiet"},
      (dir.path() / "sim.log").string());
  REQUIRE(eventually(
      [&] {
        auto r = api->Get("/api/devices");
        return r && r->status == 200 &&
               r->body.find(R"("status":"offline")") == std::string::npos &&
               r->body.find("dvc_") != std::string::npos &&
               r->body.find("dvc_", r->body.find("dvc_") + 4) != std::string::npos;
      },
      std::chrono::seconds(30)));
  std::string recipients;
  for (int i = 0; i < 6; ++i)
    recipients += fmt::format(R"({}{{"phone":"+1415200{:04}"}})", i ? "," : "", i);
  auto sent =
      api->Post("/api/sms/send",
                R"({"recipients":[)" + recipients + R"(],"message":"From a simulated phone"})",
                "application/json");
  REQUIRE(sent);
  REQUIRE_MESSAGE(sent->status == 201, sent->body);
  const auto campaign = pulse::testing::json_field(sent->body, "campaignId");
  std::string body;
  CHECK(eventually(
      [&] {
        auto r = api->Get("/api/campaigns/" + campaign);
        if (!r) return false;
        body = r->body;
        return body.find(R"("status":"completed")") != std::string::npos;
      },
      std::chrono::seconds(40)));
  CHECK_MESSAGE(body.find(R"("deliveredCount":6)") != std::string::npos, body);
}

TEST_CASE("registration attempts are limited per client address") {
  TempDir dir;
  if (!make_certificate(dir.path())) {
    MESSAGE("no openssl command: skipped");
    return;
  }
  ServerProcess server(dir.path() / "data", {"--tls-cert", (dir.path() / "cert.pem").string(),
                                             "--tls-key", (dir.path() / "key.pem").string()});
  App app(server, dir.path() / "cert.pem");
  int refused = 0, limited = 0;
  for (int i = 0; i < 40; ++i) {
    auto res = app.post("/mobile/v1/device", fmt::format("Code {:08}", i), kRegisterBody);
    REQUIRE(res);
    refused += res->status == 401;
    limited += res->status == 429;
  }
  CHECK(refused == 30);
  CHECK(limited == 10);
}

TEST_CASE("event streams are bounded: beyond 128 open ones, a clear 503") {
  // A TLS write to a peer that went away must be an error here, not a death.
  ::signal(SIGPIPE, SIG_IGN);
  TempDir dir;
  if (!make_certificate(dir.path())) {
    MESSAGE("no openssl command: skipped");
    return;
  }
  // 129 streams from one address: above the default cap of connections per address.
  ServerProcess server(dir.path() / "data",
                       {"--tls-cert", (dir.path() / "cert.pem").string(), "--tls-key",
                        (dir.path() / "key.pem").string(), "--max-connections-per-address", "256"});
  App app(server, dir.path() / "cert.pem");
  Account account = server.signup({}, /*with_device=*/false);
  // 129 phones (paired through Pulse's own protocol: its device tokens work here too).
  std::vector<std::string> tokens;
  for (int i = 0; i < 129; ++i) {
    server.connect_device(account, fmt::format("+1415555{:04}", i));
    tokens.push_back(account.device_token);
  }
  std::vector<std::unique_ptr<EventStream>> streams;
  for (int i = 0; i < 128; ++i) {
    streams.push_back(std::make_unique<EventStream>(app, tokens[static_cast<size_t>(i)]));
    REQUIRE(streams.back()->status() == 200);
  }
  EventStream refused(app, tokens.back());
  CHECK(refused.status() == 503);
  CHECK(refused.wait_ended(std::chrono::seconds(10)));
  CHECK(refused.text().find(R"("error":"Too many event streams")") != std::string::npos);
  // The rest of the API still answers.
  auto devices = server.client(account)->Get("/api/devices");
  REQUIRE(devices);
  CHECK(devices->status == 200);
}
