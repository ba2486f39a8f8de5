// pulse: one binary for the server, the gateway simulator and the operators' tools.
#include <string>

#include "adapters/bench/bench.h"
#include "adapters/cli/args.h"
#include "adapters/store/data_dir.h"
#include "fmt/format.h"

namespace {

using namespace pulse::cli;

constexpr const char* kUsage = R"(usage: pulse <command> [options]

commands:
  serve        run the server
               [--listen 127.0.0.1:8080] [--data-dir DIR] [--kafka BROKERS|mock]
               [--partitions N] [--plans FILE] [--allow-private-webhooks]
               gateways: [--presence-window-seconds 90] [--lease-seconds 60]
               [--device-rate-per-minute 30] [--sim-daily-cap 1000] [--max-attempts 3]
               [--delivery-window-seconds 600] [--message-ttl-seconds 86400]
               [--draft-timeout-seconds 60] [--import-timeout-seconds 60] (a workflow
               of several commands that makes no progress for so long is discarded)
               [--read-only] (serve DATA_DIR/views as they are, e.g. from replay --until)
               [--tls-cert FILE --tls-key FILE] (HTTPS, PEM; the SMSGate app needs it)
               [--public-url URL] (how phones and links reach this server, e.g.
               https://pulse.example.com behind a proxy; default: the --listen address,
               https with --tls-cert, the machine's name for 0.0.0.0; never the Host header)
               [--trusted-proxy ADDR|CIDR] (the reverse proxy: X-Forwarded-For is read from
               it, and it is exempt from the per-address cap)
               [--max-connections N (default min(4096, open-file limit / 4))]
               [--max-connections-per-address 64] (beyond them, closed at accept)
               env: PULSE_JWT_SECRET (else DATA_DIR/secrets/jwt-secret), PULSE_ADMIN_TOKEN,
               PULSE_DATA_KEY (hex or base64 keys, comma-separated, the first seals; else
               DATA_DIR/secrets/data-keys)
  events       print the event log as NDJSON          --data-dir DIR [--kafka BROKERS]
               [--from OFFSET|P:O,…|TIME] [--to OFFSET|P:O,…|TIME] [--org ID] [--type T,…]
               [--follow]
  status       log ends, consumer positions and lag   --data-dir DIR [--kafka BROKERS]
  replay       rebuild the read models from the event log into a fresh directory
               --data-dir DIR --into DIR [--kafka BROKERS] [--verify] [--until TIME]
               [--swap] (server stopped: the rebuilt views replace DATA_DIR/views atomically)
  dump         print a store's keys and values        --data-dir DIR [--store views|state]
  gateway-sim  a simulated fleet of gateway phones    --api-key KEY --devices N
               [--server http://127.0.0.1:8080] [--fail-rate 0.05] [--send-delay-ms 200]
               [--delivery-delay-ms 1000] [--delivery-rate 1.0] [--offline-after SECONDS]
               [--silent-after SECONDS] [--batch 10] [--claim-wait 20 (long poll, s)]
               [--heartbeat-seconds S (server's: 30)] [--seed 1] [--quiet]
               [--reply-stop-rate 0 (recipients reply STOP: POST /api/gateway/inbound)]
               [--reply-rate 0 --reply-text "Thanks, got it" (other recipients reply that)]
               [--sims 1 (SIM cards per phone, 1 to 4)]
               [--duration SECONDS (0: until Ctrl-C)]
               [--protocol pulse|smsgate (the SMSGate app's /mobile/v1 device API)]
               [--code DIGITS (smsgate, one phone: the pairing code a person read off the
               dashboard; then no --api-key)]
  admin        operator commands: set-plan --org ORG --plan PLAN  [--server URL],
               rotate-data-key [--data-dir DIR]
               (with PULSE_ADMIN_TOKEN)
  bench        benchmarks against raw baselines       [--quick] [--only FIGURE,...]
)";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "help") {
    fmt::print("{}", kUsage);
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  // Every file pulse writes (the log, views, state, secrets) is its owner's alone.
  pulse::store::create_private_files();
  if (cmd == "admin") return admin(argc, argv);  // its own sub-commands before the flags
  for (int i = 2; i < argc; ++i)
    if (std::string(argv[i]) == "--help") {  // e.g. pulse serve --help
      fmt::print("{}", kUsage);
      return 0;
    }
  auto args = parse_args(argc, argv, 2);
  if (!args) return 2;
  if (cmd == "serve") return serve(*args);
  if (cmd == "events") return events(*args);
  if (cmd == "status") return status(*args);
  if (cmd == "replay") return replay(*args);
  if (cmd == "dump") return dump(*args);
  if (cmd == "gateway-sim") return gateway_sim(*args);
  if (cmd == "bench") return pulse::bench::run(*args);
  fmt::print(stderr, "pulse: unknown command '{}'\n{}", cmd, kUsage);
  return 2;
}
