// `pulse gateway-sim`: the command line around gateway::Fleet (adapters/gateway/simulator.h).
#include <signal.h>

#include <chrono>
#include <thread>

#include "adapters/cli/args.h"
#include "adapters/gateway/simulator.h"
#include "adapters/runtime/system_clock.h"
#include "fmt/format.h"

namespace pulse::cli {
namespace {

using Steady = std::chrono::steady_clock;
constexpr auto kPrintEvery = std::chrono::seconds(5);
constexpr auto kPoll = std::chrono::milliseconds(200);

// Waits up to kPoll for SIGINT/SIGTERM (blocked in every thread); true when one arrived.
bool termination_requested(const sigset_t& signals) {
  timespec ts{0, std::chrono::nanoseconds(kPoll).count()};
  return sigtimedwait(&signals, nullptr, &ts) > 0;
}

std::string stats_line(const gateway::FleetStats& s) {
  std::string line = fmt::format(
      "online {}/{}  claimed {}  sent {}  delivered {}  failed {}  rejected {}  errors {}",
      s.online, s.devices, s.claimed, s.sent, s.delivered, s.failed, s.rejected, s.errors);
  if (s.offline) line += fmt::format("  offline {}", s.offline);
  if (s.unpaired) line += fmt::format("  unpaired {}", s.unpaired);
  if (s.withheld) line += fmt::format("  withheld {}", s.withheld);
  if (s.unreported) line += fmt::format("  unreported {}", s.unreported);
  if (s.stop_replies) line += fmt::format("  stop replies {}", s.stop_replies);
  if (s.replies) line += fmt::format("  replies {}", s.replies);
  return line;
}

double seconds(Steady::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

int gateway_sim(const Args& args) {
  auto options = gateway::parse_sim_options(args);
  if (!options) return fail(options.error());
  const auto opts = *options;
  if (args.has("--check-args")) {
    // A dry run (compose.yaml's test): the flags parse; nothing is contacted.
    fmt::print("gateway-sim: arguments ok\n");
    return 0;
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a server that goes away mid-request is an error, not a death

  runtime::SystemTimeSource clock;
  gateway::Fleet fleet(opts, clock);

  if (!opts.quiet)
    fmt::print("gateway-sim: pairing {} device{} with {}\n", opts.devices,
               opts.devices == 1 ? "" : "s", opts.server);
  std::fflush(stdout);
  Status setup = ok_status();
  std::atomic<bool> setup_done{false};
  std::thread setup_thread([&] {
    setup = fleet.setup();
    setup_done = true;
  });
  bool interrupted = false;
  while (!setup_done)
    if (termination_requested(signals)) {
      interrupted = true;
      fleet.request_stop();
    }
  setup_thread.join();
  if (interrupted) {
    fmt::print("gateway-sim: stopped during setup\n");
    return 0;
  }
  if (!setup) return fail(setup.error());

  fleet.start();
  const auto t0 = Steady::now();
  if (!opts.quiet)
    fmt::print("gateway-sim: {} device{} registered and running (Ctrl-C stops)\n", opts.devices,
               opts.devices == 1 ? "" : "s");
  std::fflush(stdout);

  auto next_print = t0 + kPrintEvery;
  int64_t errors_seen = 0;
  while (true) {
    if (termination_requested(signals)) break;
    const auto now = Steady::now();
    if (opts.duration.count() > 0 && now - t0 >= opts.duration) break;
    if (fleet.finished()) break;
    if (!opts.quiet && now >= next_print) {
      const auto s = fleet.stats();
      std::string line = stats_line(s);
      if (s.errors > errors_seen && !s.last_error.empty())
        line += fmt::format("  (last error: {})", s.last_error);
      errors_seen = s.errors;
      fmt::print("gateway-sim: {:6.0f}s  {}\n", seconds(now - t0), line);
      std::fflush(stdout);
      next_print += kPrintEvery;
    }
  }
  const bool on_their_own = fleet.finished();
  fleet.join();
  const auto s = fleet.stats();
  fmt::print("gateway-sim: stopped after {:.1f} s: {}\n", seconds(Steady::now() - t0),
             stats_line(s));
  if (!s.last_error.empty()) fmt::print("gateway-sim: last error: {}\n", s.last_error);
  std::fflush(stdout);
  if (on_their_own && s.unpaired > 0) {
    fmt::print(stderr, "pulse: every device stopped; {} of them were unpaired\n", s.unpaired);
    return 1;
  }
  return 0;
}

}  // namespace pulse::cli
