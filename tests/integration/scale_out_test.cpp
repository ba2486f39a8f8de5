// Split roles on Kafka: a mock cluster owned by this test, two API nodes (api,projector) and two
// deciders (decider,ticker) as separate `pulse serve` processes, 5,000 messages through
// `pulse gateway-sim`, and the decider owning a busy partition killed with SIGKILL halfway and
// started again. Every message reaches a final state exactly once, and campaign counts equal
// their messages' states on both API nodes.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <map>
#include <optional>
#include <set>
#include <thread>

#include "adapters/log/kafka_log.h"
#include "adapters/log/log.h"
#include "fmt/format.h"
#include "tests/adapters/prometheus_text.h"
#include "tests/integration/server_process.h"
#include "tests/support/eventually.h"

namespace pulse::testing {
namespace {

using pulse::testing::eventually;

using Clock = std::chrono::steady_clock;
constexpr int kPartitions = 8;
constexpr int kOrgs = 4;
constexpr int kPerOrg = 1250;  // 5,000 in all
constexpr int kPerSend = 500;

std::string send_body(int n, int first) {
  std::string b = R"({"recipients":[)";
  for (int i = 0; i < n; ++i)
    b += fmt::format(R"({}{{"phone":"+1415{:07}","name":"P{}"}})", i ? "," : "",
                     2'000'000 + first + i, first + i);
  return b + R"(],"message":"Hi {{firstName}}"})";
}

// The partitions a decider node decides now, from its /metrics.
std::set<int> owned_partitions(const ServerProcess& node) {
  auto res = node.client()->Get("/metrics");
  if (!res || res->status != 200) return {};
  std::set<int> out;
  const auto families = prometheus::parse(res->body);
  if (auto it = families.find("pulse_decider_lag_commands"); it != families.end())
    for (const auto& s : it->second.samples) out.insert(std::stoi(s.labels.at("partition")));
  return out;
}

struct Progress {
  int64_t final_messages = 0;  // delivered + failed
  std::vector<int64_t> final_by_org;
  bool all_completed = true;
};

Progress progress(const ServerProcess& api, const std::vector<Account>& accounts,
                  const std::vector<std::vector<std::string>>& campaigns) {
  Progress p;
  p.final_by_org.assign(accounts.size(), 0);
  simdjson::dom::parser parser;
  for (size_t a = 0; a < accounts.size(); ++a) {
    auto c = api.client(accounts[a]);
    for (const auto& id : campaigns[a]) {
      auto r = c->Get(("/api/campaigns/" + id + "?limit=1").c_str());
      if (!r || r->status != 200) {
        p.all_completed = false;
        continue;
      }
      simdjson::dom::element doc;
      if (parser.parse(r->body).get(doc)) {
        p.all_completed = false;
        continue;
      }
      const int64_t final_messages = int64_t(doc["deliveredCount"]) + int64_t(doc["failedCount"]);
      p.final_messages += final_messages;
      p.final_by_org[a] += final_messages;
      p.all_completed = p.all_completed && std::string_view(doc["status"]) == "completed";
    }
  }
  return p;
}

}  // namespace

TEST_CASE("split roles: 2 API + 2 decider processes, a decider SIGKILLed halfway, none lost") {
  auto cluster = log::MockKafkaCluster::start(1, kPartitions);
  REQUIRE(cluster.ok());
  const auto brokers = (*cluster)->bootstrap_servers();
  TempDir dir;
  const std::vector<std::string> common = {"--kafka",
                                           brokers,
                                           "--partitions",
                                           std::to_string(kPartitions),
                                           "--kafka-fetch-wait-ms",
                                           "10",
                                           "--lease-seconds",
                                           "10",
                                           "--presence-window-seconds",
                                           "20",
                                           "--delivery-window-seconds",
                                           "30",
                                           "--device-rate-per-minute",
                                           "-1",
                                           "--sim-daily-cap",
                                           "-1",
                                           "--max-attempts",
                                           "8"};
  auto with = [&](std::vector<std::string> v) {
    v.insert(v.end(), common.begin(), common.end());
    return v;
  };
  const auto decider_args = with({"--roles", "decider,ticker"});
  auto dec1 = std::make_unique<ServerProcess>(dir.path() / "dec1", decider_args);
  auto dec2 = std::make_unique<ServerProcess>(dir.path() / "dec2", decider_args);
  ServerProcess api1(dir.path() / "api1", with({"--roles", "api,projector"}));
  ServerProcess api2(dir.path() / "api2", with({"--roles", "api,projector"}));
  // A decider node serves only the operations routes.
  // (Not through client(): the contract recordings are of API nodes.)
  httplib::Client raw("127.0.0.1", dec1->port());
  auto none = raw.Get("/api/campaigns");
  REQUIRE(none);
  CHECK(none->status == 404);
  // Both deciders own partitions once the group settled.
  REQUIRE(eventually(
      [&] {
        auto a = owned_partitions(*dec1), b = owned_partitions(*dec2);
        if (a.empty() || b.empty() || a.size() + b.size() != kPartitions) return false;
        for (int p : a)
          if (b.count(p)) return false;
        return true;
      },
      std::chrono::seconds(60)));

  // Accounts on alternating API nodes (each waits for its own writes), a fleet each.
  std::vector<Account> accounts;
  std::vector<std::unique_ptr<BackgroundProcess>> sims;
  for (int i = 0; i < kOrgs; ++i) {
    const ServerProcess& api = i % 2 ? api2 : api1;
    accounts.push_back(api.signup({}, /*with_device=*/false));
    api.set_plan(accounts.back(), "enterprise");
    sims.push_back(
        std::make_unique<BackgroundProcess>(std::vector<std::string>{PULSE_BINARY,
                                                                     "gateway-sim",
                                                                     "--server",
                                                                     api.base_url(),
                                                                     "--api-key",
                                                                     accounts.back().api_key,
                                                                     "--quiet",
                                                                     "--devices",
                                                                     "2",
                                                                     "--send-delay-ms",
                                                                     "1",
                                                                     "--delivery-delay-ms",
                                                                     "20",
                                                                     "--fail-rate",
                                                                     "0.05",
                                                                     "--batch",
                                                                     "100",
                                                                     "--heartbeat-seconds",
                                                                     "2",
                                                                     "--claim-wait",
                                                                     "2",
                                                                     "--seed",
                                                                     std::to_string(40 + i)},
                                            (dir.path() / fmt::format("sim{}.log", i)).string()));
  }
  // Sends once each organisation has a phone online (else 400: no gateway).
  std::vector<std::vector<std::string>> campaigns(kOrgs);
  const auto send_start = Clock::now();
  for (int i = 0; i < kOrgs; ++i) {
    const ServerProcess& api = i % 2 ? api1 : api2;  // the other node than the sign-up's
    auto c = api.client(accounts[i]);
    for (int first = 0; first < kPerOrg; first += kPerSend) {
      const int n = std::min(kPerSend, kPerOrg - first);
      // Retried only while no phone is online yet (400: nothing appended), so that no
      // campaign is created twice.
      REQUIRE(eventually(
          [&] {
            auto r = c->Post("/api/sms/send", send_body(n, first), "application/json");
            REQUIRE(r);
            if (r->status == 400) return false;
            REQUIRE_MESSAGE(r->status == 201, r->body);
            campaigns[i].push_back(json_field(r->body, "campaignId"));
            return true;
          },
          std::chrono::seconds(60)));
    }
  }

  // Halfway through the first organisation's messages: SIGKILL the decider owning its
  // partition, and start it again.
  REQUIRE(
      eventually([&] { return progress(api1, accounts, campaigns).final_by_org[0] >= kPerOrg / 3; },
                 std::chrono::seconds(120)));
  auto probe = log::open_kafka_log(log::KafkaOptions{brokers, kPartitions});
  REQUIRE(probe.ok());
  const int busy = (*probe)->partition_for(accounts[0].org_id).value;
  probe->reset();
  const bool first_owns = owned_partitions(*dec1).count(busy) > 0;
  auto& victim = first_owns ? dec1 : dec2;
  auto& survivor = first_owns ? dec2 : dec1;
  const auto victim_dir = dir.path() / (first_owns ? "dec1" : "dec2");
  victim->kill9();
  const auto at_kill = progress(api1, accounts, campaigns);
  MESSAGE("killed the decider of partition ", busy, " at ", at_kill.final_messages,
          " final messages (", at_kill.final_by_org[0], " of the first organisation's)");
  CHECK(at_kill.final_by_org[0] < kPerOrg);  // it had work left: its partition moved
  // The survivor takes the partition over once the victim's session times out (6 s), from
  // the event log; then the victim comes back, and the group rebalances again.
  const auto killed_at = Clock::now();
  REQUIRE(eventually([&] { return owned_partitions(*survivor).count(busy) > 0; },
                     std::chrono::seconds(60)));
  MESSAGE("partition ", busy, " taken over ",
          std::chrono::duration<double>(Clock::now() - killed_at).count(), " s after the kill");
  victim = std::make_unique<ServerProcess>(victim_dir, decider_args);

  REQUIRE(eventually([&] { return progress(api1, accounts, campaigns).all_completed; },
                     std::chrono::seconds(180)));
  MESSAGE("5,000 messages final ", std::chrono::duration<double>(Clock::now() - send_start).count(),
          " s after the sends");
  REQUIRE(eventually([&] { return progress(api2, accounts, campaigns).all_completed; },
                     std::chrono::seconds(30)));

  // Campaign counts equal their messages' states, on both replicas, every message final.
  simdjson::dom::parser parser;
  std::set<std::string> message_ids;
  for (const ServerProcess* api : {&api1, &api2}) {
    for (int i = 0; i < kOrgs; ++i) {
      auto c = api->client(accounts[i]);
      for (const auto& id : campaigns[i]) {
        auto r = c->Get(("/api/campaigns/" + id + "?limit=1000").c_str());
        REQUIRE(r);
        REQUIRE(r->status == 200);
        simdjson::dom::element doc;
        REQUIRE(!parser.parse(r->body).get(doc));
        int64_t delivered = 0, failed = 0, other = 0, total = 0;
        for (auto m : doc["messages"].get_array()) {
          const std::string_view status = m["status"];
          ++total;
          if (status == "delivered")
            ++delivered;
          else if (status == "failed")
            ++failed;
          else
            ++other;
          message_ids.insert(std::string(std::string_view(m["id"])));
        }
        CHECK(total == int64_t(doc["totalMessages"]));
        CHECK(other == 0);
        CHECK(delivered == int64_t(doc["deliveredCount"]));
        CHECK(failed == int64_t(doc["failedCount"]));
        CHECK(int64_t(doc["queuedCount"]) == 0);
        CHECK(int64_t(doc["sendingCount"]) == 0);
      }
    }
  }
  CHECK(message_ids.size() == kOrgs * kPerOrg);

  // Exactly once, from the event log itself: no event id twice (a command decided by two
  // owners would repeat its events' ids), and each message finished by exactly one event.
  auto [code, out] = run_command(
      {PULSE_BINARY, "events", "--kafka", brokers, "--partitions", std::to_string(kPartitions)});
  REQUIRE(code == 0);
  std::set<std::string> event_ids;
  std::map<std::string, int> finished;  // message id -> MessagesDelivered/Failed mentions
  size_t duplicates = 0, lines = 0;
  for (size_t pos = 0; pos < out.size();) {
    const auto eol = out.find('\n', pos);
    const std::string line = out.substr(pos, eol - pos);
    pos = eol == std::string::npos ? out.size() : eol + 1;
    if (line.empty()) continue;
    ++lines;
    simdjson::dom::element ev;
    REQUIRE(!parser.parse(line).get(ev));
    if (!event_ids.insert(std::string(std::string_view(ev["id"]))).second) ++duplicates;
    const std::string_view type = ev["type"];
    if (type == "MessagesDelivered" || type == "MessagesFailed")
      for (auto m : ev["data"]["messages"].get_array())
        ++finished[std::string(std::string_view(m["id"]))];
  }
  CHECK(duplicates == 0);
  CHECK(finished.size() == message_ids.size());
  size_t twice = 0;
  for (const auto& [id, n] : finished) twice += n != 1;
  CHECK(twice == 0);
  MESSAGE(lines, " events in the log");
  // The partition was taken over from the event log (see DeciderRunner::catch_up).
  std::string logs;
  for (const char* d : {"dec1", "dec2"}) {
    std::ifstream in(dir.path().string() + "/" + d + ".stderr.log");
    logs += std::string(std::istreambuf_iterator<char>(in), {});
  }
  CHECK(logs.find(fmt::format("partition {}: caught up from command", busy)) != std::string::npos);
  for (size_t pos = 0; (pos = logs.find("caught up from command", pos)) != std::string::npos;) {
    const auto start = logs.rfind('\n', pos) + 1;
    const auto end = logs.find('\n', pos);
    MESSAGE(logs.substr(start, end - start));
    pos = end;
  }
  for (auto& s : sims) s->stop(SIGTERM);
}

}  // namespace pulse::testing
