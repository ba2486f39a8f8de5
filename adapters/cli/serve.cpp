// pulse serve: the server.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "adapters/app.h"
#include "adapters/cli/args.h"
#include "adapters/http/api_server.h"
#include "adapters/runtime/system_clock.h"
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

}  // namespace

int serve(const Args& args) {
  const sigset_t signals = block_termination_signals();
  AppOptions options;
  options.data_dir = std::filesystem::absolute(args.get("--data-dir", "pulse-data"));
  options.allow_private_webhooks = args.has("--allow-private-webhooks");
  if (args.has("--partitions")) {
    auto n = parse_int(args.get("--partitions"));
    if (!n || *n < 1 || *n > 1024) return fail(validation_error("Invalid --partitions", "1..1024"));
    options.partitions = *n;
  }
  if (args.has("--monthly-sms-limit")) {
    auto n = parse_int(args.get("--monthly-sms-limit"));
    if (!n || *n < 0) return fail(validation_error("Invalid --monthly-sms-limit", ">= 0"));
    options.decider.monthly_sms_limit = *n;
  }
  const auto listen = args.get("--listen", "127.0.0.1:8080");
  const auto colon = listen.rfind(':');
  const auto port = colon == std::string::npos ? std::nullopt : parse_int(listen.substr(colon + 1));
  if (!port || *port < 0 || *port > 65535)
    return fail(validation_error("Invalid --listen", "expected HOST:PORT"));
  const auto host = listen.substr(0, colon);

  auto kafka = kafka_target(args);
  if (!kafka) return fail(kafka.error());
  options.kafka = kafka->brokers;

  runtime::SystemTimeSource clock;
  auto app = App::open(options, clock);
  if (!app) return fail(app.error());
  fmt::print("pulse: data directory {}\n", options.data_dir.string());
  fmt::print("pulse: event log {} ({} partitions)\n",
             options.kafka.empty() ? "embedded (" + (options.data_dir / "log").string() + ")"
                                   : "kafka " + options.kafka,
             (*app)->options().partitions);
  std::fflush(stdout);
  if (auto st = (*app)->wait_ready(std::chrono::steady_clock::now() + std::chrono::minutes(30));
      !st)
    return fail(st.error());

  http::ApiServer server(**app);
  auto bound = server.bind(host, *port);
  if (!bound) return fail(bound.error());
  std::thread http_thread([&] { server.run(); });
  fmt::print("pulse: listening on http://{}:{}\n", host, *bound);
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
