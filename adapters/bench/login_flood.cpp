// The log-in flood figure: authenticated requests' p99 while log-ins with wrong passwords
// arrive at 18 a second whatever their answers (a rate that kept both cores of a 2-core server
// busy hashing), each from a new loopback address (127/8 all answers locally) for a new e-mail,
// as a flood from many addresses would; beside the same requests on the idle server.
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
constexpr int kFloodClients = 48;       // enough that answers held up to 3 s don't slow the flood
constexpr double kFloodPerSecond = 18;  // over all clients

struct FloodCounts {
  std::atomic<int64_t> sent{0}, unauthorized{0}, refused{0}, slow{0}, other{0};
};

// Until `stop`: one log-in per connection every `every` (sent late rather than skipped when an
// answer takes longer), each from a random 127.x.y.z source address and for a random e-mail (an
// unknown one is verified against a dummy hash, as slow as a real one), so neither the throttle
// per address nor a lock-out stops it: only the hash pool's queue does.
void flood(int port, int seed, Clock::time_point start, Clock::duration every,
           const std::atomic<bool>& stop, FloodCounts& counts) {
  std::mt19937 rng(static_cast<uint32_t>(seed));
  for (auto next = start; !stop; next += every) {
    std::this_thread::sleep_until(next);
    if (stop) break;
    ++counts.sent;
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
    else if (r && r->status == 503)
      ++counts.slow;
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
  const auto every = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(kFloodClients / kFloodPerSecond));
  for (int i = 0; i < kFloodClients; ++i)
    flooders.emplace_back([&, i] {
      // Staggered, so the log-ins arrive evenly rather than in bursts of kFloodClients.
      flood(port, 7919 * (i + 1), flood_start + every * i / kFloodClients, every, stop, counts);
    });
  const auto busy = run_load(port, load, authenticated);
  stop = true;
  const double flood_seconds = seconds_since(flood_start);
  for (auto& t : flooders) t.join();

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
  row.note = fmt::format(
      "GET /api/api-keys from 2 clients, p50 {:.2f} ms flooded / {:.2f} ms idle; the flood: "
      "{:.1f} log-ins/s sent by {} clients, each from a new address ({} checked and refused with "
      "401, {} answered 429 with the hash queue full, {} 503 with no hash in time, {} other)",
      percentile(busy.latency_ms, 50), percentile(idle.latency_ms, 50),
      static_cast<double>(counts.sent.load()) / flood_seconds, kFloodClients,
      counts.unauthorized.load(), counts.refused.load(), counts.slow.load(), counts.other.load());
  return {row};
}

}  // namespace pulse::bench
