#include "adapters/runtime/read_models.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "commands/decider.h"
#include "domain/ids.h"
#include "fmt/format.h"
#include "projections/read_model.h"
#include "tests/support/temp_dir.h"

namespace pulse::runtime {
namespace {

using pulse::testing::TempDir;

const TimePoint kT0 = from_unix_ms(1794736800000);  // 2026-11-15T10:00:00Z
const OrgId kOrgA{make_id(id_prefix::org, from_unix_ms(1700000000000), 1)};
const OrgId kOrgB{make_id(id_prefix::org, from_unix_ms(1700000000000), 2)};

// A real RocksDB store in a temp dir, fed the events the decider makes for SendSms commands.
class Fixture {
 public:
  Fixture() {
    auto kv = store::KvStore::open(dir_.path());
    REQUIRE_MESSAGE(kv.ok(), kv.error().details);
    kv_ = std::move(kv).value();
  }

  // Decides a SendSms of `n` recipients and projects its events, committing after each event
  // (so reads go to RocksDB) or all at once (so reads come from the batch's overlay).
  CampaignId send(const OrgId& org, TimePoint at, uint64_t entropy, size_t n,
                  bool commit_each = false) {
    SendSms cmd;
    cmd.campaign_id = CampaignId{make_id(id_prefix::campaign, at, entropy)};
    cmd.message = "Hi {{firstName}}";
    for (size_t i = 0; i < n; ++i)
      cmd.recipients.push_back(
          {PhoneNumber{fmt::format("+1415555{:04}", i)}, fmt::format("P{} Q", i)});
    const CommandEnvelope env{CommandId{make_id(id_prefix::command, at, entropy)}, org, at, cmd};
    commands::DeciderState state;  // an organisation on the unlimited Enterprise plan
    state.org.exists = true;
    state.org.plan = Plan::enterprise;
    state.org.devices["dvc_01m80zvb19aaaaaa"].online = true;  // sends need an online gateway
    state.org.devices["dvc_01m80zvb19aaaaaa"].sending = {0};
    auto events = commands::decide({}, state, env);
    REQUIRE(events.ok());
    project(env, *events, commit_each);
    return cmd.campaign_id;
  }

  void project(const CommandEnvelope& cmd, const std::vector<Event>& events, bool commit_each) {
    const Offset offset{next_offset_++};
    ReadModelBatch batch(*kv_);
    for (size_t i = 0; i < events.size(); ++i) {
      const EventEnvelope env{EventSource{{Partition{0}, offset}, static_cast<int32_t>(i)},
                              cmd.id,
                              cmd.org,
                              cmd.at,
                              static_cast<int32_t>(events.size()),
                              events[i]};
      projections::apply(batch, env);
      if (commit_each) commit(batch);
    }
    commit(batch);
  }

  void commit(ReadModelBatch& batch) {
    auto st = kv_->write(batch.overlay().take());
    REQUIRE_MESSAGE(st.ok(), st.error().details);
    CHECK(batch.overlay().empty());
  }

  store::KvStore& kv() { return *kv_; }

 private:
  TempDir dir_;  // declared first: the store closes before its directory is removed
  std::unique_ptr<store::KvStore> kv_;
  int64_t next_offset_ = 0;
};

std::vector<std::string> ids_of(const std::vector<projections::CampaignView>& v) {
  std::vector<std::string> out;
  for (const auto& c : v) out.push_back(c.id.value);
  return out;
}

// Every campaign of `org`, newest first, following the cursor `limit` at a time.
std::vector<std::string> all_campaign_pages(ReadModels& models, const OrgId& org, size_t limit,
                                            size_t* pages = nullptr) {
  std::vector<std::string> out;
  std::optional<CampaignId> before;
  for (int guard = 0; guard < 1000; ++guard) {
    auto page = models.campaigns(org, limit, before);
    REQUIRE(page.ok());
    CHECK(page->size() <= limit);
    if (page->empty()) return out;
    if (pages) ++*pages;
    for (const auto& c : *page) out.push_back(c.id.value);
    before = page->back().id;
  }
  FAIL("paging did not terminate");
  return out;
}

TEST_CASE("campaigns are listed newest first, and cursor paging covers each exactly once") {
  Fixture f;
  std::vector<std::string> created;
  for (int i = 0; i < 7; ++i) {
    // Two pairs share a millisecond: the id's entropy part orders them.
    const auto at = kT0 + Millis{1000 * (i - i % 2)};
    created.push_back(f.send(kOrgA, at, 0x100 + i, 1 + i % 3, i % 2 == 0).value);
  }
  std::vector<std::string> newest_first = created;
  std::sort(newest_first.rbegin(), newest_first.rend());
  CHECK(std::set<std::string>(created.begin(), created.end()).size() == 7);

  ReadModels models(f.kv());
  auto first = models.campaigns(kOrgA, 3, std::nullopt);
  REQUIRE(first.ok());
  CHECK(ids_of(*first) ==
        std::vector<std::string>{newest_first[0], newest_first[1], newest_first[2]});
  auto second = models.campaigns(kOrgA, 3, CampaignId{newest_first[2]});
  REQUIRE(second.ok());
  CHECK(ids_of(*second) ==
        std::vector<std::string>{newest_first[3], newest_first[4], newest_first[5]});
  auto third = models.campaigns(kOrgA, 3, CampaignId{newest_first[5]});
  REQUIRE(third.ok());
  CHECK(ids_of(*third) == std::vector<std::string>{newest_first[6]});
  auto after_last = models.campaigns(kOrgA, 3, CampaignId{newest_first[6]});
  REQUIRE(after_last.ok());
  CHECK(after_last->empty());

  for (size_t limit = 1; limit <= 8; ++limit) {
    CAPTURE(limit);
    size_t pages = 0;
    CHECK(all_campaign_pages(models, kOrgA, limit, &pages) == newest_first);
    CHECK(pages == (7 + limit - 1) / limit);
  }

  auto everything = models.campaigns(kOrgA, 100, std::nullopt);
  REQUIRE(everything.ok());
  CHECK(ids_of(*everything) == newest_first);
  // The views are the projected ones.
  const auto& newest = everything->front();
  CHECK(newest.status == "running");
  CHECK(newest.source == "api");
  CHECK(newest.total_messages == newest.queued_count);
  CHECK(newest.created_at == kT0 + Millis{6000});
}

TEST_CASE("campaign messages are listed in index order with cursor paging") {
  Fixture f;
  const auto before = f.send(kOrgA, kT0, 1, 2);
  const auto big = f.send(kOrgA, kT0 + Millis{1}, 2, 1001);
  const auto after = f.send(kOrgA, kT0 + Millis{2}, 3, 3, true);

  ReadModels models(f.kv());
  auto view = models.campaign(kOrgA, big);
  REQUIRE(view.ok());
  REQUIRE(view->has_value());
  CHECK((*view)->total_messages == 1001);
  CHECK((*view)->queued_count == 1001);
  CHECK((*view)->segments == 1001);
  CHECK((*view)->name == "SMS to 1001 recipients");

  std::vector<std::string> seen;
  std::vector<size_t> sizes;
  std::optional<MessageId> cursor;
  for (int guard = 0; guard < 100; ++guard) {
    auto page = models.campaign_messages(kOrgA, big, 300, cursor);
    REQUIRE(page.ok());
    if (page->empty()) break;
    sizes.push_back(page->size());
    for (const auto& m : *page) {
      CHECK(m.campaign_id == big);
      seen.push_back(m.id.value);
    }
    cursor = page->back().id;
  }
  CHECK(sizes == std::vector<size_t>{300, 300, 300, 101});
  REQUIRE(seen.size() == 1001);
  for (uint32_t i = 0; i < 1001; ++i) CHECK(seen[i] == derive_id(id_prefix::message, big.value, i));

  auto page = models.campaign_messages(kOrgA, big, 2, MessageId{seen[499]});
  REQUIRE(page.ok());
  REQUIRE(page->size() == 2);
  const auto& m = (*page)[0];
  CHECK(m.id.value == seen[500]);
  CHECK(m.phone == "+14155550500");
  CHECK(m.contact_name == "P500 Q");
  CHECK(m.body == "Hi P500");
  CHECK(m.status == "queued");
  CHECK(m.encoding == "GSM-7");
  CHECK(m.segments == 1);
  CHECK(m.created_at == kT0 + Millis{1});
  CHECK((*page)[1].id.value == seen[501]);

  // Neighbouring campaigns' messages stay out of each other's lists.
  auto small = models.campaign_messages(kOrgA, after, 100, std::nullopt);
  REQUIRE(small.ok());
  REQUIRE(small->size() == 3);
  for (uint32_t i = 0; i < 3; ++i)
    CHECK((*small)[i].id.value == derive_id(id_prefix::message, after.value, i));
  auto first = models.campaign_messages(kOrgA, before, 100, std::nullopt);
  REQUIRE(first.ok());
  CHECK(first->size() == 2);
}

TEST_CASE("messages: each index pages newest first; time ranges and the scan budget hold") {
  Fixture f;
  ReadModels models(f.kv());
  // Three campaigns a minute apart: 3, 2000 and 4 messages; phones +14155550000… repeat.
  const auto c1 = f.send(kOrgA, kT0, 1, 3);
  const auto c2 = f.send(kOrgA, kT0 + Millis{60000}, 2, 2000);
  const auto c3 = f.send(kOrgA, kT0 + Millis{120000}, 3, 4);
  f.send(kOrgB, kT0, 4, 5);  // another organisation: never listed
  auto all_pages = [&](MessageQuery q) {
    std::vector<std::string> out;
    for (int guard = 0; guard < 10000; ++guard) {
      auto page = models.messages(kOrgA, q);
      REQUIRE(page.ok());
      CHECK(page->messages.size() <= q.limit);
      for (const auto& m : page->messages) out.push_back(m.id.value);
      if (!page->next_cursor) return out;
      q.cursor = MessageId{*page->next_cursor};
    }
    FAIL("paging did not terminate");
    return out;
  };
  MessageQuery q;
  q.limit = 7;
  auto every = all_pages(q);
  REQUIRE(every.size() == 2007);
  CHECK(std::is_sorted(every.rbegin(), every.rend()));  // newest first
  CHECK(std::set<std::string>(every.begin(), every.end()).size() == 2007);
  CHECK(every.front() == derive_id(id_prefix::message, c3.value, 3));

  // By phone: one message per campaign had +14155550002 (index 2 of each).
  q = {};
  q.phone = "+14155550002";
  CHECK(all_pages(q) == std::vector<std::string>{derive_id(id_prefix::message, c3.value, 2),
                                                 derive_id(id_prefix::message, c2.value, 2),
                                                 derive_id(id_prefix::message, c1.value, 2)});
  // By status: all queued; none sent.
  q = {};
  q.status = "queued";
  q.limit = 500;
  CHECK(all_pages(q).size() == 2007);
  q.status = "sent";
  CHECK(all_pages(q).empty());
  // By campaign, with a time range that excludes it: nothing.
  q = {};
  q.campaign = c1;
  CHECK(all_pages(q).size() == 3);
  q.from = kT0 + Millis{1};
  CHECK(all_pages(q).empty());
  // A time range: the middle campaign only.
  q = {};
  q.from = kT0 + Millis{30000};
  q.to = kT0 + Millis{90000};
  q.limit = 500;
  auto middle = all_pages(q);
  CHECK(middle.size() == 2000);
  // A filter that matches late in a long index: pages come back short with a cursor (the
  // scan budget), and paging still finds every match.
  q = {};
  q.phone = "+14155550002";
  q.status = "queued";
  q.campaign = c2;  // the campaign index is the one read: 2000 entries for one match
  q.limit = 50;
  auto first = models.messages(kOrgA, q);
  REQUIRE(first.ok());
  CHECK(all_pages(q) == std::vector<std::string>{derive_id(id_prefix::message, c2.value, 2)});
}

TEST_CASE("another organisation sees nothing of an organisation's read models") {
  Fixture f;
  const auto a1 = f.send(kOrgA, kT0, 1, 3);
  const auto a2 = f.send(kOrgA, kT0 + Millis{5}, 2, 1);
  const CommandId rejected_cmd{make_id(id_prefix::command, kT0, 99)};
  f.project(CommandEnvelope{rejected_cmd, kOrgA, kT0, SendSms{}},
            {CommandRejected{"SendSms", Errc::quota_exceeded, "Monthly SMS limit reached",
                             "0 SMS remaining this month; this request needs 1"}},
            false);

  ReadModels models(f.kv());
  auto list = models.campaigns(kOrgB, 100, std::nullopt);
  REQUIRE(list.ok());
  CHECK(list->empty());
  auto c = models.campaign(kOrgB, a1);
  REQUIRE(c.ok());
  CHECK_FALSE(c->has_value());
  auto msgs = models.campaign_messages(kOrgB, a1, 100, std::nullopt);
  REQUIRE(msgs.ok());
  CHECK(msgs->empty());
  auto o = models.outcome(kOrgB, rejected_cmd);
  REQUIRE(o.ok());
  CHECK_FALSE(o->has_value());

  // B's own campaign is listed for B only.
  const auto b1 = f.send(kOrgB, kT0 + Millis{10}, 3, 2);
  list = models.campaigns(kOrgB, 100, std::nullopt);
  REQUIRE(list.ok());
  CHECK(ids_of(*list) == std::vector<std::string>{b1.value});
  list = models.campaigns(kOrgA, 100, std::nullopt);
  REQUIRE(list.ok());
  CHECK(ids_of(*list) == std::vector<std::string>{a2.value, a1.value});
  // A cursor from another organisation's list leads nowhere outside the caller's own keys.
  list = models.campaigns(kOrgB, 100, a2);
  REQUIRE(list.ok());
  CHECK(list->empty());

  // An organisation id that is a prefix of another's does not see the other's keys.
  const OrgId short_org{"org_a"};
  const OrgId long_org{"org_ab"};
  const auto long_campaign = f.send(long_org, kT0 + Millis{20}, 4, 1);
  list = models.campaigns(short_org, 100, std::nullopt);
  REQUIRE(list.ok());
  CHECK(list->empty());
  list = models.campaigns(long_org, 100, std::nullopt);
  REQUIRE(list.ok());
  CHECK(ids_of(*list) == std::vector<std::string>{long_campaign.value});
}

TEST_CASE("a rejected command's outcome can be looked up by command id") {
  Fixture f;
  const CommandId cmd{make_id(id_prefix::command, kT0, 7)};
  f.project(CommandEnvelope{cmd, kOrgA, kT0, SendSms{}},
            {CommandRejected{"SendSms", Errc::quota_exceeded, "Monthly SMS limit reached",
                             "5 SMS remaining this month; this request needs 6"}},
            false);
  ReadModels models(f.kv());
  auto o = models.outcome(kOrgA, cmd);
  REQUIRE(o.ok());
  REQUIRE(o->has_value());
  CHECK(**o == projections::CommandOutcome{"SendSms", Errc::quota_exceeded,
                                           "Monthly SMS limit reached",
                                           "5 SMS remaining this month; this request needs 6"});
  auto missing = models.outcome(kOrgA, CommandId{make_id(id_prefix::command, kT0, 8)});
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->has_value());
}

TEST_CASE("projector positions are stored with the read models") {
  Fixture f;
  ReadModels models(f.kv());
  auto none = models.position(Partition{2});
  REQUIRE(none.ok());
  CHECK(none->next_offset == 0);
  CHECK_FALSE(none->last.has_value());
  CHECK(none->watermark == -1);

  ReadModelBatch batch(f.kv());
  batch.put_position(Partition{2},
                     ProjectorPosition{1234, EventSource{{Partition{2}, Offset{1200}}, 3}, 1199});
  f.commit(batch);
  auto p = models.position(Partition{2});
  REQUIRE(p.ok());
  CHECK(p->next_offset == 1234);
  CHECK(p->last == EventSource{{Partition{2}, Offset{1200}}, 3});
  CHECK(p->watermark == 1199);
  auto other = models.position(Partition{20});
  REQUIRE(other.ok());
  CHECK(other->next_offset == 0);
}

TEST_CASE("ProjectorPosition encodes and decodes") {
  const ProjectorPosition p{1234, EventSource{{Partition{2}, Offset{1200}}, 3}, 1199};
  const std::string json = encode_position(p);
  CHECK(json == R"({"type":"ProjectorPosition","v":1,"nextOffset":1234,"last":"evt_2-1200-3",)"
                R"("watermark":1199})");
  auto back = decode_position(json);
  REQUIRE(back.ok());
  CHECK(back->next_offset == 1234);
  CHECK(back->last == p.last);
  CHECK(back->watermark == 1199);
  CHECK(encode_position(*back) == json);

  const ProjectorPosition empty;
  const std::string empty_json = encode_position(empty);
  CHECK(empty_json ==
        R"({"type":"ProjectorPosition","v":1,"nextOffset":0,"last":null,"watermark":-1})");
  auto empty_back = decode_position(empty_json);
  REQUIRE(empty_back.ok());
  CHECK(empty_back->next_offset == 0);
  CHECK_FALSE(empty_back->last.has_value());
  CHECK(empty_back->watermark == -1);

  for (const char* bad :
       {"", "{", "[]", R"({"type":"ProjectorPosition","nextOffset":0,"last":null,"watermark":-1})",
        R"({"type":"ProjectorPosition","v":1,"nextOffset":"0","last":null,"watermark":-1})",
        R"({"type":"ProjectorPosition","v":1,"nextOffset":0,"last":"evt_x","watermark":-1})",
        R"({"type":"ProjectorPosition","v":1,"nextOffset":0,"last":null})"}) {
    CAPTURE(bad);
    auto r = decode_position(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::internal);
    CHECK(r.error().message == "Corrupt record");
  }
  auto newer = decode_position(
      R"({"type":"ProjectorPosition","v":2,"nextOffset":0,"last":null,"watermark":-1})");
  REQUIRE_FALSE(newer.ok());
  CHECK(newer.error().message == "Unsupported record version");
  CHECK(newer.error().details == "ProjectorPosition v2: this build reads up to v1");
  for (size_t n = 0; n < json.size(); ++n) CHECK_FALSE(decode_position(json.substr(0, n)).ok());
}

}  // namespace
}  // namespace pulse::runtime
