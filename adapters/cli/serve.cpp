// pulse serve: the server.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <tuple>

#include "adapters/app.h"
#include "adapters/auth/crypto.h"
#include "adapters/auth/sealer.h"
#include "adapters/cli/args.h"
#include "adapters/cli/plans_config.h"
#include "adapters/http/api_server.h"
#include "adapters/http/front_door.h"
#include "adapters/runtime/system_clock.h"
#include "adapters/store/data_dir.h"
#include "fmt/format.h"

namespace pulse::cli {
namespace {

// Blocks SIGINT/SIGTERM in every thread; the main thread waits for them with sigwait.
sigset_t block_termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// PULSE_JWT_SECRET, or a secret generated once and kept in DATA_DIR/secrets/jwt-secret (0600).
Result<std::string> jwt_secret(const std::filesystem::path& data_dir) {
  if (const char* env = std::getenv("PULSE_JWT_SECRET")) {
    if (std::string_view(env).size() < 32)
      return validation_error("PULSE_JWT_SECRET is too short", "use at least 32 characters");
    return std::string(env);
  }
  const auto dir = data_dir / "secrets";
  const auto path = dir / "jwt-secret";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);  // 0700: see store::make_private and the umask
  if (std::ifstream in(path); in) {
    std::string s;
    std::getline(in, s);
    if (s.size() >= 32) return s;
    return Error{Errc::internal, "Corrupt JWT secret", path.string()};
  }
  const std::string s = auth::random_hex(32);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0 || ::write(fd, s.data(), s.size()) != static_cast<ssize_t>(s.size()) ||
      ::fsync(fd) != 0) {
    if (fd >= 0) ::close(fd);
    return Error{Errc::unavailable, "Cannot store the JWT secret", path.string()};
  }
  ::close(fd);
  return s;
}

// Every flag pulse serve knows: anything else is refused (a typo must not pass silently).
const std::vector<std::string> kServeFlags = {"--listen",
                                              "--data-dir",
                                              "--kafka",
                                              "--kafka-fetch-wait-ms",
                                              "--partitions",
                                              "--plans",
                                              "--allow-private-webhooks",
                                              "--read-only",
                                              "--roles",
                                              "--check-args",
                                              "--presence-window-seconds",
                                              "--lease-seconds",
                                              "--delivery-window-seconds",
                                              "--message-ttl-seconds",
                                              "--draft-timeout-seconds",
                                              "--import-timeout-seconds",
                                              "--device-rate-per-minute",
                                              "--sim-daily-cap",
                                              "--max-attempts",
                                              "--webhook-retry-schedule",
                                              "--webhook-timeout-ms",
                                              "--no-webhook-dispatch",
                                              "--tls-cert",
                                              "--tls-key",
                                              "--trusted-proxy",
                                              "--max-connections",
                                              "--max-connections-per-address",
                                              "--public-url"};

}  // namespace

int serve(const Args& args) {
  for (const auto& [flag, _] : args.values)
    if (std::find(kServeFlags.begin(), kServeFlags.end(), flag) == kServeFlags.end())
      return fail(validation_error("Unknown flag for pulse serve", flag));
  for (const auto& flag : args.flags)
    if (std::find(kServeFlags.begin(), kServeFlags.end(), flag) == kServeFlags.end())
      return fail(validation_error("Unknown flag for pulse serve", flag));
  const sigset_t signals = block_termination_signals();
  // OpenSSL writes with write(2): a phone that vanished mid-stream must be an error, not a death.
  signal(SIGPIPE, SIG_IGN);
  AppOptions options;
  options.data_dir = std::filesystem::absolute(args.get("--data-dir", "pulse-data"));
  options.allow_private_webhooks = args.has("--allow-private-webhooks");
  options.read_only = args.has("--read-only");
  if (options.read_only && args.has("--kafka"))
    return fail(validation_error("--read-only with --kafka",
                                 "a read-only server reads only DATA_DIR/views, never a log"));
  if (args.has("--partitions")) {
    auto n = parse_int(args.get("--partitions"));
    if (!n || *n < 1 || *n > 1024) return fail(validation_error("Invalid --partitions", "1..1024"));
    options.partitions = *n;
  }
  // Gateway tuning (seconds / counts; see adapters/gateway/PROTOCOL.md).
  auto& gw = options.decider.gateway;
  for (auto [flag, target, min] : {std::tuple{"--presence-window-seconds", &gw.presence_window, 1},
                                   std::tuple{"--lease-seconds", &gw.lease, 1},
                                   std::tuple{"--delivery-window-seconds", &gw.delivery_window, 0},
                                   std::tuple{"--message-ttl-seconds", &gw.message_ttl, 1},
                                   std::tuple{"--draft-timeout-seconds", &gw.draft_timeout, 1},
                                   std::tuple{"--import-timeout-seconds", &gw.import_timeout, 1}}) {
    if (!args.has(flag)) continue;
    auto n = parse_int(args.get(flag));
    if (!n || *n < min) return fail(validation_error(fmt::format("Invalid {}", flag), "seconds"));
    *target = Millis{int64_t{*n} * 1000};
  }
  for (auto [flag, target] : {std::pair{"--device-rate-per-minute", &gw.device_per_minute},
                              std::pair{"--sim-daily-cap", &gw.sim_per_day}}) {
    if (!args.has(flag)) continue;
    auto n = parse_int(args.get(flag));
    if (!n || *n < -1 || *n == 0)
      return fail(validation_error(fmt::format("Invalid {}", flag), "-1 (no limit) or 1 or more"));
    *target = *n;
  }
  if (args.has("--max-attempts")) {
    auto n = parse_int(args.get("--max-attempts"));
    if (!n || *n < 1) return fail(validation_error("Invalid --max-attempts", "1 or more"));
    gw.max_attempts = *n;
  }
  // Webhook dispatch. Hidden, for tests and benchmarks: a shorter retry schedule and timeout.
  if (args.has("--webhook-retry-schedule")) {
    auto schedule = parse_retry_schedule(args.get("--webhook-retry-schedule"));
    if (!schedule)
      return fail(validation_error("Invalid --webhook-retry-schedule",
                                   "delays before each attempt, e.g. 0,5s,5m,30m (ms, s, m, h)"));
    options.webhooks.policy.schedule = *schedule;
  }
  if (args.has("--webhook-timeout-ms")) {
    auto n = parse_int(args.get("--webhook-timeout-ms"));
    if (!n || *n < 1) return fail(validation_error("Invalid --webhook-timeout-ms", "1 or more"));
    options.webhooks.timeout = Millis{*n};
  }
  options.webhook_dispatch = !args.has("--no-webhook-dispatch");
  if (args.has("--plans")) {
    std::ifstream in(args.get("--plans"));
    std::stringstream text;
    text << in.rdbuf();
    if (!in) return fail(validation_error("Cannot read --plans", args.get("--plans")));
    if (auto st = cli::apply_plan_overrides(text.str(), options.decider.plans); !st)
      return fail(st.error());
  }
  if (args.has("--roles")) {
    auto roles = runtime::parse_roles(args.get("--roles"));
    if (!roles) return fail(roles.error());
    options.roles = *roles;
    if (!options.roles.all() && !args.has("--kafka"))
      return fail(validation_error("--roles needs --kafka",
                                   "split roles share partitions through Kafka consumer groups; "
                                   "the embedded log serves one process"));
  }
  {
    const auto listen = args.get("--listen", "127.0.0.1:8080");
    const auto colon = listen.rfind(':');
    const auto port =
        colon == std::string::npos ? std::nullopt : parse_int(listen.substr(colon + 1));
    if (!port || *port < 0 || *port > 65535)
      return fail(validation_error("Invalid --listen", "expected HOST:PORT"));
  }
  http::ServerOptions server_options;
  if (args.has("--tls-cert") != args.has("--tls-key"))
    return fail(validation_error("--tls-cert without --tls-key",
                                 "HTTPS needs both: a PEM certificate (chain) and its key"));
  server_options.tls_cert = args.get("--tls-cert", "");
  server_options.tls_key = args.get("--tls-key", "");
  if (args.has("--trusted-proxy")) {
    server_options.trusted_proxy = service::AddressRange::parse(args.get("--trusted-proxy"));
    if (!server_options.trusted_proxy)
      return fail(validation_error("Invalid --trusted-proxy",
                                   "expected an address or a CIDR range, e.g. 172.16.0.0/12"));
  }
  for (auto [flag, target] :
       {std::pair{"--max-connections", &server_options.max_connections},
        std::pair{"--max-connections-per-address", &server_options.max_connections_per_address}}) {
    if (!args.has(flag)) continue;
    auto n = parse_int(args.get(flag));
    if (!n || *n < 1 || *n > 1'000'000)
      return fail(validation_error(fmt::format("Invalid {}", flag), "1..1000000"));
    *target = *n;
  }
  if (args.has("--public-url")) {
    // Where phones and links reach this server (e.g. behind a proxy): scheme and authority only.
    auto url = args.get("--public-url");
    while (url.ends_with("/")) url.pop_back();
    const auto scheme_end = url.find("://");
    const auto scheme = url.substr(0, scheme_end == std::string::npos ? 0 : scheme_end);
    const auto authority =
        scheme_end == std::string::npos ? std::string() : url.substr(scheme_end + 3);
    if ((scheme != "http" && scheme != "https") || authority.empty() ||
        authority.find_first_of("/?#@ \t\r\n\"\\") != std::string::npos)
      return fail(
          validation_error("Invalid --public-url",
                           "expected http(s)://HOST[:PORT], e.g. https://pulse.example.com"));
    server_options.public_url = url;
  }
  if (args.has("--check-args")) {
    // A dry run (compose.yaml's test): the flags parse; nothing is opened or started.
    fmt::print("pulse: arguments ok (roles {})\n", options.roles.to_string());
    return 0;
  }
  if (!options.read_only) {
    if (auto s = store::make_private(options.data_dir); !s) return fail(s.error());
  }
  auto secret = jwt_secret(options.data_dir);
  if (!secret) return fail(secret.error());
  options.jwt_secret = std::move(secret).value();
  if (const char* admin = std::getenv("PULSE_ADMIN_TOKEN")) options.admin_token = admin;
  const auto listen = args.get("--listen", "127.0.0.1:8080");
  const auto colon = listen.rfind(':');
  const auto port = colon == std::string::npos ? std::nullopt : parse_int(listen.substr(colon + 1));
  if (!port || *port < 0 || *port > 65535)
    return fail(validation_error("Invalid --listen", "expected HOST:PORT"));
  const auto host = listen.substr(0, colon);

  auto kafka = kafka_target(args);
  if (!kafka) return fail(kafka.error());
  options.kafka = kafka->brokers;
  if (kafka->mock) options.kafka_fetch_wait = Millis{10};  // the mock holds every fetch
  if (args.has("--kafka-fetch-wait-ms")) {
    auto n = parse_int(args.get("--kafka-fetch-wait-ms"));
    if (!n || *n < 1 || *n > 10'000)
      return fail(validation_error("Invalid --kafka-fetch-wait-ms", "1..10000"));
    options.kafka_fetch_wait = Millis{*n};
  }

  // The data keys that seal webhook secrets: PULSE_DATA_KEY's, or the data directory's.
  std::string data_key_note;
  if (!options.read_only) {
    const char* env = std::getenv("PULSE_DATA_KEY");
    if (env && !*env) env = nullptr;
    auto sealer = auth::open_sealer(options.data_dir, env);
    if (!sealer) return fail(sealer.error());
    data_key_note =
        fmt::format("pulse: data key {} ({})\n", (*sealer)->current_key_id(),
                    env ? "PULSE_DATA_KEY" : auth::data_keys_path(options.data_dir).string());
    if (!env && !options.kafka.empty() && !kafka->mock)
      data_key_note +=
          "pulse: warning: nodes sharing a Kafka log must hold the same data keys; without "
          "PULSE_DATA_KEY each node seals with its own, and the others cannot sign its webhooks\n";
    options.sealer = std::move(sealer).value();
  }

  // Every connection, log segment and store file is a descriptor: take all the system allows.
  http::raise_descriptor_limit();
  runtime::SystemTimeSource clock;
  SeededRandom random{std::random_device{}()};
  auto app = App::open(options, clock, random);
  if (!app) return fail(app.error());
  fmt::print("pulse: data directory {}\n", options.data_dir.string());
  if (options.read_only)
    fmt::print("pulse: read-only: serving {} as it is (no log, no deciders, no projectors)\n",
               (options.data_dir / "views").string());
  else
    fmt::print("pulse: event log {} ({} partitions), roles {}\n",
               options.kafka.empty() ? "embedded (" + (options.data_dir / "log").string() + ")"
                                     : "kafka " + options.kafka,
               (*app)->options().partitions, options.roles.to_string());
  fmt::print("{}", data_key_note);
  std::fflush(stdout);
  if (auto st = (*app)->wait_ready(std::chrono::steady_clock::now() + std::chrono::minutes(30));
      !st)
    return fail(st.error());

  http::ApiServer server(**app, server_options);
  auto bound = server.bind(host, *port);
  if (!bound) return fail(bound.error());
  std::thread http_thread([&] { server.run(); });
  fmt::print("pulse: listening on {}://{}:{}\n", server_options.tls_cert.empty() ? "http" : "https",
             host, *bound);
  fmt::print("pulse: public URL {}{}\n", server.public_url(),
             args.has("--public-url") ? "" : " (from --listen; set --public-url for phones)");
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  fmt::print("pulse: shutting down\n");
  std::fflush(stdout);
  server.stop();
  http_thread.join();
  return 0;
}

}  // namespace pulse::cli
