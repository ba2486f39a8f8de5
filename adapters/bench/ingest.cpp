// Ingest figures (embedded log, Kafka mock) and the memory figure: 500-recipient
// POST /api/sms/send from concurrent keep-alive clients until readable by GET, beside raw
// writes of the same records to the library underneath.
#include <librdkafka/rdkafka.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fstream>

#include <atomic>
#include <barrier>
#include <condition_variable>
#include <cstdio>
#include <mutex>

#include "adapters/bench/figures.h"
#include "adapters/bench/harness.h"
#include "adapters/log/embedded_log.h"
#include "adapters/log/kafka_log.h"
#include "fmt/format.h"

extern char** environ;

namespace pulse::bench {
namespace {

constexpr int kRecipients = 500;
constexpr int kIngestClients = 4;

struct IngestPlan {
  LoadOptions load;
};

IngestPlan ingest_plan(const Settings& s) {
  IngestPlan p;
  p.load.clients = kIngestClients;
  p.load.warmup = std::chrono::milliseconds(s.quick ? 500 : 1500);
  p.load.duration = std::chrono::milliseconds(s.quick ? 4000 : 12000);
  return p;
}

std::string json_string_field(const std::string& json, const std::string& name) {
  const std::string key = "\"" + name + "\":\"";
  const auto at = json.find(key);
  if (at == std::string::npos) return {};
  const auto start = at + key.size();
  return json.substr(start, json.find('"', start) - start);
}

size_t count_of(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size()))
    ++n;
  return n;
}

// The last campaign a client created must be readable with all its messages.
std::optional<std::string> check_readable(int port, const std::string& created_body,
                                          const OrgId& org) {
  const auto id = json_string_field(created_body, "campaignId");
  if (id.empty()) return "no campaignId in the last 201: " + created_body.substr(0, 200);
  auto got = http_once(port, HttpCall{"GET", "/api/campaigns/" + id, {}, org_headers(org), 200});
  if (got.status != 200) return fmt::format("GET {} answered {}", id, got.status);
  const auto messages = count_of(got.body, "\"contactPhone\"");
  if (messages != kRecipients ||
      got.body.find(fmt::format("\"totalMessages\":{}", kRecipients)) == std::string::npos)
    return fmt::format("GET {} returned {} messages, expected {}", id, messages, kRecipients);
  return std::nullopt;
}

struct PulseIngest {
  double msgs_per_s = 0;
  int64_t requests = 0;
  double seconds = 0;
  double p50_ms = 0, p99_ms = 0;
  std::optional<std::string> error;
};

PulseIngest run_pulse_ingest(PulseServer& server, const IngestPlan& plan) {
  const auto orgs = spread_orgs(plan.load.clients, server.app().log().partition_count());
  if (auto st = provision(server.app(), orgs); !st) {
    PulseIngest failed;
    failed.error = st.error().details;
    return failed;
  }
  std::vector<std::string> bodies;
  for (int i = 0; i < plan.load.clients; ++i) bodies.push_back(send_body(kRecipients, i));
  auto result = run_load(server.port(), plan.load, [&](int i) {
    return HttpCall{"POST", "/api/sms/send", bodies[static_cast<size_t>(i)],
                    org_headers(orgs[static_cast<size_t>(i)]), 201};
  });
  PulseIngest out;
  out.requests = result.ok;
  out.seconds = result.seconds;
  out.msgs_per_s = result.rate() * kRecipients;
  out.p50_ms = percentile(result.latency_ms, 50);
  out.p99_ms = percentile(result.latency_ms, 99);
  if (result.failed > 0)
    out.error = fmt::format("{} requests failed: {}", result.failed, result.first_failure);
  else if (result.ok == 0)
    out.error = "no request completed";
  else
    out.error = check_readable(server.port(), result.last_body, orgs[0]);
  return out;
}

// The same records Pulse writes per request, for one client of the raw baselines.
Result<std::vector<CommandRecords>> baseline_records(int clients, int32_t partitions) {
  const auto orgs = spread_orgs(clients, partitions);
  runtime::SystemTimeSource clock;
  std::vector<CommandRecords> out;
  for (int i = 0; i < clients; ++i) {
    auto cmd = send_command(orgs[static_cast<size_t>(i)], kRecipients, clock.now(), i);
    auto recs = records_for(cmd, LogPosition{Partition{i % partitions}, Offset{100000}});
    if (!recs) return recs.error();
    out.push_back(std::move(recs).value());
  }
  return out;
}

// Runs `one_request(client)` from `clients` threads: warm-up, then the measured window.
// Returns requests completed per second in the window.
double run_raw(const LoadOptions& load, const std::function<bool(int)>& one_request,
               std::string& error) {
  std::atomic<int64_t> done{0};
  std::atomic<bool> failed{false};
  Clock::time_point start;
  std::vector<Clock::time_point> last(static_cast<size_t>(load.clients));
  std::barrier sync(load.clients, [&]() noexcept { start = Clock::now(); });
  std::vector<std::thread> threads;
  for (int i = 0; i < load.clients; ++i) {
    threads.emplace_back([&, i] {
      const auto warm_end = Clock::now() + load.warmup;
      while (Clock::now() < warm_end && !failed)
        if (!one_request(i)) failed = true;
      sync.arrive_and_wait();
      const auto deadline = start + load.duration;
      while (Clock::now() < deadline && !failed) {
        if (!one_request(i)) {
          failed = true;
          break;
        }
        ++done;
        last[static_cast<size_t>(i)] = Clock::now();
      }
    });
  }
  for (auto& t : threads) t.join();
  if (failed) error = "a raw request failed";
  Clock::time_point end = start;
  for (auto t : last) end = std::max(end, t);
  const double secs = std::chrono::duration<double>(end - start).count();
  return secs > 0 ? static_cast<double>(done.load()) / secs : 0;
}

void put_be(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Raw RocksDB: per request, one WriteBatch with the command and its events (keys and values
// laid out like the embedded log's), written with sync=true, from the same number of threads.
// RocksDB groups concurrent synced writers into one fsync, like the log's group commit.
double raw_rocksdb_ingest(const IngestPlan& plan, std::string& error) {
  auto records = baseline_records(plan.load.clients, log::kDefaultPartitions);
  if (!records) {
    error = records.error().details;
    return 0;
  }
  TempDir dir("raw-rocksdb");
  rocksdb::Options options;  // as the embedded log opens its RocksDB
  options.create_if_missing = true;
  options.IncreaseParallelism(2);
  options.max_total_wal_size = 256 << 20;
  rocksdb::DB* raw = nullptr;
  auto st = rocksdb::DB::Open(options, dir.path().string(), &raw);
  if (!st.ok()) {
    error = st.ToString();
    return 0;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  std::vector<int64_t> offsets(static_cast<size_t>(plan.load.clients), 0);
  auto key = [](std::string_view topic, int32_t p, int64_t o) {
    std::string k;
    k.push_back('r');
    k.append(topic);
    k.push_back('\0');
    put_be(k, static_cast<uint32_t>(p), 4);
    put_be(k, static_cast<uint64_t>(o), 8);
    return k;
  };
  auto value = [](const log::Record& r) {
    std::string v;
    v.reserve(12 + r.key.size() + r.value.size());
    put_be(v, 1'767'225'600'000, 8);
    put_be(v, r.key.size(), 4);
    v.append(r.key);
    v.append(r.value);
    return v;
  };
  const double rate = run_raw(
      plan.load,
      [&](int i) {
        const auto& rec = (*records)[static_cast<size_t>(i)];
        auto& offset = offsets[static_cast<size_t>(i)];
        rocksdb::WriteBatch batch;
        batch.Put(key(log::kCommandsTopic, i, offset), value(rec.command));
        for (const auto& e : rec.events) batch.Put(key(log::kEventsTopic, i, offset), value(e));
        ++offset;
        rocksdb::WriteOptions wo;
        wo.sync = true;
        return db->Write(wo, &batch).ok();
      },
      error);
  return rate * kRecipients;
}

// Raw librdkafka: per request, produce the command and its events (same producer settings as
// the Kafka adapter: idempotent, acks=all, linger.ms=2, no compression) and wait for their
// delivery reports, from the same number of threads.
struct PendingRequest {
  std::mutex mu;
  std::condition_variable cv;
  int pending = 0;
  bool failed = false;
};

void on_raw_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void*) {
  auto* req = static_cast<PendingRequest*>(msg->_private);
  // Notified under the lock: the waiter destroys `req` as soon as it sees pending == 0.
  std::lock_guard lock(req->mu);
  if (msg->err) req->failed = true;
  --req->pending;
  req->cv.notify_all();
}

double raw_kafka_ingest(const IngestPlan& plan, std::string& error) {
  auto mock = log::MockKafkaCluster::start(1, log::kDefaultPartitions);
  if (!mock) {
    error = mock.error().details;
    return 0;
  }
  auto records = baseline_records(plan.load.clients, log::kDefaultPartitions);
  if (!records) {
    error = records.error().details;
    return 0;
  }
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const std::pair<const char*, std::string> settings[] = {
      {"bootstrap.servers", (*mock)->bootstrap_servers()},
      {"client.id", "pulse-bench-raw"},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"linger.ms", "2"},
      {"compression.type", "none"},
      {"message.timeout.ms", "30000"},
  };
  for (const auto& [k, v] : settings)
    if (rd_kafka_conf_set(conf, k, v.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      error = errstr;
      rd_kafka_conf_destroy(conf);
      return 0;
    }
  rd_kafka_conf_set_dr_msg_cb(conf, on_raw_delivery);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (rk == nullptr) {
    error = errstr;
    rd_kafka_conf_destroy(conf);
    return 0;
  }
  rd_kafka_topic_t* commands =
      rd_kafka_topic_new(rk, std::string(log::kCommandsTopic).c_str(), nullptr);
  rd_kafka_topic_t* events =
      rd_kafka_topic_new(rk, std::string(log::kEventsTopic).c_str(), nullptr);
  std::atomic<bool> stop{false};
  std::thread poller([&] {
    while (!stop) rd_kafka_poll(rk, 50);
  });
  const double rate = run_raw(
      plan.load,
      [&](int i) {
        const auto& rec = (*records)[static_cast<size_t>(i)];
        const int32_t p = i % log::kDefaultPartitions;
        PendingRequest req;
        req.pending = static_cast<int>(1 + rec.events.size());
        auto produce = [&](rd_kafka_topic_t* topic, const log::Record& r) {
          while (rd_kafka_produce(topic, p, RD_KAFKA_MSG_F_COPY, const_cast<char*>(r.value.data()),
                                  r.value.size(), r.key.data(), r.key.size(), &req) != 0) {
            if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
          }
          return true;
        };
        bool ok = produce(commands, rec.command);
        int produced = ok ? 1 : 0;
        for (const auto& e : rec.events) {
          if (!ok) break;
          ok = produce(events, e);
          produced += ok ? 1 : 0;
        }
        std::unique_lock lock(req.mu);
        req.pending -= static_cast<int>(1 + rec.events.size()) - produced;
        req.cv.wait(lock, [&] { return req.pending == 0; });
        return ok && !req.failed;
      },
      error);
  rd_kafka_flush(rk, 10'000);
  stop = true;
  poller.join();
  rd_kafka_topic_destroy(commands);
  rd_kafka_topic_destroy(events);
  rd_kafka_destroy(rk);
  return rate * kRecipients;
}

// The ratio each ingest figure has to reach. The embedded log's is higher: nothing but Pulse
// stands between the request and the disk.
constexpr double kEmbeddedGoal = 0.35;
constexpr double kKafkaGoal = 0.25;

std::vector<Row> ingest_rows(const std::string& figure, double goal, const PulseIngest& pulse,
                             double baseline, const std::string& baseline_error,
                             const std::string& baseline_name) {
  const auto target = at_least(goal);
  if (pulse.error) return {failed_row(figure, "msgs/s", target, *pulse.error)};
  if (!baseline_error.empty())
    return {failed_row(figure, "msgs/s", target, baseline_name + ": " + baseline_error)};
  Row r;
  r.figure = figure;
  r.value = pulse.msgs_per_s;
  r.unit = "msgs/s";
  r.baseline = baseline;
  r.ratio = baseline > 0 ? pulse.msgs_per_s / baseline : 0;
  r.target = target;
  r.met = *r.ratio >= goal;
  r.note = fmt::format(
      "{} requests of {} recipients from {} clients in {:.1f} s (request p50 {:.0f} ms, p99 "
      "{:.0f} ms), the last campaign read back whole; baseline: {}",
      pulse.requests, kRecipients, kIngestClients, pulse.seconds, pulse.p50_ms, pulse.p99_ms,
      baseline_name);
  return {r};
}

}  // namespace

std::vector<Row> ingest_embedded(const Settings& s) {
  const auto plan = ingest_plan(s);
  PulseIngest pulse;
  {
    auto server = PulseServer::start("ingest");
    if (!server)
      return {
          failed_row("ingest_embedded", "msgs/s", at_least(kEmbeddedGoal), server.error().details)};
    pulse = run_pulse_ingest(**server, plan);
  }
  std::string error;
  const double baseline = raw_rocksdb_ingest(plan, error);
  return ingest_rows("ingest_embedded", kEmbeddedGoal, pulse, baseline, error,
                     "RocksDB, one synced WriteBatch (command + events) per request");
}

std::vector<Row> ingest_kafka(const Settings& s) {
  const auto plan = ingest_plan(s);
  PulseIngest pulse;
  {
    // A fresh mock per run: it keeps only a few MB per partition in memory.
    auto mock = log::MockKafkaCluster::start(1, log::kDefaultPartitions);
    if (!mock)
      return {failed_row("ingest_kafka", "msgs/s", at_least(kKafkaGoal), mock.error().details)};
    auto server = PulseServer::start("ingest-kafka", (*mock)->bootstrap_servers());
    if (!server)
      return {failed_row("ingest_kafka", "msgs/s", at_least(kKafkaGoal), server.error().details)};
    pulse = run_pulse_ingest(**server, plan);
  }
  std::string error;
  const double baseline = raw_kafka_ingest(plan, error);
  return ingest_rows("ingest_kafka", kKafkaGoal, pulse, baseline, error,
                     "librdkafka produce of command + events per request, awaiting delivery");
}

// ---- memory -----------------------------------------------------------------------------

namespace {

// `pulse serve` as a child process on a temporary data directory: its RSS is Pulse's alone.
constexpr std::string_view kChildAdminToken = "pulse-bench-admin-token-0123456789";

// Signs up an account on a running server, puts it on the Enterprise plan and returns the
// headers that act for it.
Result<std::vector<std::pair<std::string, std::string>>> http_account(int port, int i) {
  auto signup = http_once(
      port,
      HttpCall{"POST",
               "/api/auth/signup",
               fmt::format(R"({{"email":"bench{}@example.com","password":"bench password"}})", i),
               {},
               201});
  auto field = [](const std::string& body, std::string_view name) {
    const auto key = fmt::format("\"{}\":\"", name);
    const auto at = body.find(key);
    if (at == std::string::npos) return std::string();
    const auto start = at + key.size();
    return body.substr(start, body.find('"', start) - start);
  };
  if (signup.status != 201) return Error{Errc::internal, "Sign-up failed", signup.body};
  const auto org = field(signup.body, "organizationId");
  auto plan =
      http_once(port, HttpCall{"POST",
                               "/api/admin/organizations/" + org + "/plan",
                               R"({"plan":"enterprise"})",
                               {{"Authorization", "Bearer " + std::string(kChildAdminToken)}},
                               200});
  if (plan.status != 200) return Error{Errc::internal, "Plan change failed", plan.body};
  auto token =
      http_once(port, HttpCall{"POST",
                               "/api/auth/token",
                               fmt::format(R"({{"apiKey":"{}"}})", field(signup.body, "apiKey")),
                               {},
                               200});
  if (token.status != 200) return Error{Errc::internal, "Token failed", token.body};
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"Authorization", "Bearer " + field(token.body, "token")}};
  // Sends need an online gateway: pair one (the child keeps it online for the whole run).
  auto pairing = http_once(port, HttpCall{"POST", "/api/devices/pairing", "{}", headers, 201});
  if (pairing.status != 201) return Error{Errc::internal, "Pairing failed", pairing.body};
  auto reg = http_once(
      port, HttpCall{"POST",
                     "/api/gateway/register",
                     fmt::format(R"({{"pairingToken":"{}"}})", field(pairing.body, "pairingToken")),
                     {},
                     201});
  if (reg.status != 201) return Error{Errc::internal, "Registration failed", reg.body};
  return headers;
}

class ChildServer {
 public:
  explicit ChildServer(const std::filesystem::path& data_dir) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    const std::string exe = std::filesystem::read_symlink("/proc/self/exe").string();
    const std::string dir = data_dir.string();
    const std::string plans = dir + ".plans.json";
    std::ofstream(plans) << R"({"free":{"sendPerMinute":-1},"pro":{"sendPerMinute":-1},)"
                         << R"("enterprise":{"sendPerMinute":-1}})";
    const char* argv[] = {exe.c_str(),   "serve",       "--listen",
                          "127.0.0.1:0", "--data-dir",  dir.c_str(),
                          "--plans",     plans.c_str(), "--presence-window-seconds",
                          "3600",        nullptr};
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) env.emplace_back(*e);
    env.push_back("PULSE_JWT_SECRET=" + std::string(kBenchJwtSecret));
    env.push_back("PULSE_ADMIN_TOKEN=" + std::string(kChildAdminToken));
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    if (posix_spawn(&pid_, exe.c_str(), &actions, nullptr, const_cast<char**>(argv), envp.data()) !=
        0)
      pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    out_ = ::fdopen(fds[0], "r");
    if (pid_ <= 0 || out_ == nullptr) return;
    char line[512];
    while (std::fgets(line, sizeof line, out_) != nullptr) {
      const std::string_view l(line);
      const auto at = l.find("listening on http://127.0.0.1:");
      if (at == std::string_view::npos) continue;
      port_ = std::atoi(line + at + std::string_view("listening on http://127.0.0.1:").size());
      break;
    }
  }
  ~ChildServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (out_) std::fclose(out_);
  }
  int pid() const { return pid_; }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  FILE* out_ = nullptr;
};

}  // namespace

std::vector<Row> memory(const Settings&) {
  constexpr int64_t target_messages = 1'000'000;  // both modes: no extrapolation
  TempDir dir("memory");
  ChildServer child(dir.path());
  if (child.port() <= 0)
    return {failed_row("memory", "MiB/M msgs", "report", "pulse serve did not start")};
  const auto idle = peak_rss_mib(child.pid()).value_or(0);

  LoadOptions load;
  load.clients = kIngestClients;
  load.warmup = std::chrono::milliseconds(0);
  load.duration = std::chrono::seconds(240);  // a bound, not the plan
  load.max_calls_per_client = target_messages / kRecipients / kIngestClients;
  std::vector<std::vector<std::pair<std::string, std::string>>> accounts;
  for (int i = 0; i < load.clients; ++i) {
    auto headers = http_account(child.port(), i);
    if (!headers) return {failed_row("memory", "MiB/M msgs", "report", headers.error().details)};
    accounts.push_back(std::move(headers).value());
  }
  std::vector<std::string> bodies;
  for (int i = 0; i < load.clients; ++i) bodies.push_back(send_body(kRecipients, i));
  auto result = run_load(child.port(), load, [&](int i) {
    return HttpCall{"POST", "/api/sms/send", bodies[static_cast<size_t>(i)],
                    accounts[static_cast<size_t>(i)], 201};
  });
  // Every client's warm-up call stored messages too.
  const int64_t stored = (result.ok + load.clients) * kRecipients;
  const auto peak = peak_rss_mib(child.pid());
  if (!peak) return {failed_row("memory", "MiB/M msgs", "report", "cannot read the child's RSS")};
  if (result.failed > 0)
    return {failed_row("memory", "MiB/M msgs", "report",
                       fmt::format("{} requests failed: {}", result.failed, result.first_failure))};
  Row r;
  r.figure = "memory";
  r.value = *peak * 1e6 / static_cast<double>(stored);
  r.unit = "MiB/M msgs";
  r.target = "report";
  r.note = fmt::format(
      "pulse serve (separate process, embedded log): peak RSS (VmHWM) {:.0f} MiB after storing "
      "{} messages in {:.0f} s; {:.0f} MiB at start",
      *peak, stored, result.seconds, idle);
  return {r};
}

}  // namespace pulse::bench
