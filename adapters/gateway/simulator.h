#pragma once
// `pulse gateway-sim`: a fleet of simulated Android gateway phones that speak
// adapters/gateway/PROTOCOL.md to a real Pulse server over HTTP. No httplib header here.
//
// Concurrency: one thread per device, with a 256 KiB stack. A phone spends nearly all its time
// blocked in a long poll (POST /api/gateway/messages/claim, waitSeconds ≤ 20) on its own
// keep-alive connection, exactly like the real app; cpp-httplib's client is blocking, so a
// shared event loop would need a second HTTP stack. Small stacks keep a thread at a few tens of
// KiB resident, so a few thousand devices fit one process (and stay under the server's and the
// OS's limits on connections before memory). Everything a device decides is in
// sim_schedule.h (pure, seeded); its thread only carries the decisions out.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "adapters/cmdline/args.h"
#include "adapters/gateway/sim_schedule.h"
#include "domain/result.h"
#include "domain/time.h"

namespace pulse::gateway {

// What the simulated phones speak: Pulse's own protocol (PROTOCOL.md), or the SMSGate app's
// device API (SMSGATE.md: registration with a pairing code, GET/PATCH /mobile/v1/message).
enum class SimProtocol { pulse, smsgate };

struct SimOptions {
  std::string server = "http://127.0.0.1:8080";  // scheme://host[:port], no path
  SimProtocol protocol = SimProtocol::pulse;
  std::string api_key;
  // A one-time pairing code someone read off the dashboard (SMSGate protocol, one phone): the
  // phone registers with it as a person typing it into the app would; no API key is needed.
  std::optional<std::string> pairing_code;
  int devices = 0;
  int sims = 1;  // SIM cards per phone, all sending; claims take them in turn
  Behaviour behaviour;
  std::optional<Millis> offline_after;  // from the start of the fleet
  std::optional<Millis> silent_after;
  int batch = 10;
  int claim_wait_seconds = 20;           // waitSeconds of the long poll; 0: poll once a second
  std::optional<int> heartbeat_seconds;  // default: the server's heartbeatIntervalSeconds
  uint64_t seed = 1;
  Millis duration{0};  // 0: until SIGINT/SIGTERM
  bool quiet = false;
  // P(a delivered message's recipient replies STOP): the phone reports that SMS on
  // POST /api/gateway/inbound. Decided per message id and seed, apart from the outcome stream.
  double reply_stop_rate = 0;
  // P(a delivered message's recipient, not replying STOP, answers `reply_text`), reported the
  // same way, to the SIM that sent the message. Decided per message id and seed too.
  double reply_rate = 0;
  std::string reply_text = "Thanks, got it";
};

// Validates every gateway-sim flag; unknown flags are refused (a typo would silently change
// the simulation).
Result<SimOptions> parse_sim_options(const cmdline::Args& args);

struct FleetStats {
  int devices = 0;   // registered
  int online = 0;    // running, and their last request reached the server
  int offline = 0;   // went dark (--offline-after)
  int unpaired = 0;  // stopped by a 401
  int64_t claimed = 0;
  int64_t sent = 0;  // reports the server accepted, by status
  int64_t delivered = 0;
  int64_t failed = 0;
  int64_t rejected = 0;      // reports answered "accepted": false
  int64_t withheld = 0;      // outcomes a silent device never reported (--silent-after)
  int64_t errors = 0;        // failed requests: connection errors, 5xx, unexpected answers
  int64_t unreported = 0;    // outcomes still planned when their device stopped
  int64_t stop_replies = 0;  // inbound STOP replies the server accepted
  int64_t replies = 0;       // other inbound replies (--reply-rate) the server accepted
  std::string last_error;
};

// Owns the setup workers and one thread per device; the destructor stops and joins them.
class Fleet {
 public:
  Fleet(SimOptions options, const TimeSource& clock);
  ~Fleet();
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  // API key → token, then one pairing token and one registration per device. Connection
  // errors, 5xx and 429 are retried for a while; any other refusal fails with the server's
  // error body. Blocking; request_stop() from another thread cuts it short.
  Status setup();
  // Starts the devices (after a successful setup).
  void start();
  FleetStats stats() const;
  bool finished() const;  // every device has stopped (offline, unpaired, or stop requested)
  void request_stop();    // thread-safe, idempotent; interrupts waits and long polls
  void join();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pulse::gateway
