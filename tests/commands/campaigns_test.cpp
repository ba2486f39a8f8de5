// Campaigns in the decider: drafts hand nothing out, launch and schedule (the clock
// starts it), pause/resume/cancel and their invalid transitions. No I/O, time is a value.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>

#include "commands/campaigns.h"
#include "commands/decider.h"
#include "commands/gateway.h"
#include "fmt/format.h"
#include "tests/support/decider_world.h"

using namespace pulse;
using namespace pulse::commands;
using namespace pulse::testing;

namespace {

struct World : testing::DeciderWorld {
  DeviceId pair(int i, TimePoint t) {
    DeviceId d{make_id(id_prefix::device, kT0, static_cast<uint64_t>(i))};
    must(CreatePairing{"h" + d.value, t + Millis{600000}}, t);
    must(RegisterDevice{d, "h" + d.value, "c" + d.value, "P", "M", "15", "1", {SimCard{0, "", ""}}},
         t);
    return d;
  }
  // Draft + chunks + launch, as the HTTP layer does.
  CampaignId campaign(int n, TimePoint t, std::optional<TimePoint> scheduled = std::nullopt) {
    CampaignId id{make_id(id_prefix::campaign, t, issued)};
    must(DraftCampaign{id, "C", "campaign", "Hi {{firstName}}", "cl_01m80zvb19jvjvzb", "L", n, n,
                       scheduled},
         t);
    for (int k = 0; k < n; k += 500) {
      QueueCampaignMessages q{id, k, {}};
      for (int i = k; i < std::min(n, k + 500); ++i)
        q.messages.push_back(
            CampaignMessage{fmt::format("+1415555{:04}", i), "N", fmt::format("Hi {}", i)});
      must(q, t);
    }
    must(LaunchCampaign{id}, t);
    return id;
  }
};

}  // namespace

TEST_CASE("a draft hands nothing out until it is launched, then runs") {
  World w;
  auto d = w.pair(1, kT0);
  const CampaignId id{make_id(id_prefix::campaign, kT0, 77)};
  w.must(DraftCampaign{id, "C", "campaign", "hi", "", "", 3, 3, std::nullopt}, kT0);
  QueueCampaignMessages q{id, 0, {{"+14155550001", "A", "hi A"}, {"+14155550002", "B", "hi B"}}};
  w.must(q, kT0);
  CHECK(w.claim(d, 10, at(1)).empty());
  // Out of order and launching before every message is queued are refused.
  auto gap = w.run(QueueCampaignMessages{id, 5, {{"+14155550003", "", "x"}}}, at(1));
  REQUIRE_FALSE(gap.ok());
  CHECK(gap.error().code == Errc::conflict);
  CHECK(w.run(LaunchCampaign{id}, at(1)).error().code == Errc::conflict);
  w.must(QueueCampaignMessages{id, 2, {{"+14155550003", "C", "hi C"}}}, at(1));
  auto started = w.must(LaunchCampaign{id}, at(2));
  REQUIRE(started.size() == 1);
  CHECK(std::get<CampaignStarted>(started[0]).expires_at == at(2) + w.config.gateway.message_ttl);
  CHECK(w.claim(d, 10, at(3)).size() == 3);
}

TEST_CASE("a scheduled campaign starts on the clock, deterministically") {
  World w;
  auto d = w.pair(1, kT0);
  auto id = w.campaign(2, kT0, at(3600));
  CHECK(std::holds_alternative<CampaignScheduled>(w.log.back()));
  CHECK(w.claim(d, 10, at(10)).empty());
  CHECK(next_deadline(w.config, w.state) <= at(3600));
  w.must(DeviceHeartbeat{d, {}, {}, ""}, at(3590));
  CHECK(w.tick(at(3599)).empty());
  auto events = w.tick(at(3600));
  REQUIRE(events.size() == 1);
  CHECK(std::get<CampaignStarted>(events[0]).campaign_id == id);
  CHECK(w.claim(d, 10, at(3601)).size() == 2);
}

TEST_CASE("a draft for now needs an online device; a scheduled one doesn't") {
  World w;
  const CampaignId id{make_id(id_prefix::campaign, kT0, 5)};
  auto now = w.run(DraftCampaign{id, "C", "api", "hi", "", "", 0, 1, std::nullopt}, kT0);
  REQUIRE_FALSE(now.ok());
  CHECK(now.error().message == "No online devices. Connect at least one device to send SMS.");
  CHECK(w.run(DraftCampaign{id, "C", "api", "hi", "", "", 0, 1, at(60)}, kT0).ok());
}

TEST_CASE("schedule bounds: future, at most 30 days ahead") {
  CHECK_FALSE(check_schedule(kT0, kT0).ok());
  CHECK_FALSE(check_schedule(at(-1), kT0).ok());
  CHECK(check_schedule(at(1), kT0).ok());
  CHECK(check_schedule(kT0 + kMaxScheduleAhead, kT0).ok());
  CHECK_FALSE(check_schedule(kT0 + kMaxScheduleAhead + Millis{1}, kT0).ok());
}

TEST_CASE("pause stops hand-outs from the next claim; resume continues") {
  World w;
  auto d = w.pair(1, kT0);
  auto id = w.campaign(6, kT0);
  CHECK(w.claim(d, 2, at(1)).size() == 2);
  w.must(ControlCampaign{id, "pause"}, at(2));
  CHECK(w.claim(d, 10, at(3)).empty());
  auto twice = w.run(ControlCampaign{id, "pause"}, at(3));
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.error().code == Errc::conflict);
  w.must(ControlCampaign{id, "resume"}, at(4));
  CHECK(w.claim(d, 10, at(5)).size() == 4);
  CHECK(w.run(ControlCampaign{id, "resume"}, at(6)).error().code == Errc::conflict);
}

TEST_CASE("cancel fails what is queued, hands nothing out, and leased messages still report") {
  World w;
  w.config.gateway.max_attempts = 3;
  auto d = w.pair(1, kT0);
  auto id = w.campaign(5, kT0);
  auto leased = w.claim(d, 2, at(1));
  REQUIRE(leased.size() == 2);
  auto events = w.must(ControlCampaign{id, "cancel"}, at(2));
  REQUIRE(events.size() == 2);
  const auto& failed = std::get<MessagesFailed>(events[0]);
  CHECK(failed.messages.size() == 3);
  CHECK(std::all_of(failed.messages.begin(), failed.messages.end(),
                    [](const auto& m) { return m.error == "cancelled"; }));
  CHECK(std::holds_alternative<CampaignCancelled>(events[1]));
  CHECK(w.claim(d, 10, at(3)).empty());
  // One leased message reports; the other's lease runs out: it fails, it doesn't go back.
  auto report =
      w.must(ReportStatus{d, {StatusReport{leased[0].id, ReportedStatus::sent, "", at(4)}}}, at(4));
  CHECK(std::holds_alternative<MessagesSent>(report.front()));
  auto expiry = w.tick(at(1) + w.config.gateway.lease);
  bool failed_cancelled = false;
  for (const auto& e : expiry)
    if (auto* f = std::get_if<MessagesFailed>(&e))
      failed_cancelled =
          f->messages.front().id == leased[1].id && f->messages.front().error == "cancelled";
  CHECK(failed_cancelled);
  CHECK(w.claim(d, 10, at(100)).empty());
  // A cancelled campaign can't be controlled any more.
  CHECK(w.run(ControlCampaign{id, "resume"}, at(101)).error().code == Errc::conflict);
  CHECK(w.run(ControlCampaign{id, "cancel"}, at(101)).error().code == Errc::conflict);
}

TEST_CASE("a scheduled campaign can be cancelled but not paused") {
  World w;
  w.pair(1, kT0);
  auto id = w.campaign(2, kT0, at(600));
  CHECK(w.run(ControlCampaign{id, "pause"}, at(1)).error().code == Errc::conflict);
  auto events = w.must(ControlCampaign{id, "cancel"}, at(1));
  CHECK(std::get<MessagesFailed>(events[0]).messages.size() == 2);
  for (const auto& e : w.tick(at(600))) CHECK_FALSE(std::holds_alternative<CampaignStarted>(e));
}

TEST_CASE("the campaign quota is checked for the whole list when drafted") {
  World w;
  w.config.plans.free.monthly_sms = 3;
  w.pair(1, kT0);
  const CampaignId id{make_id(id_prefix::campaign, kT0, 9)};
  auto r = w.run(DraftCampaign{id, "C", "campaign", "hi", "", "", 4, 4, std::nullopt}, kT0);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::quota_exceeded);
}

TEST_CASE("messages are rendered per contact") {
  std::vector<Contact> contacts{
      Contact{"+14155550001", "Alice", "Smith", "", "a@example.com", {{"city", "Lisbon"}}},
      Contact{"+14155550002", "", "", "Bob Stone", "", {}}};
  auto m = render_messages("Hi {{firstName}} {{lastName}} ({{name}}) in {{city}}, {{email}}",
                           contacts, MissingVariables::refuse);
  REQUIRE(m.ok());
  CHECK((*m)[0].body == "Hi Alice Smith (Alice Smith) in Lisbon, a@example.com");
  CHECK((*m)[0].contact_name == "Alice Smith");
  CHECK((*m)[1].body == "Hi Bob Stone (Bob Stone) in , ");
  CHECK_FALSE(render_messages("{{firstName}}", {Contact{"+14155550003", "", "", "", "", {}}},
                              MissingVariables::refuse)
                  .ok());
}

TEST_CASE("a campaign's variables are the list's fields: any other is refused unless empty") {
  std::vector<Contact> contacts{
      Contact{"+14155550001", "Alice", "Smith", "", "a@example.com", {{"city", "Lisbon"}}},
      Contact{"+14155550002", "Bob", "", "", "", {{"coupon", "B2"}}}};
  // A field one contact has is available to all (empty for the others).
  auto m = render_messages("{{firstName}}: {{coupon}}{{city}}", contacts, MissingVariables::refuse);
  REQUIRE(m.ok());
  CHECK((*m)[0].body == "Alice: Lisbon");
  CHECK((*m)[1].body == "Bob: B2");
  auto refused =
      render_messages("Hi {{firstname}}, use {{code}}", contacts, MissingVariables::refuse);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message == "Unknown template variable");
  CHECK(refused.error().details ==
        "{{firstname}} is not available (did you mean {{firstName}}? names are case-sensitive); "
        "the variables are city, coupon, email, firstName, lastName, name, phone. Send "
        "\"missingVariables\": \"empty\" to render unknown variables as empty text.");
  auto empty = render_messages("Hi {{firstname}}{{firstName}}, use {{code}}", contacts,
                               MissingVariables::empty);
  REQUIRE(empty.ok());
  CHECK((*empty)[0].body == "Hi Alice, use ");
}

TEST_CASE("opted-out contacts are left out of a campaign, counted, and the rest numbered densely") {
  World w;
  auto d = w.pair(1, kT0);
  w.must(AddOptOut{"+14155550002", "asked"}, kT0);
  w.must(AddOptOut{"+14155550004", "asked"}, kT0);
  const CampaignId id{make_id(id_prefix::campaign, kT0, 78)};
  w.must(DraftCampaign{id, "C", "campaign", "hi", "", "", 5, 5, std::nullopt}, kT0);
  auto first = w.must(QueueCampaignMessages{id,
                                            0,
                                            {{"+14155550001", "A", "hi A"},
                                             {"+14155550002", "B", "hi B"},
                                             {"+14155550003", "C", "hi C"}}},
                      kT0);
  REQUIRE(first.size() == 2);
  CHECK(std::get<RecipientsSuppressed>(first[0]).phones ==
        std::vector<std::string>{"+14155550002"});
  const auto& queued = std::get<MessagesQueued>(first[1]).messages;
  REQUIRE(queued.size() == 2);
  CHECK(queued[1].id.value == derive_id(id_prefix::message, id.value, 1));
  CHECK(queued[1].phone.e164 == "+14155550003");
  // The next chunk continues after every recipient submitted, suppressed ones included.
  CHECK(w.run(QueueCampaignMessages{id, 2, {{"+14155550005", "E", "hi E"}}}, kT0).error().code ==
        Errc::conflict);
  w.must(
      QueueCampaignMessages{id, 3, {{"+14155550004", "D", "hi D"}, {"+14155550005", "E", "hi E"}}},
      kT0);
  CHECK(w.state.org.queues.at(id.value).total == 3);
  w.must(LaunchCampaign{id}, at(1));
  auto claimed = w.claim(d, 10, at(2));
  REQUIRE(claimed.size() == 3);
  CHECK(claimed[2].id.value == derive_id(id_prefix::message, id.value, 2));
}

TEST_CASE("a campaign whose every contact opted out completes when launched") {
  World w;
  w.pair(1, kT0);
  w.must(AddOptOut{"+14155550001", ""}, kT0);
  const CampaignId id{make_id(id_prefix::campaign, kT0, 79)};
  w.must(DraftCampaign{id, "C", "campaign", "hi", "", "", 1, 1, std::nullopt}, kT0);
  w.must(QueueCampaignMessages{id, 0, {{"+14155550001", "A", "hi A"}}}, kT0);
  // Empty, but a draft: the clock (or any report) does not complete it before its launch (nor,
  // within the draft timeout, discard it).
  for (const auto& e : w.tick(at(50))) CHECK_FALSE(std::holds_alternative<CampaignCompleted>(e));
  REQUIRE(w.state.org.queues.count(id.value));
  auto launched = w.must(LaunchCampaign{id}, at(1));
  REQUIRE(launched.size() == 2);
  CHECK(std::holds_alternative<CampaignCompleted>(launched[1]));
  CHECK_FALSE(w.state.org.queues.count(id.value));
}

// A draft whose request died: the clock discards it from the log's own times, and its messages
// leave the month's quota. Deterministic: the same log decides the same events.
TEST_CASE("a draft whose filling stopped is discarded by the clock and gives its quota back") {
  World w;
  w.config.gateway.draft_timeout = Millis{60'000};
  const CampaignId id{make_id(id_prefix::campaign, kT0, 91)};
  w.must(DraftCampaign{id, "C", "campaign", "hi", "", "", 1200, 1200, at(3600)}, kT0);
  CHECK(next_deadline(w.config, w.state) == kT0 + Millis{60'000});
  QueueCampaignMessages q{id, 0, {}};
  for (int i = 0; i < 500; ++i)
    q.messages.push_back(CampaignMessage{fmt::format("+1415555{:04}", i), "N", "hi"});
  w.must(q, at(10));
  // Progress moves the deadline: measured from the last chunk.
  CHECK(next_deadline(w.config, w.state) == at(70));
  CHECK(w.state.org.month_messages == 500);
  CHECK(w.tick(at(69)).empty());
  auto events = w.tick(at(70));
  REQUIRE(events.size() == 3);
  CHECK(std::get<MessagesFailed>(events[0]).messages.size() == 500);
  CHECK(std::get<MessagesFailed>(events[0]).messages.front().error == "cancelled");
  const auto& discarded = std::get<CampaignDiscarded>(events[1]);
  CHECK(discarded.messages == 500);
  CHECK(discarded.reason == "abandoned");
  CHECK(discarded.month == utc_month(at(10)));
  CHECK(std::holds_alternative<CampaignCancelled>(events[2]));
  CHECK(w.state.org.month_messages == 0);
  CHECK_FALSE(w.state.org.queues.count(id.value));
  CHECK_FALSE(next_deadline(w.config, w.state));
  // The request's next chunk or launch, if it was only slow, is refused.
  CHECK(w.run(QueueCampaignMessages{id, 500, {{"+14155550001", "", "x"}}}, at(71)).error().code ==
        Errc::conflict);
  CHECK(w.run(LaunchCampaign{id}, at(71)).error().code == Errc::conflict);
}

TEST_CASE("a launched campaign has no draft deadline; cancelling a draft gives its quota back") {
  World w;
  auto d = w.pair(1, kT0);
  w.campaign(3, kT0);
  CHECK(w.state.org.month_messages == 3);
  // The device goes offline and the campaign stalls for want of it; no deadline of its own.
  for (const auto& e : w.tick(at(3600)))
    CHECK((std::holds_alternative<DeviceDisconnected>(e) ||
           std::holds_alternative<CampaignStalled>(e)));
  CHECK(w.state.org.month_messages == 3);
  w.must(DeviceHeartbeat{d, {}, {}, ""}, at(3600));
  const CampaignId id{make_id(id_prefix::campaign, kT0, 92)};
  w.must(DraftCampaign{id, "C", "campaign", "hi", "", "", 2, 2, std::nullopt}, at(3600));
  w.must(QueueCampaignMessages{id, 0, {{"+14155550001", "", "x"}}}, at(3600));
  CHECK(w.state.org.month_messages == 4);
  auto events = w.must(ControlCampaign{id, "cancel"}, at(3601));
  REQUIRE(events.size() == 3);
  CHECK(std::get<CampaignDiscarded>(events[1]).reason == "cancelled");
  CHECK(w.state.org.month_messages == 3);
  // Only the launched campaign's messages are handed out.
  const auto claimed = w.claim(d, 10, at(3602));
  CHECK(claimed.size() == 3);
  for (const auto& m : claimed) CHECK(m.id.value != derive_id(id_prefix::message, id.value, 0));
}

TEST_CASE("a draft kept by a state from before draft deadlines is due at once") {
  World w;
  const CampaignId id{make_id(id_prefix::campaign, kT0, 93)};
  w.must(DraftCampaign{id, "C", "campaign", "hi", "", "", 2, 2, at(3600)}, kT0);
  w.state.org.queues.edit(id.value)->filled_at.reset();
  CHECK(next_deadline(w.config, w.state) == TimePoint{});
  auto events = w.tick(at(1));
  REQUIRE(events.size() == 2);  // nothing was queued: no failures
  CHECK(std::get<CampaignDiscarded>(events[0]).messages == 0);
}

TEST_CASE("the earliest queue deadline follows every put, edit and erase") {
  // Against a walk of every queue, through random changes; a copy keeps its own index.
  const DeciderConfig config;
  std::mt19937 rng(7);
  CampaignQueues queues;
  auto walked = [&](const CampaignQueues& qs) {
    std::optional<TimePoint> min;
    for (const auto& [id, q] : qs)
      if (auto t = queue_deadline(config, q); t && (!min || *t < *min)) min = t;
    return min;
  };
  auto random_queue = [&] {
    CampaignQueue q;
    q.total = static_cast<int32_t>(rng() % 3);
    if (rng() % 4 != 0) q.expires_at = kT0 + Millis{static_cast<int64_t>(rng() % 100000)};
    return q;
  };
  int with_deadline = 0;
  for (int step = 0; step < 3000; ++step) {
    const auto id = fmt::format("cmp_{:03}", rng() % 200);
    switch (rng() % 4) {
      case 0:
      case 1:
        queues.put(id, random_queue());
        break;
      case 2:
        if (auto* q = queues.edit(id)) q->next_index = q->total;  // all handed out: no expiry
        break;
      default:
        queues.erase(id);
    }
    if (rng() % 3 == 0) {
      const auto expected = walked(queues);
      CHECK(queues.earliest(config) == expected);
      with_deadline += expected.has_value();
    }
  }
  CHECK(with_deadline > 100);  // the sequence did exercise deadlines
  const CampaignQueues copy = queues;
  queues.put("cmp_000", CampaignQueue{.total = 1, .expires_at = kT0 - Millis{1}});
  CHECK(queues.earliest(config) == kT0 - Millis{1});
  CHECK(copy.earliest(config) == walked(copy));
}
