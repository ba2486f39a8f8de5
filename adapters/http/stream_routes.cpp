// GET /api/stream: the organisation's live changes as server-sent events, for the dashboard and
// any API client. It follows the projector: when a partition's watermark moves (or every 2 s,
// for changes made by time alone), it rereads the organisation's newest campaigns, its devices
// and its newest messages and sends what changed:
//   event: campaign  data: the campaign as GET /api/campaigns/{id} starts it
//   event: message   data: the message as GET /api/campaigns/{id} lists it
//   event: device    data: {id, deviceName, status, smsSent, lastSeenAt} (status "unpaired"
//                    when it left)
// Streams are bounded per organisation and per process (429 / 503 beyond); a stream ends after
// kLifetime (EventSource reconnects by itself), and a client that stops reading is dropped when
// a write times out, so no stream holds a worker thread forever.
#include <mutex>
#include <thread>
#include <unordered_map>

#include "adapters/http/json_views.h"
#include "adapters/http/routes.h"
#include "domain/json_writer.h"
#include "fmt/format.h"
#include "projections/view_json.h"

namespace pulse::http {
namespace {

using Req = httplib::Request;
using Res = httplib::Response;
using Steady = std::chrono::steady_clock;

constexpr int kStreamsPerOrg = 8;
constexpr auto kTick = std::chrono::milliseconds(150);
constexpr auto kRescan = std::chrono::seconds(2);
constexpr auto kKeepAlive = std::chrono::seconds(5);  // also how soon a gone client is noticed
constexpr auto kLifetime = std::chrono::minutes(10);
constexpr size_t kCampaigns = 20;
constexpr size_t kMessages = 100;

struct Slots {
  std::mutex mu;
  std::unordered_map<std::string, int> per_org;
  int total = 0;
};

Slots& slots() {
  static Slots s;
  return s;
}

// Holds one of the bounded stream slots while it lives.
struct SlotLease {
  std::string org;
  SlotLease() = default;
  SlotLease(const SlotLease&) = delete;
  SlotLease& operator=(const SlotLease&) = delete;
  ~SlotLease() {
    std::lock_guard lock(slots().mu);
    --slots().total;
    if (--slots().per_org[org] <= 0) slots().per_org.erase(org);
  }
};

std::string device_json(const projections::DeviceView& d) {
  JsonWriter w;
  w.begin_object()
      .field("id", d.id.value)
      .field("deviceName", d.name)
      .field("status", d.status)
      .field("smsSent", d.sms_sent);
  projections::write_time_or_null(w, "lastSeenAt", d.last_seen_at);
  w.end_object();
  return w.take();
}

std::string frame(std::string_view event, std::string_view data) {
  return fmt::format("event: {}\ndata: {}\n\n", event, data);
}

struct StreamState {
  const Context& ctx;
  OrgId org;
  std::shared_ptr<SlotLease> lease;
  Steady::time_point started = Steady::now();
  Steady::time_point last_scan{};
  Steady::time_point last_write = Steady::now();
  int64_t progress = -1;
  bool baseline = false;
  std::unordered_map<std::string, std::string> campaigns, devices, messages;

  int64_t projector_progress() const {
    int64_t sum = 0;
    auto& marks = ctx.app.watermarks();
    for (int32_t p = 0; p < marks.partitions(); ++p) sum += marks.get(Partition{p});
    return sum;
  }

  // The changes since the last scan, as SSE frames (none on the first scan: the baseline).
  std::string scan() {
    std::string out;
    const bool emit = baseline;
    auto diff = [&](auto& seen, std::unordered_map<std::string, std::string>& now,
                    std::string_view event, auto gone) {
      for (auto& [id, json] : now) {
        auto it = seen.find(id);
        if (emit && (it == seen.end() || it->second != json)) out += frame(event, json);
      }
      for (auto& [id, json] : seen)
        if (emit && !now.count(id)) gone(id, out);
      seen = std::move(now);
    };
    std::unordered_map<std::string, std::string> now;
    if (auto list = ctx.app.models().campaigns(org, kCampaigns, std::nullopt))
      for (const auto& c : *list) now[c.id.value] = campaign_json(c);
    diff(campaigns, now, "campaign", [](auto&, auto&) {});
    now.clear();
    if (auto list = ctx.app.models().devices(org))
      for (const auto& d : *list) now[d.id.value] = device_json(d);
    diff(devices, now, "device", [](const std::string& id, std::string& o) {
      o += frame("device", fmt::format(R"({{"id":"{}","status":"unpaired"}})", id));
    });
    now.clear();
    runtime::MessageQuery q;
    q.limit = kMessages;
    if (auto page = ctx.app.models().messages(org, q))
      for (const auto& m : page->messages) {
        JsonWriter w;
        projections::write_message(w, m);
        now[m.id.value] = w.take();
      }
    // Messages that fell out of the newest page are not "gone": only report changes.
    for (auto& [id, json] : now) {
      auto it = messages.find(id);
      if (emit && (it == messages.end() || it->second != json)) out += frame("message", json);
    }
    messages = std::move(now);
    baseline = true;
    return out;
  }

  // One provider call: waits a tick, then writes what changed. False ends the stream.
  bool step(httplib::DataSink& sink) {
    std::this_thread::sleep_for(kTick);
    const auto t = Steady::now();
    if (ctx.stopping || t - started >= kLifetime) {
      sink.done();
      return true;
    }
    std::string out;
    const auto p = projector_progress();
    if (p != progress || t - last_scan >= kRescan) {
      progress = p;
      last_scan = t;
      out = scan();
    }
    if (out.empty() && t - last_write >= kKeepAlive) out = ": keepalive\n\n";
    if (out.empty()) return true;
    last_write = t;
    // A client that stopped reading makes this fail once the write timeout passes.
    return sink.write(out.data(), out.size());
  }
};

void stream(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  const int process_cap = std::max(4, ctx.options.threads / 8);
  std::shared_ptr<SlotLease> lease;
  {
    std::lock_guard lock(slots().mu);
    auto& mine = slots().per_org[caller->org.value];
    if (slots().total >= process_cap || mine >= kStreamsPerOrg) {
      const bool org_full = mine >= kStreamsPerOrg;
      if (mine == 0) slots().per_org.erase(caller->org.value);
      res.set_header("Retry-After", "5");
      if (org_full)
        return reply_error(res, Error{Errc::rate_limited, "Too many live streams",
                                      fmt::format("At most {} GET /api/stream per organization "
                                                  "at once; close one first.",
                                                  kStreamsPerOrg)});
      return reply_error(res, Error{Errc::unavailable, "Too many live streams",
                                    fmt::format("This server holds at most {} streams at once; "
                                                "retry later.",
                                                process_cap)});
    }
    ++mine;
    ++slots().total;
    lease = std::make_shared<SlotLease>();
    lease->org = caller->org.value;
  }
  auto state = std::make_shared<StreamState>(StreamState{ctx, caller->org, lease});
  state->scan();  // the baseline: only later changes are sent
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream", [state, first = true](size_t, httplib::DataSink& sink) mutable {
        if (first) {
          first = false;
          static constexpr std::string_view hello = "retry: 2000\n\nevent: ready\ndata: {}\n\n";
          return sink.write(hello.data(), hello.size());
        }
        return state->step(sink);
      });
}

}  // namespace

void add_stream_routes(Router& server, const Context& ctx) {
  server.Get("/api/stream", [&ctx](const Req& req, Res& res) { stream(ctx, req, res); });
}

}  // namespace pulse::http
