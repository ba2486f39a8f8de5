// Opt-outs and the send API's options in the decider: opt-outs skip recipients, STOP replies,
// Idempotency-Key, pinned devices. Pure: time is a value.
#include "commands/opt_outs.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "commands/decider.h"
#include "fmt/format.h"
#include "tests/support/decider_world.h"

using namespace pulse;
using namespace pulse::commands;
using namespace pulse::testing;

namespace {

struct World : testing::DeciderWorld {
  void pair(const DeviceId& d, TimePoint t) {
    const std::string hash = "hash-" + d.value;
    must(CreatePairing{hash, t + Millis{600000}}, t);
    must(RegisterDevice{d,
                        hash,
                        "cred-" + d.value,
                        "Phone",
                        "Pixel",
                        "15",
                        "1.0",
                        {SimCard{0, "+15550000000", "Carrier"}}},
         t);
  }
  SendSms sms(const std::vector<std::string>& phones, TimePoint t) {
    SendSms s;
    s.campaign_id = CampaignId{make_id(id_prefix::campaign, t, issued)};
    s.message = "Hi {{phone}}";
    for (auto& p : phones) s.recipients.push_back(Recipient{PhoneNumber{p}, ""});
    return s;
  }
  std::vector<ClaimedMessage> claim(const DeviceId& d, TimePoint t) {
    return DeciderWorld::claim(d, 100, t);
  }
};

template <class E>
const E* find(const std::vector<Event>& events) {
  for (const auto& e : events)
    if (auto* x = std::get_if<E>(&e)) return x;
  return nullptr;
}

}  // namespace

TEST_CASE("STOP keywords: the six words, any case, trimmed; nothing else") {
  for (const char* yes :
       {"STOP", "stop", " Stop\n", "STOPALL", "unsubscribe", "Cancel", "END", "quit", "\tQUIT  "})
    CHECK_MESSAGE(is_stop_keyword(yes), yes);
  for (const char* no : {"", "STOP please", "stopp", "don't stop", "S T O P", "ENDS", "hello"})
    CHECK_FALSE_MESSAGE(is_stop_keyword(no), no);
}

TEST_CASE("opt-outs: added once, removed, a missing one is a 404") {
  World w;
  auto added = w.must(AddOptOut{"+14155550001", "asked by phone"}, kT0);
  REQUIRE(added.size() == 1);
  CHECK(std::get<OptOutAdded>(added[0]).source == "api");
  CHECK(is_opted_out(w.state.org, "+14155550001"));
  CHECK(w.must(AddOptOut{"+14155550001", "again"}, at(1)).empty());  // already: a no-op
  CHECK(w.must(RemoveOptOut{"+14155550001"}, at(2)).size() == 1);
  CHECK_FALSE(is_opted_out(w.state.org, "+14155550001"));
  auto missing = w.run(RemoveOptOut{"+14155550001"}, at(3));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == Errc::not_found);
}

TEST_CASE("a send skips opted-out recipients: counted, indexes contiguous, quota on the rest") {
  World w;
  w.config.plans.free.monthly_sms = 2;
  w.pair(device(1), kT0);
  w.must(AddOptOut{"+14155550002", ""}, kT0);
  w.must(AddOptOut{"+14155550004", ""}, kT0);
  auto s = w.sms({"+14155550001", "+14155550002", "+14155550003", "+14155550004"}, at(1));
  auto events = w.must(s, at(1));
  const auto* created = find<CampaignCreated>(events);
  REQUIRE(created);
  CHECK(created->total_messages == 2);
  CHECK(created->name == "SMS to 4 recipients");
  const auto* suppressed = find<RecipientsSuppressed>(events);
  REQUIRE(suppressed);
  CHECK(suppressed->phones == std::vector<std::string>{"+14155550002", "+14155550004"});
  const auto* queued = find<MessagesQueued>(events);
  REQUIRE(queued);
  REQUIRE(queued->messages.size() == 2);
  CHECK(queued->messages[0].phone.e164 == "+14155550001");
  CHECK(queued->messages[1].phone.e164 == "+14155550003");
  CHECK(queued->messages[1].body == "Hi +14155550003");
  CHECK(queued->messages[1].id.value == derive_id(id_prefix::message, s.campaign_id.value, 1));
  CHECK(w.state.org.month_messages == 2);
  CHECK(w.claim(device(1), at(2)).size() == 2);

  // The skip function is what any send path calls.
  const std::vector<std::string> phones = {"+14155550004", "+14155550005"};
  auto split = skip_opted_out(w.state.org, phones, [](const std::string& p) { return p; });
  CHECK(split.kept == std::vector<size_t>{1});
  CHECK(split.suppressed == std::vector<std::string>{"+14155550004"});
}

TEST_CASE("a send whose every recipient opted out completes at once") {
  World w;
  w.pair(device(1), kT0);
  w.must(AddOptOut{"+14155550001", ""}, kT0);
  auto events = w.must(w.sms({"+14155550001"}, at(1)), at(1));
  CHECK(find<MessagesQueued>(events) == nullptr);
  CHECK(find<CampaignCompleted>(events) != nullptr);
  CHECK(w.state.org.queues.empty());
}

TEST_CASE("an inbound STOP from a paired phone opts the sender out; other texts don't") {
  World w;
  w.pair(device(1), kT0);
  auto hello = w.must(ReceiveSms{device(1), "+14155550001", "hello", kT0, 0}, at(1));
  REQUIRE(hello.size() == 1);
  CHECK_FALSE(std::get<SmsReceived>(hello[0]).stop);
  auto stop = w.must(ReceiveSms{device(1), "+14155550001", " Stop ", kT0, 0}, at(2));
  REQUIRE(stop.size() == 2);
  CHECK(std::get<SmsReceived>(stop[0]).stop);
  CHECK(std::get<OptOutAdded>(stop[1]).source == "reply");
  CHECK(is_opted_out(w.state.org, "+14155550001"));
  // Again: recorded, no second opt-out. A short code can't be opted out.
  CHECK(w.must(ReceiveSms{device(1), "+14155550001", "STOP", kT0, 0}, at(3)).size() == 1);
  CHECK(w.must(ReceiveSms{device(1), "12345", "STOP", kT0, 0}, at(3)).size() == 1);
  auto unpaired = w.run(ReceiveSms{device(2), "+14155550001", "STOP", kT0, 0}, at(4));
  REQUIRE_FALSE(unpaired.ok());
  CHECK(unpaired.error().code == Errc::unauthorized);
}

TEST_CASE("Idempotency-Key: the same request replays, another is a 409, a day later it's new") {
  World w;
  w.pair(device(1), kT0);
  auto first = w.sms({"+14155550001", "+14155550002"}, at(1));
  first.idempotency_key = "key-1";
  first.request_hash = "hash-a";
  auto events = w.must(first, at(1));
  const auto* recorded = find<IdempotencyKeyRecorded>(events);
  REQUIRE(recorded);
  CHECK(recorded->campaign_id == first.campaign_id);
  CHECK(recorded->recipient_count == 2);
  CHECK(recorded->expires_at == at(1) + kIdempotencyTtl);

  auto again = w.sms({"+14155550001", "+14155550002"}, at(2));  // another campaign id
  again.idempotency_key = "key-1";
  again.request_hash = "hash-a";
  auto replay = w.must(again, at(2));
  REQUIRE(replay.size() == 1);
  CHECK(std::get<SendReplayed>(replay[0]).campaign_id == first.campaign_id);
  CHECK(w.state.org.campaigns == 1);

  auto other = again;
  other.request_hash = "hash-b";
  auto conflict = w.run(other, at(3));
  REQUIRE_FALSE(conflict.ok());
  CHECK(conflict.error().code == Errc::conflict);

  // Expired: the key is free again (and the expired entry is dropped when a key is recorded).
  auto later = w.sms({"+14155550001"}, at(1) + kIdempotencyTtl);
  later.idempotency_key = "key-1";
  later.request_hash = "hash-b";
  CHECK(find<CampaignCreated>(w.must(later, at(1) + kIdempotencyTtl)) != nullptr);
  CHECK(w.state.org.campaigns == 2);
  CHECK(w.state.org.idempotency.get().size() == 1);
}

TEST_CASE("a refused send doesn't take its Idempotency-Key") {
  World w;  // no device online
  auto s = w.sms({"+14155550001"}, at(1));
  s.idempotency_key = "k";
  s.request_hash = "h";
  CHECK_FALSE(w.run(s, at(1)).ok());
  w.pair(device(1), at(2));
  CHECK(find<CampaignCreated>(w.must(s, at(2))) != nullptr);
}

TEST_CASE("deviceId pins a campaign to its device; unknown or offline devices are refused") {
  World w;
  w.pair(device(1), kT0);
  w.pair(device(2), kT0);
  auto unknown = w.sms({"+14155550001"}, at(1));
  unknown.device_id = device(9);
  auto refused = w.run(unknown, at(1));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == Errc::not_found);

  auto pinned = w.sms({"+14155550001", "+14155550002"}, at(1));
  pinned.device_id = device(2);
  auto events = w.must(pinned, at(1));
  REQUIRE(find<CampaignPinned>(events));
  CHECK(find<CampaignPinned>(events)->device_id == device(2));
  CHECK(w.state.org.queues.at(pinned.campaign_id.value).device == device(2).value);
  auto free = w.sms({"+14155550003"}, at(2));
  w.must(free, at(2));
  // Device 1 only gets the unpinned campaign; device 2 gets its own.
  auto got1 = w.claim(device(1), at(3));
  REQUIRE(got1.size() == 1);
  CHECK(split_message_id(got1[0].id.value)->first == free.campaign_id.value);
  CHECK(w.claim(device(2), at(3)).size() == 2);

  w.must(UnpairDevice{device(2)}, at(4));
  auto gone = w.sms({"+14155550001"}, at(5));
  gone.device_id = device(2);
  CHECK(w.run(gone, at(5)).error().code == Errc::not_found);
}

TEST_CASE("unpairing a pinned send's device fails what it can no longer send; the rest completes") {
  World w;
  w.pair(device(1), kT0);
  w.pair(device(2), kT0);
  auto pinned = w.sms({"+14155550001", "+14155550002", "+14155550003"}, at(1));
  pinned.device_id = device(2);
  w.must(pinned, at(1));
  // Device 2 holds none of them yet; unpairing it leaves them to nobody.
  auto events = w.must(UnpairDevice{device(2)}, at(2));
  int failed = 0;
  bool completed = false;
  for (const auto& e : events) {
    if (const auto* f = std::get_if<MessagesFailed>(&e))
      for (const auto& m : f->messages) {
        CHECK(m.error == "pinned device unpaired");
        ++failed;
      }
    if (const auto* c = std::get_if<CampaignCompleted>(&e))
      completed = c->campaign_id == pinned.campaign_id;
  }
  CHECK(failed == 3);
  CHECK(completed);
  CHECK_FALSE(w.state.org.queues.count(pinned.campaign_id.value));
  CHECK(w.claim(device(1), at(3)).empty());  // nothing of it goes out through another phone
}

TEST_CASE("START, UNSTOP or SUBSCRIBE from an opted-out number takes the opt-out back") {
  World w;
  w.pair(device(1), kT0);
  for (const char* yes : {"START", " unstop ", "Subscribe"})
    CHECK_MESSAGE(is_start_keyword(yes), yes);
  for (const char* no : {"", "START NOW", "STOP", "begin"})
    CHECK_FALSE_MESSAGE(is_start_keyword(no), no);

  // Not opted out: recorded, nothing else.
  CHECK(w.must(ReceiveSms{device(1), "+14155550001", "START", kT0, 0}, at(1)).size() == 1);
  w.must(ReceiveSms{device(1), "+14155550001", "STOP", kT0, 0}, at(2));
  REQUIRE(is_opted_out(w.state.org, "+14155550001"));
  auto back = w.must(ReceiveSms{device(1), "+14155550001", "start", kT0, 0}, at(3));
  REQUIRE(back.size() == 2);
  CHECK(std::get<OptOutRemoved>(back[1]).phone == "+14155550001");
  CHECK_FALSE(is_opted_out(w.state.org, "+14155550001"));
  // An opt-out the API added is the person's to take back too.
  w.must(AddOptOut{"+14155550002", "asked by phone"}, at(4));
  CHECK(w.must(ReceiveSms{device(1), "+14155550002", "UNSTOP", kT0, 0}, at(5)).size() == 2);
  CHECK_FALSE(is_opted_out(w.state.org, "+14155550002"));
}

TEST_CASE(
    "a send pinned to a SIM goes out on that SIM only; a SIM that does not send is not pinned") {
  World w;
  const std::string hash = "hash-two-sims";
  w.must(CreatePairing{hash, kT0 + Millis{600000}}, kT0);
  w.must(RegisterDevice{device(1),
                        hash,
                        "cred-two-sims",
                        "Phone",
                        "Pixel",
                        "15",
                        "1.0",
                        {SimCard{0, "+15550000000", "A"}, SimCard{1, "+15550000001", "B"}}},
         kT0);
  auto reply = w.sms({"+14155550001"}, at(1));
  reply.device_id = device(1);
  reply.sim_slot = 1;
  auto events = w.must(reply, at(1));
  REQUIRE(find<CampaignPinned>(events));
  CHECK(find<CampaignPinned>(events)->sim_slot == 1);
  auto other = w.sms({"+14155550002", "+14155550003"}, at(1));
  w.must(other, at(1));
  // Round-robin would start on SIM 0; the pinned campaign waiting takes the claim to SIM 1.
  std::optional<int32_t> slot_of_reply;
  for (int i = 0; i < 4 && !slot_of_reply; ++i)
    for (const auto& e : w.must(ClaimMessages{device(1), 1}, at(2 + i)))
      if (auto* c = std::get_if<MessagesClaimed>(&e))
        for (const auto& m : c->messages)
          if (split_message_id(m.id.value)->first == reply.campaign_id.value)
            slot_of_reply = c->sim_slot;
  CHECK(slot_of_reply == 1);

  // SIM 7 is not one of the device's sending SIMs: the device is pinned, the SIM is not.
  auto stray = w.sms({"+14155550004"}, at(10));
  stray.device_id = device(1);
  stray.sim_slot = 7;
  auto stray_events = w.must(stray, at(10));
  REQUIRE(find<CampaignPinned>(stray_events));
  CHECK_FALSE(find<CampaignPinned>(stray_events)->sim_slot.has_value());
}
