// POST /api/sms/send and the campaign queries.
#include <memory>
#include <set>

#include "adapters/http/json_views.h"
#include "adapters/http/request_json.h"
#include "adapters/http/routes.h"
#include "adapters/service/sms.h"
#include "domain/ids.h"
#include "fmt/format.h"

namespace pulse::http {
namespace {

constexpr size_t kDefaultMessagesLimit = 500;
constexpr size_t kMaxMessagesLimit = 1000;
constexpr size_t kDefaultListLimit = 50;
constexpr size_t kMaxListLimit = 200;

void send_sms(const Context& ctx, const httplib::Request& req, httplib::Response& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  const auto per_minute = ctx.service.plans[caller->plan].send_per_minute;
  if (auto st = ctx.rate_limit(res, "send/" + caller->org.value, per_minute); !st)
    return reply_error(res, st.error());
  std::optional<std::string> key;
  if (req.has_header("Idempotency-Key")) {
    key = req.get_header_value("Idempotency-Key");
    if (auto st = service::check_idempotency_key(*key); !st) return reply_error(res, st.error());
  }
  auto body = decode_send_sms_body(req.body);
  if (!body) return reply_error(res, body.error());
  auto sent = service::send_sms(ctx.service, caller->org,
                                {std::move(body->request), std::move(body->scheduled_at),
                                 std::move(body->scheduled_at_error), std::move(key)});
  if (!sent) return reply_error(res, sent.error());
  if (sent->replayed) res.set_header("Idempotent-Replayed", "true");
  reply(res, 201, send_result_json(sent->campaign_id.value, sent->recipients));
}

void get_campaign(const Context& ctx, const httplib::Request& req, httplib::Response& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  const OrgId& org = caller->org;
  const std::string id = req.matches[1];
  if (!is_valid_id(id_prefix::campaign, id))
    return reply_error(res, not_found("Campaign not found"));
  auto limit = limit_param(req, "limit", kDefaultMessagesLimit, kMaxMessagesLimit);
  if (!limit) return reply_error(res, limit.error());
  std::optional<MessageId> after;
  if (req.has_param("messagesCursor")) {
    after = MessageId{req.get_param_value("messagesCursor")};
    if (!is_valid_id(id_prefix::message, after->value))
      return reply_error(
          res, validation_error("Invalid query parameter", "messagesCursor must be a message id"));
  }
  // The version is read before the views, so a kept page is never older than its version.
  std::optional<int64_t> version;
  if (ctx.pages.enabled()) version = ctx.views_version(org);
  std::string key;
  if (version) {
    key = fmt::format("campaign {} {} {} {}", org.value, id, *limit, after ? after->value : "");
    if (auto kept = ctx.pages.get(key, *version)) return reply(res, 200, *kept);
  }
  auto campaign = ctx.app.models().campaign(org, CampaignId{id});
  if (!campaign) return reply_error(res, campaign.error());
  if (!*campaign) return reply_error(res, not_found("Campaign not found"));
  auto messages = ctx.app.models().campaign_messages(org, CampaignId{id}, *limit + 1, after);
  if (!messages) return reply_error(res, messages.error());
  std::optional<std::string> next;
  if (messages->size() > *limit) {
    messages->pop_back();
    next = messages->back().id.value;
  }
  auto body = std::make_shared<const std::string>(campaign_json(**campaign, &*messages, next));
  if (version) ctx.pages.put(key, *version, body);
  reply(res, 200, *body);
}

void list_campaigns(const Context& ctx, const httplib::Request& req, httplib::Response& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  const OrgId& org = caller->org;
  auto limit = limit_param(req, "limit", kDefaultListLimit, kMaxListLimit);
  if (!limit) return reply_error(res, limit.error());
  std::optional<CampaignId> before;
  if (req.has_param("cursor")) {
    before = CampaignId{req.get_param_value("cursor")};
    if (!is_valid_id(id_prefix::campaign, before->value))
      return reply_error(
          res, validation_error("Invalid query parameter", "cursor must be a campaign id"));
  }
  std::optional<std::string> status;
  if (req.has_param("status")) {
    status = req.get_param_value("status");
    static const std::set<std::string> kStatuses{"draft",  "scheduled", "running",
                                                 "paused", "completed", "cancelled"};
    if (!kStatuses.count(*status))
      return reply_error(res, validation_error("Invalid query parameter",
                                               "status must be draft, scheduled, running, "
                                               "paused, completed or cancelled"));
  }
  auto list = status ? ctx.app.models().campaigns_with_status(org, *limit + 1, before, *status)
                     : ctx.app.models().campaigns(org, *limit + 1, before);
  if (!list) return reply_error(res, list.error());
  if (list->size() > *limit) {
    list->pop_back();
    res.set_header("X-Next-Cursor", list->back().id.value);
  }
  reply(res, 200, campaigns_json(*list));
}
}  // namespace

void add_sms_routes(Router& server, const Context& ctx) {
  server.Post("/api/sms/send", bind<send_sms>(ctx));
  server.Get("/api/campaigns", bind<list_campaigns>(ctx));
  server.Get(R"(/api/campaigns/([^/]+))", bind<get_campaign>(ctx));
}

}  // namespace pulse::http
