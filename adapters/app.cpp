#include "adapters/app.h"

#include "adapters/auth/sealer.h"
#include "adapters/log/embedded_log.h"
#include "adapters/log/kafka_log.h"
#include "adapters/runtime/metered_log.h"

namespace pulse {
namespace {

// A read-only server writes nothing and sends nothing, so it holds no data key.
class NoSealer final : public Sealer {
 public:
  Result<SealedValue> seal(std::string_view, std::string_view, std::string_view) const override {
    return refused();
  }
  Result<std::string> open(const SealedValue&, std::string_view) const override {
    return refused();
  }

 private:
  static Error refused() {
    return Error{Errc::unavailable, "Read-only server", "it holds no data key"};
  }
};

}  // namespace

Result<std::unique_ptr<log::Log>> open_log(const AppOptions& options, RandomSource& random) {
  if (!options.kafka.empty()) {
    log::KafkaOptions k{options.kafka,
                        options.partitions > 0 ? options.partitions : log::kDefaultPartitions};
    k.fetch_wait = options.kafka_fetch_wait;
    k.delivery_timeout = options.kafka_delivery_timeout;
    k.reader_salt = random.next();
    return log::open_kafka_log(k);
  }
  return log::open_embedded_log(
      log::EmbeddedLogOptions{options.data_dir / "log", options.partitions});
}

// The read models as they are: nothing consumes the log, nothing writes.
Result<std::unique_ptr<App>> App::open_read_only(std::unique_ptr<App> app) {
  const auto dir = app->options().data_dir / "views";
  if (!std::filesystem::exists(dir))
    return Error{Errc::not_found, "No read models to serve",
                 dir.string() + " does not exist (build one with pulse replay --into DIR)"};
  auto views = store::KvStore::open(dir, true);
  if (!views) return views.error();
  app->views_ = std::move(views).value();
  app->models_ = std::make_unique<runtime::ReadModels>(*app->views_);
  app->watermarks_ = std::make_unique<runtime::Watermarks>(0);
  return app;
}

Result<std::unique_ptr<App>> App::open(const AppOptions& options, const TimeSource& clock,
                                       RandomSource& random) {
  std::unique_ptr<App> app(new App(options, clock, random));
  if (options.read_only) {
    app->options_.sealer = std::make_shared<NoSealer>();
    return open_read_only(std::move(app));
  }
  if (!app->options_.sealer) {
    auto sealer = auth::open_sealer(options.data_dir, nullptr);
    if (!sealer) return sealer.error();
    app->options_.sealer = std::move(sealer).value();
  }
  auto log = open_log(options, random);
  if (!log) return log.error();
  app->log_ = std::make_unique<runtime::MeteredLog>(std::move(log).value(), *app->metrics_);
  const auto& roles = options.roles;
  if (roles.decider) {
    auto state = store::KvStore::open(options.data_dir / "state");
    if (!state) return state.error();
    app->state_ = std::move(state).value();
  }
  if (roles.projector) {
    auto views = store::KvStore::open(options.data_dir / "views");
    if (!views) return views.error();
    app->views_ = std::move(views).value();
    app->models_ = std::make_unique<runtime::ReadModels>(*app->views_);
  }
  const int32_t partitions = app->log_->partition_count();
  app->options_.partitions = partitions;
  app->watermarks_ = std::make_unique<runtime::Watermarks>(partitions);
  app->decisions_ = std::make_unique<runtime::Decisions>(partitions);
  app->deadlines_ = std::make_unique<runtime::Deadlines>(partitions);
  app->work_signal_ = std::make_unique<runtime::Signal>();

  std::vector<Partition> all;
  for (int32_t p = 0; p < partitions; ++p) all.push_back(Partition{p});
  // With Kafka, the delivery log is pulse.webhook-deliveries: every API node and dispatcher
  // keeps a copy of it. With the embedded log, it lives with the one dispatcher.
  const bool kafka = !options.kafka.empty();
  if (roles.dispatcher || (kafka && roles.api)) {
    auto webhook_state = store::KvStore::open(options.data_dir / "webhooks");
    if (!webhook_state) return webhook_state.error();
    app->webhook_state_ = std::move(webhook_state).value();
    app->deliveries_ = std::make_unique<webhooks::DeliveryStore>(*app->webhook_state_);
    if (kafka) {
      app->delivery_replica_ =
          std::make_unique<webhooks::DeliveryReplica>(*app->log_, *app->webhook_state_, partitions);
      if (auto st = app->delivery_replica_->start(); !st) return st.error();
    }
  }
  if (roles.dispatcher && options.webhook_dispatch) {
    // The dispatcher reads the outbox from this node's read models (roles.cpp: dispatcher
    // implies projector). With Kafka, dispatchers share the outbox partitions through the
    // consumer group "pulse-webhook-dispatchers"; run as many as you like.
    auto wh = options.webhooks;
    wh.allow_private = options.allow_private_webhooks;
    if (kafka) wh.group = "pulse-webhook-dispatchers";
    App* self = app.get();
    app->dispatcher_ = std::make_unique<webhooks::Dispatcher>(
        app->log_.get(), *app->views_, *app->webhook_state_, partitions, clock, random,
        *app->options_.sealer, wh,
        [self] {
          return self->projector_ &&
                 self->projector_
                     ->wait_caught_up(std::chrono::steady_clock::now() + std::chrono::seconds(1))
                     .ok();
        },
        app->delivery_replica_.get());
  }
  // One process on the embedded log: its decider, the events' only writer, hands what it
  // appends straight to its projector (which applies every partition here): a write handler
  // waits for one thread fewer, and the projector reads the log only to catch up.
  const bool feed_projector = !kafka && roles.projector && roles.decider;
  if (roles.projector) {
    // Every partition: an API node answers any organisation from its own replica.
    app->projector_ = std::make_unique<runtime::ProjectorRunner>(
        *app->log_, *app->views_, *app->watermarks_, all, app->work_signal_.get(),
        app->dispatcher_ ? &app->dispatcher_->outbox_signal() : nullptr);
    if (feed_projector) app->projector_->fed_by_appends();
    if (auto st = app->projector_->start(); !st) return st.error();
  }
  if (app->dispatcher_)
    if (auto st = app->dispatcher_->start(); !st) return st.error();
  if (roles.decider) {
    // One process with every role decides every partition itself (the embedded log, or one
    // node on Kafka); split roles share them through a consumer group and mark every command
    // in the event log (see CommandDecided).
    runtime::DeciderOptions d;
    if (!roles.all()) d = {"pulse-deciders", true};
    if (feed_projector)
      d.appended = [projector = app->projector_.get()](std::vector<log::StoredRecord> events) {
        projector->apply_appended(std::move(events));
      };
    app->local_decisions_ = d.group.empty();
    app->decider_ = std::make_unique<runtime::DeciderRunner>(
        *app->log_, *app->state_, options.decider, all, *app->decisions_, *app->deadlines_, d);
    if (auto st = app->decider_->start(); !st) return st.error();
    if (roles.ticker) {
      // Ticks only partitions with a deadline, which only their decider publishes.
      app->ticker_ = std::make_unique<runtime::Ticker>(*app->log_, *app->deadlines_, clock, random);
      app->ticker_->start();
    }
  }
  return app;
}

App::~App() {
  // Stop producers and consumers before the stores and the log they use go away.
  if (dispatcher_) dispatcher_->stop();
  if (delivery_replica_) delivery_replica_->stop();
  if (ticker_) ticker_->stop();
  if (decider_) decider_->stop();
  if (projector_) projector_->stop();
}

}  // namespace pulse
