// The webhooks figure: deliveries per second from Pulse's dispatcher to a local subscriber, and
// event-to-delivery latency (the event's time to the subscriber's receipt), beside a bare
// cpp-httplib client posting the same bodies with the same concurrency (the per-endpoint limit).
#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <mutex>
#include <random>

#include "adapters/auth/crypto.h"
#include "adapters/bench/figures.h"
#include "adapters/bench/harness.h"
#include "adapters/codec/json_codec.h"
#include "adapters/store/kv_store.h"
#include "adapters/webhooks/delivery_store.h"
#include "domain/ids.h"
#include "fmt/format.h"

namespace pulse::bench {
namespace {

// Counts deliveries and their latency from the payload's createdAt. Owns its serving thread.
class Subscriber {
 public:
  Subscriber() {
    server_.new_task_queue = [] { return new httplib::ThreadPool(32); };
    server_.set_tcp_nodelay(true);
    server_.set_keep_alive_max_count(100000);  // a subscriber built for volume
    int fd = -1;
    server_.set_socket_options([&](int sock) {
      httplib::default_socket_options(sock);
      fd = sock;
    });
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      const auto now = std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
      std::optional<TimePoint> created;
      const auto at = req.body.find(R"("createdAt":")");
      if (at != std::string::npos) created = parse_iso8601(req.body.substr(at + 13, 24));
      {
        std::lock_guard lock(mu_);
        if (created) latency_ms_.push_back(static_cast<double>((now - *created).count()));
        if (body_.empty()) {
          body_ = req.body;
          first_ = Clock::now();
        }
        last_ = Clock::now();
      }
      ++count_;
      res.status = 200;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (fd >= 0) ::listen(fd, 1024);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Subscriber() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  int64_t count() const { return count_.load(); }
  std::vector<double> latencies() {
    std::lock_guard lock(mu_);
    auto v = latency_ms_;
    std::sort(v.begin(), v.end());
    return v;
  }
  void clear_latencies() {
    std::lock_guard lock(mu_);
    latency_ms_.clear();
  }
  std::string body() {
    std::lock_guard lock(mu_);
    return body_;
  }
  Clock::time_point last() {
    std::lock_guard lock(mu_);
    return last_;
  }
  Clock::time_point first() {
    std::lock_guard lock(mu_);
    return first_;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int64_t> count_{0};
  std::mutex mu_;
  std::vector<double> latency_ms_;
  std::string body_;
  Clock::time_point first_, last_;
};

}  // namespace

std::vector<Row> webhooks(const Settings& s) {
  const int n = s.quick ? 2000 : 10000;
  constexpr double kGoal = 0.7;
  TempDir dir("webhooks");
  runtime::SystemTimeSource clock;
  SeededRandom random{std::random_device{}()};
  AppOptions options = bench_app_options(dir.path());
  options.allow_private_webhooks = true;  // the subscriber is on 127.0.0.1
  auto fail = [&](const std::string& why) {
    return std::vector<Row>{failed_row("webhooks", "deliveries/s", at_least(kGoal), why)};
  };
  {
    // A dispatch store that takes the outbox from its start (a fresh one would start at its
    // end, see Dispatcher::start), so that deliveries projected while dispatch is off are sent
    // once it is on: the figure is then the dispatcher's alone, not the decider's and the
    // projector's competing with it for the cores.
    auto state = store::KvStore::open(dir.path() / "webhooks");
    if (!state) return fail(state.error().details);
    if (auto st = (*state)->write({{std::string(webhooks::keys::kInit), std::string("1")}}, true);
        !st)
      return fail(st.error().details);
  }
  Subscriber sub;
  const WebhookId hook{make_id(id_prefix::webhook, clock.now(), 1)};
  OrgId org;
  {
    options.webhook_dispatch = false;
    auto app = App::open(options, clock, random);
    if (!app) return fail(app.error().details);
    if (auto st = (*app)->wait_ready(Clock::now() + std::chrono::seconds(60)); !st)
      return fail(st.error().details);
    org = spread_orgs(1, (*app)->log().partition_count()).front();
    if (auto st = provision(**app, {org}); !st) return fail(st.error().details);
    const auto url = fmt::format("http://127.0.0.1:{}/hook", sub.port());
    auto now = clock.now();
    // Sealed, as the API creates it: the dispatcher opens it for every delivery.
    auto secret =
        (*app)->sealer().seal("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                              webhook_secret_context(hook), auth::random_hex(kSealNonceBytes));
    if (!secret) return fail(secret.error().details);
    std::vector<CommandEnvelope> cmds = {
        CommandEnvelope{CommandId{make_id(id_prefix::command, now, 1)}, org, now,
                        CreateWebhook{hook, url, {"message.sent"}, "bench", *secret}}};
    // n test pings: each event becomes one delivery, signed and posted by the dispatcher.
    for (int i = 0; i < n; ++i) {
      now = clock.now();
      cmds.push_back(CommandEnvelope{
          CommandId{make_id(id_prefix::command, now, static_cast<uint64_t>(i) + 10)}, org, now,
          PingWebhook{hook}});
    }
    if (auto done = append_and_wait(**app, cmds, std::chrono::seconds(120)); !done)
      return fail(done.error().details);
  }
  options.webhook_dispatch = true;
  const auto t0 = Clock::now();
  auto app = App::open(options, clock, random);
  if (!app) return fail(app.error().details);
  const auto deadline = Clock::now() + std::chrono::seconds(s.quick ? 60 : 180);
  while (sub.count() < n && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (sub.count() < n)
    return fail(fmt::format("{} of {} deliveries arrived in time", sub.count(), n));
  const double seconds = std::chrono::duration<double>(sub.last() - t0).count();
  const double flowing = std::chrono::duration<double>(sub.last() - sub.first()).count();
  const double rate = (n - 1) / flowing;

  // Latency without a backlog: pings one at a time, paced at 200/s.
  const int paced = s.quick ? 400 : 1000;
  sub.clear_latencies();
  const auto before = sub.count();
  for (int i = 0; i < paced; ++i) {
    const auto now = clock.now();
    const CommandEnvelope ping{
        CommandId{make_id(id_prefix::command, now, static_cast<uint64_t>(n + i) + 10)}, org, now,
        PingWebhook{hook}};
    const log::Record record{partition_key(ping), codec::encode(ping)};
    if (auto st = (*app)->log().append(log::kCommandsTopic, std::span(&record, 1)); !st)
      return fail(st.error().details);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const auto paced_deadline = Clock::now() + std::chrono::seconds(30);
  while (sub.count() < before + paced && Clock::now() < paced_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto latency = sub.latencies();
  const std::string body = sub.body();
  app->reset();

  // The baseline: the same bodies, the same concurrency, a bare keep-alive client each.
  const int concurrency = webhooks::DispatcherOptions{}.per_endpoint;
  Subscriber bare;
  const auto b0 = Clock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < concurrency; ++c)
    clients.emplace_back([&, c] {
      httplib::Client client("127.0.0.1", bare.port());
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      for (int i = c; i < n; i += concurrency)
        client.Post("/hook", {{"webhook-id", "x"}}, body, "application/json");
    });
  for (auto& t : clients) t.join();
  const double bare_rate = n / std::chrono::duration<double>(Clock::now() - b0).count();

  Row r;
  r.figure = "webhooks";
  r.value = rate;
  r.unit = "deliveries/s";
  r.baseline = bare_rate;
  r.ratio = bare_rate > 0 ? rate / bare_rate : 0;
  r.target = at_least(kGoal);
  r.met = *r.ratio >= kGoal;
  r.note = fmt::format(
      "{} test pings projected into the outbox with dispatch off, then sent to one endpoint "
      "(per-endpoint limit {} in flight); the rate is from the first delivery received to the "
      "last ({:.2f} s from opening the server with dispatch on); each delivery is taken over "
      "from the outbox, signed both ways and its attempt recorded; baseline: {} bare "
      "keep-alive cpp-httplib clients posting the same bodies to the same subscriber",
      n, concurrency, seconds, concurrency);
  Row p50;
  p50.figure = "webhook_latency_p50";
  p50.value = percentile(latency, 50);
  p50.unit = "ms";
  p50.target = "report";
  p50.note = fmt::format(
      "event time (the command's acceptance) to receipt by the subscriber, {} pings paced at "
      "200/s (no backlog)",
      paced);
  Row p99 = p50;
  p99.figure = "webhook_latency_p99";
  p99.value = percentile(latency, 99);
  p99.note.clear();
  return {r, p50, p99};
}

}  // namespace pulse::bench
