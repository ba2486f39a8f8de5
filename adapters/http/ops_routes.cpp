// GET /metrics (Prometheus text format 0.0.4) and GET /readyz, and the gauges they compute at
// scrape time from this process's runners, log and read models.
#include <chrono>

#include "adapters/codec/json_codec.h"
#include "adapters/http/json_views.h"
#include "adapters/http/routes.h"
#include "adapters/runtime/metrics.h"
#include "fmt/format.h"

namespace pulse::http {
namespace {

using runtime::Labels;
using runtime::Metrics;

// /readyz answers 503 while the projector is more events than this behind the log's end.
constexpr int64_t kReadyMaxLag = 1000;

Labels partition_label(int32_t p) {
  return {{"partition", std::to_string(p)}};
}

// Per partition: the end of `topic` minus `next` (what was consumed). Skipped (no samples)
// while the log is unreachable: asking a dead broker for offsets would hold the scrape.
std::vector<Metrics::Sample> lag(log::Log& log, std::string_view topic,
                                 const std::map<int32_t, int64_t>& next) {
  std::vector<Metrics::Sample> out;
  if (!log.reachable()) return out;
  for (const auto& [p, offset] : next) {
    auto end = log.end_offset(topic, Partition{p});
    if (!end) return {};
    out.push_back(
        {partition_label(p), static_cast<double>(std::max<int64_t>(0, end->value - offset))});
  }
  return out;
}

void register_collectors(App& app) {
  auto& m = app.metrics();
  if (!app.options().read_only) {
    m.collect("pulse_log_reachable",
              "1 while the event log answers (Kafka: a broker leads every partition), else 0.",
              [&app] {
                return std::vector<Metrics::Sample>{{{}, app.log().reachable() ? 1.0 : 0.0}};
              });
  }
  if (auto* projector = app.projector()) {
    m.collect("pulse_projector_lag_events",
              "Events in pulse.events not yet applied to this node's read models, per partition.",
              [&app, projector] {
                return lag(app.log(), log::kEventsTopic, projector->applied_offsets());
              });
    m.collect("pulse_projector_next_offset",
              "The next pulse.events offset this node's projector applies, per partition.",
              [projector] {
                std::vector<Metrics::Sample> out;
                for (const auto& [p, next] : projector->applied_offsets())
                  out.push_back({partition_label(p), static_cast<double>(next)});
                return out;
              });
  }
  if (auto* decider = app.decider()) {
    m.collect("pulse_decider_lag_commands",
              "Commands in pulse.commands not yet decided, per partition this node decides.",
              [&app, decider] {
                std::map<int32_t, int64_t> next;
                for (auto p : decider->owned()) {
                  auto offset = decider->committed_offset(p);
                  if (!offset) return std::vector<Metrics::Sample>{};
                  next[p.value] = *offset;
                }
                return lag(app.log(), log::kCommandsTopic, next);
              });
    m.collect(
        "pulse_decider_partitions", "Partitions of pulse.commands this node decides.", [decider] {
          return std::vector<Metrics::Sample>{{{}, static_cast<double>(decider->owned().size())}};
        });
  }
  if (auto* dispatcher = app.dispatcher()) {
    m.collect("pulse_webhook_partitions",
              "Outbox partitions whose webhooks this node delivers (1 per partition).",
              [dispatcher] {
                std::vector<Metrics::Sample> out;
                for (auto p : dispatcher->active_partitions())
                  out.push_back({partition_label(p), 1.0});
                return out;
              });
  }
  // Described so that dashboards can name it, but nothing sets it yet: the webhook dispatcher
  // would report with app.metrics().set("pulse_webhook_outbox_depth", {}, depth). No sample.
  m.describe("pulse_webhook_outbox_depth",
             "Webhook deliveries waiting in the outbox (set by the webhook dispatcher).", "gauge");
  if (app.projector() || app.options().read_only) {
    // Scans every device and campaign view: O(devices + campaigns) per scrape.
    m.collect("pulse_devices_online", "Gateway devices online, over every organisation.", [&app] {
      int64_t online = 0;
      auto st = app.models().kv().scan("d/", "", false, [&](std::string_view, std::string_view v) {
        auto d = codec::decode<projections::DeviceView>(v);
        if (d && d->status == "online") ++online;
        return true;
      });
      if (!st) return std::vector<Metrics::Sample>{};
      return std::vector<Metrics::Sample>{{{}, static_cast<double>(online)}};
    });
    m.collect(
        "pulse_messages",
        "Messages by status, over every campaign (sent counts every message that reached sent, "
        "including those delivered or failed since).",
        [&app] {
          int64_t queued = 0, sending = 0, sent = 0, delivered = 0, failed = 0;
          auto st =
              app.models().kv().scan("c/", "", false, [&](std::string_view, std::string_view v) {
                auto c = codec::decode<projections::CampaignView>(v);
                if (!c) return true;
                queued += c->queued_count;
                sending += c->sending_count;
                sent += c->sent_count;
                delivered += c->delivered_count;
                failed += c->failed_count;
                return true;
              });
          if (!st) return std::vector<Metrics::Sample>{};
          std::vector<Metrics::Sample> out;
          for (auto [status, n] :
               {std::pair{"queued", queued}, std::pair{"sending", sending}, std::pair{"sent", sent},
                std::pair{"delivered", delivered}, std::pair{"failed", failed}})
            out.push_back({{{"status", status}}, static_cast<double>(n)});
          return out;
        });
  }
}

// Ready: the log answers and this node's read models are within kReadyMaxLag of its end.
Status readiness(App& app) {
  if (app.options().read_only) return ok_status();
  if (!app.log().reachable())
    return Error{Errc::unavailable, "Not ready", "the event log (Kafka) is unreachable"};
  if (auto* projector = app.projector()) {
    for (const auto& [p, next] : projector->applied_offsets()) {
      auto end = app.log().end_offset(log::kEventsTopic, Partition{p});
      if (!end) return Error{Errc::unavailable, "Not ready", end.error().details};
      if (end->value - next > kReadyMaxLag)
        return Error{Errc::unavailable, "Not ready",
                     fmt::format("the read models are {} events behind on partition {}",
                                 end->value - next, p)};
    }
  }
  return ok_status();
}

}  // namespace

void add_ops_routes(Router& server, const Context& ctx) {
  register_collectors(ctx.app);
  server.Get("/metrics", [&ctx](const httplib::Request&, httplib::Response& res) {
    res.status = 200;
    res.set_content(ctx.app.metrics().render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server.Get("/readyz", [&ctx](const httplib::Request&, httplib::Response& res) {
    if (auto st = readiness(ctx.app); !st) return reply_error(res, st.error());
    reply(res, 200, R"({"status":"ready"})");
  });
}

}  // namespace pulse::http
