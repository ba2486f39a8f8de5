// The gateway decider with an injected clock: presence, leases, pacing and caps, stickiness,
// forward-only reports (in any order), expiry and completion. No sleeps: time is a value.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>

#include "commands/decider.h"
#include "commands/gateway.h"
#include "fmt/format.h"
#include "tests/support/decider_world.h"

using namespace pulse;
using namespace pulse::commands;
using namespace pulse::testing;

namespace {

// An organisation, its deciders' state, and a clock the test moves.
struct World : testing::DeciderWorld {
  void pair(const DeviceId& d, TimePoint t, const std::vector<int32_t>& slots = {0}) {
    const std::string hash = "hash-" + d.value;
    must(CreatePairing{hash, t + Millis{600000}}, t);
    std::vector<SimCard> sims;
    for (auto s : slots) sims.push_back(SimCard{s, fmt::format("+1555000{:04}", s), "Carrier"});
    must(RegisterDevice{d, hash, "cred-" + d.value, "Phone", "Pixel", "15", "1.0", sims}, t);
  }
  CampaignId send(int n, TimePoint t) {
    SendSms s;
    s.campaign_id = CampaignId{make_id(id_prefix::campaign, t, issued)};
    s.message = "hi";
    for (int i = 0; i < n; ++i)
      s.recipients.push_back(Recipient{PhoneNumber{fmt::format("+1415555{:04}", i)}, ""});
    must(s, t);
    return s.campaign_id;
  }
};

StatusReport report(const MessageId& id, ReportedStatus s, TimePoint t, std::string error = {}) {
  return StatusReport{id, s, std::move(error), t};
}

}  // namespace

TEST_CASE("a send needs an online gateway") {
  World w;
  SendSms s{CampaignId{make_id(id_prefix::campaign, kT0, 1)},
            {Recipient{PhoneNumber{"+14155552671"}, ""}},
            "hi"};
  auto refused = w.run(s, kT0);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == Errc::validation);
  CHECK(refused.error().message == "No online devices. Connect at least one device to send SMS.");
  w.pair(device(1), kT0);
  CHECK(w.run(s, kT0).ok());
}

TEST_CASE("pairing tokens are single-use and expire") {
  World w;
  w.must(CreatePairing{"h1", at(600)}, kT0);
  const RegisterDevice reg{device(1), "h1", "c1", "P", "M", "15", "1", {SimCard{0, "", ""}}};
  auto late = w.run(reg, at(600));
  REQUIRE_FALSE(late.ok());
  CHECK(late.error().code == Errc::unauthorized);
  CHECK(w.run(reg, at(599)).ok());
  auto again = w.run(RegisterDevice{device(2), "h1", "c2", "P", "M", "15", "1", {}}, at(10));
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().message == "Invalid or expired pairing token");
}

TEST_CASE("presence: offline after the window without heartbeats, disconnected fires once") {
  World w;
  w.pair(device(1), kT0);
  CHECK(w.state.org.devices.at(device(1).value).online);
  CHECK(w.count<DeviceConnected>() == 1);
  // Heartbeats every 30 s keep it online.
  for (int s = 30; s <= 300; s += 30) {
    w.must(DeviceHeartbeat{device(1), 90, 3, "1.0"}, at(s));
    CHECK(w.tick(at(s)).empty());
  }
  CHECK(next_deadline(w.config, w.state) == at(300 + 90));
  // Then silence: still online just before the window ends, offline at its end.
  CHECK(w.tick(at(389)).empty());
  auto events = w.tick(at(390));
  REQUIRE(events.size() == 1);
  CHECK(std::get<DeviceDisconnected>(events[0]).reason == "missed heartbeats");
  CHECK_FALSE(w.state.org.devices.at(device(1).value).online);
  CHECK(w.tick(at(1000)).empty());  // once
  CHECK(w.count<DeviceDisconnected>() == 1);
  CHECK_FALSE(next_deadline(w.config, w.state).has_value());
  // A heartbeat brings it back.
  auto back = w.must(DeviceHeartbeat{device(1), {}, {}, ""}, at(1001));
  CHECK(std::holds_alternative<DeviceConnected>(back.front()));
}

TEST_CASE("claims hand out each message once, under a lease; expiry requeues, then fails") {
  World w;
  w.config.gateway.max_attempts = 2;
  w.pair(device(1), kT0);
  w.pair(device(2), kT0);
  w.send(5, kT0);
  auto a = w.claim(device(1), 3, at(1));
  auto b = w.claim(device(2), 3, at(1));
  REQUIRE(a.size() == 3);
  REQUIRE(b.size() == 2);
  std::set<std::string> ids;
  for (auto& m : a) ids.insert(m.id.value);
  for (auto& m : b) ids.insert(m.id.value);
  CHECK(ids.size() == 5);  // none handed to two devices
  CHECK(w.claim(device(1), 10, at(2)).empty());

  // Device 2 reports; device 1 goes quiet (but keeps heartbeating): its leases end at 61 s.
  w.must(ReportStatus{device(2),
                      {report(b[0].id, ReportedStatus::sent, at(5)),
                       report(b[1].id, ReportedStatus::sent, at(5))}},
         at(5));
  for (int s = 30; s <= 60; s += 30) w.must(DeviceHeartbeat{device(1), {}, {}, ""}, at(s));
  CHECK(w.tick(at(60)).empty());
  auto expired = w.tick(at(61));
  REQUIRE(expired.size() == 1);
  CHECK(std::get<MessagesRequeued>(expired[0]).ids.size() == 3);
  CHECK(std::get<MessagesRequeued>(expired[0]).reason == "lease expired");

  // The first retry sticks to the device that had it while it is online: device 2 gets nothing.
  CHECK(w.claim(device(2), 10, at(62)).empty());
  auto retry = w.claim(device(1), 10, at(62));
  REQUIRE(retry.size() == 3);
  for (auto& m : retry) CHECK(m.attempt == 2);
  // Second lease runs out: out of attempts, they fail.
  auto failed = w.tick(at(62 + 60));
  auto it = std::find_if(failed.begin(), failed.end(),
                         [](const Event& e) { return std::holds_alternative<MessagesFailed>(e); });
  REQUIRE(it != failed.end());
  const auto& f = std::get<MessagesFailed>(*it);
  CHECK(f.messages.size() == 3);
  CHECK(f.messages[0].error == "no outcome after 2 attempts (lease expired)");
}

TEST_CASE("after a second lease without an outcome any device may take the message") {
  World w;
  w.pair(device(1), kT0);
  w.pair(device(2), kT0);
  w.send(1, kT0);
  REQUIRE(w.claim(device(1), 1, at(1)).size() == 1);
  for (int s = 30; s <= 150; s += 30) {
    w.must(DeviceHeartbeat{device(1), {}, {}, ""}, at(s));
    w.must(DeviceHeartbeat{device(2), {}, {}, ""}, at(s));
  }
  w.tick(at(61));
  CHECK(w.claim(device(2), 1, at(62)).empty());  // sticky: device 1 is online
  REQUIRE(w.claim(device(1), 1, at(62)).size() == 1);
  w.tick(at(122));
  auto third = w.claim(device(2), 1, at(123));  // device 1 had its two chances
  REQUIRE(third.size() == 1);
  CHECK(third[0].attempt == 3);
}

TEST_CASE("a device going offline releases its work to the others") {
  World w;
  w.pair(device(1), kT0);
  w.pair(device(2), kT0);
  w.send(4, kT0);
  REQUIRE(w.claim(device(1), 4, at(1)).size() == 4);
  w.must(DeviceHeartbeat{device(2), {}, {}, ""}, at(60));
  auto events = w.tick(at(91));  // device 1's window ends (last seen claiming at 1 s)
  REQUIRE(events.size() == 2);
  CHECK(std::get<DeviceDisconnected>(events[0]).device_id == device(1));
  CHECK(std::get<MessagesRequeued>(events[1]).reason == "device offline");
  // Sticky to device 1 no more: it is offline.
  CHECK(w.claim(device(2), 10, at(91)).size() == 4);
}

TEST_CASE("pacing: messages per minute per device, and a daily cap per SIM") {
  World w;
  w.config.gateway.device_per_minute = 6;
  w.config.gateway.sim_per_day = 10;
  w.config.gateway.message_ttl = Millis{48LL * 3600 * 1000};
  w.pair(device(1), kT0, {0, 1});
  w.send(40, kT0);
  auto first = w.claim(device(1), 100, at(1));
  CHECK(first.size() == 6);  // a minute's worth
  CHECK(w.claim(device(1), 100, at(2)).empty());
  CHECK(w.claim(device(1), 100, at(11)).size() == 1);  // one more every 10 s
  // SIMs alternate, each capped at 10 a day.
  int claimed = 7;
  for (int minute = 1; minute <= 10; ++minute)
    claimed += static_cast<int>(w.claim(device(1), 100, at(11 + 60 * minute)).size());
  CHECK(claimed == 20);  // 2 SIMs x 10
  const auto& today = w.state.org.devices.at(device(1).value).sent_today;
  CHECK(today.at(0) == 10);
  CHECK(today.at(1) == 10);
  // The next UTC day the caps start again.
  CHECK(w.claim(device(1), 100, at(86400)).size() == 6);
}

TEST_CASE("reports: forward only, other devices' messages refused, campaign completes") {
  World w;
  w.config.gateway.delivery_window = Millis{60000};
  w.pair(device(1), kT0);
  w.pair(device(2), kT0);
  const auto campaign = w.send(3, kT0);
  auto mine = w.claim(device(1), 3, at(1));
  REQUIRE(mine.size() == 3);
  // Device 2 can't report device 1's messages.
  auto foreign =
      w.must(ReportStatus{device(2), {report(mine[0].id, ReportedStatus::sent, at(2))}}, at(2));
  REQUIRE(foreign.size() == 1);
  CHECK(std::get<ReportsRejected>(foreign[0]).reports[0].error ==
        "the message is leased to another device");

  w.must(ReportStatus{device(1),
                      {report(mine[0].id, ReportedStatus::delivered, at(3)),
                       report(mine[1].id, ReportedStatus::failed, at(3), "No signal"),
                       report(mine[2].id, ReportedStatus::sent, at(3))}},
         at(3));
  CHECK(w.count<CampaignCompleted>() == 0);  // the third is sent, not finished
  // A late "sent" for a delivered message and a duplicate change nothing.
  auto noop = w.must(ReportStatus{device(1),
                                  {report(mine[0].id, ReportedStatus::sent, at(4)),
                                   report(mine[2].id, ReportedStatus::sent, at(4))}},
                     at(4));
  CHECK(noop.empty());
  // The delivery window of the sent one closes: the campaign is complete.
  auto closing = w.tick(at(3 + 60));
  CHECK(std::get<MessagesSettled>(closing.at(0)).ids.size() == 3);
  REQUIRE(w.count<CampaignCompleted>() == 1);
  CHECK(std::get<CampaignCompleted>(w.log.back()).campaign_id == campaign);
  CHECK(w.state.org.queues.empty());
  CHECK(w.state.org.awaiting.get().empty());
}

TEST_CASE("a late report from the device whose lease ended keeps its outcome, no resend") {
  World w;
  w.pair(device(1), kT0);
  w.send(1, kT0);
  auto m = w.claim(device(1), 1, at(1));
  REQUIRE(m.size() == 1);
  w.must(DeviceHeartbeat{device(1), {}, {}, ""}, at(50));
  w.tick(at(61));  // requeued
  w.must(ReportStatus{device(1), {report(m[0].id, ReportedStatus::sent, at(62))}}, at(62));
  CHECK(w.claim(device(1), 10, at(63)).empty());  // it was sent: not handed out again
}

// The final state of a message after a set of reports, whatever their order and duplicates.
TEST_CASE("property: duplicate and out-of-order reports end in the same state as in order") {
  std::mt19937 rng(20261122);
  const std::vector<std::vector<ReportedStatus>> histories = {
      {ReportedStatus::sent, ReportedStatus::delivered},
      {ReportedStatus::sent, ReportedStatus::failed},
      {ReportedStatus::failed},
      {ReportedStatus::delivered},
      {ReportedStatus::sent},
      {ReportedStatus::sent, ReportedStatus::failed, ReportedStatus::delivered},
      {ReportedStatus::failed, ReportedStatus::sent},  // the failure stamped before the send
      {ReportedStatus::delivered, ReportedStatus::sent},
  };
  for (const auto& history : histories) {
    // In order: report i at time i.
    auto outcome = [&](const std::vector<std::pair<ReportedStatus, int>>& reports) {
      World w;
      w.pair(device(1), kT0);
      w.send(1, kT0);
      auto m = w.claim(device(1), 1, at(1));
      REQUIRE(m.size() == 1);
      for (auto [status, t] : reports)
        w.must(ReportStatus{device(1), {report(m[0].id, status, at(10 + t))}}, at(100 + t));
      const auto& a = w.state.org.awaiting.get().at(m[0].id.value);
      return fmt::format("{}/{}/{}/{}", static_cast<int>(a.outcome),
                         a.sent_at ? to_unix_ms(*a.sent_at) : -1, a.terminal,
                         w.count<CampaignCompleted>());
    };
    std::vector<std::pair<ReportedStatus, int>> in_order;
    for (size_t i = 0; i < history.size(); ++i)
      in_order.emplace_back(history[i], static_cast<int>(i));
    const auto expected = outcome(in_order);
    for (int trial = 0; trial < 50; ++trial) {
      auto shuffled = in_order;
      // Duplicates too.
      for (size_t k = 0; k < in_order.size(); ++k)
        if (rng() % 2) shuffled.push_back(in_order[k]);
      std::shuffle(shuffled.begin(), shuffled.end(), rng);
      CAPTURE(trial);
      CHECK(outcome(shuffled) == expected);
    }
  }
}

TEST_CASE("unpairing releases the device's work; queued messages expire at their TTL") {
  World w;
  w.config.gateway.message_ttl = Millis{3600000};
  w.pair(device(1), kT0);
  w.pair(device(2), kT0);
  w.send(3, kT0);
  REQUIRE(w.claim(device(1), 2, at(1)).size() == 2);
  auto unpaired = w.must(UnpairDevice{device(1)}, at(2));
  CHECK(std::holds_alternative<MessagesRequeued>(unpaired.at(0)));
  CHECK(std::holds_alternative<DeviceDisconnected>(unpaired.at(1)));
  CHECK(std::holds_alternative<DeviceUnpaired>(unpaired.at(2)));
  CHECK_FALSE(w.state.org.devices.count(device(1).value));
  auto stale = w.run(ClaimMessages{device(1), 5}, at(3));
  REQUIRE_FALSE(stale.ok());
  CHECK(stale.error().code == Errc::unauthorized);
  // Nobody sends them; at the TTL all three fail and the campaign completes.
  for (int s = 60; s < 3600; s += 60) w.must(DeviceHeartbeat{device(2), {}, {}, ""}, at(s));
  auto events = w.tick(at(3600));
  REQUIRE(events.size() == 2);
  CHECK(std::get<MessagesFailed>(events[0]).messages.size() == 3);
  CHECK(std::get<MessagesFailed>(events[0]).messages[0].error == "expired before it could be sent");
  CHECK(std::holds_alternative<CampaignCompleted>(events[1]));
}

TEST_CASE("review: refused and accepted reports interleaved make one ReportsRejected") {
  World w;
  w.pair(device(1), kT0);
  w.pair(device(2), kT0);
  w.send(2, kT0);
  auto one = w.claim(device(1), 1, at(1));
  auto two = w.claim(device(2), 1, at(1));
  REQUIRE(one.size() == 1);
  REQUIRE(two.size() == 1);
  auto events = w.must(ReportStatus{device(2),
                                    {report(one[0].id, ReportedStatus::sent, at(2)),
                                     report(two[0].id, ReportedStatus::sent, at(2)),
                                     report(one[0].id, ReportedStatus::delivered, at(3))}},
                       at(3));
  int rejections = 0;
  for (const auto& e : events)
    if (auto* r = std::get_if<ReportsRejected>(&e)) {
      ++rejections;
      CHECK(r->reports.size() == 2);
    }
  CHECK(rejections == 1);
}

TEST_CASE("review: a message past its time to live is not handed out again") {
  World w;
  w.config.gateway.message_ttl = Millis{100000};
  w.pair(device(1), kT0);
  w.send(1, kT0);
  REQUIRE(w.claim(device(1), 1, at(50)).size() == 1);
  w.must(DeviceHeartbeat{device(1), {}, {}, ""}, at(80));
  auto events = w.tick(at(110));  // the lease (50 + 60) and the TTL (100) both passed
  bool failed = false;
  for (const auto& e : events)
    if (auto* f = std::get_if<MessagesFailed>(&e)) failed = !f->messages.empty();
  CHECK(failed);
  CHECK(w.claim(device(1), 1, at(110)).empty());
  CHECK(w.count<CampaignCompleted>() == 1);
}

TEST_CASE("review: a first retry doesn't wait for a phone that can't send (capped)") {
  World w;
  w.config.gateway.sim_per_day = 2;
  w.pair(device(1), kT0);
  w.pair(device(2), kT0);
  w.send(3, kT0);
  auto first = w.claim(device(1), 2, at(1));  // device 1 reaches its cap
  REQUIRE(first.size() == 2);
  w.must(ReportStatus{device(1), {report(first[0].id, ReportedStatus::sent, at(2))}}, at(2));
  for (int s = 30; s <= 60; s += 30) {
    w.must(DeviceHeartbeat{device(1), {}, {}, ""}, at(s));
    w.must(DeviceHeartbeat{device(2), {}, {}, ""}, at(s));
  }
  w.tick(at(61));  // first[1]'s lease ends
  auto taken = w.claim(device(2), 5, at(62));
  std::set<std::string> ids;
  for (auto& m : taken) ids.insert(m.id.value);
  CHECK(ids.count(first[1].id.value) == 1);  // not stuck behind the capped phone
}

TEST_CASE("review: a retry on its first phone goes out on the same SIM") {
  World w;
  w.pair(device(1), kT0, {0, 1});
  w.send(1, kT0);
  auto first = w.must(ClaimMessages{device(1), 1}, at(1));
  int32_t first_slot = -1;
  for (const auto& e : first)
    if (auto* c = std::get_if<MessagesClaimed>(&e)) first_slot = c->sim_slot;
  REQUIRE(first_slot >= 0);
  w.must(DeviceHeartbeat{device(1), {}, {}, ""}, at(30));
  w.tick(at(61));
  // Round-robin would pick the other SIM now; the retry waits for its own.
  auto retry = w.must(ClaimMessages{device(1), 1}, at(62));
  for (const auto& e : retry)
    if (auto* c = std::get_if<MessagesClaimed>(&e)) CHECK(c->sim_slot == first_slot);
  auto again = w.must(ClaimMessages{device(1), 1}, at(63));
  int32_t slot = -1;
  for (const auto& e : retry)
    if (auto* c = std::get_if<MessagesClaimed>(&e)) slot = c->sim_slot;
  for (const auto& e : again)
    if (auto* c = std::get_if<MessagesClaimed>(&e)) slot = c->sim_slot;
  CHECK(slot == first_slot);
}

TEST_CASE(
    "a campaign with messages waiting and no device that may send them stalls, once; a "
    "device coming back unstalls it") {
  World w;
  w.pair(device(1), kT0);
  w.pair(device(2), kT0);
  const auto free = w.send(3, kT0);
  SendSms pinned;
  pinned.campaign_id = CampaignId{make_id(id_prefix::campaign, kT0, 99)};
  pinned.message = "to device 2 only";
  pinned.recipients.push_back(Recipient{PhoneNumber{"+14155550999"}, ""});
  pinned.device_id = device(2);
  w.must(pinned, kT0);
  CHECK(w.count<CampaignStalled>() == 0);
  // Device 2 goes quiet: its pinned campaign stalls; device 1 still takes the other one.
  w.must(DeviceHeartbeat{device(1), {}, {}, ""}, at(60));
  auto quiet = w.tick(at(90));
  REQUIRE(w.count<CampaignStalled>() == 1);
  const auto* first = std::get_if<CampaignStalled>(&quiet.back());
  REQUIRE(first);
  CHECK(first->campaign_id == pinned.campaign_id);
  CHECK(first->waiting == 1);
  CHECK(w.state.org.queues.at(pinned.campaign_id.value).stalled == true);
  // Device 1 too: the other campaign stalls with its 3 messages; nothing fires twice.
  w.tick(at(150));
  REQUIRE(w.count<CampaignStalled>() == 2);
  CHECK(std::get<CampaignStalled>(w.log.back()).campaign_id == free);
  CHECK(std::get<CampaignStalled>(w.log.back()).waiting == 3);
  w.tick(at(400));
  CHECK(w.count<CampaignStalled>() == 2);
  // Device 1 is back: the unpinned campaign may go out again, the pinned one still waits.
  w.must(DeviceHeartbeat{device(1), {}, {}, ""}, at(500));
  CHECK(w.count<CampaignUnstalled>() == 1);
  CHECK_FALSE(w.state.org.queues.at(free.value).stalled.has_value());
  CHECK(w.state.org.queues.at(pinned.campaign_id.value).stalled == true);
  // A campaign that has handed everything out waits for reports, not for a device.
  REQUIRE(w.claim(device(1), 10, at(501)).size() == 3);
  w.must(DeviceHeartbeat{device(2), {}, {}, ""}, at(502));
  CHECK(w.count<CampaignUnstalled>() == 2);
  w.must(DeviceHeartbeat{device(1), {}, {}, ""}, at(580));
  w.tick(at(593));  // device 2 offline again; device 1 holds (or may retake) the other's messages
  CHECK(w.count<CampaignStalled>() == 3);
  CHECK(std::get<CampaignStalled>(w.log.back()).campaign_id == pinned.campaign_id);
  // Device 1 offline too, its work released: the other campaign waits again.
  w.tick(at(700));
  CHECK(w.count<CampaignStalled>() == 4);
  CHECK(std::get<CampaignStalled>(w.log.back()).campaign_id == free);
}
