// The pure rules of webhook delivery: ids, the retry schedule and what an attempt does to a
// delivery, with explicit times (no clock, no sleeping).
#include "domain/webhooks.h"

#include <doctest/doctest.h>

namespace pulse {
namespace {

const TimePoint kT0 = from_unix_ms(1'790'000'000'000);

DeliveryState pending() {
  DeliveryState d;
  d.id = "dlv_1-2-0-0_01m818nbctnyg66r";
  d.created_at = kT0;
  reschedule(d, kT0);
  return d;
}

AttemptOutcome answer(int32_t code) {
  AttemptOutcome o;
  o.status_code = code;
  o.latency_ms = 12;
  o.response = "x";
  return o;
}

}  // namespace

TEST_CASE("delivery ids derive from the event id, the item and the endpoint") {
  const auto id = delivery_id("evt_2-2311-1", 7, WebhookId{"wh_01m818nbctnyg66r"});
  CHECK(id == "dlv_2-2311-1-7_01m818nbctnyg66r");
  CHECK(is_valid_delivery_id(id));
  CHECK_FALSE(is_valid_delivery_id("dlv_2-2311-1_01m818nbctnyg66r"));
  CHECK_FALSE(is_valid_delivery_id("dlv_2-2311-1-7_"));
  CHECK_FALSE(is_valid_delivery_id("dlv_2-2311-1-7_AB"));
  CHECK_FALSE(is_valid_delivery_id("evt_2-2311-1"));
}

TEST_CASE("the retry schedule parses with units") {
  auto s = parse_retry_schedule("0,200ms,5s,2m,1h");
  REQUIRE(s);
  CHECK(*s ==
        std::vector<Millis>{Millis{0}, Millis{200}, Millis{5000}, Millis{120000}, Millis{3600000}});
  CHECK_FALSE(parse_retry_schedule(""));
  CHECK_FALSE(parse_retry_schedule("1,x"));
  CHECK_FALSE(parse_retry_schedule("-1"));
  CHECK_FALSE(parse_retry_schedule("5d"));
}

TEST_CASE("a 2xx succeeds at once") {
  auto d = pending();
  EndpointHealth h;
  h.failing_since = kT0 - Millis{1000};
  CHECK(record_attempt(d, h, RetryPolicy{}, kT0, answer(204), 0.5) == EndpointAction::none);
  CHECK(d.status == "succeeded");
  CHECK_FALSE(d.next_at);
  CHECK_FALSE(h.failing_since);
  REQUIRE(d.attempts.size() == 1);
  CHECK(d.attempts[0].status_code == 204);
  CHECK(d.attempts[0].latency_ms == 12);
}

TEST_CASE("failures follow the schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 24 h), then dead") {
  const RetryPolicy policy;
  auto d = pending();
  EndpointHealth h;
  TimePoint now = kT0;
  const std::vector<int64_t> expected_s = {5, 300, 1800, 7200, 18000, 36000, 86400};
  for (size_t i = 0; i < expected_s.size(); ++i) {
    // jitter01 = 0.5: no jitter.
    CHECK(record_attempt(d, h, policy, now, answer(500), 0.5) == EndpointAction::none);
    CHECK(d.status == "pending");
    REQUIRE(d.next_at);
    CHECK((*d.next_at - now) == Millis{expected_s[i] * 1000});
    now = *d.next_at;
  }
  // The eighth attempt is the last.
  record_attempt(d, h, policy, now, answer(503), 0.5);
  CHECK(d.status == "dead");
  CHECK_FALSE(d.next_at);
  CHECK(d.attempts.size() == 8);
  CHECK(h.failing_since == kT0);
}

TEST_CASE("jitter stays within ±20 %") {
  const RetryPolicy policy;
  for (double j : {0.0, 0.25, 0.999}) {
    auto d = pending();
    EndpointHealth h;
    record_attempt(d, h, policy, kT0, answer(500), j);
    const auto delay = (*d.next_at - kT0).count();
    CHECK(delay >= 4000);
    CHECK(delay <= 6000);
  }
  auto d = pending();
  EndpointHealth h;
  record_attempt(d, h, policy, kT0, answer(500), 0.0);
  CHECK((*d.next_at - kT0) == Millis{4000});
}

TEST_CASE("Retry-After is honoured: never sooner, capped at a day") {
  auto d = pending();
  EndpointHealth h;
  auto o = answer(429);
  o.retry_after = Millis{120'000};
  record_attempt(d, h, RetryPolicy{}, kT0, o, 0.5);
  CHECK((*d.next_at - kT0) == Millis{120'000});
  o.retry_after = Millis{1000};  // sooner than the schedule: the schedule wins
  record_attempt(d, h, RetryPolicy{}, kT0, o, 0.5);
  CHECK((*d.next_at - kT0) == Millis{300'000});
  o.retry_after = Millis{10LL * 24 * 3600'000};
  record_attempt(d, h, RetryPolicy{}, kT0, o, 0.5);
  CHECK((*d.next_at - kT0) == Millis{24LL * 3600'000});
}

TEST_CASE("410 dead-letters the delivery and disables the endpoint") {
  auto d = pending();
  EndpointHealth h;
  CHECK(record_attempt(d, h, RetryPolicy{}, kT0, answer(410), 0.5) == EndpointAction::disable_gone);
  CHECK(d.status == "dead");
}

TEST_CASE("an endpoint failing for 5 days is disabled; a success in between resets the count") {
  const RetryPolicy policy;
  EndpointHealth h;
  auto d = pending();
  CHECK(record_attempt(d, h, policy, kT0, answer(500), 0.5) == EndpointAction::none);
  auto later = pending();
  CHECK(record_attempt(later, h, policy, kT0 + Millis{4LL * 24 * 3600'000}, answer(0), 0.5) ==
        EndpointAction::none);
  auto ok = pending();
  record_attempt(ok, h, policy, kT0 + Millis{4LL * 24 * 3600'000 + 1}, answer(200), 0.5);
  auto again = pending();
  CHECK(record_attempt(again, h, policy, kT0 + Millis{6LL * 24 * 3600'000}, answer(500), 0.5) ==
        EndpointAction::none);
  auto last = pending();
  CHECK(record_attempt(last, h, policy, kT0 + Millis{11LL * 24 * 3600'000}, answer(500), 0.5) ==
        EndpointAction::disable_failing);
}

TEST_CASE("a manual retry or a replay starts a new round of the schedule") {
  const RetryPolicy policy;
  auto d = pending();
  EndpointHealth h;
  for (int i = 0; i < 8; ++i) record_attempt(d, h, policy, kT0, answer(500), 0.5);
  REQUIRE(d.status == "dead");
  reschedule(d, kT0 + Millis{1000});
  CHECK(d.status == "pending");
  CHECK(d.next_at == kT0 + Millis{1000});
  record_attempt(d, h, policy, kT0 + Millis{1000}, answer(500), 0.5);
  CHECK(d.status == "pending");
  CHECK((*d.next_at - (kT0 + Millis{1000})) == Millis{5000});
  CHECK(d.attempts.size() == 9);  // the log keeps every attempt
}

TEST_CASE("the webhook event types") {
  CHECK(is_webhook_event_type("message.sent"));
  CHECK(is_webhook_event_type("device.disconnected"));
  CHECK(is_webhook_event_type("campaign.cancelled"));
  CHECK_FALSE(is_webhook_event_type("ping"));
  CHECK_FALSE(is_webhook_event_type("message.*"));
}

}  // namespace pulse
