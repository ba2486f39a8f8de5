// Phone verification in the decider: a request's code is checked once, wrong codes count to a
// failure, requests expire by the command's time, a number's SMS are throttled, a start for a
// pending request resends its sealed SMS, and the code's hash is all the decider compares.
#include "commands/verify.h"

#include <doctest/doctest.h>

#include "commands/decider.h"
#include "tests/support/decider_world.h"

using namespace pulse;
using namespace pulse::commands;
using namespace pulse::testing;

namespace {

const SealedValue kSealed{"dk_0123456789abcdef", "00112233445566778899aabb", "c2VhbGVkLWJvZHk"};

struct World : testing::DeciderWorld {
  World() {
    const std::string hash = "pairing";
    must(CreatePairing{hash, kT0 + Millis{600000}}, kT0);
    must(RegisterDevice{device(1),
                        hash,
                        "cred",
                        "Phone",
                        "Pixel",
                        "15",
                        "1.0",
                        {SimCard{0, "+15550000000", "Carrier"}}},
         kT0);
  }
  StartVerification start(const std::string& to, const std::string& hash, TimePoint t) {
    StartVerification s;
    s.request_id = make_id(verify::kIdPrefix, t, issued);
    s.campaign_id = CampaignId{make_id(id_prefix::campaign, t, issued)};
    s.to = PhoneNumber{to};
    s.code_length = 6;
    s.expiry_seconds = 300;
    s.salt = "salt";
    s.code_hash = hash;
    s.message = "Your code is ******.";
    s.sealed_message = kSealed;
    return s;
  }
  // The request id a start opened or resent.
  std::string opened(const std::vector<Event>& events) {
    for (const auto& e : events) {
      if (auto* s = std::get_if<VerificationStarted>(&e)) return s->request_id;
      if (auto* r = std::get_if<VerificationResent>(&e)) return r->request_id;
    }
    FAIL("no verification event");
    return {};
  }
  VerificationChecked check(const std::string& id, const std::string& hash, TimePoint t) {
    auto events = must(CheckVerification{id, "check-" + std::to_string(issued), hash}, t);
    REQUIRE(events.size() == 1);
    return std::get<VerificationChecked>(events.front());
  }
};

}  // namespace

TEST_CASE("verify: a start sends the masked, sealed SMS; the right code approves it once") {
  World w;
  auto events = w.must(w.start("+14155550101", "right", at(10)), at(10));
  const auto id = w.opened(events);
  bool queued = false;
  for (const auto& e : events)
    if (auto* q = std::get_if<MessagesQueued>(&e)) {
      REQUIRE(q->messages.size() == 1);
      CHECK(q->messages[0].body == "Your code is ******.");
      CHECK(q->messages[0].sealed_body == kSealed);
      queued = true;
    }
  CHECK(queued);
  auto wrong = w.check(id, "wrong", at(20));
  CHECK_FALSE(wrong.valid);
  CHECK(wrong.attempts == 1);
  CHECK(wrong.status == verify::status::pending);
  auto right = w.check(id, "right", at(21));
  CHECK(right.valid);
  CHECK(right.status == verify::status::approved);
  // Valid once: a second check changes nothing and records nothing.
  CHECK(w.must(CheckVerification{id, "again", "right"}, at(22)).empty());
  CHECK(w.count<VerificationChecked>() == 2);
}

TEST_CASE("verify: five wrong codes fail the request; the right one then does not approve it") {
  World w;
  const auto id = w.opened(w.must(w.start("+14155550102", "right", at(0)), at(0)));
  for (int i = 1; i <= verify::kMaxAttempts; ++i) {
    auto c = w.check(id, "wrong", at(i));
    CHECK_FALSE(c.valid);
    CHECK(c.attempts == i);
    CHECK(c.status ==
          (i < verify::kMaxAttempts ? verify::status::pending : verify::status::failed));
  }
  CHECK(w.must(CheckVerification{id, "late", "right"}, at(10)).empty());
}

TEST_CASE("verify: a request expires by the command's time, to the millisecond") {
  World w;
  const auto id = w.opened(w.must(w.start("+14155550103", "right", at(0)), at(0)));
  CHECK(w.must(CheckVerification{id, "late", "right"}, at(300)).empty());  // expiresAt itself
  auto in_time = w.check(id, "right", at(300) - Millis{1});
  CHECK(in_time.valid);
  // A new start for the number after expiry opens a new request (the old one is not pending).
  World x;
  const auto old = x.opened(x.must(x.start("+14155550103", "a", at(0)), at(0)));
  const auto next = x.opened(x.must(x.start("+14155550103", "b", at(301)), at(301)));
  CHECK(next != old);
  CHECK(x.count<VerificationStarted>() == 2);
}

TEST_CASE("verify: a start for a pending request resends it, throttled per number") {
  World w;
  const auto id = w.opened(w.must(w.start("+14155550104", "right", at(0)), at(0)));
  // Within 30 s: refused with the seconds left.
  auto soon = w.run(w.start("+14155550104", "other", at(10)), at(10));
  REQUIRE_FALSE(soon.ok());
  CHECK(soon.error().code == Errc::rate_limited);
  CHECK(soon.error().retry_after == 20);
  // After 30 s: the same request, its SMS again (the same sealed body, not the new code's).
  auto again = w.must(w.start("+14155550104", "other", at(30)), at(30));
  CHECK(w.opened(again) == id);
  CHECK(w.count<VerificationResent>() == 1);
  for (const auto& e : again)
    if (auto* q = std::get_if<MessagesQueued>(&e)) CHECK(q->messages[0].sealed_body == kSealed);
  CHECK(w.check(id, "right", at(31)).valid);  // the first code still verifies
  // Five SMS an hour: the 6th within the hour waits for the oldest to leave the window.
  World h;
  for (int i = 0; i < verify::kMaxSendsPerWindow; ++i)
    h.must(h.start("+14155550105", "c", at(i * 600)), at(i * 600));  // new requests (expired)
  auto sixth = h.run(h.start("+14155550105", "c", at(3000)), at(3000));
  REQUIRE_FALSE(sixth.ok());
  CHECK(sixth.error().code == Errc::rate_limited);
  CHECK(sixth.error().retry_after == 600);  // the first send (at 0) leaves the hour at 3600
  // Other numbers are not affected.
  CHECK(h.run(h.start("+14155550106", "c", at(3000)), at(3000)).ok());
}

TEST_CASE("verify: unknown requests, cancels, opted-out numbers and offline phones") {
  World w;
  auto missing = w.run(CheckVerification{"vrf_01m80zvb19aaaaaa", "c", "x"}, at(0));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == Errc::not_found);
  const auto id = w.opened(w.must(w.start("+14155550107", "right", at(0)), at(0)));
  CHECK(w.must(CancelVerification{id}, at(1)).size() == 1);
  CHECK(w.must(CheckVerification{id, "c", "right"}, at(2)).empty());
  auto twice = w.run(CancelVerification{id}, at(3));
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.error().code == Errc::conflict);
  w.must(AddOptOut{"+14155550108", "asked"}, at(4));
  auto opted = w.run(w.start("+14155550108", "x", at(5)), at(5));
  REQUIRE_FALSE(opted.ok());
  CHECK(opted.error().code == Errc::forbidden);
  // No phone online: refused as a send is, and nothing is recorded for the number.
  World off;
  off.state.org.devices.clear();
  auto offline = off.run(off.start("+14155550109", "x", at(0)), at(0));
  REQUIRE_FALSE(offline.ok());
  CHECK(off.count<VerificationStarted>() == 0);
  CHECK_FALSE(off.state.org.verifications);
}

TEST_CASE("verify: constant-time comparison compares whole strings") {
  CHECK(verify::constant_time_equal("abc", "abc"));
  CHECK_FALSE(verify::constant_time_equal("abc", "abd"));
  CHECK_FALSE(verify::constant_time_equal("abc", "ab"));
  CHECK(verify::constant_time_equal("", ""));
}
