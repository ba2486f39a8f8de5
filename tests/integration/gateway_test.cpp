// Gateways end to end with `pulse gateway-sim` processes: the reference's full flow, and a chaos
// run where one phone dies and one stops reporting.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <map>
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

using pulse::testing::online_devices;
using pulse::testing::parse;
using pulse::testing::sim_args;

using pulse::testing::eventually;

using Clock = std::chrono::steady_clock;

std::string send_body(int n, int first) {
  std::string b = R"({"recipients":[)";
  for (int i = 0; i < n; ++i)
    b += fmt::format(R"({}{{"phone":"+1415{:07}","name":"Person{} Last"}})", i ? "," : "",
                     2'000'000 + first + i, first + i);
  return b + R"(],"message":"Hi {{firstName}}, your order shipped."})";
}

}  // namespace

TEST_CASE("the reference's full flow: device check, send, poll until completed") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  Account account = server.signup({}, /*with_device=*/false);
  server.set_plan(account, "pro");
  auto c = server.client(account);
  BackgroundProcess sim(sim_args(server, account,
                                 {"--devices", "2", "--send-delay-ms", "20", "--delivery-delay-ms",
                                  "100", "--fail-rate", "0.2", "--seed", "11"}),
                        (dir.path() / "sim.log").string());
  // Step 2: at least one device online.
  REQUIRE(eventually([&] { return online_devices(*c) == 2; }, std::chrono::seconds(30)));
  // Step 3: send.
  auto sent = c->Post("/api/sms/send", send_body(40, 0), "application/json");
  REQUIRE(sent);
  REQUIRE_MESSAGE(sent->status == 201, sent->body);
  simdjson::dom::parser parser;
  const std::string id{std::string_view(parse(parser, sent->body)["campaignId"])};
  // Step 5: poll until completed.
  std::string body;
  REQUIRE(eventually(
      [&] {
        auto r = c->Get(("/api/campaigns/" + id).c_str());
        if (!r || r->status != 200) return false;
        body = r->body;
        return body.find(R"("status":"completed")") != std::string::npos;
      },
      std::chrono::seconds(60)));
  auto campaign = parse(parser, body);
  CHECK(int64_t(campaign["totalMessages"]) == 40);
  CHECK(int64_t(campaign["deliveredCount"]) + int64_t(campaign["failedCount"]) == 40);
  CHECK(int64_t(campaign["failedCount"]) > 0);  // --fail-rate 0.2
  CHECK(!campaign["completedAt"].is_null());
  int i = 0;
  for (auto m : campaign["messages"].get_array()) {
    CAPTURE(i++);
    const std::string_view status = m["status"];
    CHECK((status == "delivered" || status == "failed"));
    if (status == "delivered") {
      CHECK(!m["sentAt"].is_null());
      CHECK(!m["deliveredAt"].is_null());
      CHECK(m["error"].is_null());
    } else {
      CHECK(std::string_view(m["error"]) == "Generic failure");
    }
    CHECK(std::string_view(m["body"]).starts_with("Hi Person"));
  }
  // The devices counted what they sent.
  auto devices = c->Get("/api/devices");
  REQUIRE(devices);
  const int64_t sent_count = int64_t(campaign["sentCount"]);
  simdjson::dom::parser device_parser;
  int64_t sms_sent = 0;
  for (auto d : parse(device_parser, devices->body).get_array()) sms_sent += int64_t(d["smsSent"]);
  CHECK(sms_sent == sent_count);
}

TEST_CASE("chaos: 3 phones, 2,000 messages, one killed, one silent: all final, none lost") {
  TempDir dir;
  const auto data = dir.path() / "data";
  ServerProcess server(data, {"--lease-seconds", "2", "--presence-window-seconds", "4",
                              "--delivery-window-seconds", "3", "--device-rate-per-minute", "-1",
                              "--sim-daily-cap", "-1", "--max-attempts", "6"});
  Account account = server.signup({}, /*with_device=*/false);
  server.set_plan(account, "enterprise");
  auto c = server.client(account);
  const std::vector<std::string> fast = {
      "--devices",   "1", "--send-delay-ms", "1",  "--delivery-delay-ms", "20",
      "--fail-rate", "0", "--batch",         "50", "--heartbeat-seconds", "1"};
  auto with = [&](std::vector<std::string> more, int seed) {
    auto v = fast;
    v.insert(v.end(), more.begin(), more.end());
    v.insert(v.end(), {"--seed", std::to_string(seed)});
    return sim_args(server, account, v);
  };
  BackgroundProcess healthy(with({}, 1), (dir.path() / "a.log").string());
  BackgroundProcess doomed(with({}, 2), (dir.path() / "b.log").string());
  BackgroundProcess silent(with({"--silent-after", "1"}, 3), (dir.path() / "c.log").string());
  REQUIRE(eventually([&] { return online_devices(*c) == 3; }, std::chrono::seconds(30)));

  std::vector<std::string> campaigns;
  simdjson::dom::parser parser;
  for (int k = 0; k < 4; ++k) {
    auto sent = c->Post("/api/sms/send", send_body(500, k * 500), "application/json");
    REQUIRE(sent);
    REQUIRE_MESSAGE(sent->status == 201, sent->body);
    campaigns.emplace_back(std::string_view(parse(parser, sent->body)["campaignId"]));
  }
  auto progress = [&] {
    int64_t finished = 0;
    for (const auto& id : campaigns) {
      auto r = c->Get(("/api/campaigns/" + id + "?limit=1").c_str());
      if (!r || r->status != 200) return int64_t{-1};
      auto doc = parse(parser, r->body);
      finished += int64_t(doc["deliveredCount"]) + int64_t(doc["failedCount"]);
    }
    return finished;
  };
  // Kill one phone mid-campaign.
  REQUIRE(eventually([&] { return progress() >= 300; }, std::chrono::seconds(60)));
  doomed.stop(SIGKILL);
  // Every campaign completes: the dead phone's and the silent phone's work went to the healthy one.
  REQUIRE(eventually(
      [&] {
        for (const auto& id : campaigns) {
          auto r = c->Get(("/api/campaigns/" + id + "?limit=1").c_str());
          if (!r || r->body.find(R"("status":"completed")") == std::string::npos) return false;
        }
        return true;
      },
      std::chrono::seconds(120)));
  int64_t delivered = 0, failed = 0, total = 0, settled_sent = 0;
  for (const auto& id : campaigns) {
    auto r = c->Get(("/api/campaigns/" + id + "?limit=1000").c_str());
    REQUIRE(r);
    auto doc = parse(parser, r->body);
    total += int64_t(doc["totalMessages"]);
    delivered += int64_t(doc["deliveredCount"]);
    failed += int64_t(doc["failedCount"]);
    CHECK(int64_t(doc["queuedCount"]) == 0);
    CHECK(int64_t(doc["sendingCount"]) == 0);
    for (auto m : doc["messages"].get_array()) {
      // Final: delivered, failed, or sent with its delivery window closed (the killed phone
      // sent some and never reported their receipts).
      const std::string_view status = m["status"];
      CHECK((status == "delivered" || status == "failed" || status == "sent"));
      if (status == "sent") ++settled_sent;
      const bool has_sent_at = !m["sentAt"].is_null();
      CHECK((has_sent_at || status == "failed"));
    }
  }
  CHECK(total == 2000);
  CHECK(delivered + failed + settled_sent == 2000);
  // The killed one goes offline once its presence window passes (the campaigns may complete
  // before that).
  CHECK(eventually([&] { return online_devices(*c) == 2; }, std::chrono::seconds(20)));

  healthy.stop(SIGTERM);
  silent.stop(SIGTERM);
  CHECK(server.terminate() == 0);
  // From the event log: a message is never claimed again while a lease on it is held (between
  // two claims there is always a requeue), and none is lost.
  auto [code, out] =
      pulse::testing::run_command({PULSE_BINARY, "events", "--data-dir", data.string()});
  REQUIRE(code == 0);
  // message -> 'C'laimed / 'R'equeued / 'O'utcome reported (sent, delivered, failed)
  std::map<std::string, std::vector<char>> history;
  std::set<std::string> queued;
  for (size_t pos = 0, nl; (nl = out.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    auto e = parse(parser, out.substr(pos, nl - pos));
    const std::string_view type = e["type"];
    if (type == "MessagesQueued") {
      for (auto m : e["data"]["messages"].get_array()) queued.emplace(std::string_view(m["id"]));
    } else if (type == "MessagesClaimed") {
      for (auto m : e["data"]["messages"].get_array())
        history[std::string(std::string_view(m["id"]))].push_back('C');
    } else if (type == "MessagesRequeued") {
      for (auto id : e["data"]["ids"].get_array())
        history[std::string(std::string_view(id))].push_back('R');
    } else if (type == "MessagesSent" || type == "MessagesDelivered" || type == "MessagesFailed") {
      for (auto m : e["data"]["messages"].get_array())
        history[std::string(std::string_view(m["id"]))].push_back('O');
    }
  }
  CHECK(queued.size() == 2000);
  int doubled = 0, retried = 0, unresolved = 0;
  for (const auto& [id, h] : history) {
    for (size_t k = 1; k < h.size(); ++k)
      if (h[k] == 'C' && h[k - 1] == 'C') ++doubled;
    retried += std::count(h.begin(), h.end(), 'R') > 0 ? 1 : 0;
    // A claim is always followed by an outcome or a requeue (a lease that ran out): the killed
    // and the silent phone's work was handed on. (Whether they held leases when they stopped
    // depends on timing, so `retried` itself may be 0.)
    if (!h.empty() && h.back() == 'C') ++unresolved;
  }
  CHECK(doubled == 0);
  CHECK(unresolved == 0);
  MESSAGE(fmt::format("chaos: {} delivered, {} failed, {} sent without receipt, {} retried",
                      delivered, failed, settled_sent, retried));
}
