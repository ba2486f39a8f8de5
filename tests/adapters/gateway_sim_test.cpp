// pulse gateway-sim's pure parts: flags, the protocol's JSON, and the device's seeded timeline
// (no sockets, no sleeps: time is a value the tests move).
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "adapters/gateway/protocol_json.h"
#include "adapters/gateway/sim_schedule.h"
#include "adapters/gateway/simulator.h"
#include "adapters/phone/phone_parser.h"
#include "domain/phone.h"

using namespace pulse;
using namespace pulse::gateway;

namespace {

const TimePoint kT0 = from_unix_ms(1775041200000);  // 2026-04-01T11:00:00.000Z

cmdline::Args args(std::initializer_list<std::pair<const char*, const char*>> values,
                   std::vector<std::string> flags = {}) {
  cmdline::Args a;
  a.values["--api-key"] = "pk_live_0123";
  a.values["--devices"] = "3";
  for (auto [k, v] : values) a.values[k] = v;
  a.flags = std::move(flags);
  return a;
}

std::vector<ClaimedMessage> messages(int n) {
  std::vector<ClaimedMessage> out;
  for (int i = 0; i < n; ++i)
    out.push_back(ClaimedMessage{"msg_" + std::to_string(i), "+14155552671", "Hi", 0, 1, {}});
  return out;
}

}  // namespace

// ---- flags ---------------------------------------------------------------------------------

TEST_CASE("gateway-sim flags: defaults") {
  auto o = parse_sim_options(args({}));
  REQUIRE(o);
  CHECK(o->server == "http://127.0.0.1:8080");
  CHECK(o->api_key == "pk_live_0123");
  CHECK(o->devices == 3);
  CHECK(o->behaviour.fail_rate == 0.05);
  CHECK(o->behaviour.send_delay == Millis{200});
  CHECK(o->behaviour.delivery_delay == Millis{1000});
  CHECK(o->behaviour.delivery_rate == 1.0);
  CHECK_FALSE(o->offline_after);
  CHECK_FALSE(o->silent_after);
  CHECK(o->batch == 10);
  CHECK(o->claim_wait_seconds == 20);
  CHECK_FALSE(o->heartbeat_seconds);
  CHECK(o->seed == 1);
  CHECK(o->duration == Millis{0});
  CHECK_FALSE(o->quiet);
}

TEST_CASE("gateway-sim flags: every value is read") {
  auto o = parse_sim_options(args({{"--server", "https://sms.example.org:8443/"},
                                   {"--fail-rate", "0.25"},
                                   {"--send-delay-ms", "5"},
                                   {"--delivery-delay-ms", "0"},
                                   {"--delivery-rate", "0.5"},
                                   {"--offline-after", "2.5"},
                                   {"--silent-after", "10"},
                                   {"--batch", "50"},
                                   {"--claim-wait", "0"},
                                   {"--heartbeat-seconds", "5"},
                                   {"--seed", "18446744073709551615"},
                                   {"--duration", "60"},
                                   {"--reply-stop-rate", "0.1"}},
                                  {"--quiet"}));
  REQUIRE(o);
  CHECK(o->server == "https://sms.example.org:8443");
  CHECK(o->behaviour.fail_rate == 0.25);
  CHECK(o->behaviour.send_delay == Millis{5});
  CHECK(o->behaviour.delivery_delay == Millis{0});
  CHECK(o->behaviour.delivery_rate == 0.5);
  CHECK(o->offline_after == Millis{2500});
  CHECK(o->silent_after == Millis{10000});
  CHECK(o->batch == 50);
  CHECK(o->claim_wait_seconds == 0);
  CHECK(o->heartbeat_seconds == 5);
  CHECK(o->seed == 18446744073709551615ULL);
  CHECK(o->duration == Millis{60000});
  CHECK(o->reply_stop_rate == 0.1);
  CHECK(o->quiet);
  // Until the argument parser knows --quiet as valueless, it may carry a value.
  auto q = parse_sim_options(args({{"--quiet", "true"}}));
  REQUIRE(q);
  CHECK(q->quiet);
}

TEST_CASE("gateway-sim flags: what is refused, and why") {
  auto refused = [](const cmdline::Args& a) {
    auto o = parse_sim_options(a);
    REQUIRE_FALSE(o);
    CHECK(o.error().code == Errc::validation);
    return o.error().message;
  };
  cmdline::Args no_key = args({});
  no_key.values.erase("--api-key");
  CHECK(refused(no_key) == "Missing --api-key");
  cmdline::Args no_devices = args({});
  no_devices.values.erase("--devices");
  CHECK(refused(no_devices) == "Missing --devices");
  CHECK(refused(args({{"--devices", "0"}})) == "Invalid --devices");
  CHECK(refused(args({{"--devices", "10000"}})) == "Invalid --devices");
  CHECK(refused(args({{"--devices", "2.5"}})) == "Invalid --devices");
  CHECK(refused(args({{"--devices", "ten"}})) == "Invalid --devices");
  CHECK(refused(args({{"--fail-rate", "1.5"}})) == "Invalid --fail-rate");
  CHECK(refused(args({{"--fail-rate", "-0.1"}})) == "Invalid --fail-rate");
  CHECK(refused(args({{"--delivery-rate", "nan"}})) == "Invalid --delivery-rate");
  CHECK(refused(args({{"--send-delay-ms", "-1"}})) == "Invalid --send-delay-ms");
  CHECK(refused(args({{"--batch", "0"}})) == "Invalid --batch");
  CHECK(refused(args({{"--batch", "501"}})) == "Invalid --batch");
  CHECK(refused(args({{"--claim-wait", "26"}})) == "Invalid --claim-wait");
  CHECK(refused(args({{"--heartbeat-seconds", "0"}})) == "Invalid --heartbeat-seconds");
  CHECK(refused(args({{"--offline-after", "-3"}})) == "Invalid --offline-after");
  CHECK(refused(args({{"--duration", "soon"}})) == "Invalid --duration");
  CHECK(refused(args({{"--reply-stop-rate", "2"}})) == "Invalid --reply-stop-rate");
  CHECK(refused(args({{"--seed", "-1"}})) == "Invalid --seed");
  CHECK(refused(args({{"--server", "localhost:8080"}})) == "Invalid --server");
  CHECK(refused(args({{"--server", "ftp://localhost"}})) == "Invalid --server");
  CHECK(refused(args({{"--server", "http://localhost:8080/api"}})) == "Invalid --server");
  CHECK(refused(args({{"--server", "http://"}})) == "Invalid --server");
  CHECK(refused(args({{"--quiet", "--seed"}})) == "Invalid --quiet");
  CHECK(refused(args({{"--fail_rate", "0.1"}})) == "Unknown option --fail_rate");
  CHECK(refused(args({}, {"--verify"})) == "Unknown option --verify");
}

// ---- protocol JSON -------------------------------------------------------------------------

TEST_CASE("gateway protocol: request bodies") {
  CHECK(token_request_json("pk_live_x\"y") == R"({"apiKey":"pk_live_x\"y"})");
  CHECK(registration_json("pt_01", device_profile(0)) ==
        R"({"pairingToken":"pt_01","deviceName":"Sim Pixel 1","model":"Pixel 8",)"
        R"("osVersion":"15","appVersion":"1.4.2",)"
        R"("sims":[{"slot":0,"phoneNumber":"+16505550001","carrier":"T-Mobile"}]})");
  CHECK(heartbeat_json(87, 3, "1.4.2") == R"({"battery":87,"signal":3,"appVersion":"1.4.2"})");
  CHECK(claim_json(10, 20) == R"({"max":10,"waitSeconds":20})");
  const std::vector<Report> reports = {
      {"msg_1", ReportStatus::sent, {}, kT0 + Millis{5}},
      {"msg_2", ReportStatus::failed, kFailureError, kT0 + Millis{1500}},
      {"msg_1", ReportStatus::delivered, {}, kT0 + Millis{61000}},
  };
  CHECK(reports_json(reports) ==
        R"({"reports":[{"messageId":"msg_1","status":"sent","at":"2026-04-01T11:00:00.005Z"},)"
        R"({"messageId":"msg_2","status":"failed","error":"Generic failure",)"
        R"("at":"2026-04-01T11:00:01.500Z"},)"
        R"({"messageId":"msg_1","status":"delivered","at":"2026-04-01T11:01:01.000Z"}]})");
  CHECK(reports_json({}) == R"({"reports":[]})");
}

TEST_CASE("gateway protocol: answers") {
  auto token = parse_token(R"({"token":"eyJ.a.b","expiresIn":86400,"organizationId":"org_1"})");
  REQUIRE(token);
  CHECK(*token == "eyJ.a.b");
  CHECK_FALSE(parse_token(R"({"token":""})"));
  CHECK_FALSE(parse_token("not json"));

  auto pairing = parse_pairing(
      R"({"pairingToken":"pt_0123","expiresAt":"2026-04-01T11:10:00.000Z","qrPayload":"{}",)"
      R"("qrSvgUrl":"/api/devices/pairing/pt_0123/qr.svg"})");
  REQUIRE(pairing);
  CHECK(*pairing == "pt_0123");
  CHECK_FALSE(parse_pairing(R"({"token":"pt_0123"})"));

  auto reg =
      parse_registration(R"({"deviceId":"dvc_1","deviceToken":"gw_ab","organizationId":"org_1",)"
                         R"("heartbeatIntervalSeconds":15,"leaseSeconds":45,"somethingNew":true})");
  REQUIRE(reg);
  CHECK(reg->device_id == "dvc_1");
  CHECK(reg->device_token == "gw_ab");
  CHECK(reg->organization_id == "org_1");
  CHECK(reg->heartbeat_interval_seconds == 15);
  CHECK(reg->lease_seconds == 45);
  auto minimal = parse_registration(R"({"deviceId":"dvc_1","deviceToken":"gw_ab"})");
  REQUIRE(minimal);
  CHECK(minimal->heartbeat_interval_seconds == 30);
  CHECK(minimal->lease_seconds == 60);
  CHECK_FALSE(parse_registration(R"({"deviceId":"dvc_1"})"));
  CHECK_FALSE(parse_registration(R"({"deviceId":"dvc_1","deviceToken":"gw","leaseSeconds":"x"})"));

  auto claim = parse_claim(
      R"({"messages":[{"id":"msg_1","phone":"+14155552671","body":"Hi Ann","simSlot":1,)"
      R"("attempt":2,"leaseExpiresAt":"2026-04-01T11:01:00.000Z"},)"
      R"({"id":"msg_2","phone":"+14155552672","body":""}]})");
  REQUIRE(claim);
  REQUIRE(claim->size() == 2);
  CHECK((*claim)[0].id == "msg_1");
  CHECK((*claim)[0].phone == "+14155552671");
  CHECK((*claim)[0].body == "Hi Ann");
  CHECK((*claim)[0].sim_slot == 1);
  CHECK((*claim)[0].attempt == 2);
  CHECK((*claim)[0].lease_expires_at == kT0 + Millis{60000});
  CHECK((*claim)[1].attempt == 1);
  CHECK_FALSE((*claim)[1].lease_expires_at);
  auto empty = parse_claim(R"({"messages":[]})");
  REQUIRE(empty);
  CHECK(empty->empty());
  CHECK_FALSE(parse_claim(R"({"messages":[{"phone":"+14155552671"}]})"));
  CHECK_FALSE(parse_claim(R"({"messages":[{"id":"m","phone":"+1","leaseExpiresAt":"soon"}]})"));
  CHECK_FALSE(parse_claim(R"([])"));

  auto results = parse_report_results(
      R"({"results":[{"messageId":"msg_1","accepted":true,"status":"sent"},)"
      R"({"messageId":"msg_9","accepted":false,"status":"sending","error":"Not your message"}]})");
  REQUIRE(results);
  REQUIRE(results->size() == 2);
  CHECK((*results)[0].accepted);
  CHECK((*results)[0].status == "sent");
  CHECK_FALSE((*results)[1].accepted);
  CHECK((*results)[1].error == "Not your message");
  CHECK_FALSE(parse_report_results(R"({"results":[{"messageId":"msg_1"}]})"));
}

TEST_CASE("gateway protocol: error bodies") {
  auto e = http_error(401, R"({"error":"Invalid pairing token","details":"expired"})");
  CHECK(e.code == Errc::unauthorized);
  CHECK(e.message == "HTTP 401: Invalid pairing token");
  CHECK(e.details == "expired");
  auto raw = http_error(502, "<html>Bad gateway</html>");
  CHECK(raw.code == Errc::internal);
  CHECK(raw.message == "HTTP 502");
  CHECK(raw.details == "<html>Bad gateway</html>");
  CHECK(http_error(429, "{}").code == Errc::rate_limited);
}

// ---- device profiles -----------------------------------------------------------------------

TEST_CASE("simulated devices have distinct, valid E.164 numbers") {
  std::set<std::string> numbers;
  for (int i = 0; i < kMaxDevices; ++i) {
    const auto p = device_profile(i);
    REQUIRE(p.sims.size() == 1);
    auto phone = phone::default_parser().parse(p.sims[0].phone_number);
    REQUIRE(phone);
    CHECK(phone->number.e164 == p.sims[0].phone_number);
    numbers.insert(p.sims[0].phone_number);
  }
  CHECK(numbers.size() == static_cast<size_t>(kMaxDevices));
  CHECK(device_profile(41).device_name == "Sim Pixel 42");
  CHECK(device_profile(41).sims[0].phone_number == "+16505550042");
}

// ---- planning a round ----------------------------------------------------------------------

TEST_CASE("a round is the same for the same seed, and different for another") {
  const Behaviour b;
  const auto batch = messages(50);
  SimRng a(outcome_seed(7, 3)), same(outcome_seed(7, 3)), other(outcome_seed(7, 4));
  const auto r1 = plan_round(batch, kT0, b, a);
  const auto r2 = plan_round(batch, kT0, b, same);
  const auto r3 = plan_round(batch, kT0, b, other);
  CHECK(r1.outcomes == r2.outcomes);
  CHECK(r1.receipts == r2.receipts);
  CHECK(r1.sends_done == r2.sends_done);
  CHECK(r1.outcomes != r3.outcomes);
}

TEST_CASE("a round sends one message after another, then the receipts follow") {
  Behaviour b;
  b.fail_rate = 0.2;
  b.delivery_rate = 1.0;
  SimRng rng(42);
  const auto batch = messages(40);
  const auto r = plan_round(batch, kT0, b, rng);
  REQUIRE(r.outcomes.size() == batch.size());
  TimePoint previous = kT0;
  size_t sent = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    const auto& o = r.outcomes[i];
    CHECK(o.message_id == batch[i].id);
    // Each send takes send-delay ×[0.5, 1.5).
    CHECK(o.at - previous >= Millis{100});
    CHECK(o.at - previous < Millis{300});
    previous = o.at;
    if (o.status == ReportStatus::failed) {
      CHECK(o.error == "Generic failure");
    } else {
      CHECK(o.status == ReportStatus::sent);
      CHECK(o.error.empty());
      ++sent;
    }
  }
  CHECK(r.sends_done == previous);
  // Every sent message has its receipt, 0.5–1.5 s after it was sent; failed ones have none.
  REQUIRE(r.receipts.size() == sent);
  for (const auto& d : r.receipts) {
    CHECK(d.status == ReportStatus::delivered);
    auto sent_report = std::find_if(r.outcomes.begin(), r.outcomes.end(),
                                    [&](const Report& o) { return o.message_id == d.message_id; });
    REQUIRE(sent_report != r.outcomes.end());
    CHECK(sent_report->status == ReportStatus::sent);
    CHECK(d.at - sent_report->at >= Millis{500});
    CHECK(d.at - sent_report->at < Millis{1500});
    CHECK(d.at <= r.receipts_due);
  }
  CHECK(r.receipts_due >= r.sends_done);
}

TEST_CASE("fail-rate and delivery-rate hold over many messages") {
  Behaviour b;
  b.fail_rate = 0.05;
  b.delivery_rate = 0.8;
  SimRng rng(1);
  const auto batch = messages(20000);
  const auto r = plan_round(batch, kT0, b, rng);
  const auto failed = std::count_if(r.outcomes.begin(), r.outcomes.end(), [](const Report& o) {
    return o.status == ReportStatus::failed;
  });
  const auto sent = static_cast<int64_t>(batch.size()) - failed;
  CHECK(failed > 800);  // 5 % of 20,000 is 1,000; σ ≈ 31
  CHECK(failed < 1200);
  const auto receipts = static_cast<int64_t>(r.receipts.size());
  CHECK(receipts > sent * 75 / 100);
  CHECK(receipts < sent * 85 / 100);
}

TEST_CASE("the extreme rates are exact, and a rate does not reshuffle the others") {
  const auto batch = messages(200);
  Behaviour all_fail;
  all_fail.fail_rate = 1.0;
  SimRng r1(9);
  const auto failing = plan_round(batch, kT0, all_fail, r1);
  CHECK(std::all_of(failing.outcomes.begin(), failing.outcomes.end(),
                    [](const Report& o) { return o.status == ReportStatus::failed; }));
  CHECK(failing.receipts.empty());

  Behaviour no_receipts;
  no_receipts.fail_rate = 0;
  no_receipts.delivery_rate = 0;
  SimRng r2(9);
  const auto silent = plan_round(batch, kT0, no_receipts, r2);
  CHECK(std::all_of(silent.outcomes.begin(), silent.outcomes.end(),
                    [](const Report& o) { return o.status == ReportStatus::sent; }));
  CHECK(silent.receipts.empty());
  // Same seed, other rates: the same send times.
  REQUIRE(silent.outcomes.size() == failing.outcomes.size());
  for (size_t i = 0; i < batch.size(); ++i) CHECK(silent.outcomes[i].at == failing.outcomes[i].at);
}

TEST_CASE("with no delays, receipts still come after the sends") {
  Behaviour b;
  b.fail_rate = 0;
  b.send_delay = Millis{0};
  b.delivery_delay = Millis{0};
  SimRng rng(3);
  const auto r = plan_round(messages(5), kT0, b, rng);
  CHECK(r.sends_done == kT0);
  CHECK(r.receipts_due == kT0);
  CHECK(r.receipts.size() == 5);
  for (const auto& d : r.receipts) CHECK(d.at == kT0);
}

// ---- the outbox and the backoff ----------------------------------------------------------

TEST_CASE("the outbox hands out what is due, in due order") {
  Outbox box;
  CHECK_FALSE(box.next_due());
  box.add(kT0 + Millis{200}, {Report{"b", ReportStatus::delivered, {}, kT0}});
  box.add(kT0 + Millis{100}, {Report{"a", ReportStatus::sent, {}, kT0}});
  box.add(kT0 + Millis{100}, {Report{"a2", ReportStatus::sent, {}, kT0}});
  box.add(kT0, {});  // an empty batch is never due
  CHECK(box.size() == 3);
  CHECK(box.next_due() == kT0 + Millis{100});
  CHECK(box.take_due(kT0 + Millis{99}).empty());
  auto due = box.take_due(kT0 + Millis{150});
  REQUIRE(due.size() == 2);
  CHECK(due[0].message_id == "a");
  CHECK(due[1].message_id == "a2");
  CHECK(box.size() == 1);
  CHECK(box.take_due(kT0 + Millis{200}).size() == 1);
  CHECK(box.size() == 0);
}

TEST_CASE("backoff doubles from 100 ms to a 5 s cap, jittered, and resets") {
  Backoff b(5);
  Millis nominal = Backoff::kFirst;
  for (int i = 0; i < 12; ++i) {
    const auto d = b.next();
    CAPTURE(i);
    CHECK(d >= nominal / 2);
    CHECK(d < nominal);
    nominal = std::min(nominal * 2, Backoff::kMax);
  }
  CHECK(nominal == Millis{5000});
  b.reset();
  const auto first = b.next();
  CHECK(first >= Millis{50});
  CHECK(first < Millis{100});
}

// ---- the device's timeline -----------------------------------------------------------------

TEST_CASE("a device heartbeats at once, long-polls, sends its round, then reports it") {
  ScheduleConfig c;
  c.behaviour.fail_rate = 0;
  c.behaviour.send_delay = Millis{200};
  c.behaviour.delivery_delay = Millis{1000};
  c.heartbeat_interval = Millis{30000};
  DeviceSchedule s(c, kT0, 11);
  using K = Step::Kind;

  auto step = s.next(kT0);
  CHECK(step.kind == K::heartbeat);
  s.heartbeat_done(kT0);
  step = s.next(kT0);
  REQUIRE(step.kind == K::claim);
  CHECK(step.wait_seconds == 20);  // capped: the next heartbeat is 30 s away

  // Work arrives 25 s in: the long poll is now bounded by the heartbeat, 5 s away.
  auto t = kT0 + Millis{25000};
  CHECK(s.next(t).wait_seconds == 5);
  s.claimed(messages(3), t, t);
  step = s.next(t);
  REQUIRE(step.kind == K::wait);  // sending: no claim before the round is sent
  const auto sends_done = step.until;
  CHECK(sends_done - t >= Millis{300});
  CHECK(sends_done - t < Millis{900});
  CHECK(s.next(sends_done - Millis{1}).kind == K::wait);

  step = s.next(sends_done);
  REQUIRE(step.kind == K::report);
  auto outcomes = s.take_due(sends_done);
  REQUIRE(outcomes.size() == 3);
  for (const auto& o : outcomes) CHECK(o.status == ReportStatus::sent);
  // Until the receipts are due the device may poll, but never past them.
  step = s.next(sends_done);
  if (step.kind == K::claim)
    CHECK(step.wait_seconds <= 2);
  else
    CHECK(step.kind == K::wait);
  // At 30 s both the receipts (at most 1.5 s after their sends) and the heartbeat are due:
  // the receipts go first.
  t = kT0 + Millis{30000};
  CHECK(s.next(t).kind == K::report);
  auto receipts = s.take_due(t);
  REQUIRE(receipts.size() == 3);
  for (const auto& r : receipts) CHECK(r.status == ReportStatus::delivered);
  CHECK(s.next(t).kind == K::heartbeat);
  CHECK(s.pending_reports() == 0);
}

TEST_CASE("a long poll never outlasts a due report; under a second away, the device waits") {
  ScheduleConfig c;
  c.behaviour.fail_rate = 0;
  c.behaviour.send_delay = Millis{0};
  c.behaviour.delivery_delay = Millis{10000};  // receipts 5–15 s after the sends
  DeviceSchedule s(c, kT0, 2);
  s.heartbeat_done(kT0);
  s.claimed(messages(1), kT0, kT0);
  CHECK(s.next(kT0).kind == Step::Kind::report);
  CHECK(s.take_due(kT0).size() == 1);
  auto step = s.next(kT0);
  REQUIRE(step.kind == Step::Kind::claim);
  CHECK(step.wait_seconds >= 5);
  CHECK(step.wait_seconds <= 15);
  // Just before the receipt is due, it waits for it instead of polling.
  const auto due = kT0 + std::chrono::seconds(step.wait_seconds + 1);
  for (auto t = kT0; t < due; t += Millis{100}) {
    auto st = s.next(t);
    if (st.kind == Step::Kind::report) break;
    if (st.kind == Step::Kind::wait) {
      CHECK(st.until > t);
      CHECK(st.until - t < Millis{1000});
    }
  }
}

TEST_CASE("a failed report POST is retried before anything else") {
  ScheduleConfig c;
  c.behaviour.fail_rate = 0;
  DeviceSchedule s(c, kT0, 4);
  s.heartbeat_done(kT0);
  s.claimed(messages(2), kT0, kT0);
  const auto t = kT0 + Millis{5000};
  auto reports = s.take_due(t);
  REQUIRE(reports.size() == 4);  // the outcomes and, by now, the receipts
  s.put_back(std::move(reports), t);
  CHECK(s.next(t).kind == Step::Kind::report);
  CHECK(s.take_due(t).size() == 4);
}

TEST_CASE("--silent-after withholds outcomes but keeps claiming; --offline-after ends it") {
  ScheduleConfig c;
  c.behaviour.fail_rate = 0;
  c.silent_at = kT0 + Millis{10000};
  c.offline_at = kT0 + Millis{60000};
  DeviceSchedule s(c, kT0, 8);
  s.heartbeat_done(kT0);
  auto t = kT0 + Millis{10000};
  s.claimed(messages(2), t, t);
  t += Millis{1000};
  CHECK(s.next(t).kind == Step::Kind::withhold);
  CHECK(s.take_due(t).size() == 2);
  t += Millis{2000};
  CHECK(s.next(t).kind == Step::Kind::withhold);
  CHECK(s.take_due(t).size() == 2);
  CHECK(s.next(t).kind == Step::Kind::claim);
  s.heartbeat_done(kT0 + Millis{50000});
  // Within the last second it claims without holding, so no poll outlives going dark.
  const auto last = s.next(kT0 + Millis{59500});
  CHECK(last.kind == Step::Kind::claim);
  CHECK(last.wait_seconds == 0);
  CHECK(s.next(kT0 + Millis{60000}).kind == Step::Kind::go_offline);
}

TEST_CASE("two devices with the same seed and index live the same life") {
  auto life = [](uint64_t seed) {
    ScheduleConfig c;
    DeviceSchedule s(c, kT0, outcome_seed(seed, 5));
    std::vector<Report> all;
    auto t = kT0;
    for (int round = 0; round < 20; ++round) {
      s.heartbeat_done(t);
      s.claimed(messages(10), t, t);
      t += Millis{20000};
      auto due = s.take_due(t);
      all.insert(all.end(), due.begin(), due.end());
    }
    return all;
  };
  CHECK(life(3) == life(3));
  CHECK(life(3) != life(4));
}

TEST_CASE("an empty claim answered at once is not repeated for a second; --claim-wait caps") {
  ScheduleConfig c;
  c.claim_wait_seconds = 0;
  DeviceSchedule s(c, kT0, 1);
  s.heartbeat_done(kT0);
  auto step = s.next(kT0);
  REQUIRE(step.kind == Step::Kind::claim);
  CHECK(step.wait_seconds == 0);
  s.claimed({}, kT0, kT0 + Millis{30});
  step = s.next(kT0 + Millis{30});
  CHECK(step.kind == Step::Kind::wait);
  CHECK(step.until == kT0 + kMinClaimInterval);
  CHECK(s.next(kT0 + kMinClaimInterval).kind == Step::Kind::claim);
  // A long poll that was held and came back empty is repeated at once.
  ScheduleConfig held;
  DeviceSchedule h(held, kT0, 1);
  h.heartbeat_done(kT0);
  CHECK(h.next(kT0).wait_seconds == 20);
  h.claimed({}, kT0, kT0 + Millis{20000});
  CHECK(h.next(kT0 + Millis{20000}).kind == Step::Kind::claim);
}
