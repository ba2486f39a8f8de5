// Devices (the organisation's side) and the gateway protocol (the phone's side), as written in
// adapters/gateway/PROTOCOL.md.
#include <qrencode.h>

#include <algorithm>
#include <memory>
#include <set>

#include "adapters/auth/crypto.h"
#include "adapters/http/request_json.h"
#include "adapters/http/routes.h"
#include "adapters/service/devices.h"
#include "domain/ids.h"
#include "domain/json_writer.h"
#include "domain/phone.h"
#include "fmt/format.h"

namespace pulse::http {
namespace {

using Req = httplib::Request;
using Res = httplib::Response;

constexpr int kMaxClaim = 100;
constexpr int kMaxWaitSeconds = 25;
constexpr size_t kMaxReports = 500;

// ---- JSON ---------------------------------------------------------------------------------

void write_device(JsonWriter& w, const projections::DeviceView& d) {
  // The reference's fields first; phoneNumber and carrier are the first sending SIM's.
  const SimCard* primary = nullptr;
  for (const auto& sim : d.sims)
    if (std::find(d.sending_slots.begin(), d.sending_slots.end(), sim.slot) !=
        d.sending_slots.end()) {
      primary = &sim;
      break;
    }
  if (!primary && !d.sims.empty()) primary = &d.sims.front();
  w.begin_object().field("id", d.id.value).field("deviceName", d.name).key("phoneNumber");
  if (primary && !primary->phone_number.empty())
    w.value(primary->phone_number);
  else
    w.null();
  w.field("model", d.model)
      .field("osVersion", d.os_version)
      .field("appVersion", d.app_version)
      .field("status", d.status)
      .field("smsSent", d.sms_sent)
      .key("lastSeenAt");
  if (d.last_seen_at)
    w.value(format_iso8601(*d.last_seen_at));
  else
    w.null();
  w.key("carrier");
  if (primary && !primary->carrier.empty())
    w.value(primary->carrier);
  else
    w.null();
  w.key("sims").begin_array();
  for (const auto& sim : d.sims) {
    const bool sending = std::find(d.sending_slots.begin(), d.sending_slots.end(), sim.slot) !=
                         d.sending_slots.end();
    w.begin_object()
        .field("slot", sim.slot)
        .field("phoneNumber", sim.phone_number)
        .field("carrier", sim.carrier)
        .field("sending", sending)
        .end_object();
  }
  w.end_array();
  w.field("battery", d.battery).field("signal", d.signal);
  w.field("createdAt", format_iso8601(d.created_at)).end_object();
}

// A QR code as SVG: one path of unit squares on a white background with a quiet zone.
Result<std::string> qr_svg(const std::string& text) {
  std::unique_ptr<QRcode, decltype(&QRcode_free)> qr(
      QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1), &QRcode_free);
  if (!qr) return Error{Errc::internal, "Cannot draw the QR code", "qrencode failed"};
  const int n = qr->width;
  const int quiet = 4;
  std::string path;
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x)
      if (qr->data[y * n + x] & 1) path += fmt::format("M{} {}h1v1h-1z", x + quiet, y + quiet);
  const int size = n + 2 * quiet;
  return fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {0} {0}" width="{1}" height="{1}" )"
      R"(shape-rendering="crispEdges"><rect width="{0}" height="{0}" fill="#fff"/>)"
      R"(<path fill="#000" d="{2}"/></svg>)",
      size, size * 8, path);
}

// What the phone scans: {"server": the configured public URL, "pairingToken"}. Never the
// request's Host: whoever sends the request would choose where the phone goes.
std::string qr_payload(const Context& ctx, const std::string& token) {
  JsonWriter w;
  w.begin_object()
      .field("server", ctx.options.public_url)
      .field("pairingToken", token)
      .end_object();
  return w.take();
}

// ---- gateway authentication -----------------------------------------------------------------

struct GatewayCaller {
  OrgId org;
  DeviceId device;
};

Result<GatewayCaller> gateway_auth(const Context& ctx, const Req& req) {
  const auto header = req.get_header_value("Authorization");
  const Error unauthorized{Errc::unauthorized, "Invalid device token",
                           "Send Authorization: Bearer <deviceToken> from /api/gateway/register; "
                           "pair the phone again if it was removed."};
  if (!header.starts_with("Bearer gw_")) return unauthorized;
  auto cred = ctx.app.models().device_credential(auth::sha256_hex(header.substr(7)));
  if (!cred) return cred.error();
  if (!*cred) return unauthorized;
  auto device = ctx.app.models().device((*cred)->org, (*cred)->device);
  if (!device) return device.error();
  if (!*device) return unauthorized;
  return GatewayCaller{(*cred)->org, (*cred)->device};
}

// ---- organisation side ----------------------------------------------------------------------

void create_pairing(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  if (auto st = check_unused_body(req.body); !st) return reply_error(res, st.error());
  auto p = service::create_pairing(ctx.service, caller->org);
  if (!p) return reply_error(res, p.error());
  auto code = create_pairing_code(ctx, caller->org, p->expires_at);  // for the SMSGate app
  if (!code) return reply_error(res, code.error());
  JsonWriter w;
  w.begin_object()
      .field("pairingToken", p->token)
      .field("code", *code)
      .field("expiresAt", format_iso8601(p->expires_at))
      .field("qrPayload", qr_payload(ctx, p->token))
      .field("qrSvgUrl", fmt::format("/api/devices/pairing/{}/qr.svg", p->token))
      .end_object();
  reply(res, 201, w.take());
}

void pairing_qr(const Context& ctx, const Req& req, Res& res) {
  const std::string token = req.matches[1];
  const Error gone{Errc::not_found, "Pairing token not found",
                   "It expired or was used; create a new one."};
  if (!service::looks_like_pairing_token(token)) return reply_error(res, gone);
  auto pairing = ctx.app.models().pairing(auth::sha256_hex(token));
  if (!pairing) return reply_error(res, pairing.error());
  if (!*pairing || (*pairing)->used || (*pairing)->expires_at <= ctx.app.clock().now())
    return reply_error(res, gone);
  auto svg = qr_svg(qr_payload(ctx, token));
  if (!svg) return reply_error(res, svg.error());
  res.status = 200;
  res.set_header("Cache-Control", "no-store");
  res.set_content(std::move(svg).value(), "image/svg+xml");
}

void list_devices(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto devices = ctx.app.models().devices(caller->org);
  if (!devices) return reply_error(res, devices.error());
  JsonWriter w;
  w.begin_array();
  for (const auto& d : *devices) write_device(w, d);
  w.end_array();
  reply(res, 200, w.take());
}

Result<projections::DeviceView> device_of(const Context& ctx, const OrgId& org,
                                          const std::string& id) {
  return service::find_device(ctx.service, org, id);
}

void get_device(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto d = device_of(ctx, caller->org, req.matches[1]);
  if (!d) return reply_error(res, d.error());
  JsonWriter w;
  write_device(w, *d);
  reply(res, 200, w.take());
}

// PATCH /api/devices/{id} {deviceName?, sendingSims?: [slot, …]}
void update_device(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto d = device_of(ctx, caller->org, req.matches[1]);
  if (!d) return reply_error(res, d.error());
  auto body = decode_device_update(req.body);
  if (!body) return reply_error(res, body.error());
  if (auto st =
          service::update_device(ctx.service, caller->org, d->id, body->name, body->sending_slots);
      !st)
    return reply_error(res, st.error());
  return get_device(ctx, req, res);
}

void delete_device(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto d = device_of(ctx, caller->org, req.matches[1]);
  if (!d) return reply_error(res, d.error());
  if (auto st = service::unpair_device(ctx.service, caller->org, d->id); !st)
    return reply_error(res, st.error());
  JsonWriter w;
  w.begin_object().field("id", d->id.value).field("status", "unpaired").end_object();
  reply(res, 200, w.take());
}

// ---- phone side -----------------------------------------------------------------------------

void register_device(const Context& ctx, const Req& req, Res& res) {
  auto body = decode_device_registration(req.body, ctx.service.phones);
  if (!body) return reply_error(res, body.error());
  auto r = service::register_device(ctx.service, body->pairing_token, body->device);
  if (!r) return reply_error(res, r.error());
  const auto& g = ctx.app.options().decider.gateway;
  JsonWriter w;
  w.begin_object()
      .field("deviceId", r->device.value)
      .field("deviceToken", r->token)
      .field("organizationId", r->org.value)
      .field("heartbeatIntervalSeconds", static_cast<int64_t>(30))
      .field("leaseSeconds", static_cast<int64_t>(g.lease.count() / 1000))
      .end_object();
  reply(res, 201, w.take());
}

void heartbeat(const Context& ctx, const Req& req, Res& res) {
  auto caller = gateway_auth(ctx, req);
  if (!caller) return reply_error(res, caller.error());
  auto body = decode_heartbeat(req.body.empty() ? "{}" : req.body);
  if (!body) return reply_error(res, body.error());
  auto st =
      ctx.execute(ctx.envelope(caller->org, DeviceHeartbeat{caller->device, body->battery,
                                                            body->signal, body->app_version}));
  if (!st) return reply_error(res, st.error());
  auto queue = ctx.app.models().queue(caller->org);
  if (!queue) return reply_error(res, queue.error());
  JsonWriter w;
  w.begin_object()
      .field("status", "online")
      .field("serverTime", format_iso8601(ctx.app.clock().now()))
      .field("queuedMessages", queue->queued)
      .end_object();
  reply(res, 200, w.take());
}

// One ClaimMessages command; the messages it handed out.
Result<std::string> claim_once(const Context& ctx, const GatewayCaller& caller, int32_t max,
                               size_t& count) {
  auto env = ctx.envelope(caller.org, ClaimMessages{caller.device, max});
  if (auto st = ctx.execute(env); !st) return st.error();
  auto claim = ctx.app.models().claim(caller.org, env.id);
  if (!claim) return claim.error();
  JsonWriter w;
  w.begin_object().key("messages").begin_array();
  count = 0;
  if (*claim) {
    for (const auto& cm : (*claim)->messages) {
      auto m = ctx.app.models().message(caller.org, cm.id);
      if (!m) return m.error();
      if (!*m) continue;
      auto body = body_to_send(ctx, caller.org, **m);
      if (!body) return body.error();
      w.begin_object()
          .field("id", cm.id.value)
          .field("phone", (*m)->phone)
          .field("body", *body)
          .field("simSlot", (*claim)->sim_slot)
          .field("attempt", cm.attempt)
          .field("leaseExpiresAt", format_iso8601((*claim)->lease_until))
          .end_object();
      ++count;
    }
  }
  w.end_array().end_object();
  return w.take();
}

void claim(const Context& ctx, const Req& req, Res& res) {
  auto caller = gateway_auth(ctx, req);
  if (!caller) return reply_error(res, caller.error());
  auto body = decode_ints(req.body.empty() ? "{}" : req.body, {"max", "waitSeconds"});
  if (!body) return reply_error(res, body.error());
  const int64_t max = (*body)["max"].value_or(10);
  const int64_t wait = (*body)["waitSeconds"].value_or(0);
  if (max < 1 || max > kMaxClaim)
    return reply_error(res, validation_error("Invalid max", fmt::format("1 to {}", kMaxClaim)));
  if (wait < 0 || wait > kMaxWaitSeconds)
    return reply_error(
        res, validation_error("Invalid waitSeconds", fmt::format("0 to {}", kMaxWaitSeconds)));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait);
  // Holding takes a worker thread: beyond `held_polls` held requests, answer at once.
  struct Hold {
    std::atomic<int>& n;
    bool held;
    explicit Hold(std::atomic<int>& c, int limit) : n(c), held(++c <= limit) {}
    ~Hold() { --n; }
  } hold(ctx.held_polls, ctx.options.held_polls);
  for (bool first = true;; first = false) {
    const auto generation = ctx.app.work_signal().generation();
    // The first time, and after a wake-up when this organisation has queued messages: claim.
    auto queue = ctx.app.models().queue(caller->org);
    if (!queue) return reply_error(res, queue.error());
    if (first || queue->queued > 0) {
      size_t count = 0;
      auto out = claim_once(ctx, *caller, static_cast<int32_t>(max), count);
      if (!out) return reply_error(res, out.error());
      // Work handed out, or work queued that this phone may not take now (paced, capped, or
      // waiting for another phone): answer at once, as PROTOCOL.md says.
      if (count > 0 || queue->queued > 0 || !hold.held || ctx.stopping ||
          std::chrono::steady_clock::now() >= deadline) {
        res.status = 200;
        res.set_content(std::move(out).value(), kJson);
        return;
      }
    }
    // Nothing now: hold the request until messages are queued (or the wait ends). Idle phones
    // don't fill the log with empty claims.
    if (!ctx.app.work_signal().wait(generation, deadline) || ctx.stopping) {
      reply(res, 200, R"({"messages":[]})");
      return;
    }
  }
}

void report_status(const Context& ctx, const Req& req, Res& res) {
  auto caller = gateway_auth(ctx, req);
  if (!caller) return reply_error(res, caller.error());
  auto reports = decode_status_reports(req.body);
  if (!reports) return reply_error(res, reports.error());
  if (reports->empty() || reports->size() > kMaxReports)
    return reply_error(
        res, validation_error("Invalid reports", fmt::format("send 1 to {} reports", kMaxReports)));
  // A message of another organisation (or none) is refused here; the decider refuses what
  // another device holds.
  std::map<std::string, std::string> refused;
  std::vector<StatusReport> known;
  for (const auto& r : *reports) {
    auto m = is_valid_id(id_prefix::message, r.message_id.value)
                 ? ctx.app.models().message(caller->org, r.message_id)
                 : Result<std::optional<projections::MessageView>>(std::nullopt);
    if (!m) return reply_error(res, m.error());
    if (!*m)
      refused[r.message_id.value] = "message not found";
    else
      known.push_back(r);
  }
  auto env = ctx.envelope(caller->org, ReportStatus{caller->device, known});
  if (!known.empty()) {
    if (auto st = ctx.execute(env); !st) return reply_error(res, st.error());
    auto rejected = ctx.app.models().rejections(caller->org, env.id);
    if (!rejected) return reply_error(res, rejected.error());
    if (*rejected)
      for (const auto& r : (*rejected)->reports) refused[r.id.value] = r.error;
  }
  JsonWriter w;
  w.begin_object().key("results").begin_array();
  for (const auto& r : *reports) {
    w.begin_object().field("messageId", r.message_id.value);
    auto why = refused.find(r.message_id.value);
    w.field("accepted", why == refused.end());
    if (why != refused.end()) w.field("error", why->second);
    if (auto m = ctx.app.models().message(caller->org, r.message_id); m && *m)
      w.field("status", (*m)->status);
    w.end_object();
  }
  w.end_array().end_object();
  reply(res, 200, w.take());
}

// An SMS the phone received: recorded; a STOP reply puts the sender on the
// organisation's opt-out list.
void inbound(const Context& ctx, const Req& req, Res& res) {
  auto caller = gateway_auth(ctx, req);
  if (!caller) return reply_error(res, caller.error());
  auto body = decode_strings(req.body, {"from", "body"}, {"receivedAt"});
  if (!body) return reply_error(res, body.error());
  auto slot = decode_ints(req.body, {"simSlot"});
  if (!slot) return reply_error(res, slot.error());
  auto r = service::receive_sms(
      ctx.service, caller->org, caller->device,
      {(*body)["from"], (*body)["body"], (*body)["receivedAt"], (*slot)["simSlot"]});
  if (!r) return reply_error(res, r.error());
  JsonWriter w;
  w.begin_object()
      .field("accepted", true)
      .field("from", r->from)
      .field("optedOut", r->opted_out)
      .end_object();
  reply(res, 200, w.take());
}

}  // namespace

void add_gateway_routes(Router& server, const Context& ctx) {
  server.Post("/api/devices/pairing", bind<create_pairing>(ctx));
  server.Get(R"(/api/devices/pairing/([^/]+)/qr\.svg)", bind<pairing_qr>(ctx));
  server.Get("/api/devices", bind<list_devices>(ctx));
  server.Get(R"(/api/devices/([^/]+))", bind<get_device>(ctx));
  server.Patch(R"(/api/devices/([^/]+))", bind<update_device>(ctx));
  server.Delete(R"(/api/devices/([^/]+))", bind<delete_device>(ctx));
  server.Post("/api/gateway/register", bind<register_device>(ctx));
  server.Post("/api/gateway/heartbeat", bind<heartbeat>(ctx));
  server.Post("/api/gateway/messages/claim", bind<claim>(ctx));
  server.Post("/api/gateway/messages/status", bind<report_status>(ctx));
  server.Post("/api/gateway/inbound", bind<inbound>(ctx));
}

}  // namespace pulse::http
