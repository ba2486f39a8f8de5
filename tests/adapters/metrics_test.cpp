// The Prometheus exposition Metrics renders, read back by a strict text-format parser.
#include <doctest/doctest.h>

#include "adapters/runtime/metrics.h"
#include "tests/adapters/prometheus_text.h"

namespace pulse::runtime {

TEST_CASE("metrics render the text format: escaping, histograms, collectors") {
  Metrics m;
  m.describe("t_requests_total", "Requests.\nSecond line with a \\ backslash.", "counter");
  m.add("t_requests_total", {{"route", R"(/a"b\c)"}, {"status", "200"}});
  m.add("t_requests_total", {{"route", "line\nbreak"}, {"status", "500"}}, 2);
  m.describe("t_latency_seconds", "Latency.", "histogram");
  for (double v : {0.0001, 0.003, 0.003, 0.2, 30.0})
    m.observe("t_latency_seconds", {{"r", "x"}}, v);
  m.observe("t_latency_seconds", {}, 0.5);
  m.collect("t_lag", "Lag.", [] {
    return std::vector<Metrics::Sample>{{{{"partition", "0"}}, 3}, {{{"partition", "1"}}, 0.25}};
  });
  m.describe("t_empty", "No samples yet.", "gauge");
  const auto text = m.render();
  const auto families = testing::prometheus::parse(text);
  REQUIRE(families.count("t_requests_total"));
  CHECK(families.at("t_requests_total").type == "counter");
  const auto& req = families.at("t_requests_total").samples;
  REQUIRE(req.size() == 2);
  bool quoted = false, broken = false;
  for (const auto& s : req) {
    quoted = quoted || s.labels.at("route") == R"(/a"b\c)";
    broken = broken || (s.labels.at("route") == "line\nbreak" && s.value == 2);
  }
  CHECK(quoted);
  CHECK(broken);
  const auto& h = families.at("t_latency_seconds");
  CHECK(h.type == "histogram");
  for (const auto& s : h.samples)
    if (s.name == "t_latency_seconds_count" && s.labels.count("r")) CHECK(s.value == 5);
  CHECK(families.at("t_lag").samples.size() == 2);
  CHECK(families.at("t_empty").samples.empty());
}

TEST_CASE("the text-format parser refuses what Prometheus refuses") {
  using testing::prometheus::parse;
  CHECK_THROWS(parse("1abc 1\n"));
  CHECK_THROWS(parse("a{b=\"x} 1\n"));
  CHECK_THROWS(parse("a{b=\"\\x\"} 1\n"));
  CHECK_THROWS(parse("a one\n"));
  CHECK_THROWS(parse("a 1\nb 1\na 2\n"));
  CHECK_THROWS(
      parse("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"0.5\"} 2\n"
            "h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n"));
  CHECK_THROWS(parse("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_sum 1\nh_count 2\n"));
  CHECK_THROWS(parse("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 3\nh_sum 1\nh_count 2\n"));
  CHECK_NOTHROW(parse("# HELP a x\n# TYPE a gauge\na{b=\"1\",} NaN\na -Inf 123\n"));
}

TEST_CASE("routes of request paths: ids become {id}") {
  CHECK(route_of("/api/campaigns/cmp_01m8115bqek3g600") == "/api/campaigns/{id}");
  CHECK(route_of("/api/campaigns") == "/api/campaigns");
  CHECK(route_of("/api/devices/pairing/abc123/qr.svg") == "/api/devices/pairing/{id}/qr.svg");
  CHECK(route_of("/metrics") == "/metrics");
  CHECK(route_of("") == "other");
}

}  // namespace pulse::runtime
