// Contact validation and CSV import planning.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "adapters/phone/phone_parser.h"
#include "commands/contacts.h"
#include "commands/decider.h"
#include "fmt/format.h"
#include "tests/support/decider_world.h"

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

// ---- CSV imports larger than one command: staged, then completed or discarded whole ----------

namespace {

struct ImportWorld : pulse::testing::DeciderWorld {
  static std::vector<Contact> contacts(int from, int n) {
    std::vector<Contact> out;
    for (int i = from; i < from + n; ++i) out.push_back(Contact{fmt::format("+1415555{:04}", i)});
    return out;
  }
  ContactListId list(int i) {
    ContactListId id{
        make_id(id_prefix::contact_list, pulse::testing::kT0, static_cast<uint64_t>(i))};
    must(CreateContactList{id, "L", {}}, pulse::testing::kT0);
    return id;
  }
  Result<std::vector<Event>> stage(const ContactListId& l, const std::string& import, int chunk,
                                   int n, bool last, TimePoint t) {
    return run(StageContactImport{l, import, chunk, contacts(chunk * 500, n), last}, t);
  }
};

}  // namespace

TEST_CASE("a large import is staged chunk by chunk, in order, and completed by its last chunk") {
  using pulse::testing::at;
  ImportWorld w;
  const auto list = w.list(1);
  const std::string imp = "imp_01m80zvb19jvjvzb";
  auto first = w.stage(list, imp, 0, 500, false, at(1));
  REQUIRE(first.ok());
  REQUIRE(first->size() == 1);
  const auto& staged = std::get<ContactsStaged>(first->at(0));
  CHECK(staged.chunk == 0);
  CHECK(staged.contacts.size() == 500);
  REQUIRE(w.state.org.imports);
  CHECK(w.state.org.imports->at(imp) == ContactImport{list.value, 1, 500, at(1)});
  // Out of order, twice, or into another list: refused, and nothing changes.
  CHECK(w.stage(list, imp, 2, 500, false, at(2)).error().message == "Chunks out of order");
  CHECK(w.stage(list, imp, 0, 500, false, at(2)).error().message ==
        "Contact import already started");
  const auto other = w.list(2);
  CHECK(w.stage(other, imp, 1, 500, false, at(2)).error().message ==
        "Contact import is for another list");
  CHECK(w.run(StageContactImport{list, imp, 1, ImportWorld::contacts(0, 501), false}, at(2))
            .error()
            .code == Errc::validation);
  CHECK(w.state.org.imports->at(imp).chunks == 1);
  // The last chunk stages and completes in one append.
  auto last = w.stage(list, imp, 1, 120, true, at(3));
  REQUIRE(last.ok());
  REQUIRE(last->size() == 2);
  CHECK(std::get<ContactsStaged>(last->at(0)).chunk == 1);
  const auto& done = std::get<ContactImportCompleted>(last->at(1));
  CHECK(done.list_id == list);
  CHECK(done.import_id == imp);
  CHECK(done.chunks == 2);
  CHECK(done.contacts == 620);
  // Nothing left open (and the stored state has no "imports" again), no deadline.
  CHECK_FALSE(w.state.org.imports);
  CHECK_FALSE(next_deadline(w.config, w.state));
  CHECK(w.stage(list, imp, 2, 1, true, at(4)).error().message == "Contact import is not open");
  // Unknown lists are 404 as for upserts.
  const ContactListId missing{make_id(id_prefix::contact_list, pulse::testing::kT0, 99)};
  CHECK(w.stage(missing, "imp_01m80zvb19jvjvzc", 0, 1, false, at(4)).error().code ==
        Errc::not_found);
}

// The process manager is the decider's clock: time enters only with the ClockTick command, so
// replaying the log discards the same imports.
TEST_CASE("an import whose chunks stopped coming is discarded by the clock") {
  using pulse::testing::at;
  ImportWorld w;
  w.config.gateway.import_timeout = Millis{60'000};
  const auto list = w.list(1);
  const std::string imp = "imp_01m80zvb19jvjvzb";
  REQUIRE(w.stage(list, imp, 0, 500, false, at(0)).ok());
  CHECK(next_deadline(w.config, w.state) == at(60));
  REQUIRE(w.stage(list, imp, 1, 500, false, at(10)).ok());
  // Progress moves the deadline: measured from the last chunk.
  CHECK(next_deadline(w.config, w.state) == at(70));
  CHECK(w.tick(at(69)).empty());
  auto events = w.tick(at(70));
  REQUIRE(events.size() == 1);
  const auto& d = std::get<ContactImportDiscarded>(events[0]);
  CHECK(d.list_id == list);
  CHECK(d.import_id == imp);
  CHECK(d.chunks == 2);
  CHECK(d.contacts == 1000);
  CHECK(d.reason == import_discard::abandoned);
  CHECK_FALSE(w.state.org.imports);
  CHECK_FALSE(next_deadline(w.config, w.state));
  // The request, if it was only slow, finds its next chunk refused: the file is not imported.
  CHECK(w.stage(list, imp, 2, 10, true, at(71)).error().code == Errc::conflict);
  CHECK(w.count<ContactImportCompleted>() == 0);
}

TEST_CASE("deleting a list discards its open imports, not the other lists'") {
  using pulse::testing::at;
  ImportWorld w;
  const auto list = w.list(1);
  const auto other = w.list(2);
  REQUIRE(w.stage(list, "imp_01m80zvb19jvjvza", 0, 500, false, at(1)).ok());
  REQUIRE(w.stage(list, "imp_01m80zvb19jvjvzb", 0, 30, false, at(1)).ok());
  REQUIRE(w.stage(other, "imp_01m80zvb19jvjvzc", 0, 500, false, at(1)).ok());
  auto events = w.must(DeleteContactList{list}, at(2));
  REQUIRE(events.size() == 3);
  CHECK(std::get<ContactImportDiscarded>(events[0]).import_id == "imp_01m80zvb19jvjvza");
  CHECK(std::get<ContactImportDiscarded>(events[0]).reason == import_discard::list_deleted);
  CHECK(std::get<ContactImportDiscarded>(events[1]).contacts == 30);
  CHECK(std::holds_alternative<ContactListDeleted>(events[2]));
  REQUIRE(w.state.org.imports);
  CHECK(w.state.org.imports->size() == 1);
  CHECK(w.state.org.imports->count("imp_01m80zvb19jvjvzc") == 1);
  // The other list's import completes as usual.
  CHECK(w.stage(other, "imp_01m80zvb19jvjvzc", 1, 1, true, at(3)).ok());
  CHECK_FALSE(w.state.org.imports);
}
