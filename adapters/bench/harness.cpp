#include "adapters/bench/harness.h"

#include "adapters/auth/crypto.h"
#include "adapters/auth/jwt.h"

#include <httplib.h>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <barrier>
#include <cmath>
#include <fstream>
#include <mutex>
#include <random>

#include "adapters/codec/json_codec.h"
#include "adapters/http/api_server.h"
#include "commands/decider.h"
#include "domain/ids.h"
#include "fmt/format.h"

namespace pulse::bench {
namespace {

uint64_t random64() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

void configure_client(httplib::Client& c) {
  c.set_keep_alive(true);
  c.set_tcp_nodelay(true);
  c.set_connection_timeout(std::chrono::seconds(5));
  c.set_read_timeout(std::chrono::seconds(30));
  c.set_write_timeout(std::chrono::seconds(30));
}

httplib::Result send(httplib::Client& c, const HttpCall& call, const httplib::Headers& headers) {
  if (call.method == "POST") return c.Post(call.path, headers, call.body, "application/json");
  return c.Get(call.path, headers);
}

httplib::Headers to_headers(const HttpCall& call) {
  httplib::Headers h;
  for (const auto& [k, v] : call.headers) h.emplace(k, v);
  return h;
}

std::optional<double> status_field_mib(int pid, std::string_view field) {
  std::ifstream in(pid == 0 ? std::string("/proc/self/status")
                            : fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with(field)) continue;
    const auto kb = std::strtoll(line.c_str() + field.size(), nullptr, 10);
    return static_cast<double>(kb) / 1024.0;
  }
  return std::nullopt;
}

}  // namespace

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

TempDir::TempDir(const std::string& tag) {
  path_ =
      std::filesystem::temp_directory_path() /
      fmt::format("pulse-bench-{}-{}-{:08x}", tag, ::getpid(), static_cast<uint32_t>(random64()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

// ---- HTTP load -------------------------------------------------------------------------

LoadResult run_load(int port, const LoadOptions& options,
                    const std::function<HttpCall(int client)>& make_call) {
  const int n = options.clients;
  std::vector<std::vector<double>> samples(static_cast<size_t>(n));
  std::vector<Clock::time_point> last_done(static_cast<size_t>(n));
  std::vector<int64_t> failed(static_cast<size_t>(n), 0);
  std::mutex failure_mu;
  std::string first_failure;
  std::string last_body;
  Clock::time_point start;
  std::barrier sync(n, [&]() noexcept { start = Clock::now(); });

  auto client_loop = [&](int i) {
    const HttpCall call = make_call(i);
    const auto headers = to_headers(call);
    httplib::Client cli("127.0.0.1", port);
    configure_client(cli);
    auto note_failure = [&](const httplib::Result& res) {
      ++failed[static_cast<size_t>(i)];
      std::lock_guard lock(failure_mu);
      if (first_failure.empty())
        first_failure = res ? fmt::format("HTTP {}: {}", res->status, res->body.substr(0, 200))
                            : httplib::to_string(res.error());
    };
    const auto warm_end = Clock::now() + options.warmup;
    do {
      auto res = send(cli, call, headers);
      if (!res || res->status != call.expect_status) {
        note_failure(res);
        break;
      }
    } while (Clock::now() < warm_end);
    sync.arrive_and_wait();
    const auto deadline = start + options.duration;
    auto& mine = samples[static_cast<size_t>(i)];
    for (int64_t k = 0; options.max_calls_per_client == 0 || k < options.max_calls_per_client;
         ++k) {
      const auto t0 = Clock::now();
      if (t0 >= deadline) break;
      auto res = send(cli, call, headers);
      const auto t1 = Clock::now();
      last_done[static_cast<size_t>(i)] = t1;
      if (!res || res->status != call.expect_status) {
        note_failure(res);
        continue;
      }
      mine.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      if (i == 0) last_body = std::move(res->body);
    }
  };

  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) threads.emplace_back(client_loop, i);
  for (auto& t : threads) t.join();

  LoadResult r;
  Clock::time_point end = start;
  for (int i = 0; i < n; ++i) {
    const auto& s = samples[static_cast<size_t>(i)];
    r.latency_ms.insert(r.latency_ms.end(), s.begin(), s.end());
    r.failed += failed[static_cast<size_t>(i)];
    end = std::max(end, last_done[static_cast<size_t>(i)]);
  }
  std::sort(r.latency_ms.begin(), r.latency_ms.end());
  r.ok = static_cast<int64_t>(r.latency_ms.size());
  r.seconds = std::chrono::duration<double>(end - start).count();
  r.first_failure = std::move(first_failure);
  r.last_body = std::move(last_body);
  return r;
}

HttpAnswer http_once(int port, const HttpCall& call) {
  httplib::Client cli("127.0.0.1", port);
  configure_client(cli);
  auto res = send(cli, call, to_headers(call));
  if (!res) return HttpAnswer{0, httplib::to_string(res.error())};
  return HttpAnswer{res->status, res->body};
}

// ---- servers ---------------------------------------------------------------------------

AppOptions bench_app_options(const std::filesystem::path& data_dir) {
  AppOptions options;
  options.data_dir = data_dir;
  options.jwt_secret = std::string(kBenchJwtSecret);
  // The bench measures throughput, not the plans' request rates.
  for (auto plan : {Plan::free, Plan::pro, Plan::enterprise})
    options.decider.plans[plan].send_per_minute = kUnlimited;
  // The bench's gateways never heartbeat: keep them online for the whole run.
  options.decider.gateway.presence_window = Millis{3600 * 1000};
  return options;
}

struct PulseServer::Http {
  Http(App& app, http::ServerOptions options) : server(app, std::move(options)) {}
  http::ApiServer server;
};

PulseServer::PulseServer(const std::string& tag) : dir_(tag) {}

Result<std::unique_ptr<PulseServer>> PulseServer::start(
    const std::string& tag, const std::string& kafka,
    const std::function<void(AppOptions&)>& configure, bool page_cache) {
  std::unique_ptr<PulseServer> s(new PulseServer(tag));
  AppOptions options = bench_app_options(s->dir_.path());
  options.kafka = kafka;
  if (configure) configure(options);
  // The bench's broker is librdkafka's mock, which holds every fetch for the full wait (a real
  // broker answers as soon as records arrive): a short wait keeps that artefact out.
  options.kafka_fetch_wait = Millis{10};
  auto app = App::open(options, s->clock_, s->random_);
  if (!app) return app.error();
  s->app_ = std::move(app).value();
  if (auto st = s->app_->wait_ready(Clock::now() + std::chrono::seconds(60)); !st)
    return st.error();
  http::ServerOptions server_options;
  if (!page_cache) server_options.page_cache_bytes = 0;
  s->http_ = std::make_unique<Http>(*s->app_, std::move(server_options));
  auto port = s->http_->server.bind("127.0.0.1", 0);
  if (!port) return port.error();
  s->port_ = *port;
  s->thread_ = std::thread([srv = s.get()] { srv->http_->server.run(); });
  return s;
}

PulseServer::~PulseServer() {
  if (http_) http_->server.stop();
  if (thread_.joinable()) thread_.join();
  http_.reset();
  app_.reset();  // before the clock and the directory it uses
}

struct BareServer::Impl {
  httplib::Server server;
  int listen_fd = -1;
};

BareServer::BareServer(const std::string& method, const std::string& pattern, int status,
                       std::string body)
    : impl_(std::make_unique<Impl>()) {
  auto& srv = impl_->server;
  srv.set_tcp_nodelay(true);
  srv.set_keep_alive_max_count(100000);
  srv.set_keep_alive_timeout(30);
  srv.set_payload_max_length(16 << 20);
  const int threads = http::ServerOptions{}.threads;
  srv.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  srv.set_socket_options([this](int sock) {
    httplib::default_socket_options(sock);
    impl_->listen_fd = sock;
  });
  auto handler = [status, body = std::move(body)](const httplib::Request&, httplib::Response& res) {
    res.status = status;
    res.set_content(body, "application/json");
  };
  if (method == "POST")
    srv.Post(pattern, handler);
  else
    srv.Get(pattern, handler);
  port_ = srv.bind_to_any_port("127.0.0.1");
  if (impl_->listen_fd >= 0) ::listen(impl_->listen_fd, 4096);
  thread_ = std::thread([this] { impl_->server.listen_after_bind(); });
}

BareServer::~BareServer() {
  impl_->server.stop();
  if (thread_.joinable()) thread_.join();
}

// ---- workload ---------------------------------------------------------------------------

std::vector<OrgId> spread_orgs(int count, int32_t partitions) {
  std::vector<OrgId> out;
  const auto at = from_unix_ms(1'767'225'600'000);  // 2026-01-01: fixed, so runs are alike
  uint64_t k = 0;
  for (int i = 0; i < count; ++i) {
    const auto want = static_cast<uint32_t>(i % partitions);
    for (;; ++k) {
      auto id = make_id(id_prefix::org, at, k);
      if ((log::murmur2(id) & 0x7fffffff) % static_cast<uint32_t>(partitions) != want) continue;
      ++k;
      out.push_back(OrgId{std::move(id)});
      break;
    }
  }
  return out;
}

namespace {
ApiKeyId bench_key(const OrgId& org) {
  return ApiKeyId{
      fmt::format("{}_{}", id_prefix::api_key, org.value.substr(org.value.find('_') + 1))};
}
}  // namespace

Status provision(App& app, const std::vector<OrgId>& orgs) {
  std::vector<CommandEnvelope> cmds;
  const auto at = app.clock().now();
  for (const auto& org : orgs) {
    const UserId owner{
        fmt::format("{}_{}", id_prefix::user, org.value.substr(org.value.find('_') + 1))};
    const NewApiKey key{bench_key(org), "bench", auth::sha256_hex(org.value), "pk_live_benc…h000"};
    cmds.push_back(CommandEnvelope{CommandId{make_id(id_prefix::command, at, random64())}, org, at,
                                   CreateOrganization{"bench", owner, key}});
    cmds.push_back(CommandEnvelope{CommandId{make_id(id_prefix::command, at, random64())}, org, at,
                                   SetPlan{Plan::enterprise}});
    // Sends need an online gateway: pair one (it never claims, so messages stay queued).
    const std::string pairing = auth::sha256_hex("pairing-" + org.value);
    cmds.push_back(CommandEnvelope{CommandId{make_id(id_prefix::command, at, random64())}, org, at,
                                   CreatePairing{pairing, at + Millis{600000}}});
    cmds.push_back(CommandEnvelope{
        CommandId{make_id(id_prefix::command, at, random64())}, org, at,
        RegisterDevice{DeviceId{fmt::format("{}_{}", id_prefix::device,
                                            org.value.substr(org.value.find('_') + 1))},
                       pairing,
                       auth::sha256_hex("device-" + org.value),
                       "bench phone",
                       "sim",
                       "15",
                       "1.0",
                       {SimCard{0, "+15550100000", "bench"}}}});
  }
  auto done = append_and_wait(app, cmds, std::chrono::seconds(60));
  if (!done) return done.error();
  return ok_status();
}

std::vector<std::pair<std::string, std::string>> org_headers(const OrgId& org) {
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const auth::JwtClaims claims{bench_key(org).value, org.value, now, now + 86400, "bench", "key"};
  return {{"Authorization", "Bearer " + auth::sign_jwt(claims, kBenchJwtSecret)}};
}

namespace {
constexpr const char* kFirstNames[] = {"Alice", "Bruno", "Chiara", "Dmitri", "Esther",
                                       "Farid", "Greta", "Hiro",   "Ines",   "Jonas"};
// Valid US numbers (the exchange, the first three of the seven digits, is 200..999), distinct
// over 8 million consecutive ones.
std::string recipient_name(int i) {
  return fmt::format("{} Customer{}", kFirstNames[i % 10], i);
}
}  // namespace

std::string recipient_phone(int salt, int i) {
  const int64_t n = (static_cast<int64_t>(salt) * 10'007 + i) % 8'000'000;
  return fmt::format("+1415{:03}{:04}", 200 + n / 10'000, n % 10'000);
}

std::string send_body(int n, int salt) {
  std::string body = R"({"recipients":[)";
  for (int i = 0; i < n; ++i) {
    if (i) body.push_back(',');
    body +=
        fmt::format(R"({{"phone":"{}","name":"{}"}})", recipient_phone(salt, i), recipient_name(i));
  }
  body += fmt::format(R"(],"message":"{}"}})", kTemplate);
  return body;
}

CommandEnvelope send_command(const OrgId& org, int n, TimePoint at, int salt) {
  SendSms cmd;
  cmd.campaign_id = CampaignId{make_id(id_prefix::campaign, at, random64())};
  cmd.message = std::string(kTemplate);
  cmd.recipients.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i)
    cmd.recipients.push_back(Recipient{PhoneNumber{recipient_phone(salt, i)}, recipient_name(i)});
  return CommandEnvelope{CommandId{make_id(id_prefix::command, at, random64())}, org, at,
                         std::move(cmd)};
}

size_t CommandRecords::bytes() const {
  size_t n = command.key.size() + command.value.size();
  for (const auto& e : events) n += e.key.size() + e.value.size();
  return n;
}

Result<CommandRecords> records_for(const CommandEnvelope& cmd, LogPosition pos) {
  CommandRecords out;
  out.command = log::Record{cmd.org.value, codec::encode(cmd)};
  commands::DeciderState state;
  state.org.exists = true;  // an organisation on an unlimited plan, with a gateway online
  state.org.plan = Plan::enterprise;
  state.org.devices["dvc_00000000000bench"].online = true;
  state.org.devices["dvc_00000000000bench"].sending = {0};
  commands::DeciderConfig config;
  config.plans.enterprise.monthly_sms = kUnlimited;
  auto events = commands::decide(config, state, cmd);
  if (!events) return events.error();
  const auto count = static_cast<int32_t>(events->size());
  for (int32_t i = 0; i < count; ++i) {
    EventEnvelope ev{EventSource{pos, i},
                     cmd.id,
                     cmd.org,
                     cmd.at,
                     count,
                     std::move((*events)[static_cast<size_t>(i)])};
    out.events.push_back(log::Record{cmd.org.value, codec::encode(ev)});
  }
  return out;
}

Result<int64_t> append_and_wait(App& app, const std::vector<CommandEnvelope>& cmds,
                                std::chrono::seconds bound) {
  const auto deadline = Clock::now() + bound;
  constexpr size_t kChunk = 16;
  int64_t messages = 0;
  std::vector<LogPosition> positions;
  for (size_t i = 0; i < cmds.size(); i += kChunk) {
    std::vector<log::Record> records;
    for (size_t j = i; j < std::min(cmds.size(), i + kChunk); ++j) {
      records.push_back(log::Record{partition_key(cmds[j]), codec::encode(cmds[j])});
      if (const auto* send = std::get_if<SendSms>(&cmds[j].body))
        messages += static_cast<int64_t>(send->recipients.size());
    }
    auto appended = app.log().append(log::kCommandsTopic, records);
    if (!appended) return appended.error();
    positions.insert(positions.end(), appended->begin(), appended->end());
  }
  for (const auto& pos : positions)
    if (!app.watermarks().wait_until(pos.partition, pos.offset.value, deadline))
      return Error{Errc::unavailable, "Not projected in time",
                   fmt::format("command {}@{}", pos.partition.value, pos.offset.value)};
  return messages;
}

// ---- memory ----------------------------------------------------------------------------

std::optional<double> peak_rss_mib(int pid) {
  return status_field_mib(pid, "VmHWM:");
}
std::optional<double> current_rss_mib(int pid) {
  return status_field_mib(pid, "VmRSS:");
}

}  // namespace pulse::bench
