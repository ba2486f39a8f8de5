// A `pulse serve --kafka` process against a librdkafka mock cluster this test owns: while the
// broker is down, writes answer 503 with Retry-After (never a 500), queries keep serving the
// last state, and everything resumes on its own once the broker is back.
#include <doctest/doctest.h>

#include <chrono>
#include <regex>

#include "adapters/log/kafka_log.h"
#include "tests/integration/server_process.h"

namespace pulse::testing {
namespace {

using Clock = std::chrono::steady_clock;

const std::string kSend =
    R"({"recipients":[{"phone":"+14155552671","name":"Ada"}],"message":"Hi {{firstName}}"})";

size_t count_campaigns(httplib::Client& c) {
  auto res = c.Get("/api/campaigns?limit=200");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  const std::regex id(R"("id":"cmp_)");
  return static_cast<size_t>(
      std::distance(std::sregex_iterator(res->body.begin(), res->body.end(), id), {}));
}

}  // namespace

TEST_CASE("kafka broker down: writes answer 503 with Retry-After, reads serve, all resumes") {
  auto cluster = log::MockKafkaCluster::start(1, 4);
  REQUIRE(cluster.ok());
  TempDir dir;
  ServerProcess server(dir.path() / "data",
                       {"--kafka", (*cluster)->bootstrap_servers(), "--partitions", "4"});
  auto account = server.signup();
  auto c = server.client(account);

  auto first = c->Post("/api/sms/send", kSend, "application/json");
  REQUIRE(first);
  REQUIRE(first->status == 201);
  const auto campaign = json_field(first->body, "campaignId");
  auto before = c->Get(("/api/campaigns/" + campaign).c_str());
  REQUIRE(before);
  REQUIRE(before->status == 200);
  size_t acked = 1;
  size_t ambiguous = 0;  // 503s that say the command may still be applied

  (*cluster)->set_broker_down(1, true);
  int unavailable_in_a_row = 0;
  const auto down_deadline = Clock::now() + std::chrono::seconds(60);
  while (unavailable_in_a_row < 5) {
    REQUIRE(Clock::now() < down_deadline);
    const auto start = Clock::now();
    auto res = c->Post("/api/sms/send", kSend, "application/json");
    REQUIRE(res);
    // Bounded: the delivery timeout (5 s) and its margin at worst, at once once detected.
    CHECK(Clock::now() - start < std::chrono::seconds(12));
    REQUIRE_MESSAGE((res->status == 201 || res->status == 503), res->status, " ", res->body);
    if (res->status == 201) {
      ++acked;  // sent before the server noticed
      unavailable_in_a_row = 0;
      continue;
    }
    CHECK(res->has_header("Retry-After"));
    CHECK(res->body.find("\"error\":") != std::string::npos);
    CHECK(res->body.find("\"details\":") != std::string::npos);
    if (res->body.find("possibly appended") != std::string::npos ||
        res->body.find("not yet applied") != std::string::npos)
      ++ambiguous;
    ++unavailable_in_a_row;
  }
  // The last answers came fast: the server fails appends at once while the broker is down.
  {
    const auto start = Clock::now();
    auto res = c->Post("/api/sms/send", kSend, "application/json");
    REQUIRE(res);
    CHECK(res->status == 503);
    CHECK(Clock::now() - start < std::chrono::seconds(2));
  }
  // Queries serve the last state.
  auto during = c->Get(("/api/campaigns/" + campaign).c_str());
  REQUIRE(during);
  CHECK(during->status == 200);
  CHECK(during->body == before->body);
  auto health = server.client()->Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  // Not ready (a load balancer takes the node out), and the metrics say why.
  auto ready = server.client()->Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 503);
  CHECK(ready->has_header("Retry-After"));
  auto metrics = server.client()->Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->status == 200);
  CHECK(metrics->body.find("\npulse_log_reachable 0\n") != std::string::npos);

  (*cluster)->set_broker_down(1, false);
  const auto up_deadline = Clock::now() + std::chrono::seconds(60);
  for (;;) {
    REQUIRE(Clock::now() < up_deadline);
    auto res = c->Post("/api/sms/send", kSend, "application/json");
    REQUIRE(res);
    REQUIRE_MESSAGE((res->status == 201 || res->status == 503), res->status, " ", res->body);
    if (res->status == 201) {
      ++acked;
      break;
    }
    if (res->body.find("possibly appended") != std::string::npos ||
        res->body.find("not yet applied") != std::string::npos)
      ++ambiguous;
  }
  auto ready_again = server.client()->Get("/readyz");
  REQUIRE(ready_again);
  CHECK(ready_again->status == 200);
  // No silent drop, nothing applied behind the client's back: every campaign was acknowledged,
  // or its 503 said its outcome was unknown.
  const auto campaigns = count_campaigns(*c);
  CHECK(campaigns >= acked);
  CHECK(campaigns <= acked + ambiguous);
}

}  // namespace pulse::testing
