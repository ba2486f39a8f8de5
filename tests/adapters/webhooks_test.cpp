// Webhooks in the adapters: signatures (Standard Webhooks' own test vector), URL and address
// rules, the outbox the projector writes (stable across a rebuild), and the dispatcher against
// a local subscriber with an injected clock: retries happen when the clock says, not after
// sleeps.
#include <doctest/doctest.h>
#include <httplib.h>
#include <simdjson.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

#include "adapters/auth/sealer.h"
#include "adapters/codec/json_codec.h"
#include "adapters/runtime/read_models.h"
#include "adapters/webhooks/delivery_store.h"
#include "adapters/webhooks/dispatcher.h"
#include "adapters/webhooks/signing.h"
#include "adapters/webhooks/url.h"
#include "fmt/format.h"
#include "projections/read_model.h"
#include "tests/support/eventually.h"
#include "tests/support/temp_dir.h"

namespace pulse::webhooks {
namespace {

using pulse::testing::TempDir;

using pulse::testing::eventually;

namespace fs = std::filesystem;

class FakeClock final : public TimeSource {
 public:
  explicit FakeClock(TimePoint t) : now_(to_unix_ms(t)) {}
  TimePoint now() const override { return from_unix_ms(now_.load()); }
  void advance(Millis d) { now_ += d.count(); }

 private:
  std::atomic<int64_t> now_;
};

const TimePoint kT0 = from_unix_ms(1794736800000);
const OrgId kOrg{make_id(id_prefix::org, from_unix_ms(1700000000000), 1)};
const WebhookId kHook{make_id(id_prefix::webhook, from_unix_ms(1700000000000), 5)};

std::unique_ptr<store::KvStore> open(const fs::path& p) {
  auto kv = store::KvStore::open(p);
  REQUIRE_MESSAGE(kv.ok(), kv.error().details);
  return std::move(kv).value();
}

// Projects events (one command each, at `offset` on partition 0) and commits them.
void project(store::KvStore& views, const std::vector<std::pair<int64_t, Event>>& events,
             TimePoint at = kT0) {
  runtime::ReadModelBatch tx(views);
  for (const auto& [offset, e] : events) {
    EventEnvelope env;
    env.source = EventSource{LogPosition{Partition{0}, Offset{offset}}, 0};
    env.command_id = CommandId{make_id(id_prefix::command, at, static_cast<uint64_t>(offset))};
    env.org = kOrg;
    env.at = at;
    env.body = e;
    projections::apply(tx, env);
  }
  REQUIRE(views.write(tx.overlay().take()).ok());
}

std::map<std::string, std::string> outbox(store::KvStore& views) {
  std::map<std::string, std::string> out;
  REQUIRE(views
              .scan("wo/", "", false,
                    [&](std::string_view k, std::string_view v) {
                      out.emplace(k, v);
                      return true;
                    })
              .ok());
  return out;
}

}  // namespace

TEST_CASE("signatures: the Standard Webhooks test vector, and the raw-body HMAC") {
  // From the Standard Webhooks reference libraries' tests.
  CHECK(standard_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                           1614265330, R"({"test": 2432232314})") ==
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  // RFC 4231-style check of the raw-body form: HMAC-SHA256("key", "The quick brown fox…").
  CHECK(body_signature("key", "The quick brown fox jumps over the lazy dog") ==
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
  const auto s = new_secret();
  CHECK(s.starts_with("whsec_"));
  REQUIRE(secret_key(s));
  CHECK(secret_key(s)->size() == 24);
}

TEST_CASE("webhook URLs: http and https only, with a host") {
  auto u = parse_url("https://Hooks.Example.com:8443/p/a?x=1#frag");
  REQUIRE(u);
  CHECK(u->scheme == "https");
  CHECK(u->host == "hooks.example.com");
  CHECK(u->port == 8443);
  CHECK(u->target == "/p/a?x=1");
  CHECK(u->origin() == "https://hooks.example.com:8443");
  auto plain = parse_url("http://[::1]/x");
  REQUIRE(plain);
  CHECK(plain->host == "::1");
  CHECK(plain->port == 80);
  for (auto bad :
       {"ftp://example.com/", "file:///etc/passwd", "example.com/x", "http:///x",
        "http://user:pw@example.com/", "http://user@example.com/", "http://example.com:99999/",
        "http://example.com:0/", "http://example.com:8a/", "gopher://x", "http://exa mple.com/",
        "http://example.com/a b", "http://[::1/", "http://[v1.x]/", "http://ex%41mple.com/",
        "http://example.com\x01/", "http://example.com\r\n/", "//example.com/", ""})
    CHECK_MESSAGE(!parse_url(bad), bad);
  auto bare = parse_url("HTTP://Example.com");
  REQUIRE(bare);
  CHECK(bare->scheme == "http");
  CHECK(bare->target == "/");
  auto trailing = parse_url("http://example.com/a/?q=%20#x");
  REQUIRE(trailing);
  CHECK(trailing->target == "/a/?q=%20");
  auto v4 = parse_url("https://203.0.113.9:8443");
  REQUIRE(v4);
  CHECK(v4->host == "203.0.113.9");
  CHECK(v4->port == 8443);
}

// Every address case of the webhook URL guard: `allowed` when globally reachable (IANA IPv4
// and IPv6 Special-Purpose Address Registries), the IPv4 inside IPv6 forms judged as IPv4.
struct AddressCase {
  const char* ip;
  bool allowed;
};
constexpr AddressCase kAddressCases[] = {
    // IPv4, globally reachable.
    {"8.8.8.8", true},
    {"1.1.1.1", true},
    {"172.32.0.1", true},
    {"172.15.255.255", true},
    {"192.169.0.1", true},
    {"100.128.0.1", true},
    {"100.63.255.255", true},
    {"198.20.0.1", true},
    {"198.17.255.255", true},
    {"192.31.196.1", true},  // AS112
    {"192.52.193.1", true},  // AMT
    {"192.175.48.1", true},  // AS112 direct delegation
    {"223.255.255.255", true},
    // IPv4, not globally reachable.
    {"0.0.0.0", false},
    {"0.1.2.3", false},
    {"10.1.2.3", false},
    {"100.64.0.1", false},
    {"100.127.255.255", false},
    {"127.0.0.1", false},
    {"127.8.9.1", false},
    {"169.254.169.254", false},  // cloud metadata
    {"172.16.0.1", false},
    {"172.31.255.255", false},
    {"192.0.0.1", false},
    {"192.0.0.8", false},
    {"192.0.0.9", false},  // PCP anycast: refused with all of 192.0.0.0/24
    {"192.0.0.170", false},
    {"192.0.2.1", false},
    {"192.88.99.1", false},
    {"192.168.1.1", false},
    {"198.18.0.1", false},
    {"198.19.255.255", false},
    {"198.51.100.7", false},
    {"203.0.113.9", false},
    {"224.0.0.1", false},
    {"239.255.255.250", false},
    {"240.0.0.1", false},
    {"255.255.255.255", false},
    // IPv6, globally reachable.
    {"2606:4700::1111", true},
    {"2001:4860:4860::8888", true},
    {"2a00:1450:4001::200e", true},
    {"2620:4f:8000::1", true},            // AS112
    {"::ffff:8.8.8.8", true},             // IPv4-mapped, public
    {"::8.8.8.8", true},                  // IPv4-compatible, public
    {"64:ff9b::808:808", true},           // NAT64 of 8.8.8.8
    {"2002:808:808::1", true},            // 6to4 of 8.8.8.8
    {"2001:0:808:808::f7f7:f7f7", true},  // Teredo: server 8.8.8.8, client 8.8.8.8
    // IPv6, not globally reachable.
    {"::", false},
    {"::1", false},
    {"::ffff:127.0.0.1", false},
    {"::ffff:10.0.0.1", false},
    {"::ffff:169.254.169.254", false},
    {"::127.0.0.1", false},
    {"::0.0.0.2", false},
    {"64:ff9b::7f00:1", false},            // NAT64 of 127.0.0.1
    {"64:ff9b::a00:1", false},             // NAT64 of 10.0.0.1
    {"64:ff9b:1::808:808", false},         // local-use NAT64
    {"2002:7f00:1::1", false},             // 6to4 of 127.0.0.1
    {"2002:c0a8:101::1", false},           // 6to4 of 192.168.1.1
    {"2001:0:7f00:1::f7f7:f7f7", false},   // Teredo server 127.0.0.1
    {"2001:0:808:808::80ff:fefe", false},  // Teredo client 127.0.1.1
    {"2001:2::1", false},                  // benchmarking (in 2001::/23)
    {"2001:10::1", false},                 // ORCHID (in 2001::/23)
    {"2001:db8::1", false},
    {"3fff::1", false},
    {"100::1", false},   // discard-only
    {"5f00::1", false},  // SRv6 SIDs
    {"fc00::1", false},
    {"fd12:3456::1", false},
    {"fe80::1", false},
    {"febf::1", false},
    {"fec0::1", false},  // site-local (deprecated)
    {"ff02::1", false},
    {"4000::1", false},  // outside global unicast
    // Not an address.
    {"not-an-ip", false},
    {"", false},
    {"1.2.3", false},
};

TEST_CASE("the webhook address guard: every special-purpose block refused, public ones allowed") {
  for (const auto& c : kAddressCases) {
    INFO(c.ip);
    CHECK(is_private_address(c.ip) == !c.allowed);
    CHECK(special_purpose(c.ip).has_value() == !c.allowed);
  }
  CHECK(special_purpose("64:ff9b::7f00:1") == "NAT64 address of 127.0.0.1: loopback (127.0.0.0/8)");
  CHECK(special_purpose("fec0::1") == "site-local (fec0::/10)");
  CHECK(special_purpose("198.18.0.1") == "benchmarking (198.18.0.0/15)");
}

TEST_CASE("webhook URLs with a literal address are refused unless private ones are allowed") {
  for (const auto& c : kAddressCases) {
    const std::string ip = c.ip;
    if (ip.empty() || ip == "not-an-ip" || ip == "1.2.3") continue;
    const auto text =
        ip.find(':') == std::string::npos ? "http://" + ip + "/hook" : "http://[" + ip + "]/hook";
    INFO(text);
    auto url = parse_url(text);
    REQUIRE(url);
    auto checked = resolve_public(*url, false);
    CHECK(checked.ok() == c.allowed);
    if (!checked) {
      CHECK(checked.error().code == Errc::validation);
      CHECK(checked.error().message == "Webhook URL not allowed");
    }
    // pulse serve --allow-private-webhooks: every address goes.
    auto allowed = resolve_public(*url, true);
    REQUIRE(allowed);
    CHECK(*allowed == url->host);
  }
  // Names are resolved and every address checked: localhost is loopback.
  auto local = parse_url("http://localhost:9/hook");
  REQUIRE(local);
  auto refused = resolve_public(*local, false);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message == "Webhook URL not allowed");
  CHECK(resolve_public(*local, true));
  // Other spellings of 127.0.0.1 are names to the URL parser; the resolver reads them as the
  // address they are, and that is checked.
  for (auto text : {"http://127.1/", "http://2130706433/", "http://0x7f.0.0.1/"}) {
    auto u = parse_url(text);
    if (!u) continue;  // refused as a URL: fine too
    INFO(text);
    CHECK_FALSE(resolve_public(*u, false));
  }
}

TEST_CASE("the projector writes one outbox record per subscribed endpoint, the same on rebuild") {
  TempDir dir{"pulse-webhooks-test"};
  auto views = open(dir.path() / "a");
  const DeviceId device{make_id(id_prefix::device, kT0, 3)};
  const WebhookId other{make_id(id_prefix::webhook, kT0, 9)};
  const std::vector<std::pair<int64_t, Event>> events = {
      {1, WebhookCreated{kHook, "https://a.example/h", {"device.connected"}, "", "whsec_AAAA"}},
      {2, WebhookCreated{other, "https://b.example/h", {"message.sent"}, "", "whsec_BBBB"}},
      {3, DeviceRegistered{device, "ph", "cred", "Front desk", "Pixel", "15", "1.0", {}, {}}},
      {4, DeviceConnected{device}},
      {5, WebhookPinged{other}},
      {6, WebhookDisabled{kHook, "The endpoint answered 410 Gone."}},
      {7, DeviceConnected{device}},  // a disabled endpoint gets nothing
  };
  project(*views, events);
  auto records = outbox(*views);
  REQUIRE(records.size() == 2);
  auto first = codec::decode<projections::OutboxRecord>(records.begin()->second);
  REQUIRE(first);
  CHECK(first->kind == "delivery");
  CHECK(first->event_type == "device.connected");
  CHECK(first->delivery_id == delivery_id("evt_0-4-0", 0, kHook));
  CHECK(first->payload.find(R"("type":"device.connected")") != std::string::npos);
  CHECK(first->payload.find(R"("deviceName":"Front desk")") != std::string::npos);
  auto ping = codec::decode<projections::OutboxRecord>(std::next(records.begin())->second);
  REQUIRE(ping);
  CHECK(ping->event_type == "ping");
  auto set = runtime::ReadModels(*views).webhooks(kOrg);
  REQUIRE(set);
  REQUIRE(set->webhooks.size() == 2);
  CHECK_FALSE(set->webhooks[0].enabled);
  CHECK(set->webhooks[0].disabled_reason == "The endpoint answered 410 Gone.");

  // A rebuild (projecting the same log into a fresh store) writes the same records, byte for byte.
  auto rebuilt = open(dir.path() / "b");
  project(*rebuilt, events);
  CHECK(outbox(*rebuilt) == records);
}

TEST_CASE("a cancel notifies campaign.cancelled with the campaign as the cancel left it") {
  TempDir dir{"pulse-webhooks-test"};
  auto views = open(dir.path());
  const CampaignId campaign{make_id(id_prefix::campaign, kT0, 7)};
  const WebhookId completed_only{make_id(id_prefix::webhook, kT0, 9)};
  auto id = [&](uint32_t i) { return MessageId{derive_id(id_prefix::message, campaign.value, i)}; };
  auto queued = [&](uint32_t i) {
    return QueuedMessage{
        id(i), PhoneNumber{fmt::format("+1415555000{}", i)}, "", "Hi", SmsEncoding::gsm7, 1};
  };
  project(
      *views,
      {
          {1, WebhookCreated{kHook, "https://a.example/h", {"campaign.cancelled"}, "", "whsec_A"}},
          {2,
           WebhookCreated{
               completed_only, "https://b.example/h", {"campaign.completed"}, "", "whsec_B"}},
          {3, CampaignCreated{campaign, "SMS to 2 recipients", "api", "Hi", 2, std::nullopt}},
          {4, MessagesQueued{campaign, {queued(0), queued(1)}}},
          {5, MessagesFailed{"", {{id(0), kT0, "cancelled"}, {id(1), kT0, "cancelled"}}}},
          {6, CampaignCancelled{campaign}},
      });
  auto records = outbox(*views);
  REQUIRE(records.size() == 1);  // a cancel is not a completion: the other endpoint gets nothing
  auto r = codec::decode<projections::OutboxRecord>(records.begin()->second);
  REQUIRE(r);
  CHECK(r->kind == "delivery");
  CHECK(r->webhook == kHook);
  CHECK(r->event_type == "campaign.cancelled");
  CHECK(r->delivery_id == delivery_id("evt_0-6-0", 0, kHook));
  for (const char* part : {R"("type":"campaign.cancelled")", R"("status":"cancelled")",
                           R"("queuedCount":0)", R"("failedCount":2)", R"("completedAt":null)"})
    CHECK_MESSAGE(r->payload.find(part) != std::string::npos, part);
}

TEST_CASE("the contract lists the event types a subscriber can subscribe to, in one order") {
  const std::vector<std::string> types(kWebhookEventTypes.begin(), kWebhookEventTypes.end());
  const auto schemas = fs::path(PULSE_TEST_DATA_DIR) / ".." / ".." / "schemas";
  simdjson::dom::parser parser;
  simdjson::dom::element payload;
  REQUIRE(!parser.load((schemas / "webhooks" / "payload.json").string()).get(payload));
  simdjson::dom::array listed;
  REQUIRE(!payload["$defs"]["eventType"]["enum"].get_array().get(listed));
  std::vector<std::string> in_payload;
  for (auto t : listed) in_payload.emplace_back(std::string_view(t));
  CHECK(in_payload == types);
  // openapi.yaml keeps its own copy (the reference renders it alone): `enum: [a, b, ...]`.
  std::ifstream in(schemas / "openapi.yaml");
  const std::string yaml{std::istreambuf_iterator<char>(in), {}};
  for (std::string name : {"WebhookEventType:", "WebhookEventTypeOrPing:"}) {
    CAPTURE(name);
    const auto at = yaml.find("    " + name + "\n      enum: [");
    REQUIRE(at != std::string::npos);
    const auto open = yaml.find('[', at), close = yaml.find(']', at);
    std::vector<std::string> in_openapi;
    std::string item;
    for (char ch : yaml.substr(open + 1, close - open - 1)) {
      if (ch == ',')
        in_openapi.push_back(std::exchange(item, {}));
      else if (!std::isspace(static_cast<unsigned char>(ch)))
        item += ch;
    }
    in_openapi.push_back(item);
    auto want = types;
    if (name == "WebhookEventTypeOrPing:") want.emplace_back(kWebhookPing);
    CHECK(in_openapi == want);
  }
}

TEST_CASE("the dispatcher retries on the clock, keeps one webhook-id, and records every attempt") {
  TempDir dir{"pulse-webhooks-test"};
  auto views = open(dir.path() / "views");
  auto state = open(dir.path() / "webhooks");
  std::mutex mu;
  std::vector<std::string> ids;
  std::atomic<int> calls{0};
  httplib::Server subscriber;
  subscriber.Post("/hook", [&](const httplib::Request& req, httplib::Response& res) {
    {
      std::lock_guard lock(mu);
      ids.push_back(req.get_header_value("webhook-id"));
    }
    const int n = ++calls;
    res.status = n <= 2 ? 500 : 200;
    res.set_content(n <= 2 ? "try later" : "ok", "text/plain");
  });
  const int port = subscriber.bind_to_any_port("127.0.0.1");
  std::thread server([&] { subscriber.listen_after_bind(); });

  FakeClock clock(kT0);
  SeededRandom random(7);
  DispatcherOptions options;
  options.allow_private = true;
  options.policy.schedule = {Millis{0}, Millis{60'000}, Millis{3600'000}};
  options.policy.jitter = 0;
  options.threads = 2;
  options.poll = Millis{5};
  // The secret sealed, as the API writes it: the dispatcher opens it to sign.
  const auth::AesGcmSealer sealer({auth::new_data_key()});
  const auto sealed = sealer.seal("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                  webhook_secret_context(kHook), std::string(24, '0'));
  REQUIRE(sealed.ok());
  project(
      *views,
      {{1, WebhookCreated{kHook, fmt::format("http://127.0.0.1:{}/hook", port), {}, "", *sealed}},
       {2, WebhookPinged{kHook}}});
  DeliveryStore store(*state);
  const auto id = delivery_id("evt_0-2-0", 0, kHook);
  {
    // A store that never dispatched starts at the outbox's end: the ping above is not sent.
    Dispatcher d(nullptr, *views, *state, 1, clock, random, sealer, options, [] { return true; });
    REQUIRE(d.start().ok());
    REQUIRE(eventually([&] { return state->get(keys::cursor(0))->has_value(); }));
    d.stop();
    CHECK(calls == 0);
    CHECK_FALSE(store.get(id)->has_value());
  }
  Dispatcher d(nullptr, *views, *state, 1, clock, random, sealer, options, [] { return true; });
  REQUIRE(d.start().ok());
  project(*views, {{3, WebhookPinged{kHook}}});
  d.outbox_signal().notify();
  const auto id3 = delivery_id("evt_0-3-0", 0, kHook);
  auto attempts = [&] {
    auto got = store.get(id3);
    return got && *got ? (*got)->attempts.size() : size_t{0};
  };
  REQUIRE(eventually([&] { return attempts() == 1; }));
  auto first = *store.get(id3).value();
  CHECK(first.status == "pending");
  CHECK(first.next_at == kT0 + Millis{60'000});
  CHECK(first.attempts[0].status_code == 500);
  CHECK(first.attempts[0].response == "try later");
  // Nothing more until the clock moves: a minute of fake time.
  clock.advance(Millis{59'000});
  d.outbox_signal().notify();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(attempts() == 1);
  clock.advance(Millis{1'000});
  d.outbox_signal().notify();
  REQUIRE(eventually([&] { return attempts() == 2; }));
  clock.advance(Millis{3600'000});
  d.outbox_signal().notify();
  REQUIRE(eventually([&] { return attempts() == 3; }));
  auto done = *store.get(id3).value();
  CHECK(done.status == "succeeded");
  CHECK(done.attempts[2].status_code == 200);
  {
    std::lock_guard lock(mu);
    CHECK(ids == std::vector<std::string>(3, id3));
  }
  // The delivery log lists it, filters by status.
  auto page = store.list(kOrg, kHook, 10, std::nullopt, {});
  REQUIRE(page);
  REQUIRE(page->deliveries.size() == 1);
  CHECK(
      store.list(kOrg, kHook, 10, std::nullopt, {std::string("pending"), {}})->deliveries.empty());
  // A manual redelivery (through the outbox, as the projector writes it) sends it again.
  project(*views, {{4, WebhookRedeliveryRequested{kHook, id3}}});
  d.outbox_signal().notify();
  REQUIRE(eventually([&] { return attempts() == 4; }));
  d.stop();
  subscriber.stop();
  server.join();
}

}  // namespace pulse::webhooks

namespace pulse::codec {

TEST_CASE("a decider state stored before webhooks existed still reads") {
  auto s = decode<commands::DeciderState>(
      R"({"type":"DeciderState","v":1,"org":{"exists":true,"plan":"pro","apiKeys":[],)"
      R"("campaigns":1,"messages":1,"month":"","monthMessages":1,"pairings":{},"devices":{},)"
      R"("queues":{},"leases":{},"awaiting":{}},"user":{"registered":false,)"
      R"("userId":"","organizations":0}})");
  REQUIRE(s.ok());
  CHECK_FALSE(s->org.webhooks);
}

}  // namespace pulse::codec

namespace pulse::webhooks {

TEST_CASE("Retry-After: delay-seconds or an HTTP-date, relative to now") {
  const auto now = from_unix_ms(784111777000);  // Sun, 06 Nov 1994 08:49:37 GMT
  CHECK(parse_retry_after("120", now) == Millis{120'000});
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:51:37 GMT", now) == Millis{120'000});
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:40:00 GMT", now) == Millis{0});  // past
  CHECK_FALSE(parse_retry_after("", now));
  CHECK_FALSE(parse_retry_after("-5", now));
  CHECK_FALSE(parse_retry_after("soon", now));
  CHECK_FALSE(parse_retry_after("Sun, 06 Nov 1994 08:51:37 GMT trailing", now));
}

}  // namespace pulse::webhooks
