// GET /api/campaigns/{id}/stats and GET /api/stats: counters the projector keeps (per campaign,
// per organisation and UTC day); nothing here reads messages.
#include <chrono>

#include "adapters/http/routes.h"
#include "adapters/runtime/read_models.h"
#include "domain/ids.h"
#include "domain/json_writer.h"
#include "fmt/format.h"
#include "projections/messages.h"

namespace pulse::http {
namespace {

using Req = httplib::Request;
using Res = httplib::Response;
using std::chrono::days;
using std::chrono::sys_days;

constexpr int kMaxDays = 366;
constexpr int kDefaultDays = 30;

// delivered / sent, 4 decimals; 0 when nothing went out.
double rate(int64_t delivered, int64_t sent) {
  if (sent <= 0) return 0.0;
  const int64_t per_10k = delivered * 10000 / sent;  // truncated, not rounded
  return static_cast<double>(per_10k) / 10000.0;
}

void campaign_stats(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  const CampaignId id{req.matches[1]};
  if (!is_valid_id(id_prefix::campaign, id.value))
    return reply_error(res, not_found("Campaign not found"));
  auto c = ctx.app.models().campaign(caller->org, id);
  if (!c) return reply_error(res, c.error());
  if (!*c) return reply_error(res, not_found("Campaign not found"));
  auto x = ctx.app.models().campaign_extras(caller->org, id);
  if (!x) return reply_error(res, x.error());
  const auto& v = **c;
  JsonWriter w;
  w.begin_object()
      .field("campaignId", v.id.value)
      .field("status", v.status)
      .field("totalMessages", v.total_messages)
      .field("queuedCount", v.queued_count)
      .field("sendingCount", v.sending_count)
      .field("sentCount", v.sent_count)
      .field("deliveredCount", v.delivered_count)
      .field("failedCount", v.failed_count)
      .field("suppressedCount", *x ? (*x)->suppressed : 0)
      .field("replyCount", *x ? (*x)->replies : 0)
      .field("segments", v.segments)
      .field("deliveryRate", rate(v.delivered_count, v.sent_count))
      .field("deviceId", *x ? (*x)->device_id : std::nullopt);
  w.key("startedAt");
  if (v.started_at)
    w.value(format_iso8601(*v.started_at));
  else
    w.null();
  w.key("completedAt");
  if (v.completed_at)
    w.value(format_iso8601(*v.completed_at));
  else
    w.null();
  w.end_object();
  reply(res, 200, w.take());
}

// "2026-11-22" or an ISO 8601 time (its UTC day).
std::optional<sys_days> day_param(const std::string& s) {
  auto t = parse_iso8601(s.size() == 10 ? s + "T00:00:00Z" : s);
  if (!t) return std::nullopt;
  return std::chrono::floor<days>(*t);
}

void org_stats(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  const auto bad = [&](std::string details) {
    reply_error(res, validation_error("Invalid query parameter", std::move(details)));
  };
  sys_days to = std::chrono::floor<days>(ctx.app.clock().now());
  if (req.has_param("to")) {
    auto d = day_param(req.get_param_value("to"));
    if (!d) return bad("to must be a date (2026-11-22) or an ISO 8601 time");
    to = *d;
  }
  sys_days from = to - days(kDefaultDays - 1);
  if (req.has_param("from")) {
    auto d = day_param(req.get_param_value("from"));
    if (!d) return bad("from must be a date (2026-11-01) or an ISO 8601 time");
    from = *d;
  }
  if (from > to) return bad("from must not be after to");
  if ((to - from).count() >= kMaxDays) return bad(fmt::format("at most {} days", kMaxDays));
  const auto day_of = [](sys_days d) { return projections::utc_day_of(TimePoint(d)); };
  auto stored = ctx.app.models().day_stats(caller->org, day_of(from), day_of(to));
  if (!stored) return reply_error(res, stored.error());
  projections::DayStatsView total;
  for (const auto& d : *stored) {
    total.queued += d.queued;
    total.sent += d.sent;
    total.delivered += d.delivered;
    total.failed += d.failed;
    total.suppressed += d.suppressed;
    total.segments += d.segments;
  }
  JsonWriter w;
  w.begin_object()
      .field("from", day_of(from))
      .field("to", day_of(to))
      .field("queued", total.queued)
      .field("sent", total.sent)
      .field("delivered", total.delivered)
      .field("failed", total.failed)
      .field("suppressed", total.suppressed)
      .field("segments", total.segments)
      .field("deliveryRate", rate(total.delivered, total.sent));
  // Every day of the range, zeros included, oldest first.
  w.key("days").begin_array();
  auto it = stored->begin();
  for (sys_days d = from; d <= to; d += days(1)) {
    projections::DayStatsView v;
    v.day = day_of(d);
    if (it != stored->end() && it->day == v.day) v = *it++;
    w.begin_object()
        .field("date", v.day)
        .field("queued", v.queued)
        .field("sent", v.sent)
        .field("delivered", v.delivered)
        .field("failed", v.failed)
        .field("suppressed", v.suppressed)
        .field("segments", v.segments)
        .field("deliveryRate", rate(v.delivered, v.sent))
        .end_object();
  }
  w.end_array().end_object();
  reply(res, 200, w.take());
}

}  // namespace

void add_stats_routes(Router& server, const Context& ctx) {
  server.Get(R"(/api/campaigns/([^/]+)/stats)", bind<campaign_stats>(ctx));
  server.Get("/api/stats", bind<org_stats>(ctx));
}

}  // namespace pulse::http
