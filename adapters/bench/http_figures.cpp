// HTTP figures: command latency (1-recipient sends, 8 clients) and queries (a 10,000-message
// campaign, 32 connections), each beside a bare cpp-httplib handler answering the same bytes.
#include "adapters/bench/figures.h"
#include "adapters/bench/harness.h"
#include "adapters/log/embedded_log.h"
#include "fmt/format.h"

namespace pulse::bench {

Row failed_row(const std::string& figure, const std::string& unit, const std::string& target,
               const std::string& why) {
  Row r;
  r.figure = figure;
  r.unit = unit;
  r.target = target;
  r.met = false;
  r.note = "not measured: " + why;
  r.emit_json = false;
  return r;
}

std::string at_least(double goal) {
  return fmt::format(">= {}", goal);
}

std::vector<Row> command_latency(const Settings& s) {
  constexpr int kClients = 8;
  LoadOptions load;
  load.clients = kClients;
  load.warmup = std::chrono::milliseconds(s.quick ? 500 : 1500);
  load.duration = std::chrono::milliseconds(s.quick ? 3000 : 10000);

  constexpr double kP99Ms = 5;
  const auto target = fmt::format("< {} ms", kP99Ms);
  auto fail = [&](const std::string& why) {
    return std::vector<Row>{failed_row("command_latency_p99", "ms", target, why)};
  };

  LoadResult pulse;
  {
    auto server = PulseServer::start("latency");
    if (!server) return fail(server.error().details);
    const auto orgs = spread_orgs(kClients, (*server)->app().log().partition_count());
    if (auto st = provision((*server)->app(), orgs); !st) return fail(st.error().details);
    pulse = run_load((*server)->port(), load, [&](int i) {
      return HttpCall{"POST", "/api/sms/send", send_body(1, i),
                      org_headers(orgs[static_cast<size_t>(i)]), 201};
    });
  }
  if (pulse.failed > 0 || pulse.ok == 0)
    return fail(fmt::format("{} of {} requests failed: {}", pulse.failed, pulse.failed + pulse.ok,
                            pulse.first_failure));

  // Same request bodies; the answer is a 201 of the very bytes Pulse answered.
  BareServer bare("POST", "/api/sms/send", 201, pulse.last_body);
  const auto raw = run_load(bare.port(), load, [&](int i) {
    return HttpCall{"POST", "/api/sms/send", send_body(1, i), {}, 201};
  });

  const double p50 = percentile(pulse.latency_ms, 50), p99 = percentile(pulse.latency_ms, 99);
  const double b50 = percentile(raw.latency_ms, 50), b99 = percentile(raw.latency_ms, 99);
  Row r50;
  r50.figure = "command_latency_p50";
  r50.value = p50;
  r50.unit = "ms";
  r50.baseline = b50;
  r50.ratio = b50 > 0 ? p50 / b50 : 0;
  r50.target = "report";
  r50.note = fmt::format(
      "{} clients, 1 recipient each: {:.0f} req/s over {:.1f} s (bare handler {:.0f} req/s); "
      "latency ratios are Pulse / bare (lower is better)",
      kClients, pulse.rate(), pulse.seconds, raw.rate());
  Row r99 = r50;
  r99.figure = "command_latency_p99";
  r99.value = p99;
  r99.baseline = b99;
  r99.ratio = b99 > 0 ? p99 / b99 : 0;
  r99.target = target;
  r99.met = p99 < kP99Ms;
  r99.note.clear();
  return {r50, r99};
}

std::vector<Row> query(const Settings& s) {
  constexpr int kClients = 32;
  constexpr int kMessages = 10'000;
  LoadOptions load;
  load.clients = kClients;
  load.warmup = std::chrono::milliseconds(s.quick ? 500 : 1500);
  load.duration = std::chrono::milliseconds(s.quick ? 3000 : 10000);

  constexpr double kGoal = 0.6;
  auto fail = [&](const std::string& why) {
    return std::vector<Row>{failed_row("query", "req/s", at_least(kGoal), why)};
  };

  LoadResult pulse;
  std::string body;
  {
    auto server = PulseServer::start("query");
    if (!server) return fail(server.error().details);
    auto& app = (*server)->app();
    const auto org = spread_orgs(1, app.log().partition_count()).front();
    if (auto st = provision(app, {org}); !st) return fail(st.error().details);
    // Straight to the log: the HTTP API takes at most 500 recipients per request.
    const auto cmd = send_command(org, kMessages, app.clock().now());
    if (auto done = append_and_wait(app, {cmd}, std::chrono::seconds(120)); !done)
      return fail(done.error().details);
    const HttpCall call{"GET",
                        "/api/campaigns/" + std::get<SendSms>(cmd.body).campaign_id.value,
                        {},
                        org_headers(org),
                        200};
    auto first = http_once((*server)->port(), call);
    if (first.status != 200 ||
        first.body.find(fmt::format("\"totalMessages\":{}", kMessages)) == std::string::npos)
      return fail(fmt::format("GET answered {}: {}", first.status, first.body.substr(0, 200)));
    body = std::move(first.body);
    pulse = run_load((*server)->port(), load, [&](int) { return HttpCall(call); });
  }
  if (pulse.failed > 0 || pulse.ok == 0)
    return fail(fmt::format("{} of {} requests failed: {}", pulse.failed, pulse.failed + pulse.ok,
                            pulse.first_failure));

  BareServer bare("GET", R"(/api/campaigns/([^/]+))", 200, body);
  const auto raw = run_load(bare.port(), load, [&](int) {
    return HttpCall{"GET", "/api/campaigns/cmp_bare", {}, {}, 200};
  });

  Row r;
  r.figure = "query";
  r.value = pulse.rate();
  r.unit = "req/s";
  r.baseline = raw.rate();
  r.ratio = raw.rate() > 0 ? pulse.rate() / raw.rate() : 0;
  r.target = at_least(kGoal);
  r.met = *r.ratio >= kGoal;
  r.note = fmt::format(
      "GET /api/campaigns/{{id}} of a {}-message campaign (first page: 500 messages, {} KiB) "
      "from {} connections for {:.1f} s",
      kMessages, body.size() / 1024, kClients, pulse.seconds);
  Row p99;
  p99.figure = "query_p99";
  p99.value = percentile(pulse.latency_ms, 99);
  p99.unit = "ms";
  p99.baseline = percentile(raw.latency_ms, 99);
  p99.ratio = *p99.baseline > 0 ? *p99.value / *p99.baseline : 0;
  p99.target = "report";
  return {r, p99};
}

}  // namespace pulse::bench
