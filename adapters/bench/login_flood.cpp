// The log-in flood figure: authenticated requests' p99 while log-ins with wrong passwords
// arrive as fast as 4 clients send them, each from a new loopback address (127/8 all answers
// locally) for a new e-mail, as a flood from many addresses would; beside the same requests on
// the idle server.
#include <httplib.h>

#include <atomic>
#include <random>

#include "adapters/bench/figures.h"
#include "adapters/bench/harness.h"
#include "fmt/format.h"

namespace pulse::bench {
namespace {

constexpr const char* kFigure = "login_flood_p99";
constexpr const char* kTarget = "<= 2";
constexpr int kFloodClients = 4;

struct FloodCounts {
  std::atomic<int64_t> unauthorized{0}, refused{0}, other{0};
};

// Until `stop`: one log-in per connection, each from a random 127.x.y.z source address and
// for a random e-mail (an unknown one is verified against a dummy hash, as slow as a real one),
// so neither the throttle per address nor a lock-out stops it: only the bound on hashing does.
void flood(int port, int seed, const std::atomic<bool>& stop, FloodCounts& counts) {
  std::mt19937 rng(static_cast<uint32_t>(seed));
  while (!stop) {
    const auto body =
        fmt::format(R"({{"email":"flood{}@example.com","password":"not it"}})", rng());
    httplib::Client c("127.0.0.1", port);
    c.set_interface(fmt::format("127.{}.{}.{}", 1 + rng() % 250, rng() % 250, 1 + rng() % 250));
    c.set_connection_timeout(5);
    c.set_read_timeout(10);
    auto r = c.Post("/api/auth/login", body, "application/json");
    if (r && r->status == 401)
      ++counts.unauthorized;
    else if (r && r->status == 429)
      ++counts.refused;
    else
      ++counts.other;
  }
}

}  // namespace

std::vector<Row> login_flood(const Settings& s) {
  LoadOptions load;
  load.clients = 2;
  load.warmup = std::chrono::milliseconds(s.quick ? 300 : 1000);
  load.duration = std::chrono::milliseconds(s.quick ? 3000 : 10000);

  auto server = PulseServer::start("login-flood");
  if (!server) return {failed_row(kFigure, "ms", kTarget, server.error().details)};
  const int port = (*server)->port();
  const auto org = spread_orgs(1, (*server)->app().log().partition_count()).front();
  if (auto st = provision((*server)->app(), {org}); !st)
    return {failed_row(kFigure, "ms", kTarget, st.error().details)};
  const auto authenticated = [&](int) {
    return HttpCall{"GET", "/api/api-keys", {}, org_headers(org), 200};
  };
  const auto idle = run_load(port, load, authenticated);

  std::atomic<bool> stop{false};
  FloodCounts counts;
  std::vector<std::thread> flooders;
  const auto flood_start = Clock::now();
  for (int i = 0; i < kFloodClients; ++i)
    flooders.emplace_back([&, i] { flood(port, 7919 * (i + 1), stop, counts); });
  const auto busy = run_load(port, load, authenticated);
  stop = true;
  for (auto& t : flooders) t.join();
  const double flood_seconds = seconds_since(flood_start);

  for (const auto* r : {&idle, &busy})
    if (r->failed > 0 || r->ok == 0)
      return {failed_row(kFigure, "ms", kTarget,
                         fmt::format("{} of {} requests failed: {}", r->failed, r->failed + r->ok,
                                     r->first_failure))};
  Row row;
  row.figure = kFigure;
  row.value = percentile(busy.latency_ms, 99);
  row.unit = "ms";
  row.baseline = percentile(idle.latency_ms, 99);
  row.ratio = *row.baseline > 0 ? *row.value / *row.baseline : 0;
  row.target = kTarget;
  row.met = *row.ratio <= 2.0;
  const auto attempts = counts.unauthorized + counts.refused + counts.other;
  row.note = fmt::format(
      "GET /api/api-keys from 2 clients, p50 {:.2f} ms flooded / {:.2f} ms idle; the flood: "
      "{:.0f} log-ins/s from {} clients, each from a new address ({} checked and refused with "
      "401, {} answered 429 before hashing, {} other)",
      percentile(busy.latency_ms, 50), percentile(idle.latency_ms, 50),
      static_cast<double>(attempts) / flood_seconds, kFloodClients, counts.unauthorized.load(),
      counts.refused.load(), counts.other.load());
  return {row};
}

}  // namespace pulse::bench
