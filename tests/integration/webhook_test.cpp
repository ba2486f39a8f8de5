// Webhooks end to end: a subscriber in this process (port 0) verifies every delivery the
// Standard Webhooks way and the raw-body way, and rejects a tampered body; the fault test
// makes one endpoint answer 500, another time out, and kills the server during the retries.
#include <doctest/doctest.h>
#include <simdjson.h>
#include <sys/socket.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "adapters/auth/crypto.h"
#include "adapters/log/kafka_log.h"
#include "adapters/log/log.h"
#include "domain/time.h"
#include "fmt/format.h"
#include "tests/adapters/prometheus_text.h"
#include "tests/integration/api_helpers.h"
#include "tests/integration/server_process.h"
#include "tests/support/eventually.h"

using pulse::testing::Account;
using pulse::testing::ServerProcess;
using pulse::testing::TempDir;

namespace {

using pulse::testing::eventually;

using Clock = std::chrono::steady_clock;

std::vector<std::string> split(std::string_view s, std::string_view sep) {
  std::vector<std::string> out;
  for (size_t at = 0;;) {
    const auto next = s.find(sep, at);
    out.emplace_back(s.substr(at, next - at));
    if (next == std::string_view::npos) return out;
    at = next + sep.size();
  }
}

// Standard Webhooks: some "v1,<sig>" of the header is base64(HMAC(key, id.ts.body)), the key
// being the base64-decoded secret after "whsec_"; and the timestamp is recent.
bool verify_standard(const std::string& secret, const httplib::Request& req,
                     const std::string& body) {
  const auto id = req.get_header_value("webhook-id");
  const auto ts = req.get_header_value("webhook-timestamp");
  if (id.empty() || ts.empty() || !secret.starts_with("whsec_")) return false;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  if (std::abs(now - std::stoll(ts)) > 300) return false;
  const auto key = pulse::auth::base64_decode(secret.substr(6)).value_or("");
  const auto expected =
      pulse::auth::base64(pulse::auth::hmac_sha256(key, id + "." + ts + "." + body));
  for (const auto& sig : split(req.get_header_value("webhook-signature"), " "))
    if (sig.starts_with("v1,") && pulse::auth::constant_time_equal(sig.substr(3), expected))
      return true;
  return false;
}

// The reference's way: X-Pulse-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>.
bool verify_raw(const std::string& secret, const httplib::Request& req, const std::string& body) {
  const auto expected = "sha256=" + pulse::auth::to_hex(pulse::auth::hmac_sha256(secret, body));
  for (const auto& sig : split(req.get_header_value("X-Pulse-Signature"), ", "))
    if (pulse::auth::constant_time_equal(sig, expected)) return true;
  return false;
}

// A webhook subscriber on 127.0.0.1, port 0. Paths: /ok answers 200; /flaky (and each of
// `more_flaky`) answers 500 to the first two attempts of each delivery; /slow holds the first
// attempt of each delivery longer than the server's timeout. Every request is checked against
// the secrets set for its path, and answered after `delay`.
class Subscriber {
 public:
  struct Seen {
    std::string path;
    std::string id;    // webhook-id
    std::string type;  // the body's
    std::string body_id;
    std::string body;
    bool standard_ok = false, raw_ok = false, tampered_rejected = false;
    int answered = 0;
    int attempt = 0;  // of this delivery to this path, in arrival order
  };

  explicit Subscriber(std::vector<std::string> more_flaky = {},
                      std::chrono::milliseconds delay = {})
      : delay_(delay) {
    std::vector<std::string> paths = {"/ok", "/flaky", "/slow"};
    for (auto& p : more_flaky) {
      flaky_.insert(p);
      paths.push_back(std::move(p));
    }
    flaky_.insert("/flaky");
    for (const auto& path : paths)
      server_.Post(path, [this, path](const httplib::Request& req, httplib::Response& res) {
        handle(path, req, res);
      });
    server_.new_task_queue = [] { return new httplib::ThreadPool(64); };
    // httplib listens with a backlog of 5: bursts of new connections would wait for SYN retries.
    int listen_fd = -1;
    server_.set_socket_options([&](int sock) {
      httplib::default_socket_options(sock);
      listen_fd = sock;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (listen_fd >= 0) ::listen(listen_fd, 1024);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Subscriber() {
    server_.stop();
    thread_.join();
  }

  std::string url(const std::string& path) const {
    return fmt::format("http://127.0.0.1:{}{}", port_, path);
  }
  void set_secrets(const std::string& path, std::vector<std::string> secrets) {
    std::lock_guard lock(mu_);
    secrets_[path] = std::move(secrets);
  }
  std::vector<Seen> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }
  // Distinct delivery ids that got a 2xx, per path.
  std::set<std::string> delivered(const std::string& path) const {
    std::lock_guard lock(mu_);
    std::set<std::string> out;
    for (const auto& s : seen_)
      if (s.path == path && s.answered == 200) out.insert(s.id);
    return out;
  }

 private:
  void handle(const std::string& path, const httplib::Request& req, httplib::Response& res) {
    Seen s;
    s.path = path;
    s.id = req.get_header_value("webhook-id");
    s.body = req.body;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (!parser.parse(req.body).get(doc)) {
      std::string_view v;
      if (!doc["type"].get_string().get(v)) s.type = v;
      if (!doc["id"].get_string().get(v)) s.body_id = v;
    }
    std::vector<std::string> secrets;
    int attempt = 0;
    {
      std::lock_guard lock(mu_);
      secrets = secrets_[path];
      attempt = ++attempts_[path + s.id];
    }
    s.attempt = attempt;
    // Every secret in force must verify (during a rotation: the old one and the new one).
    s.standard_ok = !secrets.empty();
    s.raw_ok = !secrets.empty();
    s.tampered_rejected = true;
    const std::string tampered = req.body.substr(0, req.body.size() - 1) + " }";
    for (const auto& secret : secrets) {
      s.standard_ok = s.standard_ok && verify_standard(secret, req, req.body);
      s.raw_ok = s.raw_ok && verify_raw(secret, req, req.body);
      s.tampered_rejected = s.tampered_rejected && !verify_standard(secret, req, tampered) &&
                            !verify_raw(secret, req, tampered);
    }
    if (!s.standard_ok || !s.raw_ok) {
      s.answered = 401;
    } else if (flaky_.count(path) && attempt <= 2) {
      s.answered = 500;
    } else if (path == "/slow" && attempt == 1) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // past the 300 ms timeout
      s.answered = 0;  // Pulse gave up on it: not an answer, whatever is sent now
    } else {
      s.answered = 200;
    }
    std::this_thread::sleep_for(delay_);
    res.status = s.answered == 0 ? 200 : s.answered;
    res.set_content(s.answered == 200 ? "ok" : "no", "text/plain");
    if (auto d = pulse::testing::recording::dir()) {
      std::lock_guard lock(mu_);
      std::ofstream(*d / ("webhooks-" + std::to_string(::getpid()) + ".ndjson"), std::ios::app)
          << req.body << "\n";
    }
    std::lock_guard lock(mu_);
    seen_.push_back(std::move(s));
  }

  const std::chrono::milliseconds delay_;
  std::set<std::string> flaky_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::map<std::string, std::vector<std::string>> secrets_;
  std::map<std::string, int> attempts_;
  std::vector<Seen> seen_;
};

std::string field(const std::string& body, const std::string& name) {
  return pulse::testing::json_field(body, name);
}

std::string create_webhook(httplib::Client& c, const std::string& url, const std::string& events,
                           std::string* secret = nullptr) {
  auto res = c.Post("/api/webhooks", R"({"url":")" + url + R"(","events":)" + events + "}",
                    "application/json");
  REQUIRE(res);
  REQUIRE_MESSAGE(res->status == 201, res->body);
  if (secret) *secret = field(res->body, "secret");
  return field(res->body, "id");
}

// An endpoint at the subscriber's `path` for `events`, whose secret the subscriber verifies
// with; its id (and the secret, when asked).
std::string subscribe(Subscriber& sub, httplib::Client& c, const std::string& path,
                      const std::string& events, std::string* secret = nullptr) {
  std::string s;
  auto id = create_webhook(c, sub.url(path), events, &s);
  sub.set_secrets(path, {s});
  if (secret) *secret = s;
  return id;
}

const std::string kAllEvents =
    R"(["message.sent","message.delivered","message.failed","campaign.started",)"
    R"("campaign.completed","device.connected","device.disconnected"])";

std::string send_body(int n) {
  std::string b = R"({"recipients":[)";
  for (int i = 0; i < n; ++i) b += fmt::format(R"({}{{"phone":"+1415555{:04}"}})", i ? "," : "", i);
  return b + R"(],"message":"Hello"})";
}

// The gateway takes every queued message and reports each `status`.
std::vector<std::string> claim_all(const ServerProcess& server, const Account& a) {
  auto res =
      server.gateway(a)->Post("/api/gateway/messages/claim", R"({"max":100})", "application/json");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  simdjson::dom::parser parser;
  std::vector<std::string> ids;
  for (auto m : parser.parse(res->body)["messages"].get_array())
    ids.emplace_back(std::string_view(m["id"]));
  return ids;
}

void report(const ServerProcess& server, const Account& a, const std::vector<std::string>& ids,
            const std::string& status) {
  std::string body = R"({"reports":[)";
  const auto at = pulse::format_iso8601(
      std::chrono::time_point_cast<pulse::Millis>(std::chrono::system_clock::now()));
  for (size_t i = 0; i < ids.size(); ++i)
    body += fmt::format(R"({}{{"messageId":"{}","status":"{}","at":"{}"}})", i ? "," : "", ids[i],
                        status, at);
  auto res =
      server.gateway(a)->Post("/api/gateway/messages/status", body + "]}", "application/json");
  REQUIRE(res);
  REQUIRE_MESSAGE(res->status == 200, res->body);
}

}  // namespace

TEST_CASE("a webhook to 127.0.0.1 is refused in production mode, accepted with the switch") {
  TempDir dir;
  {
    ServerProcess production(dir.path() / "prod");
    Account a = production.signup({}, false);
    auto c = production.client(a);
    for (const char* url :
         {"http://127.0.0.1/hook", "http://localhost:8080/x", "http://169.254.169.254/latest",
          "http://10.0.0.1/x", "http://[::1]/x"}) {
      CAPTURE(url);
      auto res =
          c->Post("/api/webhooks", fmt::format(R"({{"url":"{}","events":["message.sent"]}})", url),
                  "application/json");
      REQUIRE(res);
      CHECK(res->status == 400);
      CHECK(res->body.find("Webhook URL not allowed") != std::string::npos);
    }
    auto ftp =
        c->Post("/api/webhooks", R"({"url":"ftp://example.com/x","events":["message.sent"]})",
                "application/json");
    REQUIRE(ftp);
    CHECK(ftp->status == 400);
    auto list = c->Get("/api/webhooks");
    REQUIRE(list);
    CHECK(list->body == "[]");  // nothing half-applied
  }
  ServerProcess dev(dir.path() / "dev", {"--allow-private-webhooks"});
  Account a = dev.signup({}, false);
  auto c = dev.client(a);
  create_webhook(*c, "http://127.0.0.1/hook", R"(["message.sent"])");
}

TEST_CASE("every delivery is signed both ways, a tampered body fails; log, retry, replay, CRUD") {
  TempDir dir;
  Subscriber sub;
  ServerProcess server(dir.path() / "data", {"--allow-private-webhooks"});
  Account a = server.signup({}, false);
  auto c = server.client(a);
  std::string secret;
  const auto hook = subscribe(sub, *c, "/ok", kAllEvents, &secret);

  // Bad input is a 400 and changes nothing.
  for (const char* body : {R"({"url":"https://x.example/h","events":[]})",
                           R"({"url":"https://x.example/h","events":["message.*"]})",
                           R"({"url":"https://x.example/h"})", R"({"events":["message.sent"]})",
                           R"({"url":7,"events":["message.sent"]})", "not json"}) {
    auto res = c->Post("/api/webhooks", body, "application/json");
    REQUIRE(res);
    CHECK_MESSAGE(res->status == 400, body);
  }

  server.connect_device(a);                                                // device.connected
  auto sent = c->Post("/api/sms/send", send_body(3), "application/json");  // campaign.started
  REQUIRE(sent);
  REQUIRE(sent->status == 201);
  const auto ids = claim_all(server, a);
  REQUIRE(ids.size() == 3);
  report(server, a, ids, "sent");                    // message.sent x3
  report(server, a, {ids[0], ids[1]}, "delivered");  // message.delivered x2
  report(server, a, {ids[2]}, "failed");             // message.failed, campaign.completed
  auto ping = c->Post(("/api/webhooks/" + hook + "/test").c_str(), "{}", "application/json");
  REQUIRE(ping);
  CHECK(ping->status == 202);
  REQUIRE(c->Delete(("/api/devices/" + a.device_id).c_str()));  // device.disconnected

  std::map<std::string, int> want = {{"device.connected", 1},
                                     {"campaign.started", 1},
                                     {"message.sent", 3},
                                     {"message.delivered", 2},
                                     {"message.failed", 1},
                                     {"campaign.completed", 1},
                                     {"ping", 1},
                                     {"device.disconnected", 1}};
  auto counts = [&] {
    std::map<std::string, int> n;
    for (const auto& s : sub.seen()) ++n[s.type];
    return n;
  };
  REQUIRE_MESSAGE(eventually([&] { return counts() == want; }, std::chrono::seconds(20)),
                  "got " << counts().size() << " types");
  for (const auto& s : sub.seen()) {
    CAPTURE(s.type);
    CHECK(s.standard_ok);
    CHECK(s.raw_ok);
    CHECK(s.tampered_rejected);
    CHECK(s.id == s.body_id);
    CHECK(s.answered == 200);
    if (s.type != "campaign.started") continue;
    // The campaign as GET /api/campaigns/{id} showed it then: its 3 messages queued.
    simdjson::dom::parser p;
    auto data = p.parse(s.body)["data"];
    CHECK(int64_t(data["totalMessages"]) == 3);
    CHECK(int64_t(data["queuedCount"]) == 3);
    CHECK(int64_t(data["segments"]) == 3);
    CHECK(std::string_view(data["status"]) == "running");
  }

  // The delivery log: filters, pagination, attempts. (The subscriber answered before Pulse
  // recorded the answer: wait for the log to say so.)
  auto succeeded = [&] {
    auto r = c->Get(("/api/webhooks/" + hook + "/deliveries?status=succeeded&limit=100").c_str());
    simdjson::dom::parser p;
    return r && r->status == 200 ? p.parse(r->body)["deliveries"].get_array().size() : size_t{0};
  };
  REQUIRE(eventually([&] { return succeeded() == 11; }, std::chrono::seconds(10)));
  auto log =
      c->Get(("/api/webhooks/" + hook + "/deliveries?event=message.sent&status=succeeded").c_str());
  REQUIRE(log);
  REQUIRE(log->status == 200);
  simdjson::dom::parser parser;
  auto doc = parser.parse(log->body);
  CHECK(doc["deliveries"].get_array().size() == 3);
  for (auto d : doc["deliveries"].get_array()) {
    CHECK(std::string_view(d["status"]) == "succeeded");
    auto attempt = d["attempts"].at(0);
    CHECK(int64_t(attempt["statusCode"]) == 200);
    CHECK(int64_t(attempt["latencyMs"]) >= 0);
    CHECK(std::string_view(attempt["response"]) == "ok");
  }
  auto page1 = c->Get(("/api/webhooks/" + hook + "/deliveries?limit=4").c_str());
  REQUIRE(page1);
  const std::string cursor = field(page1->body, "nextCursor");
  auto page2 = c->Get(("/api/webhooks/" + hook + "/deliveries?limit=20&cursor=" + cursor).c_str());
  REQUIRE(page2);
  simdjson::dom::parser p1, p2;
  CHECK(p1.parse(page1->body)["deliveries"].get_array().size() == 4);
  CHECK(p2.parse(page2->body)["deliveries"].get_array().size() == 7);
  auto bad = c->Get(("/api/webhooks/" + hook + "/deliveries?status=lost").c_str());
  REQUIRE(bad);
  CHECK(bad->status == 400);

  // Redelivery of one: the same webhook-id and body again.
  const std::string one = field(page1->body, "id");
  auto retry = c->Post(("/api/webhooks/" + hook + "/deliveries/" + one + "/retry").c_str(), "{}",
                       "application/json");
  REQUIRE(retry);
  CHECK(retry->status == 202);
  auto times = [&](const std::string& id) {
    int n = 0;
    for (const auto& s : sub.seen()) n += s.id == id;
    return n;
  };
  CHECK(eventually([&] { return times(one) == 2; }, std::chrono::seconds(10)));
  auto missing = c->Post(("/api/webhooks/" + hook + "/deliveries/dlv_9-9-9-9_zz/retry").c_str(),
                         "{}", "application/json");
  REQUIRE(missing);
  CHECK(missing->status == 404);

  // Replay of a window: everything again.
  const auto before = sub.seen().size();
  auto replay = c->Post(("/api/webhooks/" + hook + "/replay").c_str(),
                        R"({"since":"2020-01-01T00:00:00.000Z"})", "application/json");
  REQUIRE(replay);
  CHECK(replay->status == 202);
  CHECK(eventually([&] { return sub.seen().size() == before + 11; }, std::chrono::seconds(10)));
  CHECK(sub.seen().size() == before + 11);

  // Rotation: during the overlap both secrets sign, and each verifies alone.
  auto rotated =
      c->Post(("/api/webhooks/" + hook + "/rotate-secret").c_str(), "{}", "application/json");
  REQUIRE(rotated);
  REQUIRE(rotated->status == 200);
  const auto new_secret = field(rotated->body, "secret");
  sub.set_secrets("/ok", {secret, new_secret});
  const auto n_before = sub.seen().size();
  REQUIRE(c->Post(("/api/webhooks/" + hook + "/test").c_str(), "{}", "application/json"));
  REQUIRE(eventually([&] { return sub.seen().size() == n_before + 1; }, std::chrono::seconds(10)));
  const auto last = sub.seen().back();
  CHECK(last.standard_ok);
  CHECK(last.raw_ok);
  CHECK(last.answered == 200);

  // Update, disable, delete.
  auto patched = c->Patch(("/api/webhooks/" + hook).c_str(),
                          R"({"enabled":false,"description":"paused"})", "application/json");
  REQUIRE(patched);
  CHECK(patched->status == 200);
  CHECK(patched->body.find(R"("enabled":false)") != std::string::npos);
  auto list = c->Get("/api/webhooks");
  REQUIRE(list);
  CHECK(list->body.find("secret") == std::string::npos);
  auto del = c->Delete(("/api/webhooks/" + hook).c_str());
  REQUIRE(del);
  CHECK(del->status == 204);
  auto gone = c->Get(("/api/webhooks/" + hook).c_str());
  REQUIRE(gone);
  CHECK(gone->status == 404);
}

TEST_CASE("a cancel sends message.failed per queued message, then campaign.cancelled, signed") {
  TempDir dir;
  Subscriber sub;
  ServerProcess server(dir.path() / "data", {"--allow-private-webhooks"});
  Account a = server.signup({}, false);
  auto c = server.client(a);
  subscribe(sub, *c, "/ok", R"(["message.failed","campaign.cancelled"])");
  server.connect_device(a);  // a send needs a gateway; this one claims nothing

  auto sent = c->Post("/api/sms/send", send_body(2), "application/json");
  REQUIRE(sent);
  REQUIRE(sent->status == 201);
  const auto campaign = field(sent->body, "campaignId");
  auto cancelled =
      c->Post(("/api/campaigns/" + campaign + "/cancel").c_str(), "", "application/json");
  REQUIRE(cancelled);
  REQUIRE_MESSAGE(cancelled->status == 200, cancelled->body);

  auto types = [&] {
    std::vector<std::string> out;
    for (const auto& s : sub.seen()) out.push_back(s.type);
    return out;
  };
  const std::vector<std::string> want = {"message.failed", "message.failed", "campaign.cancelled"};
  REQUIRE_MESSAGE(eventually([&] { return types().size() >= want.size(); }),
                  "got " << types().size() << " deliveries");
  auto seen = sub.seen();
  std::sort(seen.begin(), seen.end(), [](const auto& x, const auto& y) { return x.id < y.id; });
  REQUIRE(seen.size() == want.size());
  for (size_t i = 0; i < seen.size(); ++i) {
    CAPTURE(seen[i].body);
    CHECK(seen[i].type == want[i]);  // delivery ids follow the events' order in the log
    CHECK(seen[i].standard_ok);
    CHECK(seen[i].raw_ok);
    CHECK(seen[i].tampered_rejected);
  }
  const auto& body = seen.back().body;
  CHECK(body.find(R"("id":")" + campaign + R"(")") != std::string::npos);
  CHECK(body.find(R"("status":"cancelled")") != std::string::npos);
  CHECK(body.find(R"("failedCount":2)") != std::string::npos);

  // A rebuild of the read models writes the same outbox records, the cancel's included.
  const auto replayed = pulse::testing::run_command(
      {PULSE_BINARY, "replay", "--data-dir", (dir.path() / "data").string(), "--verify"});
  const int code = replayed.first;  // named: the MESSAGE macros capture it
  CHECK_MESSAGE(code == 0, replayed.second);
}

TEST_CASE("fault test: 500s, a timing-out endpoint and a SIGKILL during retries lose nothing") {
  TempDir dir;
  Subscriber sub;
  const std::vector<std::string> flags = {"--allow-private-webhooks", "--webhook-retry-schedule",
                                          "0,400ms,400ms,600ms,800ms,1s,1s,1s",
                                          "--webhook-timeout-ms", "300"};
  auto server = std::make_unique<ServerProcess>(dir.path() / "data", flags);
  Account a = server->signup({}, false);
  auto c = server->client(a);
  const std::string events = R"(["message.sent","campaign.started","device.connected"])";
  std::map<std::string, std::string> hooks;
  for (const char* path : {"/ok", "/flaky", "/slow"})
    hooks[path] = subscribe(sub, *c, path, events);
  server->connect_device(a);
  constexpr int kMessages = 20;
  auto sent = c->Post("/api/sms/send", send_body(kMessages), "application/json");
  REQUIRE(sent);
  REQUIRE(sent->status == 201);
  auto ids = claim_all(*server, a);
  REQUIRE(ids.size() == kMessages);
  report(*server, a, ids, "sent");
  const size_t expected = kMessages + 2;  // + campaign.started + device.connected

  // Kill the server while /flaky is being retried: some deliveries got their 500s, none is
  // through yet everywhere.
  REQUIRE(eventually(
      [&] {
        int failed = 0;
        for (const auto& s : sub.seen()) failed += s.path == "/flaky" && s.answered == 500;
        return failed >= 5;
      },
      std::chrono::seconds(20)));
  CHECK(sub.delivered("/flaky").size() < expected);
  server->kill9();
  server = std::make_unique<ServerProcess>(dir.path() / "data", flags);

  for (const char* path : {"/ok", "/flaky", "/slow"}) {
    CAPTURE(path);
    CHECK(eventually([&] { return sub.delivered(path).size() == expected; },
                     std::chrono::seconds(30)));
  }
  // Same webhook-id on every attempt of a delivery (and in its body); every id counted once.
  // (A /slow first attempt may still be held by the subscriber: count attempts by arrival.)
  std::map<std::string, std::set<std::string>> types_by_id;
  for (const auto& s : sub.seen()) {
    CHECK(s.id == s.body_id);
    CHECK(s.standard_ok);
    CHECK(s.raw_ok);
    types_by_id[s.path + s.id].insert(s.type);
    if (s.answered == 200 && s.path == "/flaky") CHECK(s.attempt >= 3);
    if (s.answered == 200 && s.path == "/slow") CHECK(s.attempt >= 2);
  }
  for (const auto& [id, types] : types_by_id) CHECK(types.size() == 1);
  std::map<std::string, int> per_type;
  for (const auto& id : sub.delivered("/ok"))
    for (const auto& s : sub.seen())
      if (s.path == "/ok" && s.id == id && s.answered == 200) {
        ++per_type[s.type];
        break;
      }
  CHECK(per_type["message.sent"] == kMessages);
  CHECK(per_type["campaign.started"] == 1);
  CHECK(per_type["device.connected"] == 1);

  // The delivery log agrees: every one succeeded, the flaky ones after 500s.
  auto c2 = server->client(a);
  auto succeeded = [&] {
    auto r = c2->Get(
        ("/api/webhooks/" + hooks["/flaky"] + "/deliveries?status=succeeded&limit=100").c_str());
    simdjson::dom::parser p;
    return r && r->status == 200 ? p.parse(r->body)["deliveries"].get_array().size() : size_t{0};
  };
  CHECK(eventually([&] { return succeeded() == expected; }, std::chrono::seconds(10)));
  auto log = c2->Get(("/api/webhooks/" + hooks["/flaky"] + "/deliveries?limit=100").c_str());
  REQUIRE(log);
  simdjson::dom::parser parser;
  auto list = parser.parse(log->body)["deliveries"].get_array();
  CHECK(list.size() == expected);
  for (auto d : list) {
    CHECK(std::string_view(d["status"]) == "succeeded");
    CHECK_MESSAGE(int64_t(d["attempts"].at(0)["statusCode"]) == 500,
                  std::string_view(d["attempts"].at(0)["response"]));
  }
}

TEST_CASE("rebuilding the read models (views/ deleted) sends nothing again and loses nothing") {
  TempDir dir;
  Subscriber sub;
  const std::vector<std::string> flags = {"--allow-private-webhooks"};
  std::string hook;
  Account a;
  {
    ServerProcess server(dir.path() / "data", flags);
    a = server.signup({}, false);
    auto c = server.client(a);
    hook = subscribe(sub, *c, "/ok", kAllEvents);
    for (int i = 0; i < 3; ++i)
      REQUIRE(c->Post(("/api/webhooks/" + hook + "/test").c_str(), "{}", "application/json"));
    REQUIRE(eventually([&] { return sub.delivered("/ok").size() == 3; }, std::chrono::seconds(10)));
    CHECK(server.terminate() == 0);
  }
  std::filesystem::remove_all(dir.path() / "data" / "views");
  ServerProcess server(dir.path() / "data", flags);  // rebuilds views/ (and the outbox) first
  auto c = server.client(a);
  REQUIRE(c->Post(("/api/webhooks/" + hook + "/test").c_str(), "{}", "application/json"));
  REQUIRE(eventually([&] { return sub.delivered("/ok").size() == 4; }, std::chrono::seconds(10)));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // room for a wrong re-send
  CHECK(sub.seen().size() == 4);
  auto log = c->Get(("/api/webhooks/" + hook + "/deliveries?status=succeeded").c_str());
  REQUIRE(log);
  simdjson::dom::parser parser;
  CHECK(parser.parse(log->body)["deliveries"].get_array().size() == 4);
}

namespace {

// The outbox partitions a dispatcher node delivers now, from its /metrics.
std::set<int> delivering(const ServerProcess& node) {
  httplib::Client raw("127.0.0.1", node.port());
  auto res = raw.Get("/metrics");
  if (!res || res->status != 200) return {};
  std::set<int> out;
  const auto families = pulse::testing::prometheus::parse(res->body);
  if (auto it = families.find("pulse_webhook_partitions"); it != families.end())
    for (const auto& s : it->second.samples) out.insert(std::stoi(s.labels.at("partition")));
  return out;
}

}  // namespace

TEST_CASE("3 dispatchers on Kafka share the outbox; one SIGKILLed mid-delivery loses nothing") {
  constexpr int kPartitions = 8;
  constexpr int kOrgs = 12;
  constexpr int kPings = 10;    // per organisation: 120 deliveries, 3 attempts each
  constexpr int kThreads = 16;  // a dispatcher's requests in flight at most (its default)
  auto cluster = pulse::log::MockKafkaCluster::start(1, kPartitions);
  REQUIRE(cluster.ok());
  // Every node seals and opens the endpoints' secrets with the same data key.
  ::setenv("PULSE_DATA_KEY", std::string(64, '7').c_str(), 1);
  TempDir dir;
  std::vector<std::string> paths;
  for (int i = 0; i < kOrgs; ++i) paths.push_back(fmt::format("/flaky/{}", i));
  Subscriber sub(paths, std::chrono::milliseconds(50));
  const std::vector<std::string> common = {"--kafka",
                                           (*cluster)->bootstrap_servers(),
                                           "--partitions",
                                           std::to_string(kPartitions),
                                           "--kafka-fetch-wait-ms",
                                           "10",
                                           "--allow-private-webhooks",
                                           "--webhook-retry-schedule",
                                           "0,700ms,700ms,1s,1s,1s,1s,1s"};
  auto with = [&](std::vector<std::string> v) {
    v.insert(v.end(), common.begin(), common.end());
    return v;
  };
  ServerProcess api(dir.path() / "api", with({"--roles", "api,projector,decider,ticker"}));
  const auto dispatcher_args = with({"--roles", "dispatcher"});
  std::vector<std::unique_ptr<ServerProcess>> dispatchers;
  for (int i = 0; i < 3; ++i)
    dispatchers.push_back(std::make_unique<ServerProcess>(
        dir.path() / fmt::format("dispatcher{}", i), dispatcher_args));
  // The group settles: every partition delivered by exactly one dispatcher.
  REQUIRE(eventually(
      [&] {
        std::map<int, int> owners;
        for (auto& d : dispatchers)
          for (int p : delivering(*d)) ++owners[p];
        if (owners.size() != kPartitions) return false;
        for (auto& d : dispatchers)
          if (delivering(*d).empty()) return false;
        return std::all_of(owners.begin(), owners.end(), [](auto& o) { return o.second == 1; });
      },
      std::chrono::seconds(60)));

  std::vector<Account> accounts;
  std::vector<std::string> hooks;
  std::map<int, int> orgs_by_partition;
  for (int i = 0; i < kOrgs; ++i) {
    accounts.push_back(api.signup({}, false));
    auto c = api.client(accounts.back());
    hooks.push_back(subscribe(sub, *c, paths[i], R"(["message.sent"])"));
    ++orgs_by_partition[static_cast<int>(
        (pulse::log::murmur2(accounts.back().org_id) & 0x7fffffff) % kPartitions)];
  }
  // The victim: the dispatcher delivering the most organisations.
  size_t victim = 0;
  int most = -1;
  std::set<int> victim_partitions;
  for (size_t i = 0; i < dispatchers.size(); ++i) {
    const auto mine = delivering(*dispatchers[i]);
    int orgs = 0;
    for (int p : mine) orgs += orgs_by_partition[p];
    if (orgs > most) most = orgs, victim = i, victim_partitions = mine;
  }
  REQUIRE(most > 0);
  for (int round = 0; round < kPings; ++round)
    for (int i = 0; i < kOrgs; ++i) {
      auto res =
          api.client(accounts[i])
              ->Post(("/api/webhooks/" + hooks[i] + "/test").c_str(), "", "application/json");
      REQUIRE(res);
      REQUIRE(res->status == 202);
    }
  const size_t expected = static_cast<size_t>(kOrgs) * kPings;
  auto seen_on = [&](const std::set<int>& partitions) {
    size_t n = 0;
    for (const auto& s : sub.seen())
      for (int i = 0; i < kOrgs; ++i)
        if (s.path == paths[i] &&
            partitions.count(static_cast<int>(
                (pulse::log::murmur2(accounts[i].org_id) & 0x7fffffff) % kPartitions)))
          ++n;
    return n;
  };
  // Kill it mid-delivery: some of its deliveries have had attempts, none is done everywhere.
  REQUIRE(eventually([&] { return seen_on(victim_partitions) >= static_cast<size_t>(most) * 4; },
                     std::chrono::seconds(30)));
  size_t delivered_before = 0;
  for (const auto& p : paths) delivered_before += sub.delivered(p).size();
  dispatchers[victim]->kill9();
  const auto killed_at = Clock::now();
  MESSAGE("killed the dispatcher of partitions ", victim_partitions.size(), " (", most,
          " organisations) after ", seen_on(victim_partitions), " requests to them; ",
          delivered_before, " of ", expected, " deliveries done");
  CHECK(delivered_before < expected);

  // Every delivery made, by the two left.
  REQUIRE(eventually(
      [&] {
        size_t n = 0;
        for (const auto& p : paths) n += sub.delivered(p).size();
        return n == expected;
      },
      std::chrono::seconds(90)));
  MESSAGE("every delivery made ", std::chrono::duration<double>(Clock::now() - killed_at).count(),
          " s after the kill");
  // The two left deliver every partition between them.
  CHECK(eventually(
      [&] {
        std::set<int> all;
        for (size_t i = 0; i < dispatchers.size(); ++i)
          if (i != victim)
            for (int p : delivering(*dispatchers[i])) all.insert(p);
        return all.size() == kPartitions;
      },
      std::chrono::seconds(30)));

  // None twice beyond the killed node's requests in flight; every attempt it recorded kept:
  // the delivery log (read on the API node, which dispatches nothing) has, for every delivery,
  // each request the subscriber saw, but for at most those in flight at the kill.
  std::map<std::string, int> requests, successes;
  for (const auto& s : sub.seen()) {
    CHECK(s.standard_ok);
    ++requests[s.id];
    successes[s.id] += s.answered == 200;
  }
  int twice = 0;
  for (const auto& [id, n] : successes) twice += std::max(0, n - 1);
  int logged = 0, unrecorded = 0;
  simdjson::dom::parser parser;
  REQUIRE(eventually(
      [&] {
        logged = 0;
        unrecorded = 0;
        for (int i = 0; i < kOrgs; ++i) {
          auto r = api.client(accounts[i])
                       ->Get(("/api/webhooks/" + hooks[i] + "/deliveries?limit=100").c_str());
          if (!r || r->status != 200) return false;
          auto list = parser.parse(r->body)["deliveries"].get_array();
          if (list.size() != static_cast<size_t>(kPings)) return false;
          for (auto d : list) {
            if (std::string_view(d["status"]) != "succeeded") return false;
            const auto attempts = static_cast<int>(d["attempts"].get_array().size());
            logged += attempts;
            unrecorded += requests[std::string(std::string_view(d["id"]))] - attempts;
          }
        }
        return true;
      },
      std::chrono::seconds(20)));
  MESSAGE(requests.size(), " deliveries, ", logged, " attempts logged, ", unrecorded,
          " requests not in the log (in flight at the kill), ", twice, " delivered twice");
  CHECK(requests.size() == expected);
  CHECK(unrecorded >= 0);
  CHECK(unrecorded <= kThreads);
  CHECK(twice <= kThreads);
  CHECK(logged >= static_cast<int>(expected) * 3 - kThreads);  // two 500s and a 200 each
  ::unsetenv("PULSE_DATA_KEY");
}

TEST_CASE(
    "two-way: simulated replies join conversations linked to their campaign, signed "
    "message.received webhooks, and an API reply leaves from the SIM the contact wrote to") {
  TempDir dir;
  Subscriber sub;
  ServerProcess server(dir.path() / "data", {"--allow-private-webhooks"});
  Account a = server.signup({}, false);
  auto c = server.client(a);
  subscribe(sub, *c, "/ok", R"(["message.received"])");
  // Two SIMs, one message a claim: the phone's claims alternate between its SIMs. Every
  // recipient answers each message they get.
  pulse::testing::BackgroundProcess sim({PULSE_BINARY,
                                         "gateway-sim",
                                         "--server",
                                         server.base_url(),
                                         "--api-key",
                                         a.api_key,
                                         "--quiet",
                                         "--devices",
                                         "1",
                                         "--sims",
                                         "2",
                                         "--batch",
                                         "1",
                                         "--send-delay-ms",
                                         "5",
                                         "--delivery-delay-ms",
                                         "20",
                                         "--fail-rate",
                                         "0",
                                         "--reply-rate",
                                         "1",
                                         "--reply-text",
                                         "Yes, count me in",
                                         "--seed",
                                         "7"},
                                        (dir.path() / "sim.log").string());
  REQUIRE(eventually([&] { return pulse::testing::online_devices(*c) == 1; },
                     std::chrono::seconds(30)));
  auto sent = c->Post("/api/sms/send",
                      R"({"recipients":[{"phone":"+14155550401","name":"Ada"},)"
                      R"({"phone":"+14155550402"},{"phone":"+14155550403"}],"message":"Join us?"})",
                      "application/json");
  REQUIRE(sent);
  REQUIRE_MESSAGE(sent->status == 201, sent->body);
  const auto campaign = field(sent->body, "campaignId");

  simdjson::dom::parser p;
  std::string list;
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        auto r = c->Get("/api/conversations");
                        if (!r || r->status != 200) return false;
                        list = r->body;
                        return pulse::testing::parse(p, list).get_array().size() == 3;
                      },
                      std::chrono::seconds(30)),
                  list);
  std::map<std::string, int64_t> sim_of;  // phone -> the SIM its conversation replies leave from
  for (auto row : pulse::testing::parse(p, list).get_array()) {
    CAPTURE(simdjson::to_string(row));
    const auto phone = std::string(std::string_view(row["phone"]));
    sim_of[phone] = int64_t(row["simSlot"]);
    CHECK(int64_t(row["unreadCount"]) == 1);
    auto last = row["lastMessage"];
    CHECK(std::string_view(last["direction"]) == "inbound");
    CHECK(std::string_view(last["status"]) == "received");
    CHECK(std::string_view(last["body"]) == "Yes, count me in");
    CHECK(std::string_view(last["campaignId"]) == campaign);  // linked to what it answers
    CHECK(std::string_view(last["replyTo"]).starts_with("msg_"));
    CHECK(int64_t(last["simSlot"]) == int64_t(row["simSlot"]));
  }
  REQUIRE(sim_of.size() == 3);
  std::set<int64_t> slots;
  for (const auto& [phone, slot] : sim_of) slots.insert(slot);
  const bool both_sims = slots == std::set<int64_t>{0, 1};
  REQUIRE_MESSAGE(both_sims, "the messages went out on both SIMs");
  const auto stats = c->Get(("/api/campaigns/" + campaign + "/stats").c_str());
  REQUIRE(stats);
  CHECK(int64_t(pulse::testing::parse(p, stats->body)["replyCount"]) == 3);
  // Ada's conversation: her reply above the message it answers, newest first.
  auto ada = c->Get("/api/conversations/%2B14155550401");
  REQUIRE(ada);
  REQUIRE_MESSAGE(ada->status == 200, ada->body);
  auto thread = pulse::testing::parse(p, ada->body).get_array();
  REQUIRE(thread.size() == 2);
  CHECK(std::string_view(thread.at(0)["direction"]) == "inbound");
  CHECK(std::string_view(thread.at(0)["contactName"]) == "Ada");
  CHECK(std::string_view(thread.at(1)["direction"]) == "outbound");
  CHECK(std::string_view(thread.at(0)["replyTo"]) == std::string_view(thread.at(1)["id"]));
  auto inbound = c->Get("/api/messages?direction=inbound");
  REQUIRE(inbound);
  CHECK(pulse::testing::parse(p, inbound->body).get_array().size() == 3);
  auto outbound = c->Get("/api/messages?direction=outbound");
  REQUIRE(outbound);
  CHECK(pulse::testing::parse(p, outbound->body).get_array().size() == 3);
  CHECK(c->Get("/api/messages?direction=sideways")->status == 400);
  CHECK(c->Get("/api/conversations/%2B14155550499")->status == 404);

  // Read: the unread count drops to 0 for that conversation only.
  auto read = c->Post("/api/conversations/%2B14155550401/read", "", "application/json");
  REQUIRE(read);
  REQUIRE_MESSAGE(read->status == 200, read->body);
  CHECK(int64_t(pulse::testing::parse(p, read->body)["unreadCount"]) == 0);
  auto after = c->Get("/api/conversations");
  REQUIRE(after);
  int64_t unread = 0;
  for (auto row : pulse::testing::parse(p, after->body).get_array())
    unread += int64_t(row["unreadCount"]);
  CHECK(unread == 2);

  // Every reply was delivered once per delivery id, signed the Standard Webhooks way.
  REQUIRE(eventually([&] { return sub.delivered("/ok").size() >= 3; }));
  for (const auto& s : sub.seen()) {
    CAPTURE(s.body);
    CHECK(s.type == "message.received");
    CHECK(s.standard_ok);
    CHECK(s.raw_ok);
    CHECK(s.tampered_rejected);
    CHECK(s.body.find(R"("campaignId":")" + campaign + R"(")") != std::string::npos);
  }

  // Replies from the API, to the SIM-1 contact twice and then to a SIM-0 one: the phone's
  // claims alternate between its SIMs, so only a reply pinned to its SIM gets 1, 1, 0.
  std::string on_1, on_0;
  for (const auto& [phone, slot] : sim_of) (slot == 1 ? on_1 : on_0) = phone;
  std::vector<std::pair<std::string, int64_t>> replies;
  for (const auto& [phone, slot] :
       {std::pair{on_1, int64_t{1}}, std::pair{on_1, int64_t{1}}, std::pair{on_0, int64_t{0}}}) {
    auto r = c->Post(("/api/conversations/%2B" + phone.substr(1) + "/messages").c_str(),
                     R"({"message":"See you there"})", "application/json");
    REQUIRE(r);
    REQUIRE_MESSAGE(r->status == 201, r->body);
    replies.emplace_back(field(r->body, "campaignId"), slot);
  }
  for (const auto& reply : replies) {
    const auto& reply_campaign = reply.first;
    const auto slot = reply.second;
    std::string message;
    REQUIRE(eventually([&] {
      auto r = c->Get(("/api/messages?campaignId=" + reply_campaign).c_str());
      if (!r || r->status != 200) return false;
      message = r->body;
      return message.find(R"("status":"delivered")") != std::string::npos;
    }));
    CAPTURE(message);
    CHECK(int64_t(pulse::testing::parse(p, message).get_array().at(0)["simSlot"]) == slot);
  }
  auto empty = c->Post("/api/conversations/%2B14155550401/messages", R"({"message":""})",
                       "application/json");
  REQUIRE(empty);
  CHECK(empty->status == 400);

  sim.stop(SIGKILL);
  const auto replayed = pulse::testing::run_command(
      {PULSE_BINARY, "replay", "--data-dir", (dir.path() / "data").string(), "--verify"});
  const int code = replayed.first;
  CHECK_MESSAGE(code == 0, replayed.second);
}

TEST_CASE(
    "a campaign whose only phone went offline shows waitingForDevice and fires "
    "campaign.stalled after the presence window; the phone's return clears it") {
  TempDir dir;
  Subscriber sub;
  ServerProcess server(dir.path() / "data",
                       {"--allow-private-webhooks", "--presence-window-seconds", "2"});
  Account a = server.signup({}, false);
  auto c = server.client(a);
  subscribe(sub, *c, "/ok", R"(["campaign.stalled"])");
  server.connect_device(a);  // online at registration, then silent: it never claims
  auto sent = c->Post("/api/sms/send", send_body(2), "application/json");
  REQUIRE(sent);
  REQUIRE_MESSAGE(sent->status == 201, sent->body);
  const auto campaign = field(sent->body, "campaignId");
  simdjson::dom::parser p;
  auto waiting = [&] {
    auto r = c->Get(("/api/campaigns/" + campaign).c_str());
    REQUIRE(r);
    REQUIRE(r->status == 200);
    return int64_t(pulse::testing::parse(p, r->body)["waitingForDevice"]);
  };
  CHECK(waiting() == 0);  // its phone is online
  REQUIRE(eventually([&] { return sub.delivered("/ok").size() == 1; }, std::chrono::seconds(20)));
  CHECK(waiting() == 2);
  const auto seen = sub.seen();
  REQUIRE(!seen.empty());
  CHECK(seen.front().type == "campaign.stalled");
  CHECK(seen.front().standard_ok);
  auto body = pulse::testing::parse(p, seen.front().body);
  CHECK(std::string_view(body["data"]["id"]) == campaign);
  CHECK(int64_t(body["data"]["waitingForDevice"]) == 2);
  CHECK(std::string_view(body["data"]["status"]) == "running");

  // The phone is back: nothing waits for a device any more, and nothing fired twice.
  auto beat = server.gateway(a)->Post("/api/gateway/heartbeat", "{}", "application/json");
  REQUIRE(beat);
  REQUIRE_MESSAGE(beat->status == 200, beat->body);
  CHECK(waiting() == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(sub.seen().size() == 1);
  // A rebuild makes the same views and outbox (the stall and its webhook included).
  const auto replayed = pulse::testing::run_command(
      {PULSE_BINARY, "replay", "--data-dir", (dir.path() / "data").string(), "--verify"});
  const int code = replayed.first;
  CHECK_MESSAGE(code == 0, replayed.second);
}
