#pragma once
// The benchmark harness (`pulse bench`): temporary directories, an in-process Pulse server, a
// bare cpp-httplib server for baselines, a keep-alive HTTP load generator with exact
// percentiles, and the synthetic workload (requests, commands and the records they become).
// Loopback only; every run is bounded by a count or a duration. No httplib header here.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "adapters/app.h"
#include "adapters/log/log.h"
#include "adapters/runtime/system_clock.h"
#include "domain/commands.h"
#include "domain/result.h"

namespace pulse::bench {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0);

// A fresh directory under the system temp dir, removed (recursively) by the destructor.
class TempDir {
 public:
  explicit TempDir(const std::string& tag);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Percentile by the nearest-rank method over sorted samples (exact, no interpolation).
double percentile(const std::vector<double>& sorted, double p);

// ---- HTTP load -------------------------------------------------------------------------

struct HttpCall {
  std::string method = "GET";  // GET | POST
  std::string path;
  std::string body;  // POST only, sent as application/json
  std::vector<std::pair<std::string, std::string>> headers;
  int expect_status = 200;
};

struct LoadOptions {
  int clients = 1;
  std::chrono::milliseconds warmup{500};  // every client, before the measured window
  std::chrono::milliseconds duration{5000};
  int64_t max_calls_per_client = 0;  // 0: until the duration ends
};

struct LoadResult {
  int64_t ok = 0;
  int64_t failed = 0;  // transport errors and unexpected statuses
  std::string first_failure;
  double seconds = 0;              // from the common start to the last completed call
  std::vector<double> latency_ms;  // successful calls, sorted
  std::string last_body;           // of the last successful call of client 0
  double rate() const { return seconds > 0 ? static_cast<double>(ok) / seconds : 0; }
};

// `clients` threads, each with its own keep-alive httplib::Client, call `make_call(client)`
// repeatedly: first for the warm-up, then (after all have warmed up) for the measured window.
LoadResult run_load(int port, const LoadOptions& options,
                    const std::function<HttpCall(int client)>& make_call);

// One call on a fresh connection (setup and checks, not measured).
struct HttpAnswer {
  int status = 0;  // 0: transport error
  std::string body;
};
HttpAnswer http_once(int port, const HttpCall& call);

// ---- servers ---------------------------------------------------------------------------

// Pulse in this process: App + ApiServer on 127.0.0.1, port 0, data in a temporary directory
// (removed on destruction). Owns the serving thread.
class PulseServer {
 public:
  // `kafka`: bootstrap servers, or empty for the embedded log. `configure` adjusts the
  // options of bench_app_options before the app opens. Without `page_cache` every query is
  // answered from the read models (ServerOptions::page_cache_bytes 0).
  static Result<std::unique_ptr<PulseServer>> start(
      const std::string& tag, const std::string& kafka = {},
      const std::function<void(AppOptions&)>& configure = {}, bool page_cache = true);
  ~PulseServer();
  int port() const { return port_; }
  App& app() { return *app_; }
  const std::filesystem::path& data_dir() const { return dir_.path(); }

 private:
  explicit PulseServer(const std::string& tag);
  struct Http;
  TempDir dir_;
  runtime::SystemTimeSource clock_;
  SeededRandom random_{std::random_device{}()};
  std::unique_ptr<App> app_;
  std::unique_ptr<Http> http_;
  std::thread thread_;
  int port_ = 0;
};

// A bare cpp-httplib server, configured like Pulse's (TCP_NODELAY, same thread pool size),
// whose one route answers a fixed status and body: the "raw HTTP" baseline. Owns its thread.
class BareServer {
 public:
  // `pattern` is an httplib route (regex allowed); method GET or POST.
  BareServer(const std::string& method, const std::string& pattern, int status, std::string body);
  ~BareServer();
  int port() const { return port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  int port_ = 0;
};

// What every in-process server of the bench runs with: kBenchJwtSecret, no request rates.
AppOptions bench_app_options(const std::filesystem::path& data_dir);

// ---- workload ---------------------------------------------------------------------------

inline constexpr std::string_view kTemplate =
    "Hi {{firstName}}, your appointment is confirmed for tomorrow at 10:00. Reply STOP to opt "
    "out.";

// Organisation ids whose records land on distinct partitions (round-robin over `partitions`),
// so load spreads over the log like many tenants would.
std::vector<OrgId> spread_orgs(int count, int32_t partitions);

// The JWT secret of every server the bench starts (in-process or child).
inline constexpr std::string_view kBenchJwtSecret = "pulse-bench-jwt-secret-0123456789abcdef";

// Creates the organisations (Enterprise plan, one API key each) through the command log, as
// sign-ups would, and waits until they are projected.
Status provision(App& app, const std::vector<OrgId>& orgs);

// The headers a request needs to act for a provisioned `org`: a bearer token minted from its
// API key, signed with kBenchJwtSecret.
std::vector<std::pair<std::string, std::string>> org_headers(const OrgId& org);

// The phone of recipient `i` of a workload salted `salt`: valid US numbers, distinct for up to
// 8,000,000 recipients.
std::string recipient_phone(int salt, int i);

// The JSON body of POST /api/sms/send with `n` recipients (distinct phones and names).
std::string send_body(int n, int salt = 0);

// A SendSms command with `n` recipients, as the HTTP layer would build it (no 500 limit).
CommandEnvelope send_command(const OrgId& org, int n, TimePoint at, int salt = 0);

// The records Pulse writes for one command: the encoded command and the encoded events the
// decider makes of it (as if it sat at `pos`).
struct CommandRecords {
  log::Record command;
  std::vector<log::Record> events;
  size_t bytes() const;
};
Result<CommandRecords> records_for(const CommandEnvelope& cmd, LogPosition pos);

// Appends commands straight to pulse.commands (bypassing HTTP) and waits until all are
// projected. Returns how many messages the SendSms among them queued.
Result<int64_t> append_and_wait(App& app, const std::vector<CommandEnvelope>& cmds,
                                std::chrono::seconds bound);

// ---- memory ----------------------------------------------------------------------------

// VmHWM / VmRSS of a process (self when pid is 0), in MiB; nullopt when unreadable.
std::optional<double> peak_rss_mib(int pid = 0);
std::optional<double> current_rss_mib(int pid = 0);

}  // namespace pulse::bench
