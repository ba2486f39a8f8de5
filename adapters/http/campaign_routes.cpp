// Campaigns on contact lists (issue 5): POST /api/campaigns and the controls
// POST /api/campaigns/{id}/pause|resume|cancel. The campaign queries are in sms_routes.cpp.
#include "adapters/codec/json_codec.h"
#include "adapters/http/json_views.h"
#include "adapters/http/routes.h"
#include "commands/campaigns.h"
#include "commands/contacts.h"
#include "domain/ids.h"
#include "fmt/format.h"

namespace pulse::http {
namespace {

using Req = httplib::Request;
using Res = httplib::Response;

Result<projections::CampaignView> campaign_of(const Context& ctx, const OrgId& org,
                                              const std::string& id) {
  const Error missing = not_found("Campaign not found");
  if (!is_valid_id(id_prefix::campaign, id)) return missing;
  auto c = ctx.app.models().campaign(org, CampaignId{id});
  if (!c) return c.error();
  if (!*c) return missing;
  return **c;
}

void post_campaign(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  // Launching a campaign is sending: it shares POST /api/sms/send's rate.
  const auto per_minute = ctx.app.options().decider.plans[caller->plan].send_per_minute;
  if (auto st = ctx.rate_limit(res, "send/" + caller->org.value, per_minute); !st)
    return reply_error(res, st.error());
  auto body = codec::decode_campaign_request(req.body);
  if (!body) return reply_error(res, body.error());
  if (auto st = commands::check_list_name(body->name); !st)
    return reply_error(
        res, validation_error("Invalid campaign name", "name must be 1 to 200 characters"));
  const auto now = ctx.app.clock().now();
  std::optional<TimePoint> scheduled;
  if (body->scheduled_at) {
    scheduled = parse_iso8601(*body->scheduled_at);
    if (!scheduled)
      return reply_error(res, validation_error("Invalid scheduledAt",
                                               "an ISO 8601 time such as 2026-04-05T09:00:00Z"));
    if (auto st = commands::check_schedule(*scheduled, now); !st)
      return reply_error(res, st.error());
  }
  const auto& list_id = body->contact_list_id;
  const Error no_list = not_found("Contact list not found");
  if (!is_valid_id(id_prefix::contact_list, list_id)) return reply_error(res, no_list);
  auto list = ctx.app.models().contact_list(caller->org, ContactListId{list_id});
  if (!list) return reply_error(res, list.error());
  if (!*list) return reply_error(res, no_list);
  // The snapshot: the list as it is now; later changes to it don't touch this campaign.
  auto contacts = ctx.app.models().contacts(caller->org, ContactListId{list_id}, 0, std::nullopt);
  if (!contacts) return reply_error(res, contacts.error());
  if (contacts->empty())
    return reply_error(res, validation_error("The contact list is empty",
                                             "add contacts to it or import a CSV file first"));
  std::vector<Contact> snapshot;
  snapshot.reserve(contacts->size());
  for (auto& c : *contacts) snapshot.push_back(std::move(c.contact));
  auto messages = commands::render_messages(body->message, snapshot);
  if (!messages) return reply_error(res, messages.error());
  const CampaignId id{make_id(id_prefix::campaign, now, random64())};
  const auto n = static_cast<int32_t>(messages->size());
  DraftCampaign draft{id, body->name, "campaign", body->message, list_id, (*list)->name,
                      n,  n,          scheduled};
  if (auto st = create_campaign(ctx, caller->org, draft, *messages); !st)
    return reply_error(res, st.error());
  auto view = campaign_of(ctx, caller->org, id.value);
  if (!view) return reply_error(res, view.error());
  reply(res, 201, campaign_json(*view));
}

template <const char* Action>
void control(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto c = campaign_of(ctx, caller->org, req.matches[1]);
  if (!c) return reply_error(res, c.error());
  if (auto st = ctx.execute(ctx.envelope(caller->org, ControlCampaign{c->id, Action})); !st)
    return reply_error(res, st.error());
  auto view = campaign_of(ctx, caller->org, c->id.value);
  if (!view) return reply_error(res, view.error());
  reply(res, 200, campaign_json(*view));
}

constexpr char kPause[] = "pause";
constexpr char kResume[] = "resume";
constexpr char kCancel[] = "cancel";

}  // namespace

Status create_campaign(const Context& ctx, const OrgId& org, const DraftCampaign& draft,
                       const std::vector<CampaignMessage>& messages) {
  if (auto st = ctx.execute(ctx.envelope(org, draft)); !st) return st;
  // Past the draft, a failure leaves a half-filled campaign: cancel it (best effort; the log
  // orders the cancel after anything already appended) and say which one it was.
  auto abandon = [&](Error e) -> Status {
    const auto cancelled =
        ctx.execute(ctx.envelope(org, ControlCampaign{draft.campaign_id, "cancel"}));
    e.details = fmt::format(
        "{} (campaign {} {})", e.details, draft.campaign_id.value,
        cancelled ? "was cancelled: nothing of it is sent" : "may be left as a draft: cancel it");
    return e;
  };
  for (size_t k = 0; k < messages.size(); k += kMaxCampaignMessagesPerCommand) {
    const auto end = std::min(messages.size(), k + kMaxCampaignMessagesPerCommand);
    QueueCampaignMessages chunk{draft.campaign_id,
                                static_cast<int32_t>(k),
                                {messages.begin() + static_cast<ptrdiff_t>(k),
                                 messages.begin() + static_cast<ptrdiff_t>(end)}};
    if (auto st = ctx.execute(ctx.envelope(org, std::move(chunk))); !st) return abandon(st.error());
  }
  if (auto st = ctx.execute(ctx.envelope(org, LaunchCampaign{draft.campaign_id})); !st)
    return abandon(st.error());
  return ok_status();
}

void add_campaign_routes(httplib::Server& server, const Context& ctx) {
  server.Post("/api/campaigns", [&ctx](const Req& req, Res& res) { post_campaign(ctx, req, res); });
  server.Post(R"(/api/campaigns/([^/]+)/pause)",
              [&ctx](const Req& req, Res& res) { control<kPause>(ctx, req, res); });
  server.Post(R"(/api/campaigns/([^/]+)/resume)",
              [&ctx](const Req& req, Res& res) { control<kResume>(ctx, req, res); });
  server.Post(R"(/api/campaigns/([^/]+)/cancel)",
              [&ctx](const Req& req, Res& res) { control<kCancel>(ctx, req, res); });
}

}  // namespace pulse::http
