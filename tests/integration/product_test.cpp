// The product end to end through a real server: opt-outs (and STOP replies from the gateway
// simulator), the send API's deviceId and Idempotency-Key (under concurrency), the messages
// API with its timeline, and the stats. Exchanges are recorded for the OpenAPI checks.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <thread>

#include "fmt/format.h"
#include "tests/integration/api_helpers.h"
#include "tests/integration/server_process.h"
#include "tests/support/eventually.h"

using pulse::testing::Account;
using pulse::testing::BackgroundProcess;
using pulse::testing::ServerProcess;
using pulse::testing::TempDir;

namespace {

using pulse::testing::parse;

using pulse::testing::eventually;

using Clock = std::chrono::steady_clock;
constexpr const char* kJson = "application/json";

std::string str(simdjson::dom::element e) {
  return std::string(std::string_view(e));
}

std::string send_body(const std::vector<std::string>& phones, const std::string& extra = "") {
  std::string b = R"({"recipients":[)";
  for (size_t i = 0; i < phones.size(); ++i)
    b += fmt::format(R"({}{{"phone":"{}","name":"Person{}"}})", i ? "," : "", phones[i], i);
  return b + R"(],"message":"Hi {{firstName}}")" + extra + "}";
}

// GET a JSON document; REQUIREs the status.
std::string get(httplib::Client& c, const std::string& path, int status = 200) {
  auto r = c.Get(path.c_str());
  REQUIRE_MESSAGE(r, "no answer to GET " << path);
  REQUIRE_MESSAGE(r->status == status, path << ": " << r->status << " " << r->body);
  return r->body;
}

// The gateway protocol by hand: claim (no wait) and report.
std::vector<std::string> claim(httplib::Client& gw) {
  auto r = gw.Post("/api/gateway/messages/claim", R"({"max":50})", kJson);
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == 200, r->body);
  simdjson::dom::parser p;
  std::vector<std::string> ids;
  for (auto m : parse(p, r->body)["messages"].get_array()) ids.push_back(str(m["id"]));
  return ids;
}

void report(httplib::Client& gw, const std::string& id, const std::string& status) {
  auto r = gw.Post("/api/gateway/messages/status",
                   fmt::format(R"({{"reports":[{{"messageId":"{}","status":"{}","at":"{}"}}]}})",
                               id, status, "2026-11-22T10:00:00.000Z"),
                   kJson);
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == 200, r->body);
  REQUIRE_MESSAGE(r->body.find(R"("accepted":true)") != std::string::npos, r->body);
}

}  // namespace

TEST_CASE("opt-outs: added, listed, removed; sends skip them and count them") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  Account a = server.signup();
  auto c = server.client(a);
  simdjson::dom::parser p;

  auto added = c->Post("/api/opt-outs", R"({"phone":"+1 (415) 555-0102","reason":"asked"})", kJson);
  REQUIRE(added);
  REQUIRE_MESSAGE(added->status == 201, added->body);
  auto v = parse(p, added->body);
  CHECK(str(v["phone"]) == "+14155550102");
  CHECK(str(v["reason"]) == "asked");
  CHECK(str(v["source"]) == "api");
  // Again: the first entry stays.
  auto again = c->Post("/api/opt-outs", R"({"phone":"+14155550102","reason":"other"})", kJson);
  REQUIRE(again);
  CHECK(again->status == 201);
  CHECK(str(parse(p, again->body)["reason"]) == "asked");
  REQUIRE(c->Post("/api/opt-outs", R"({"phone":"+14155550104"})", kJson)->status == 201);
  auto bad = c->Post("/api/opt-outs", R"({"phone":"555-0102"})", kJson);
  REQUIRE(bad);
  CHECK(bad->status == 400);
  CHECK(c->Post("/api/opt-outs", R"({"reason":"no phone"})", kJson)->status == 400);

  // Paged by phone.
  auto page1 = c->Get("/api/opt-outs?limit=1");
  REQUIRE(page1);
  REQUIRE(page1->status == 200);
  CHECK(parse(p, page1->body).get_array().size() == 1);
  REQUIRE(page1->has_header("X-Next-Cursor"));
  CHECK(page1->get_header_value("X-Next-Cursor") == "+14155550102");
  auto page2 = get(*c, "/api/opt-outs?limit=1&cursor=%2B14155550102");
  CHECK(str(parse(p, page2).get_array().at(0)["phone"]) == "+14155550104");

  // A send skips them: the answer is the reference's, the stats say how many were skipped.
  auto sent =
      c->Post("/api/sms/send",
              send_body({"+14155550101", "+14155550102", "+14155550103", "+14155550104"}), kJson);
  REQUIRE(sent);
  REQUIRE_MESSAGE(sent->status == 201, sent->body);
  auto s = parse(p, sent->body);
  CHECK(int64_t(s["recipientCount"]) == 4);
  const std::string campaign = str(s["campaignId"]);
  auto stats = parse(p, get(*c, "/api/campaigns/" + campaign + "/stats"));
  CHECK(int64_t(stats["totalMessages"]) == 2);
  CHECK(int64_t(stats["suppressedCount"]) == 2);
  CHECK(int64_t(stats["queuedCount"]) == 2);
  std::set<std::string> phones;
  for (auto m : parse(p, get(*c, "/api/messages?campaignId=" + campaign)).get_array())
    phones.insert(str(m["contactPhone"]));
  CHECK(phones == std::set<std::string>{"+14155550101", "+14155550103"});

  // Removed: sends reach the number again. A number not on the list is a 404.
  auto removed = c->Delete("/api/opt-outs/%2B14155550102");
  REQUIRE(removed);
  REQUIRE_MESSAGE(removed->status == 200, removed->body);
  CHECK(c->Delete("/api/opt-outs/%2B14155550102")->status == 404);
  CHECK(c->Delete("/api/opt-outs/not-a-phone")->status == 400);
  auto sent2 = c->Post("/api/sms/send", send_body({"+14155550102", "+14155550104"}), kJson);
  REQUIRE(sent2);
  REQUIRE(sent2->status == 201);
  auto stats2 =
      parse(p, get(*c, "/api/campaigns/" + str(parse(p, sent2->body)["campaignId"]) + "/stats"));
  CHECK(int64_t(stats2["totalMessages"]) == 1);
  CHECK(int64_t(stats2["suppressedCount"]) == 1);
  // Every recipient suppressed: the campaign completes at once.
  auto sent3 = c->Post("/api/sms/send", send_body({"+14155550104"}), kJson);
  REQUIRE(sent3);
  REQUIRE(sent3->status == 201);
  auto stats3 =
      parse(p, get(*c, "/api/campaigns/" + str(parse(p, sent3->body)["campaignId"]) + "/stats"));
  CHECK(str(stats3["status"]) == "completed");
  CHECK(int64_t(stats3["totalMessages"]) == 0);
  // The organisation's summary counts them too.
  auto org = parse(p, get(*c, "/api/stats"));
  CHECK(int64_t(org["queued"]) == 3);
  CHECK(int64_t(org["suppressed"]) == 4);
  CHECK(org["days"].get_array().size() == 30);
}

TEST_CASE("STOP replies: the gateway simulator's recipients opt out; the inbound route") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  Account a = server.signup({}, /*with_device=*/false);
  auto c = server.client(a);
  simdjson::dom::parser p;
  BackgroundProcess sim(
      {PULSE_BINARY, "gateway-sim", "--server", server.base_url(), "--api-key", a.api_key,
       "--quiet", "--devices", "1", "--send-delay-ms", "5", "--delivery-delay-ms", "20",
       "--fail-rate", "0", "--reply-stop-rate", "1", "--seed", "5"},
      (dir.path() / "sim.log").string());
  REQUIRE(eventually([&] { return pulse::testing::online_devices(*c) == 1; },
                     std::chrono::seconds(30)));
  auto sent = c->Post("/api/sms/send", send_body({"+14155550201", "+14155550202"}), kJson);
  REQUIRE(sent);
  REQUIRE_MESSAGE(sent->status == 201, sent->body);
  std::string list;
  REQUIRE(eventually(
      [&] {
        auto r = c->Get("/api/opt-outs");
        if (!r || r->status != 200) return false;
        list = r->body;
        return list.find("+14155550201") != std::string::npos &&
               list.find("+14155550202") != std::string::npos;
      },
      std::chrono::seconds(30)));
  for (auto o : parse(p, list).get_array()) CHECK(str(o["source"]) == "reply");
  // The next send to them is skipped entirely.
  auto again = c->Post("/api/sms/send", send_body({"+14155550201", "+14155550202"}), kJson);
  REQUIRE(again);
  REQUIRE(again->status == 201);
  auto stats =
      parse(p, get(*c, "/api/campaigns/" + str(parse(p, again->body)["campaignId"]) + "/stats"));
  CHECK(int64_t(stats["suppressedCount"]) == 2);
}

TEST_CASE("the inbound route: STOP variants opt out, other texts don't, bad input is a 400") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  Account a = server.signup();
  auto gw = server.gateway(a);
  auto c = server.client(a);
  simdjson::dom::parser p;
  auto in = [&](const std::string& body) {
    auto r = gw->Post("/api/gateway/inbound", body, kJson);
    REQUIRE(r);
    return std::pair{r->status, r->body};
  };
  auto [s1, b1] = in(R"({"from":"+14155550301","body":"hello there","simSlot":0})");
  CHECK(s1 == 200);
  CHECK(b1.find(R"("optedOut":false)") != std::string::npos);
  auto [s2, b2] = in(
      R"({"from":"+1 415 555 0301","body":"  unsubscribe\n","receivedAt":"2026-11-22T10:00:00Z"})");
  CHECK(s2 == 200);
  CHECK(b2.find(R"("optedOut":true)") != std::string::npos);
  auto [s3, b3] = in(R"({"from":"72345","body":"STOP"})");  // a short code: recorded only
  CHECK(s3 == 200);
  CHECK(b3.find(R"("optedOut":false)") != std::string::npos);
  CHECK(in(R"({"from":"+14155550301"})").first == 400);
  CHECK(in(R"({"from":"+14155550301","body":"STOP","receivedAt":"yesterday"})").first == 400);
  CHECK(in(R"({"from":"+14155550301","body":"STOP","simSlot":9})").first == 400);
  auto anonymous =
      server.client()->Post("/api/gateway/inbound", R"({"from":"+1","body":"x"})", kJson);
  REQUIRE(anonymous);
  CHECK(anonymous->status == 401);
  auto list = parse(p, get(*c, "/api/opt-outs"));
  REQUIRE(list.get_array().size() == 1);
  CHECK(str(list.get_array().at(0)["phone"]) == "+14155550301");
}

TEST_CASE(
    "Idempotency-Key: 20 concurrent identical sends make one campaign; another body is a 409") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  Account a = server.signup();
  const std::string body = send_body({"+14155550401", "+14155550402", "+14155550403"});
  constexpr int kRequests = 20;
  std::vector<std::pair<int, std::string>> answers(kRequests);
  std::vector<bool> replayed(kRequests);
  {
    std::vector<std::thread> threads;
    for (int i = 0; i < kRequests; ++i)
      threads.emplace_back([&, i] {
        auto c = server.client(a);
        auto r = c->Post("/api/sms/send", {{"Idempotency-Key", "order-4521"}}, body, kJson);
        if (!r) return;
        answers[i] = {r->status, r->body};
        replayed[i] = r->get_header_value("Idempotent-Replayed") == "true";
      });
    for (auto& t : threads) t.join();
  }
  simdjson::dom::parser p;
  std::set<std::string> campaigns;
  int replays = 0;
  for (int i = 0; i < kRequests; ++i) {
    INFO(i, ": ", answers[i].second);
    REQUIRE(answers[i].first == 201);
    auto v = parse(p, answers[i].second);
    campaigns.insert(str(v["campaignId"]));
    CHECK(int64_t(v["recipientCount"]) == 3);
    CHECK(str(v["message"]) == "Campaign created with 3 recipients");
    replays += replayed[i] ? 1 : 0;
  }
  CHECK(campaigns.size() == 1);
  CHECK(replays == kRequests - 1);
  auto c = server.client(a);
  CHECK(parse(p, get(*c, "/api/campaigns")).get_array().size() == 1);
  CHECK(parse(p, get(*c, "/api/messages")).get_array().size() == 3);
  CHECK(int64_t(parse(p, get(*c, "/api/stats"))["queued"]) == 3);

  // Later, same key and body: the same answer; another body: 409, nothing sent.
  auto later = c->Post("/api/sms/send", {{"Idempotency-Key", "order-4521"}}, body, kJson);
  REQUIRE(later);
  CHECK(later->status == 201);
  CHECK(str(parse(p, later->body)["campaignId"]) == *campaigns.begin());
  auto other = c->Post("/api/sms/send", {{"Idempotency-Key", "order-4521"}},
                       send_body({"+14155550401"}), kJson);
  REQUIRE(other);
  CHECK(other->status == 409);
  CHECK(other->body.find(R"("error":"Idempotency key reused")") != std::string::npos);
  auto invalid =
      c->Post("/api/sms/send", {{"Idempotency-Key", std::string(300, 'k')}}, body, kJson);
  REQUIRE(invalid);
  CHECK(invalid->status == 400);
  // Another key is another campaign.
  auto fresh = c->Post("/api/sms/send", {{"Idempotency-Key", "order-4522"}}, body, kJson);
  REQUIRE(fresh);
  CHECK(fresh->status == 201);
  CHECK(parse(p, get(*c, "/api/campaigns")).get_array().size() == 2);
}

TEST_CASE("deviceId pins a send; messages API filters and pages; timeline and stats follow") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  Account a = server.signup();  // device A
  Account b = a;
  server.connect_device(b, "+16505550102");  // device B, same organisation
  auto c = server.client(a);
  auto gw_a = server.gateway(a);
  auto gw_b = server.gateway(b);
  simdjson::dom::parser p;

  auto unknown = c->Post(
      "/api/sms/send", send_body({"+14155550501"}, R"(,"deviceId":"dvc_01m818p77znpw7a5")"), kJson);
  REQUIRE(unknown);
  CHECK(unknown->status == 404);
  auto malformed =
      c->Post("/api/sms/send", send_body({"+14155550501"}, R"(,"deviceId":"phone-1")"), kJson);
  REQUIRE(malformed);
  CHECK(malformed->status == 400);

  auto pinned = c->Post("/api/sms/send",
                        send_body({"+14155550501", "+14155550502", "+14155550503"},
                                  fmt::format(R"(,"deviceId":"{}")", b.device_id)),
                        kJson);
  REQUIRE(pinned);
  REQUIRE_MESSAGE(pinned->status == 201, pinned->body);
  const std::string campaign = str(parse(p, pinned->body)["campaignId"]);
  CHECK(claim(*gw_a).empty());  // only B may take them
  const auto ids = claim(*gw_b);
  REQUIRE(ids.size() == 3);
  report(*gw_b, ids[0], "sent");
  report(*gw_b, ids[0], "delivered");
  report(*gw_b, ids[1], "failed");

  // The message and its timeline.
  auto m = parse(p, get(*c, "/api/messages/" + ids[0]));
  CHECK(str(m["status"]) == "delivered");
  CHECK(str(m["contactPhone"]) == "+14155550501");
  CHECK(str(m["deviceId"]) == b.device_id);
  std::vector<std::string> states;
  for (auto e : m["timeline"].get_array()) states.push_back(str(e["status"]));
  CHECK(states == std::vector<std::string>{"queued", "sending", "sent", "delivered"});
  auto sending = m["timeline"].get_array().at(1);
  CHECK(str(sending["deviceId"]) == b.device_id);
  CHECK(int64_t(sending["simSlot"]) == 0);
  CHECK(int64_t(sending["attempt"]) == 1);
  auto failed = parse(p, get(*c, "/api/messages/" + ids[1]));
  CHECK(str(failed["timeline"].get_array().at(2)["status"]) == "failed");
  get(*c, "/api/messages/msg_01m818w9x2tw1rn70000", 404);

  // Filters: status, phone, campaign, time; pages of one.
  auto delivered = parse(p, get(*c, "/api/messages?status=delivered"));
  REQUIRE(delivered.get_array().size() == 1);
  CHECK(str(delivered.get_array().at(0)["id"]) == ids[0]);
  CHECK(parse(p, get(*c, "/api/messages?status=sending")).get_array().size() == 1);
  CHECK(parse(p, get(*c, "/api/messages?status=queued")).get_array().size() == 0);
  auto by_phone = parse(p, get(*c, "/api/messages?phone=%2B14155550502"));
  REQUIRE(by_phone.get_array().size() == 1);
  CHECK(str(by_phone.get_array().at(0)["status"]) == "failed");
  CHECK(
      parse(p, get(*c, "/api/messages?phone=%2B14155550502&status=delivered")).get_array().size() ==
      0);
  CHECK(parse(p, get(*c, "/api/messages?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z"))
            .get_array()
            .size() == 3);
  CHECK(parse(p, get(*c, "/api/messages?to=2000-01-01T00:00:00Z")).get_array().size() == 0);
  CHECK(parse(p, get(*c, "/api/messages?from=2100-01-01T00:00:00Z")).get_array().size() == 0);
  std::vector<std::string> paged;
  std::string cursor;
  for (int page = 0; page < 5; ++page) {
    auto r = c->Get(("/api/messages?limit=1&campaignId=" + campaign +
                     (cursor.empty() ? "" : "&cursor=" + cursor))
                        .c_str());
    REQUIRE(r);
    REQUIRE(r->status == 200);
    for (auto x : parse(p, r->body).get_array()) paged.push_back(str(x["id"]));
    if (!r->has_header("X-Next-Cursor")) break;
    cursor = r->get_header_value("X-Next-Cursor");
  }
  CHECK(paged == std::vector<std::string>{ids[2], ids[1], ids[0]});  // newest first
  get(*c, "/api/messages?status=lost", 400);
  get(*c, "/api/messages?from=yesterday", 400);
  get(*c, "/api/messages?cursor=nope", 400);
  get(*c, "/api/messages?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", 400);

  // Stats, from the counters.
  auto stats = parse(p, get(*c, "/api/campaigns/" + campaign + "/stats"));
  CHECK(int64_t(stats["sentCount"]) == 1);
  CHECK(int64_t(stats["deliveredCount"]) == 1);
  CHECK(int64_t(stats["failedCount"]) == 1);
  CHECK(int64_t(stats["sendingCount"]) == 1);
  CHECK(double(stats["deliveryRate"]) == 1.0);
  CHECK(str(stats["deviceId"]) == b.device_id);
  get(*c, "/api/campaigns/cmp_01m818w9x2tw1rn7/stats", 404);
  auto org = parse(p, get(*c, "/api/stats?from=2000-01-01&to=2000-01-03"));
  CHECK(int64_t(org["sent"]) == 0);
  CHECK(org["days"].get_array().size() == 3);
  auto today = parse(p, get(*c, "/api/stats"));  // the last 30 days
  CHECK(int64_t(today["queued"]) == 3);
  CHECK(int64_t(today["sent"]) == 1);
  CHECK(int64_t(today["delivered"]) == 1);
  CHECK(int64_t(today["failed"]) == 1);
  CHECK(double(today["deliveryRate"]) == 1.0);
  get(*c, "/api/stats?from=2026-02-01&to=2026-01-01", 400);
  get(*c, "/api/stats?from=2020-01-01&to=2026-01-01", 400);
  get(*c, "/api/stats?to=someday", 400);

  // Replaying the log rebuilds every read model of this test byte for byte (indexes, timelines,
  // counters, opt-outs, idempotency keys included).
  REQUIRE(gw_a->Post("/api/gateway/inbound", R"({"from":"+14155550501","body":"STOP"})", kJson)
              ->status == 200);
  REQUIRE(c->Post("/api/sms/send", {{"Idempotency-Key", "k"}},
                  send_body({"+14155550501", "+14155550509"}), kJson)
              ->status == 201);
  REQUIRE(c->Post("/api/sms/send", {{"Idempotency-Key", "k"}},
                  send_body({"+14155550501", "+14155550509"}), kJson)
              ->status == 201);
  const auto ran = pulse::testing::run_command({PULSE_BINARY, "replay", "--data-dir",
                                                (dir.path() / "data").string(), "--into",
                                                (dir.path() / "rebuilt").string(), "--verify"});
  const int code = ran.first;  // named: the MESSAGE macros capture it
  const std::string& out = ran.second;
  CHECK_MESSAGE(code == 0, out);
  CHECK(out.find("identical") != std::string::npos);
}

// A measurement, skipped unless PULSE_MESSAGES_BENCH=N (messages in the organisation, in sends
// of 500): latency of the messages, stats and opt-out queries with N messages in the store.
TEST_CASE("measure: message and stats queries against a large organisation" *
          doctest::skip(std::getenv("PULSE_MESSAGES_BENCH") == nullptr)) {
  const int n = std::atoi(std::getenv("PULSE_MESSAGES_BENCH"));
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  Account a = server.signup();
  server.set_plan(a, "enterprise");
  auto c = server.client(a);
  simdjson::dom::parser p;
  std::string campaign;
  const auto t_send = Clock::now();
  for (int k = 0; k * 500 < n; ++k) {
    std::vector<std::string> phones;
    for (int i = 0; i < 500; ++i)
      phones.push_back(fmt::format("+1415{:07}", 2'000'000 + k * 500 + i));
    auto r = c->Post("/api/sms/send", send_body(phones), kJson);
    REQUIRE(r);
    REQUIRE_MESSAGE(r->status == 201, r->body);
    campaign = str(parse(p, r->body)["campaignId"]);
  }
  const double send_s = std::chrono::duration<double>(Clock::now() - t_send).count();
  auto time_it = [&](const std::string& path) {
    std::vector<double> ms;
    size_t bytes = 0;
    for (int i = 0; i < 200; ++i) {
      const auto t = Clock::now();
      auto r = c->Get(path.c_str());
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
      REQUIRE(r);
      REQUIRE(r->status == 200);
      bytes = r->body.size();
    }
    std::sort(ms.begin(), ms.end());
    MESSAGE(fmt::format("{:<60} p50 {:6.2f} ms  p99 {:6.2f} ms  ({} bytes)", path, ms[100], ms[198],
                        bytes));
  };
  MESSAGE(fmt::format("{} messages queued in {:.2f} s", n, send_s));
  time_it("/api/messages?limit=50");
  time_it("/api/messages?limit=50&status=queued");
  time_it("/api/messages?limit=50&status=delivered");  // matches nothing: an empty index
  time_it("/api/messages?limit=50&phone=%2B14152000007");
  time_it("/api/messages?limit=50&campaignId=" + campaign);
  time_it("/api/messages?limit=50&from=2000-01-01T00:00:00Z&to=2001-01-01T00:00:00Z");
  time_it("/api/campaigns/" + campaign + "/stats");
  time_it("/api/stats");
  time_it("/api/opt-outs");
}
