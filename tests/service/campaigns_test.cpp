#include "adapters/service/campaigns.h"

#include <doctest/doctest.h>

#include "tests/service/fake_deps.h"

namespace pulse::service {
namespace {

using testing::kNow;
using testing::World;

const std::string kList = make_id(id_prefix::contact_list, kNow, 999);

// A list of `n` contacts in the fake read models.
void add_list(World& w, int n) {
  w.reads.lists[kList] =
      projections::ContactListView{ContactListId{kList}, "Customers", n, kNow, kNow};
  auto& contacts = w.reads.contacts_of[kList];
  for (int i = 0; i < n; ++i)
    contacts.push_back(projections::ContactView{
        Contact{fmt::format("+1415555{:04}", i), fmt::format("C{}", i), "", "", "", {}}, kNow,
        kNow});
}

// The campaign the projector would show once the workflow ran.
void project_campaign(World& w, const std::string& id) {
  projections::CampaignView v;
  v.id = CampaignId{id};
  v.status = "running";
  w.reads.campaigns[id] = v;
}

TEST_CASE("a campaign is drafted, queued in chunks of 500 and launched") {
  World w;
  add_list(w, 1201);
  const auto id = make_id(id_prefix::campaign, kNow, 1);
  project_campaign(w, id);
  auto c = create_campaign(w.deps, w.org, {"Spring", "Hello {{firstName}}", kList, std::nullopt});
  REQUIRE_MESSAGE(c.ok(), c.error().details);
  CHECK(c->id.value == id);
  REQUIRE(w.log.appended.size() == 5);
  const auto* draft = w.log.appended[0].as<DraftCampaign>();
  REQUIRE(draft);
  CHECK(draft->campaign_id.value == id);
  CHECK(draft->name == "Spring");
  CHECK(draft->source == "campaign");
  CHECK(draft->contact_list_id == kList);
  CHECK(draft->contact_list_name == "Customers");
  CHECK(draft->contact_count == 1201);
  CHECK(draft->total_messages == 1201);
  CHECK_FALSE(draft->scheduled_at);
  const auto chunks = w.log.all<QueueCampaignMessages>();
  REQUIRE(chunks.size() == 3);
  CHECK(chunks[0]->first_index == 0);
  CHECK(chunks[1]->first_index == 500);
  CHECK(chunks[2]->first_index == 1000);
  CHECK(chunks[0]->messages.size() == 500);
  CHECK(chunks[2]->messages.size() == 201);
  CHECK(chunks[1]->messages[0].body == "Hello C500");
  CHECK(w.log.appended[4].as<LaunchCampaign>());
  CHECK(w.log.all<ControlCampaign>().empty());
}

TEST_CASE("a failure past the draft cancels the half-filled campaign") {
  World w;
  add_list(w, 800);
  const Error no_device{Errc::validation, "No online devices", "connect one"};
  SUBCASE("a chunk is refused") {
    w.log.outcome = [&](size_t i, const Command&) -> Status {
      if (i == 2) return no_device;  // the second chunk
      return ok_status();
    };
    auto c = create_campaign(w.deps, w.org, {"Spring", "Hi", kList, std::nullopt});
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().message == "No online devices");
    const auto id = make_id(id_prefix::campaign, kNow, 1);
    CHECK(c.error().details ==
          fmt::format("connect one (campaign {} was cancelled: nothing of it is sent)", id));
    REQUIRE(w.log.appended.size() == 4);
    const auto* cancel = w.log.appended[3].as<ControlCampaign>();
    REQUIRE(cancel);
    CHECK(cancel->campaign_id.value == id);
    CHECK(cancel->action == "cancel");
    CHECK(w.log.all<LaunchCampaign>().empty());
  }
  SUBCASE("the clock discarded the draft first (this request was too slow)") {
    const auto id = make_id(id_prefix::campaign, kNow, 1);
    const Error not_draft{Errc::conflict, "Campaign is not a draft", id};
    w.log.outcome = [&](size_t i, const Command&) -> Status {
      if (i < 2) return ok_status();
      projections::CampaignView v;
      v.id = CampaignId{id};
      v.status = "cancelled";
      w.reads.campaigns[id] = v;
      return not_draft;  // the second chunk, and the cancel
    };
    auto c = create_campaign(w.deps, w.org, {"Spring", "Hi", kList, std::nullopt});
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().code == Errc::conflict);
    CHECK(c.error().details.ends_with("was cancelled: nothing of it is sent)"));
  }
  SUBCASE("the launch is refused and so is the cancel") {
    w.log.outcome = [&](size_t, const Command& c) -> Status {
      if (std::holds_alternative<LaunchCampaign>(c)) return no_device;
      if (std::holds_alternative<ControlCampaign>(c))
        return Error{Errc::unavailable, "Log unavailable", ""};
      return ok_status();
    };
    auto c = create_campaign(w.deps, w.org, {"Spring", "Hi", kList, std::nullopt});
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().details.ends_with("is left as a draft until the draft timeout discards it)"));
    CHECK(w.log.all<ControlCampaign>().size() == 1);
  }
  SUBCASE("a refused draft needs no compensation") {
    w.log.outcome = [&](size_t, const Command&) -> Status { return no_device; };
    auto c = create_campaign(w.deps, w.org, {"Spring", "Hi", kList, std::nullopt});
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().details == "connect one");
    CHECK(w.log.appended.size() == 1);
  }
}

TEST_CASE("a campaign request is validated before anything is appended") {
  World w;
  add_list(w, 2);
  auto error_of = [&](const NewCampaign& in) {
    auto c = create_campaign(w.deps, w.org, in);
    REQUIRE_FALSE(c.ok());
    return c.error();
  };
  CHECK(error_of({"", "Hi", kList, std::nullopt}).message == "Invalid campaign name");
  CHECK(error_of({"S", "Hi", kList, "soon"}).message == "Invalid scheduledAt");
  CHECK(error_of({"S", "Hi", kList, "2026-03-31T10:00:00Z"}).message == "Invalid scheduledAt");
  CHECK(error_of({"S", "Hi", "cl_nope", std::nullopt}).code == Errc::not_found);
  const auto other = make_id(id_prefix::contact_list, kNow, 5);
  CHECK(error_of({"S", "Hi", other, std::nullopt}).message == "Contact list not found");
  w.reads.lists[other] = projections::ContactListView{ContactListId{other}, "Empty", 0, kNow, kNow};
  CHECK(error_of({"S", "Hi", other, std::nullopt}).message == "The contact list is empty");
  CHECK(w.log.appended.empty());
}

TEST_CASE("a scheduled campaign carries its time in the draft") {
  World w;
  add_list(w, 3);
  project_campaign(w, make_id(id_prefix::campaign, kNow, 1));
  auto c = create_campaign(w.deps, w.org, {"Later", "Hi", kList, "2026-04-10T08:00:00Z"});
  REQUIRE(c.ok());
  CHECK(w.log.appended.at(0).as<DraftCampaign>()->scheduled_at ==
        parse_iso8601("2026-04-10T08:00:00Z"));
}

TEST_CASE("campaign controls append one ControlCampaign for a campaign that exists") {
  World w;
  const auto id = make_id(id_prefix::campaign, kNow, 42);
  project_campaign(w, id);
  auto c = control_campaign(w.deps, w.org, id, CampaignAction::pause);
  REQUIRE(c.ok());
  REQUIRE(w.log.appended.size() == 1);
  CHECK(w.log.appended[0].as<ControlCampaign>()->action == "pause");
  CHECK(control_campaign(w.deps, w.org, id, CampaignAction::resume).ok());
  CHECK(w.log.appended[1].as<ControlCampaign>()->action == "resume");
  auto missing = control_campaign(w.deps, w.org, make_id(id_prefix::campaign, kNow, 43),
                                  CampaignAction::cancel);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message == "Campaign not found");
  CHECK(w.log.appended.size() == 2);
}

}  // namespace
}  // namespace pulse::service
