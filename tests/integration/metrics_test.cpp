// GET /metrics scraped from a real server and parsed by the text-format rules; /readyz.
#include <doctest/doctest.h>

#include "tests/adapters/prometheus_text.h"
#include "tests/integration/server_process.h"

namespace pulse::testing {

TEST_CASE("GET /metrics: Prometheus text format with the server's figures; /readyz") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  auto account = server.signup();
  auto c = server.client(account);
  c->set_keep_alive(true);  // one connection: each request starts after the one before is counted
  auto sent =
      c->Post("/api/sms/send", R"({"recipients":[{"phone":"+14155552671"}],"message":"Hello"})",
              "application/json");
  REQUIRE(sent);
  REQUIRE(sent->status == 201);
  REQUIRE(c->Get(("/api/campaigns/" + json_field(sent->body, "campaignId")).c_str()));
  // A request is counted just after its response is written, before its connection reads the
  // next one: once this answers, the GET above is counted.
  REQUIRE(c->Get("/healthz"));

  auto ready = server.client()->Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);

  auto res = server.client()->Get("/metrics");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  CHECK(res->get_header_value("Content-Type").starts_with("text/plain; version=0.0.4"));
  std::map<std::string, prometheus::Family> families;
  try {
    families = prometheus::parse(res->body);
  } catch (const std::exception& e) {
    FAIL(e.what(), "\n", res->body);
  }
  auto has = [&](const std::string& name, const std::string& type) {
    INFO(name);
    REQUIRE(families.count(name));
    CHECK(families.at(name).type == type);
    CHECK_FALSE(families.at(name).help.empty());
    return families.at(name).samples;
  };
  auto find = [](const std::vector<prometheus::Sample>& samples, const std::string& name,
                 const std::map<std::string, std::string>& want) -> const prometheus::Sample* {
    for (const auto& s : samples) {
      if (s.name != name) continue;
      bool all = true;
      for (const auto& [k, v] : want) all = all && s.labels.count(k) && s.labels.at(k) == v;
      if (all) return &s;
    }
    return nullptr;
  };
  const auto requests = has("pulse_http_requests_total", "counter");
  const auto* sends = find(requests, "pulse_http_requests_total",
                           {{"method", "POST"}, {"route", "/api/sms/send"}, {"status", "201"}});
  REQUIRE(sends);
  CHECK(sends->value == 1);
  CHECK(find(requests, "pulse_http_requests_total",
             {{"method", "GET"}, {"route", "/api/campaigns/{id}"}, {"status", "200"}}));
  const auto latency = has("pulse_http_request_duration_seconds", "histogram");
  const auto* count = find(latency, "pulse_http_request_duration_seconds_count",
                           {{"method", "POST"}, {"route", "/api/sms/send"}});
  REQUIRE(count);
  CHECK(count->value == 1);
  const auto appends = has("pulse_log_append_duration_seconds", "histogram");
  CHECK(find(appends, "pulse_log_append_duration_seconds_count", {{"topic", "pulse.commands"}}));
  CHECK(find(appends, "pulse_log_append_duration_seconds_count", {{"topic", "pulse.events"}}));
  const auto lag = has("pulse_projector_lag_events", "gauge");
  CHECK(lag.size() == 4);  // one per partition
  for (const auto& s : lag) CHECK(s.labels.count("partition"));
  CHECK(has("pulse_decider_lag_commands", "gauge").size() == 4);
  const auto online = has("pulse_devices_online", "gauge");
  REQUIRE(online.size() == 1);
  CHECK(online[0].value == 1);
  const auto messages = has("pulse_messages", "gauge");
  const auto* queued = find(messages, "pulse_messages", {{"status", "queued"}});
  REQUIRE(queued);
  CHECK(queued->value == 1);
  has("pulse_webhook_outbox_depth", "gauge");  // a hook the webhook dispatcher fills
  const auto reachable = has("pulse_log_reachable", "gauge");
  REQUIRE(reachable.size() == 1);
  CHECK(reachable[0].value == 1);
}

}  // namespace pulse::testing
