// The SMSGate Android app's device API (/mobile/v1, adapters/gateway/SMSGATE.md) mapped onto
// Pulse's gateway commands: registration is pairing, GET /message is a claim under a lease,
// PATCH /message are status reports, every authorised call is a heartbeat, and GET /events is
// a server-sent event stream in place of Firebase push.
#include <httplib.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>

#include "adapters/auth/crypto.h"
#include "adapters/gateway/smsgate_json.h"
#include "adapters/http/json_views.h"
#include "adapters/http/routes.h"
#include "adapters/service/devices.h"
#include "domain/ids.h"
#include "domain/plans.h"
#include "domain/text.h"
#include "fmt/format.h"

namespace pulse::http {
namespace {

namespace sg = gateway::smsgate;
using Req = httplib::Request;
using Res = httplib::Response;
using Steady = std::chrono::steady_clock;

constexpr int32_t kClaimMax = 20;            // messages handed out per GET /message
constexpr size_t kMaxPatchItems = 100;       // entries per PATCH /message
constexpr size_t kMaxPatchRecipients = 100;  // recipients per entry (the reference's cap)
constexpr Millis kHeartbeatEvery{10'000};    // a call refreshes presence at most this often
constexpr int kMaxStreams = 128;             // open event streams (also counted as held requests)
constexpr auto kKeepalive = std::chrono::seconds(15);
constexpr auto kStreamHeartbeat = std::chrono::seconds(30);
constexpr auto kStreamLifetime = std::chrono::minutes(30);
constexpr auto kEnqueuedReminder = std::chrono::seconds(30);

std::string code_hash(std::string_view code) {
  return auth::sha256_hex("smsgate-code:" + std::string(code));
}

bool has_scheme(const std::string& header, std::string_view scheme) {
  if (header.size() <= scheme.size()) return false;
  for (size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(header[i])) != scheme[i]) return false;
  return true;
}

// "me.capcom.smsgateway/1.68.0" -> "1.68.0"
std::string app_version(const Req& req) {
  const auto ua = req.get_header_value("User-Agent");
  const auto slash = ua.find('/');
  if (!ua.starts_with("me.capcom.smsgateway") || slash == std::string::npos) return {};
  return ua.substr(slash + 1, 32);
}

struct Phone {
  OrgId org;
  projections::DeviceView device;
};

Error unauthorized() {
  return Error{Errc::unauthorized, "Invalid device token",
               "Send Authorization: Bearer <token> from POST /mobile/v1/device; pair the phone "
               "again if it was removed."};
}

// The device behind "Authorization: Bearer <token>"; nullopt without one that is paired.
Result<std::optional<Phone>> find_phone(const Context& ctx, const Req& req) {
  const auto header = req.get_header_value("Authorization");
  if (!has_scheme(header, "bearer ")) return std::optional<Phone>{};
  auto cred = ctx.app.models().device_credential(auth::sha256_hex(header.substr(7)));
  if (!cred) return cred.error();
  if (!*cred) return std::optional<Phone>{};
  auto device = ctx.app.models().device((*cred)->org, (*cred)->device);
  if (!device) return device.error();
  if (!*device) return std::optional<Phone>{};
  return std::optional<Phone>{Phone{(*cred)->org, std::move(**device)}};
}

// Every authorised call counts as a heartbeat; within kHeartbeatEvery of the last one it
// appends nothing.
Status touch(const Context& ctx, const Phone& p, const std::string& version) {
  const auto now = ctx.app.clock().now();
  if (p.device.status == "online" && p.device.last_seen_at &&
      now - *p.device.last_seen_at < kHeartbeatEvery)
    return ok_status();
  return ctx.execute(
      ctx.envelope(p.org, DeviceHeartbeat{p.device.id, std::nullopt, std::nullopt,
                                          version.empty() ? std::string() : version}));
}

Result<Phone> authorise(const Context& ctx, const Req& req) {
  auto p = find_phone(ctx, req);
  if (!p) return p.error();
  if (!*p) return unauthorized();
  if (auto st = touch(ctx, **p, app_version(req)); !st) return st.error();
  return std::move(**p);
}

// ---- registration ---------------------------------------------------------------------------

// POST /mobile/v1/device with "Authorization: Code <pairing code>" (or "Bearer pt_…", the
// pairing token as the app's private token).
void register_phone(const Context& ctx, const Req& req, Res& res) {
  if (auto st = ctx.rate_limit(res, "smsgate-register:" + req.remote_addr, 30); !st)
    return reply_error(res, st.error());
  const auto header = req.get_header_value("Authorization");
  const Error invalid{Errc::unauthorized, "Invalid or expired pairing code",
                      "Create a new pairing in Pulse (POST /api/devices/pairing) and type its "
                      "code into the app."};
  std::string pairing_hash;
  if (has_scheme(header, "code ")) {
    const auto code = header.substr(5);
    if (code.empty() || code.size() > 16) return reply_error(res, invalid);
    pairing_hash = code_hash(code);
  } else if (has_scheme(header, "bearer ") && header.substr(7).starts_with("pt_")) {
    pairing_hash = auth::sha256_hex(header.substr(7));
  } else {
    return reply_error(res, invalid);
  }
  auto pairing = ctx.app.models().pairing(pairing_hash);
  if (!pairing) return reply_error(res, pairing.error());
  if (!*pairing || (*pairing)->used || (*pairing)->expires_at <= ctx.app.clock().now())
    return reply_error(res, invalid);
  auto body = sg::decode_register(req.body, ctx.service.phones);
  if (!body) return reply_error(res, body.error());
  if (auto st = check_text("name", body->name); !st) return reply_error(res, st.error());
  for (const auto& sim : body->sims)
    if (auto st = check_text("carrierName", sim.carrier); !st) return reply_error(res, st.error());
  const OrgId org = (*pairing)->org;
  const std::string token = "gw_" + auth::random_hex(24);
  const DeviceId device{make_id(id_prefix::device, ctx.app.clock().now(), random64(ctx))};
  auto st = ctx.execute(
      ctx.envelope(org, RegisterDevice{device, pairing_hash, auth::sha256_hex(token), body->name,
                                       body->name, "", app_version(req), body->sims}));
  if (!st) return reply_error(res, st.error());
  reply(res, 201, sg::encode_register_response({device.value, token, org.value}));
}

// GET /mobile/v1/device: the reference answers without a device too ({externalIp}).
void get_phone(const Context& ctx, const Req& req, Res& res) {
  auto p = find_phone(ctx, req);
  if (!p) return reply_error(res, p.error());
  std::optional<sg::DeviceInfo> info;
  if (*p) {
    if (auto st = touch(ctx, **p, app_version(req)); !st) return reply_error(res, st.error());
    const auto& d = (*p)->device;
    info = sg::DeviceInfo{d.id.value,
                          d.name,
                          d.created_at,
                          d.updated_at,
                          d.last_seen_at.value_or(ctx.app.clock().now()),
                          d.sims};
  }
  reply(res, 200, sg::encode_device(info, req.remote_addr));
}

// PATCH /mobile/v1/device {id, pushToken, simCards}: a heartbeat. The push token is not needed
// (events come over GET /events) and SIM changes are not recorded (see SMSGATE.md).
void patch_phone(const Context& ctx, const Req& req, Res& res) {
  auto p = authorise(ctx, req);
  if (!p) return reply_error(res, p.error());
  auto body = sg::decode_device_patch(req.body, ctx.service.phones);
  if (!body) return reply_error(res, body.error());
  if (body->id != p->device.id.value)
    return reply_error(res, Error{Errc::forbidden, "Wrong device id",
                                  "id must be the id POST /mobile/v1/device answered"});
  res.status = 204;
}

// ---- work -----------------------------------------------------------------------------------

// GET /mobile/v1/message?order=lifo|fifo: a claim; the messages come under a lease.
void get_messages(const Context& ctx, const Req& req, Res& res) {
  auto p = authorise(ctx, req);
  if (!p) return reply_error(res, p.error());
  const auto order = req.has_param("order") ? req.get_param_value("order") : "lifo";
  if (order != "lifo" && order != "fifo")
    return reply_error(res, validation_error("Invalid query parameter", "order: lifo or fifo"));
  std::vector<sg::Message> out;
  // An idle phone polling appends no empty claims.
  auto queue = ctx.app.models().queue(p->org);
  if (!queue) return reply_error(res, queue.error());
  if (queue->queued > 0) {
    auto env = ctx.envelope(p->org, ClaimMessages{p->device.id, kClaimMax});
    if (auto st = ctx.execute(env); !st) return reply_error(res, st.error());
    auto claim = ctx.app.models().claim(p->org, env.id);
    if (!claim) return reply_error(res, claim.error());
    if (*claim) {
      const auto ttl = ctx.app.options().decider.gateway.message_ttl;
      for (const auto& cm : (*claim)->messages) {
        auto m = ctx.app.models().message(p->org, cm.id);
        if (!m) return reply_error(res, m.error());
        if (!*m) continue;
        auto body = body_to_send(ctx, p->org, **m);
        if (!body) return reply_error(res, body.error());
        // Valid until the lease ends (or the message expires, if sooner): past it Pulse may
        // give the message to another phone, so this one must not send it any more.
        out.push_back(sg::Message{cm.id.value,
                                  std::move(body).value(),
                                  {(*m)->phone},
                                  (*claim)->sim_slot + 1,
                                  true,
                                  std::min((*claim)->lease_until, (*m)->created_at + ttl),
                                  sg::State::pending,
                                  (*m)->created_at});
      }
    }
  }
  if (order == "lifo") std::reverse(out.begin(), out.end());
  reply(res, 200, sg::encode_messages(out));
}

// PATCH /mobile/v1/message [{id, state, recipients, states}] -> one ReportStatus; 204.
void patch_messages(const Context& ctx, const Req& req, Res& res) {
  auto p = authorise(ctx, req);
  if (!p) return reply_error(res, p.error());
  auto patches = sg::decode_message_patch(req.body, kMaxPatchItems, kMaxPatchRecipients);
  if (!patches) return reply_error(res, patches.error());
  const auto now = ctx.app.clock().now();
  std::vector<StatusReport> reports;
  for (const auto& patch : *patches) {
    // Another organisation's message (or none) is ignored here; the decider refuses one that
    // another device holds.
    if (!is_valid_id(id_prefix::message, patch.id)) continue;
    auto m = ctx.app.models().message(p->org, MessageId{patch.id});
    if (!m) return reply_error(res, m.error());
    if (!*m) continue;
    auto r = sg::to_reports(patch, (*m)->id, (*m)->phone, now);
    reports.insert(reports.end(), r.begin(), r.end());
  }
  if (!reports.empty())
    if (auto st = ctx.execute(ctx.envelope(p->org, ReportStatus{p->device.id, reports})); !st)
      return reply_error(res, st.error());
  res.status = 204;
}

// ---- settings, webhooks ---------------------------------------------------------------------

// The key a phone signs its received-SMS webhook requests with: derived from its device token's
// hash, so it changes when the phone is paired again and needs no state of its own.
std::string signing_key(const projections::DeviceView& d) {
  return auth::sha256_hex("smsgate-webhook-signing:" + d.credential_hash).substr(0, 32);
}

// Where a phone posts the SMS it receives: one URL per device (the request names no device
// otherwise), under the server's public URL.
std::string received_url(const Context& ctx, const Phone& p) {
  return fmt::format("{}/mobile/v1/webhooks/sms-received/{}/{}", ctx.options.public_url,
                     p.org.value, p.device.id.value);
}

void get_settings(const Context& ctx, const Req& req, Res& res) {
  auto p = authorise(ctx, req);
  if (!p) return reply_error(res, p.error());
  const auto& g = ctx.app.options().decider.gateway;
  sg::Settings s;
  if (g.device_per_minute > 0)  // kUnlimited (negative) and 0 leave the interval unset
    s.send_interval_seconds = (60 + g.device_per_minute - 1) / g.device_per_minute;
  if (g.sim_per_day != kUnlimited)
    s.daily_limit =
        g.sim_per_day * std::max<int64_t>(1, static_cast<int64_t>(p->device.sending_slots.size()));
  s.signing_key = signing_key(p->device);
  reply(res, 200, sg::encode_settings(s));
}

// One device-side webhook: the SMS the phone receives, posted back to Pulse (signed with the
// settings' key). Pulse's own webhooks are the server's (signed, retried).
void get_webhooks(const Context& ctx, const Req& req, Res& res) {
  auto p = authorise(ctx, req);
  if (!p) return reply_error(res, p.error());
  reply(res, 200,
        sg::encode_webhooks({{"pulse-sms-received", received_url(ctx, *p), "sms:received"}}));
}

// POST /mobile/v1/webhooks/sms-received/{org}/{device}: the app's "sms:received" webhook. It
// carries no device token: X-Signature (HMAC-SHA256 of the body and X-Timestamp under the
// device's signing key) proves the phone sent it. Recorded like POST /api/gateway/inbound.
void sms_received(const Context& ctx, const Req& req, Res& res) {
  const OrgId org{req.matches[1]};
  const DeviceId id{req.matches[2]};
  const Error forged{Errc::unauthorized, "Invalid signature",
                     "Sign with the webhooks.signing_key of GET /mobile/v1/settings."};
  if (!is_valid_id(id_prefix::org, org.value) || !is_valid_id(id_prefix::device, id.value))
    return reply_error(res, forged);
  auto device = ctx.app.models().device(org, id);
  if (!device) return reply_error(res, device.error());
  if (!*device) return reply_error(res, forged);
  const auto timestamp = req.get_header_value("X-Timestamp");
  const auto expected =
      auth::to_hex(auth::hmac_sha256(signing_key(**device), sg::signed_text(req.body, timestamp)));
  if (timestamp.empty() ||
      !auth::constant_time_equal(req.get_header_value("X-Signature"), expected))
    return reply_error(res, forged);
  auto sms = sg::decode_received(req.body);
  if (!sms) return reply_error(res, sms.error());
  if (sms->event != "sms:received") return reply(res, 200, "{}");  // nothing else is asked for
  std::optional<int64_t> slot;
  if (sms->sim_number) slot = *sms->sim_number - 1;
  // The phone's local time with its offset; one Pulse can't read is the server's time instead
  // (the app would retry a refusal for two days).
  std::string at = parse_iso8601(sms->received_at) ? sms->received_at : std::string();
  auto r = service::receive_sms(ctx.service, org, id, {sms->sender, sms->message, at, slot});
  if (!r) return reply_error(res, r.error());
  reply(res, 200, "{}");
}

// ---- server-sent events -----------------------------------------------------------------------

// Open streams; a newer stream of a device ends its older ones (a phone that reconnects after
// a network change leaves a half-open one behind).
struct Streams {
  std::mutex mu;
  int open = 0;
  uint64_t next = 0;
  std::map<std::string, uint64_t> newest;  // device id -> its newest stream
};

struct Stream {
  uint64_t number = 0;
  OrgId org;
  DeviceId device;
  std::string version;
  std::vector<int32_t> slots;  // the sending SIMs last seen: a change is SettingsUpdated
  std::string name;
  int64_t last_queued = 0;
  Steady::time_point opened, next_keepalive, last_heartbeat, last_enqueued;
  uint64_t generation = 0;
  bool counted = false;
};

bool write(httplib::DataSink& sink, const std::string& s) {
  return sink.is_writable() && sink.write(s.data(), s.size());
}

// One turn of a stream: wait (at most a second) for work to be signalled, then write what is
// due. False ends the stream.
bool stream_turn(const Context& ctx, Streams& streams, Stream& s, httplib::DataSink& sink) {
  const auto now = Steady::now();
  const auto wake = std::min(now + std::chrono::seconds(1), s.next_keepalive);
  const bool signalled = ctx.app.work_signal().wait(s.generation, wake);
  s.generation = ctx.app.work_signal().generation();
  if (ctx.stopping || Steady::now() - s.opened > kStreamLifetime) return false;
  {
    std::lock_guard lock(streams.mu);
    auto it = streams.newest.find(s.device.value);
    if (it == streams.newest.end() || it->second != s.number) return false;
  }
  auto device = ctx.app.models().device(s.org, s.device);
  if (!device || !*device) return false;  // unpaired: its token answers 401 from now on
  if ((*device)->sending_slots != s.slots || (*device)->name != s.name) {
    s.slots = (*device)->sending_slots;
    s.name = (*device)->name;
    if (!write(sink, sg::sse_event("SettingsUpdated"))) return false;
  }
  auto queue = ctx.app.models().queue(s.org);
  if (!queue) return false;
  const auto t = Steady::now();
  if ((signalled && queue->queued > s.last_queued) ||
      (queue->queued > 0 && t - s.last_enqueued > kEnqueuedReminder)) {
    if (!write(sink, sg::sse_event("MessageEnqueued"))) return false;
    s.last_enqueued = t;
  }
  s.last_queued = queue->queued;
  if (t >= s.next_keepalive) {
    if (!write(sink, ":keepalive\n\n")) return false;
    s.next_keepalive = t + kKeepalive;
  }
  // An open stream that takes writes is a phone that is there.
  if (t - s.last_heartbeat >= kStreamHeartbeat) {
    s.last_heartbeat = t;
    if (!touch(ctx, Phone{s.org, **device}, s.version)) return false;
  }
  return true;
}

void events(const Context& ctx, const std::shared_ptr<Streams>& streams, const Req& req, Res& res) {
  auto p = authorise(ctx, req);
  if (!p) return reply_error(res, p.error());
  auto s = std::make_shared<Stream>();
  // Streams hold a worker thread each, like long polls, and share their allowance.
  const bool room = ++ctx.held_polls <= ctx.options.held_polls;
  {
    std::lock_guard lock(streams->mu);
    if (room && streams->open < kMaxStreams) {
      ++streams->open;
      s->counted = true;
      s->number = ++streams->next;
      streams->newest[p->device.id.value] = s->number;
    }
  }
  if (!s->counted) {
    --ctx.held_polls;
    res.set_header("Retry-After", "60");
    return reply(res, 503,
                 error_body(Error{Errc::unavailable, "Too many event streams",
                                  "This server holds as many as it can; poll GET "
                                  "/mobile/v1/message instead, or retry later."}));
  }
  s->org = p->org;
  s->device = p->device.id;
  s->version = app_version(req);
  s->slots = p->device.sending_slots;
  s->name = p->device.name;
  const auto now = Steady::now();
  s->opened = s->last_heartbeat = now;
  s->next_keepalive = now + kKeepalive;
  s->generation = ctx.app.work_signal().generation();
  auto queue = ctx.app.models().queue(p->org);
  s->last_queued = queue ? queue->queued : 0;
  s->last_enqueued = now;
  res.status = 200;
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");  // reverse proxies: don't buffer the stream
  res.set_chunked_content_provider(
      "text/event-stream",
      [&ctx, streams, s](size_t, httplib::DataSink& sink) {
        if (stream_turn(ctx, *streams, *s, sink)) return true;
        sink.done();
        return true;
      },
      [&ctx, streams, s](bool) {
        --ctx.held_polls;
        std::lock_guard lock(streams->mu);
        --streams->open;
        auto it = streams->newest.find(s->device.value);
        if (it != streams->newest.end() && it->second == s->number) streams->newest.erase(it);
      });
}

}  // namespace

Result<std::string> create_pairing_code(const Context& ctx, const OrgId& org, TimePoint expires) {
  // A credential: drawn from the OS's CSPRNG, not the request's id generator.
  const uint64_t draw = std::stoull(ctx.service.secrets.random_hex(8), nullptr, 16);
  const std::string code = fmt::format("{:08}", draw % 100'000'000);
  auto st = ctx.execute(ctx.envelope(org, CreatePairing{code_hash(code), expires}));
  if (!st) return st.error();
  return code;
}

void add_smsgate_routes(Router& server, const Context& ctx) {
  auto streams = std::make_shared<Streams>();
  const auto h = [&ctx](void (*f)(const Context&, const Req&, Res&)) {
    return [&ctx, f](const Req& req, Res& res) { f(ctx, req, res); };
  };
  server.Post("/mobile/v1/device", h(register_phone));
  server.Get("/mobile/v1/device", h(get_phone));
  server.Patch("/mobile/v1/device", h(patch_phone));
  server.Get("/mobile/v1/message", h(get_messages));
  server.Patch("/mobile/v1/message", h(patch_messages));
  server.Get("/mobile/v1/messages", h(get_messages));  // the reference's alias
  server.Patch("/mobile/v1/messages", h(patch_messages));
  server.Get("/mobile/v1/settings", h(get_settings));
  server.Get("/mobile/v1/webhooks", h(get_webhooks));
  server.Post(R"(/mobile/v1/webhooks/sms-received/([^/]+)/([^/]+))", h(sms_received));
  server.Get("/mobile/v1/events",
             [&ctx, streams](const Req& req, Res& res) { events(ctx, streams, req, res); });
}

}  // namespace pulse::http
