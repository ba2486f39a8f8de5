// Phone numbers at the service layer: every use case classifies through the injected parser
// (libphonenumber here, as in the server), and the commands carry the result.
#include <doctest/doctest.h>

#include "adapters/service/contacts.h"
#include "adapters/service/devices.h"
#include "adapters/service/opt_outs.h"
#include "adapters/service/sms.h"
#include "tests/service/fake_deps.h"

namespace pulse::service {
namespace {

using testing::kNow;
using testing::World;

const ContactListId kList{make_id(id_prefix::contact_list, kNow, 77)};

TEST_CASE("a send to a landline or an invalid number is refused before anything is appended") {
  World w;
  for (const char* phone : {"+44 20 7946 0958", "+999999999999999", "+15555551234"}) {
    INFO(phone);
    auto r = send_sms(w.deps, w.org,
                      {{{{"+14155552671", "Ada"}, {phone, ""}}, "Hi", std::nullopt}, {}, {}, {}});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::validation);
    CHECK(r.error().message == "Invalid phone number");
    CHECK(r.error().details.starts_with("recipients[1].phone: "));
  }
  CHECK(w.log.appended.empty());
}

TEST_CASE("contacts and CSV rows carry their country and type; landlines are refused") {
  World w;
  w.reads.lists[kList.value] = projections::ContactListView{kList, "Customers", 0, kNow, kNow};
  auto landline = add_contacts(w.deps, w.org, kList, {{"+442079460958", "Ada"}});
  REQUIRE_FALSE(landline.ok());
  CHECK(landline.error().details ==
        "contacts[0]: fixed_line numbers can't receive SMS: '+442079460958'");
  CHECK(w.log.appended.empty());

  auto added = add_contacts(w.deps, w.org, kList, {{"+49 151 23456789", "Ada"}});
  REQUIRE_MESSAGE(added.ok(), added.error().details);
  const auto* cmd = w.log.appended.at(0).as<UpsertContacts>();
  REQUIRE(cmd);
  CHECK(cmd->contacts[0].phone == "+4915123456789");
  CHECK(cmd->contacts[0].country == "DE");
  CHECK(cmd->contacts[0].phone_type == "mobile");

  auto imported =
      import_csv(w.deps, w.org, kList,
                 "phone,name\n+1 415 555 2671,Bo\n+44 20 7946 0958,Cy\n+18005551234,Di\n");
  REQUIRE_MESSAGE(imported.ok(), imported.error().details);
  REQUIRE(imported->rejected.size() == 2);
  CHECK(imported->rejected[0].row == 3);
  CHECK(imported->rejected[0].error == "fixed_line numbers can't receive SMS: '+44 20 7946 0958'");
  CHECK(imported->rejected[1].error == "toll_free numbers can't receive SMS: '+18005551234'");
  const auto* upsert = w.log.appended.back().as<UpsertContacts>();
  REQUIRE(upsert);
  REQUIRE(upsert->contacts.size() == 1);
  CHECK(upsert->contacts[0].country == "US");
  CHECK(upsert->contacts[0].phone_type == "fixed_line_or_mobile");
}

TEST_CASE("opt-outs take any valid number; removals also find numbers stored before validation") {
  World w;
  // A landline may opt out (nothing can be sent to it, but the request is harmless).
  w.reads.opt_outs["+442079460958"] = projections::OptOutView{"+442079460958", "", "api", kNow};
  auto added = add_opt_out(w.deps, w.org, "0044 20 7946 0958", "");
  REQUIRE_MESSAGE(added.ok(), added.error().details);
  CHECK(w.log.appended.at(0).as<AddOptOut>()->phone == "+442079460958");
  auto invalid = add_opt_out(w.deps, w.org, "+999999999999999", "");
  REQUIRE_FALSE(invalid.ok());
  CHECK(invalid.error().details ==
        "phone: phone number has no known country code: '+999999999999999'");
  // An entry stored before numbers were checked against the plans can still be removed.
  auto removed = remove_opt_out(w.deps, w.org, "+15550100001");
  REQUIRE_MESSAGE(removed.ok(), removed.error().details);
  CHECK(*removed == "+15550100001");
  CHECK(w.log.appended.back().as<RemoveOptOut>()->phone == "+15550100001");
  CHECK_FALSE(remove_opt_out(w.deps, w.org, "call me").ok());
}

TEST_CASE("an inbound sender is normalised when it is a valid number, else kept as reported") {
  World w;
  const DeviceId dev{"dvc_1"};
  auto r = receive_sms(w.deps, w.org, dev, {"+44 (0)20 7946 0958", "hi", "", {}});
  REQUIRE_MESSAGE(r.ok(), r.error().details);
  CHECK(r->from == "+442079460958");  // a landline may send (an SMS-capable fixed line)
  auto invalid = receive_sms(w.deps, w.org, dev, {"+15555551234", "hi", "", {}});
  REQUIRE(invalid.ok());
  CHECK(invalid->from == "+15555551234");
  CHECK_FALSE(invalid->opted_out);
}

}  // namespace
}  // namespace pulse::service
