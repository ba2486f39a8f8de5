// Control characters (C0 and DEL) are refused on every path text takes into the log; message
// bodies, templates and contact field values keep their tabs and line breaks.
#include <doctest/doctest.h>

#include <string>

#include "adapters/service/accounts.h"
#include "adapters/service/campaigns.h"
#include "adapters/service/contacts.h"
#include "adapters/service/devices.h"
#include "adapters/service/opt_outs.h"
#include "adapters/service/sms.h"
#include "adapters/service/webhooks.h"
#include "tests/service/fake_deps.h"

namespace pulse::service {
namespace {

using testing::kNow;
using testing::World;

const std::string kNul("\0", 1);
// One of each kind: NUL, a C0 control, escape, DEL.
const std::string kControls[] = {kNul, "\x01", "\x1b", "\x7f"};

template <class T>
Error error_of(const Result<T>& r) {
  REQUIRE_FALSE(r.ok());
  return r.error();
}

TEST_CASE("sign-up refuses control characters in the e-mail and names") {
  World w;
  auto e = error_of(sign_up(w.deps, {"a@x.com" + kNul + "admin", "12345678", "", ""}));
  CHECK(e.code == Errc::validation);
  CHECK(e.message == "Invalid email");
  for (const auto& c : kControls) {
    CHECK(error_of(sign_up(w.deps, {"a@x.com" + c, "12345678", "", ""})).message ==
          "Invalid email");
    CHECK(error_of(sign_up(w.deps, {"a@x.com", "12345678", "Ada" + c, ""})).message ==
          "Invalid name");
    CHECK(error_of(sign_up(w.deps, {"a@x.com", "12345678", "", "Acme\n" + c})).message ==
          "Invalid organizationName");
  }
  CHECK(error_of(sign_up(w.deps, {"a@x.com", "12345678", "Ada\tLovelace", ""})).message ==
        "Invalid name");
  CHECK(w.log.appended.empty());
  CHECK(error_of(normalise_email("a@x.com\r\nBcc: b@y.com")).message == "Invalid email");
}

TEST_CASE("API key and organisation names are one line of at most 200 bytes") {
  World w;
  CHECK(error_of(create_api_key(w.deps, w.org, "usr_1", std::string(201, 'k'))).message ==
        "Name too long");
  CHECK(error_of(create_api_key(w.deps, w.org, "usr_1", std::string(100 * 1024, 'k'))).message ==
        "Name too long");
  CHECK(error_of(create_api_key(w.deps, w.org, "usr_1", "ci" + kNul)).message == "Invalid name");
  const UserId ada{"usr_ada"};
  CHECK(error_of(create_organization(w.deps, ada, Plan::free, "Acme\x7f")).message ==
        "Invalid name");
  CHECK(w.log.appended.empty());
}

TEST_CASE("list and campaign names, contacts and templates refuse control characters") {
  World w;
  for (const auto& c : kControls) {
    CHECK(error_of(create_list(w.deps, w.org, "VIP" + c, {})).message == "Invalid list name");
    commands::RawContact contact{"+14155552671", "Ada" + c, "", "", "", {}};
    CHECK(error_of(create_list(w.deps, w.org, "VIP", {contact})).message == "Invalid contact");
    contact = {"+14155552671", "", "", "", "ada@x.com" + c, {}};
    CHECK(error_of(create_list(w.deps, w.org, "VIP", {contact})).message == "Invalid contact");
    contact = {"+14155552671", "", "", "", "", {{"city", "Paris" + c}}};
    CHECK(error_of(create_list(w.deps, w.org, "VIP", {contact})).message == "Invalid contact");
    contact = {"+14155552671", "", "", "", "", {{"ci" + c, "Paris"}}};
    CHECK(error_of(create_list(w.deps, w.org, "VIP", {contact})).message == "Invalid contact");
  }
  const std::string list = make_id(id_prefix::contact_list, kNow, 999);
  w.reads.lists[list] = projections::ContactListView{ContactListId{list}, "VIP", 1, kNow, kNow};
  w.reads.contacts_of[list].push_back(
      projections::ContactView{Contact{"+14155552671", "Ada", "", "", "", {}}, kNow, kNow});
  CHECK(error_of(create_campaign(w.deps, w.org, {"Spring" + kNul, "Hi", list, std::nullopt}))
            .message == "Invalid campaign name");
  auto e = error_of(create_campaign(w.deps, w.org, {"Spring", "Hi {{firstName}}\x1b", list, {}}));
  CHECK(e.message == "Invalid message");
  CHECK(e.details.find("U+001B") != std::string::npos);
  CHECK(w.log.appended.empty());
  // A CSV row with a control character is refused alone; the good row goes in.
  auto imported = import_csv(w.deps, w.org, ContactListId{list},
                             "phone,firstName\n+14155552671,Ada\x07\n+14155552672,Bob\n");
  REQUIRE_MESSAGE(imported.ok(), imported.error().details);
  REQUIRE(imported->rejected.size() == 1);
  CHECK(imported->rejected[0].row == 2);
  CHECK(imported->imported + imported->updated == 1);
}

TEST_CASE("SMS bodies keep tabs and line breaks but refuse other control characters") {
  World w;
  auto send = [&](std::string message, std::string name = "Ada") {
    return send_sms(
        w.deps, w.org,
        {{{{"+14155552671", std::move(name)}}, std::move(message), std::nullopt}, {}, {}, {}});
  };
  for (const auto& c : kControls) {
    auto e = error_of(send("Hi" + c));
    CHECK(e.message == "Invalid message");
    CHECK(error_of(send("Hi", "Ada" + c)).message == "Invalid name");
  }
  CHECK(w.log.appended.empty());
  auto ok = send("Hi\tthere,\r\nsee you\n");
  REQUIRE_MESSAGE(ok.ok(), ok.error().details);
  CHECK(w.log.appended.size() == 1);
}

TEST_CASE("phones: their profile, names, inbound senders and bodies refuse control characters") {
  World w;
  gateway::DeviceProfile phone{"Pixel", "Pixel 8", "14", "1.0", {gateway::SimCard{0, "", "T"}}};
  CHECK(check_device_profile(phone));
  for (const auto& c : kControls) {
    auto bad = phone;
    bad.device_name += c;
    CHECK(error_of(register_device(w.deps, "pt_x", bad)).message == "Invalid deviceName");
    bad = phone;
    bad.sims[0].carrier += c;
    CHECK(error_of(register_device(w.deps, "pt_x", bad)).message == "Invalid carrier");
    CHECK(update_device(w.deps, w.org, DeviceId{"dev_1"}, "Desk" + c, {}).error().message ==
          "Invalid deviceName");
    const DeviceId dev{"dev_1"};
    CHECK(error_of(receive_sms(w.deps, w.org, dev, {"+14155552671" + c, "hi", "", {}})).message ==
          "Invalid from");
    CHECK(error_of(receive_sms(w.deps, w.org, dev, {"+14155552671", "hi" + c, "", {}})).message ==
          "Invalid body");
  }
  CHECK(w.log.appended.empty());
  auto ok = receive_sms(w.deps, w.org, DeviceId{"dev_1"}, {"+14155552671", "a\r\nb\tc", "", {}});
  REQUIRE_MESSAGE(ok.ok(), ok.error().details);
}

TEST_CASE("webhook descriptions and URLs, and opt-out reasons, refuse control characters") {
  World w;
  const std::vector<std::string> events{"message.sent"};
  CHECK(error_of(create_webhook(w.deps, w.org, {"https://a.example/h", events, "d" + kNul, {}}))
            .message == "Invalid description");
  CHECK(error_of(create_webhook(w.deps, w.org, {"https://a.example/h\r\n", events, {}, {}}))
            .message == "Invalid url");
  CHECK(w.urls.checked.empty());
  CHECK(error_of(add_opt_out(w.deps, w.org, "+14155552671", "STOP\x1b")).message ==
        "Invalid reason");
  CHECK(w.log.appended.empty());
}

}  // namespace
}  // namespace pulse::service
