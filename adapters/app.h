#pragma once
// The composition root of `pulse serve`: the log adapter, the stores under the data directory,
// and the decider and projector runners. Owns them all.
//
// Data directory layout:
//   log/    the embedded event log (pulse.commands, pulse.events); absent with --kafka
//   state/  decider state and the command offsets it consumed
//   views/  read models and the event offsets the projector consumed
//   webhooks/ webhook dispatch state: deliveries, attempts, what is due (with Kafka, a copy of
//             pulse.webhook-deliveries, on every node that dispatches or serves the API)
//   secrets/  the JWT secret and the data keys that seal secrets at rest (adapters/auth/sealer.h),
//             unless the environment gives them
// Deleting views/ and restarting rebuilds every read model from the event log.
#include <filesystem>
#include <memory>
#include <string>

#include "adapters/log/log.h"
#include "adapters/runtime/decider_runner.h"
#include "adapters/runtime/metrics.h"
#include "adapters/runtime/projector_runner.h"
#include "adapters/runtime/read_models.h"
#include "adapters/runtime/roles.h"
#include "adapters/runtime/ticker.h"
#include "adapters/runtime/watermarks.h"
#include "adapters/store/kv_store.h"
#include "adapters/webhooks/delivery_replica.h"
#include "adapters/webhooks/delivery_store.h"
#include "adapters/webhooks/dispatcher.h"
#include "commands/decider.h"
#include "domain/ids.h"
#include "domain/random.h"
#include "domain/sealed.h"
#include "domain/time.h"

namespace pulse {

struct AppOptions {
  std::filesystem::path data_dir = "pulse-data";
  std::string kafka;             // empty: the embedded log
  Millis kafka_fetch_wait{100};  // readers' fetch wait (short against the mock cluster)
  // message.timeout.ms: an append to an unreachable broker fails (503) within about this.
  Millis kafka_delivery_timeout{5000};
  int32_t partitions = 0;           // of both topics; 0: as the embedded log has it (4 when new)
  commands::DeciderConfig decider;  // plan limits
  std::string jwt_secret;           // signs tokens; required
  std::string admin_token;          // operator routes; empty: disabled
  bool allow_private_webhooks = false;
  // Serve the read models under data_dir/views as they are (pulse replay --until builds such a
  // directory): no log, no deciders, no projectors; write routes answer 405.
  bool read_only = false;
  // What this process runs (pulse serve --roles; adapters/runtime/roles.h). Split roles need
  // Kafka: deciders then share partitions through the consumer group "pulse-deciders".
  runtime::Roles roles;
  // Webhook dispatch; allow_private above is copied into it. dispatch off: deliveries
  // are projected into the outbox but nothing is sent.
  webhooks::DispatcherOptions webhooks;
  bool webhook_dispatch = true;
  // Seals and opens the secrets records carry (adapters/auth/sealer.h). Empty: the data
  // directory's keys (DATA_DIR/secrets/data-keys, created on first start); `pulse serve` gives
  // PULSE_DATA_KEY's when it is set.
  std::shared_ptr<const Sealer> sealer;
};

class App {
 public:
  // `clock` and `random` are the only sources of time and randomness of what the App runs;
  // both outlive it.
  static Result<std::unique_ptr<App>> open(const AppOptions& options, const TimeSource& clock,
                                           RandomSource& random);
  ~App();

  const AppOptions& options() const { return options_; }
  log::Log& log() { return *log_; }  // not with options().read_only
  runtime::ReadModels& models() { return *models_; }
  runtime::Watermarks& watermarks() { return *watermarks_; }
  runtime::Decisions& decisions() { return *decisions_; }
  // Whether decisions() hears of every command (this process decides every partition); else a
  // write waits for its command's events, or CommandDecided mark, to be projected.
  bool local_decisions() const { return local_decisions_; }
  // Prometheus metrics of this process (GET /metrics).
  runtime::Metrics& metrics() { return *metrics_; }
  // The runners this process runs (nullptr when its roles don't include them).
  runtime::ProjectorRunner* projector() { return projector_.get(); }
  runtime::DeciderRunner* decider() { return decider_.get(); }
  // Wakes gateways waiting for work (long poll) when messages are queued.
  runtime::Signal& work_signal() { return *work_signal_; }
  const TimeSource& clock() const { return clock_; }
  const Sealer& sealer() const { return *options_.sealer; }
  // Webhook deliveries and their attempts; nullptr on a read-only server.
  webhooks::DeliveryStore* deliveries() { return deliveries_.get(); }
  webhooks::Dispatcher* dispatcher() { return dispatcher_.get(); }
  // Until the read models have caught up with the event log as it was at start-up.
  Status wait_ready(std::chrono::steady_clock::time_point deadline) {
    return projector_ ? projector_->wait_caught_up(deadline) : ok_status();
  }

 private:
  static Result<std::unique_ptr<App>> open_read_only(std::unique_ptr<App> app);
  App(AppOptions options, const TimeSource& clock, RandomSource& random)
      : options_(std::move(options)), clock_(clock), random_(random) {}

  AppOptions options_;
  const TimeSource& clock_;
  RandomSource& random_;
  std::unique_ptr<runtime::Metrics> metrics_ = std::make_unique<runtime::Metrics>();
  bool local_decisions_ = false;
  std::unique_ptr<log::Log> log_;
  std::unique_ptr<store::KvStore> state_;
  std::unique_ptr<store::KvStore> views_;
  std::unique_ptr<runtime::ReadModels> models_;
  std::unique_ptr<runtime::Watermarks> watermarks_;
  std::unique_ptr<runtime::Decisions> decisions_;
  std::unique_ptr<runtime::Deadlines> deadlines_;
  std::unique_ptr<runtime::Signal> work_signal_;
  std::unique_ptr<runtime::Ticker> ticker_;
  std::unique_ptr<runtime::DeciderRunner> decider_;
  std::unique_ptr<runtime::ProjectorRunner> projector_;
  // webhook dispatch
  std::unique_ptr<store::KvStore> webhook_state_;
  std::unique_ptr<webhooks::DeliveryStore> deliveries_;
  std::unique_ptr<webhooks::DeliveryReplica> delivery_replica_;  // Kafka only
  std::unique_ptr<webhooks::Dispatcher> dispatcher_;
};

// Opens the configured log adapter (`random` salts Kafka readers' group ids).
Result<std::unique_ptr<log::Log>> open_log(const AppOptions& options, RandomSource& random);

}  // namespace pulse
