// Campaigns on contact lists: POST /api/campaigns and the controls
// POST /api/campaigns/{id}/pause|resume|cancel. The campaign queries are in sms_routes.cpp.
#include "adapters/http/json_views.h"
#include "adapters/http/request_json.h"
#include "adapters/http/routes.h"
#include "adapters/service/campaigns.h"

namespace pulse::http {
namespace {

using Req = httplib::Request;
using Res = httplib::Response;

void post_campaign(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  // Launching a campaign is sending: it shares POST /api/sms/send's rate.
  const auto per_minute = ctx.service.plans[caller->plan].send_per_minute;
  if (auto st = ctx.rate_limit(res, "send/" + caller->org.value, per_minute); !st)
    return reply_error(res, st.error());
  auto body = decode_campaign_request(req.body);
  if (!body) return reply_error(res, body.error());
  auto created = service::create_campaign(ctx.service, caller->org,
                                          {body->name, body->message, body->contact_list_id,
                                           body->scheduled_at, body->missing_variables});
  if (!created) return reply_error(res, created.error());
  reply(res, 201, campaign_json(*created));
}

template <service::CampaignAction Action>
void control(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  if (auto st = check_unused_body(req.body); !st) return reply_error(res, st.error());
  auto c = service::control_campaign(ctx.service, caller->org, req.matches[1], Action);
  if (!c) return reply_error(res, c.error());
  reply(res, 200, campaign_json(*c));
}

}  // namespace

void add_campaign_routes(Router& server, const Context& ctx) {
  using enum service::CampaignAction;
  server.Post("/api/campaigns", bind<post_campaign>(ctx));
  server.Post(R"(/api/campaigns/([^/]+)/pause)", bind<control<pause>>(ctx));
  server.Post(R"(/api/campaigns/([^/]+)/resume)", bind<control<resume>>(ctx));
  server.Post(R"(/api/campaigns/([^/]+)/cancel)", bind<control<cancel>>(ctx));
}

}  // namespace pulse::http
