// Contact validation and CSV import planning.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "adapters/phone/phone_parser.h"
#include "commands/contacts.h"
#include "commands/decider.h"

using namespace pulse;
using namespace pulse::commands;

namespace {
const PhoneParser& kPhones = phone::default_parser();
}  // namespace

TEST_CASE("contacts are normalised to E.164 and checked") {
  auto c = make_contact(RawContact{" +1 (415) 555-2671 ", "Ada", "", "", "ada@example.com", {}},
                        kPhones);
  REQUIRE(c.ok());
  CHECK(c->phone == "+14155552671");
  CHECK(c->country == "US");
  CHECK(c->phone_type == "fixed_line_or_mobile");
  // A landline or a service number can't receive the SMS a list is for.
  auto landline = make_contact(RawContact{"+44 20 7946 0958", "Ada", "", "", "", {}}, kPhones);
  REQUIRE_FALSE(landline.ok());
  CHECK(landline.error().details == "fixed_line numbers can't receive SMS: '+44 20 7946 0958'");
  CHECK_FALSE(make_contact(RawContact{"", "A", "", "", "", {}}, kPhones).ok());
  CHECK_FALSE(
      make_contact(RawContact{"+14155552671", "", "", "", "not-an-email", {}}, kPhones).ok());
  CHECK_FALSE(
      make_contact(RawContact{"+14155552671", std::string(201, 'a'), "", "", "", {}}, kPhones)
          .ok());
}

TEST_CASE("the decider keeps lists: create, upsert, delete; unknown lists are 404") {
  DeciderConfig config;
  DeciderState state;
  state.org.exists = true;
  const ContactListId list{"cl_01m80zvb19jvjvzb"};
  auto run = [&](Command c) {
    CommandEnvelope env{CommandId{"cmd_01m80zvb19jvjvzb"}, OrgId{"org_01m80zvb19jvjvzb"},
                        from_unix_ms(1795329938000), std::move(c)};
    auto r = decide(config, state, env);
    if (r)
      for (const auto& e : *r) evolve(config, state, e, env.at);
    return r;
  };
  CHECK(run(UpsertContacts{list, "", {Contact{"+14155552671"}}, false}).error().code ==
        Errc::not_found);
  auto created = run(CreateContactList{list, "L", {Contact{"+14155552671"}}});
  REQUIRE(created.ok());
  CHECK(created->size() == 2);
  CHECK(run(CreateContactList{list, "L", {}}).error().code == Errc::conflict);
  CHECK(run(RemoveContacts{list, {"+14155552671"}}).ok());
  CHECK(run(DeleteContactList{list}).ok());
  CHECK(run(DeleteContactList{list}).error().code == Errc::not_found);
}

TEST_CASE("a malformed CSV file is refused as a whole") {
  CHECK(plan_import("firstName,lastName\nAda,L\n", kPhones).error().message == "No phone column");
  CHECK(plan_import("phone,firstName\n+14155552671,\"Ada\n", kPhones).error().message ==
        "Unbalanced quotes");
  CHECK(plan_import("", kPhones).error().message == "The file is empty");
  CHECK(plan_import(std::string("\xFF\xFEp\0h", 5), kPhones).error().message ==
        "The file is not UTF-8 text");
  CHECK(plan_import("ph\xC3one,x\n", kPhones).error().message == "Invalid header line");
}

TEST_CASE("CSV: extra columns become fields, quotes and CRLF are understood") {
  auto plan = plan_import(
      "\xEF\xBB\xBFPhone,First Name,lastName,email,city\r\n"
      "+14155552671,\"Ada, the first\",Lovelace,ada@example.com,\"Lon\"\"don\"\r\n"
      "\r\n"
      "0044 7400 123456,Bob,,,\"multi\nline\"\r\n",
      kPhones);
  REQUIRE(plan.ok());
  REQUIRE(plan->contacts.size() == 2);
  CHECK(plan->rejected.empty());
  CHECK(plan->contacts[0].first_name == "Ada, the first");
  CHECK(plan->contacts[0].extra.at("city") == "Lon\"don");
  CHECK(plan->contacts[1].phone == "+447400123456");
  CHECK(plan->contacts[1].country == "GB");
  CHECK(plan->contacts[1].phone_type == "mobile");
  CHECK(plan->contacts[1].extra.at("city") == "multi\nline");
  CHECK(plan->rows == std::vector<int64_t>{2, 4});
}

TEST_CASE("CSV fixture: 13 kinds of bad rows give the exact report, good rows are kept") {
  std::ifstream in(std::string(PULSE_TEST_DATA_DIR) + "/contacts/bad_rows.csv", std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream s;
  s << in.rdbuf();
  auto plan = plan_import(s.str(), kPhones);
  REQUIRE(plan.ok());
  std::vector<std::string> good;
  for (const auto& c : plan->contacts) good.push_back(c.phone);
  CHECK(good ==
        std::vector<std::string>{"+14155550101", "+14155550102", "+447400123456", "+14155550103"});
  std::vector<std::tuple<int64_t, std::string, std::string>> got;
  for (const auto& r : plan->rejected) got.emplace_back(r.row, r.phone, r.error);
  const std::vector<std::tuple<int64_t, std::string, std::string>> expected{
      {4, "", "phone is required"},
      {5, "call-me-maybe", "phone number contains letters or symbols: 'call-me-maybe'"},
      {6, "+1415", "phone number is too short: '+1415'"},
      {7, "+1415555010299999", "phone number is too long: '+1415555010299999'"},
      {8, "4155550105", "phone number must start with + and a country code: '4155550105'"},
      {9, "+14155550101", "duplicate of row 2"},
      {10, "+14155550106", "invalid UTF-8"},
      {11, "+14155550107",
       "stray quote: a field with a quote must be quoted, with the quote doubled"},
      {12, "+14155550108", "stray quote: text after the closing quote of a field"},
      {13, "+14155550109", "6 columns, the header has 5"},
      {14, "+14155550110", "'bob@@example' is not an email address"},
      {16, "+14155550111", "firstName is longer than 200 bytes"},
      // A quoted field may span lines, but a name is one line.
      {19, "+14155550104", "firstName contains the control character U+000A at byte 5"},
  };
  CHECK(got.size() == expected.size());
  for (size_t i = 0; i < std::min(got.size(), expected.size()); ++i) {
    INFO("rejection ", i);
    CHECK(got[i] == expected[i]);
  }
}
