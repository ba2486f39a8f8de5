// POST /api/sms/send and the campaign queries.
#include <algorithm>

#include "adapters/auth/crypto.h"
#include "adapters/codec/json_codec.h"
#include "adapters/http/json_views.h"
#include "adapters/http/routes.h"
#include "commands/campaigns.h"
#include "commands/send_sms.h"
#include "domain/ids.h"
#include "domain/json_writer.h"
#include "fmt/format.h"

#include <set>

namespace pulse::http {
namespace {

constexpr size_t kDefaultMessagesLimit = 500;
constexpr size_t kMaxMessagesLimit = 1000;
constexpr size_t kDefaultListLimit = 50;
constexpr size_t kMaxListLimit = 200;

// The Idempotency-Key header: 1 to 255 visible ASCII characters.
Result<std::optional<std::string>> idempotency_key(const httplib::Request& req) {
  if (!req.has_header("Idempotency-Key")) return std::optional<std::string>{};
  auto key = req.get_header_value("Idempotency-Key");
  const bool visible =
      std::all_of(key.begin(), key.end(), [](char c) { return c > 32 && c < 127; });
  if (key.empty() || key.size() > 255 || !visible)
    return validation_error("Invalid Idempotency-Key",
                            "1 to 255 visible ASCII characters, e.g. a UUID");
  return std::optional<std::string>{std::move(key)};
}

// What makes two sends "the same request": the validated recipients, message and device.
std::string request_hash(const SendSms& cmd) {
  JsonWriter w;
  w.begin_object().field("message", cmd.message).key("recipients").begin_array();
  for (const auto& r : cmd.recipients)
    w.begin_object().field("phone", r.phone.e164).field("name", r.name).end_object();
  w.end_array();
  if (cmd.device_id) w.field("deviceId", cmd.device_id->value);
  w.end_object();
  return auth::sha256_hex(w.take());
}

void send_sms(const Context& ctx, const httplib::Request& req, httplib::Response& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  const auto per_minute = ctx.app.options().decider.plans[caller->plan].send_per_minute;
  if (auto st = ctx.rate_limit(res, "send/" + caller->org.value, per_minute); !st)
    return reply_error(res, st.error());
  auto key = idempotency_key(req);
  if (!key) return reply_error(res, key.error());
  auto parsed = codec::decode_send_sms_request(req.body);
  if (!parsed) return reply_error(res, parsed.error());
  const auto now = ctx.app.clock().now();
  auto cmd =
      commands::make_send_sms(*parsed, CampaignId{make_id(id_prefix::campaign, now, random64())});
  if (!cmd) return reply_error(res, cmd.error());
  const auto campaign_id = cmd->campaign_id.value;
  const auto recipients = cmd->recipients.size();
  // scheduledAt (issue 5): a draft campaign that the clock starts, like POST /api/campaigns's.
  auto scheduled_at = codec::decode_strings(req.body, {}, {"scheduledAt"});
  if (!scheduled_at) return reply_error(res, scheduled_at.error());
  if (auto at = scheduled_at->find("scheduledAt");
      at != scheduled_at->end() && !at->second.empty()) {
    if (*key || cmd->device_id)
      return reply_error(
          res, validation_error("scheduledAt cannot be combined with deviceId or Idempotency-Key",
                                "Scheduled sends don't support them yet; send without one."));
    auto when = parse_iso8601(at->second);
    if (!when)
      return reply_error(res, validation_error("Invalid scheduledAt",
                                               "an ISO 8601 time such as 2026-04-05T09:00:00Z"));
    if (auto st = commands::check_schedule(*when, now); !st) return reply_error(res, st.error());
    std::vector<Contact> contacts;
    for (const auto& r : cmd->recipients)
      contacts.push_back(Contact{r.phone.e164, "", "", r.name, "", {}});
    auto messages = commands::render_messages(cmd->message, contacts);
    if (!messages) return reply_error(res, messages.error());
    const auto n = static_cast<int32_t>(recipients);
    DraftCampaign draft{cmd->campaign_id,
                        fmt::format("SMS to {} recipient{}", n, n == 1 ? "" : "s"),
                        "api",
                        cmd->message,
                        "",
                        "",
                        0,
                        n,
                        when};
    if (auto st = create_campaign(ctx, caller->org, draft, *messages); !st)
      return reply_error(res, st.error());
    return reply(res, 201, send_result_json(campaign_id, recipients));
  }
  if (*key) {
    cmd->idempotency_key = **key;
    cmd->request_hash = request_hash(*cmd);
  }
  const auto hash = cmd->request_hash;
  if (auto st = ctx.execute(ctx.envelope(caller->org, std::move(cmd).value())); !st)
    return reply_error(res, st.error());
  if (*key) {
    // The decider recorded the key with the send that was accepted first (this one or an
    // earlier one): answer what that one answered.
    auto first = ctx.app.models().idempotency(caller->org, **key);
    if (!first) return reply_error(res, first.error());
    if (*first && (*first)->request_hash == hash) {
      if ((*first)->campaign_id.value != campaign_id) res.set_header("Idempotent-Replayed", "true");
      return reply(res, 201,
                   send_result_json((*first)->campaign_id.value,
                                    static_cast<size_t>((*first)->recipient_count)));
    }
  }
  reply(res, 201, send_result_json(campaign_id, recipients));
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
  reply(res, 200, campaign_json(**campaign, &*messages, next));
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

void add_sms_routes(httplib::Server& server, const Context& ctx) {
  server.Post("/api/sms/send", [&ctx](const httplib::Request& req, httplib::Response& res) {
    send_sms(ctx, req, res);
  });
  server.Get("/api/campaigns", [&ctx](const httplib::Request& req, httplib::Response& res) {
    list_campaigns(ctx, req, res);
  });
  server.Get(
      R"(/api/campaigns/([^/]+))",
      [&ctx](const httplib::Request& req, httplib::Response& res) { get_campaign(ctx, req, res); });
}

}  // namespace pulse::http
