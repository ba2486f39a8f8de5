// Phone numbers over HTTP: the send API refuses a landline with the documented error body, and
// the message and contact views show each number's country and type. Exchanges are recorded
// for the OpenAPI checks.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <map>
#include <string>

#include "tests/integration/api_helpers.h"
#include "tests/integration/server_process.h"

using pulse::testing::json_field;
using pulse::testing::parse;
using pulse::testing::ServerProcess;
using pulse::testing::TempDir;

namespace {

constexpr const char* kJson = "application/json";

std::string str(simdjson::dom::element e) {
  std::string_view s;
  return e.get_string().get(s) ? std::string() : std::string(s);
}

}  // namespace

TEST_CASE("a landline is refused on POST /api/sms/send; views show country and phoneType") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  auto account = server.signup();
  server.connect_device(account);
  auto c = server.client(account);
  simdjson::dom::parser p;

  for (const std::string phone : {"+44 20 7946 0958", "+18005551234", "+999999999999999"}) {
    INFO(phone);
    auto refused = c->Post(
        "/api/sms/send",
        R"({"recipients":[{"phone":"+14155552671"},{"phone":")" + phone + R"("}],"message":"Hi"})",
        kJson);
    REQUIRE(refused);
    CHECK_MESSAGE(refused->status == 400, refused->body);
    auto e = parse(p, refused->body);
    CHECK(str(e["error"]) == "Invalid phone number");
    CHECK(str(e["details"]).starts_with("recipients[1].phone: "));
  }
  auto landline = c->Post("/api/sms/send",
                          R"({"recipients":[{"phone":"+44 20 7946 0958"}],"message":"Hi"})", kJson);
  REQUIRE(landline);
  CHECK(str(parse(p, landline->body)["details"]) ==
        "recipients[0].phone: fixed_line numbers can't receive SMS: '+44 20 7946 0958'");

  auto sent = c->Post("/api/sms/send",
                      R"({"recipients":[{"phone":"+1 415 555 2671"},{"phone":"+44 7400 123456"},)"
                      R"({"phone":"+49 (0)151 23456789"}],"message":"Hi"})",
                      kJson);
  REQUIRE(sent);
  REQUIRE_MESSAGE(sent->status == 201, sent->body);
  const auto campaign = json_field(sent->body, "campaignId");
  auto list = c->Get(("/api/messages?campaignId=" + campaign).c_str());
  REQUIRE(list);
  REQUIRE_MESSAGE(list->status == 200, list->body);
  std::map<std::string, std::pair<std::string, std::string>> seen;
  std::string first_id;
  for (auto m : parse(p, list->body).get_array()) {
    seen[str(m["contactPhone"])] = {str(m["country"]), str(m["phoneType"])};
    if (first_id.empty()) first_id = str(m["id"]);
  }
  CHECK(seen == std::map<std::string, std::pair<std::string, std::string>>{
                    {"+14155552671", {"US", "fixed_line_or_mobile"}},
                    {"+447400123456", {"GB", "mobile"}},
                    {"+4915123456789", {"DE", "mobile"}}});
  auto one = c->Get(("/api/messages/" + first_id).c_str());
  REQUIRE(one);
  REQUIRE(one->status == 200);
  CHECK_FALSE(str(parse(p, one->body)["country"]).empty());

  // Contacts: the same classification; a landline refuses the whole request.
  auto bad_list =
      c->Post("/api/contacts", R"({"name":"VIP","contacts":[{"phone":"+442079460958"}]})", kJson);
  REQUIRE(bad_list);
  CHECK_MESSAGE(bad_list->status == 400, bad_list->body);
  CHECK(str(parse(p, bad_list->body)["details"]) ==
        "contacts[0]: fixed_line numbers can't receive SMS: '+442079460958'");
  auto created = c->Post("/api/contacts",
                         R"({"name":"VIP","contacts":[{"phone":"+33 6 12 34 56 78","firstName":)"
                         R"("Ada"}]})",
                         kJson);
  REQUIRE(created);
  REQUIRE_MESSAGE(created->status == 201, created->body);
  const auto list_id = json_field(created->body, "id");
  auto contacts = c->Get(("/api/contacts/" + list_id).c_str());
  REQUIRE(contacts);
  REQUIRE(contacts->status == 200);
  auto contact = parse(p, contacts->body)["contacts"].at(0);
  CHECK(str(contact["phone"]) == "+33612345678");
  CHECK(str(contact["country"]) == "FR");
  CHECK(str(contact["phoneType"]) == "mobile");
  auto patched = c->Patch(("/api/contacts/" + list_id + "/contacts/%2B33612345678").c_str(),
                          R"({"lastName":"Lovelace"})", kJson);
  REQUIRE(patched);
  REQUIRE_MESSAGE(patched->status == 200, patched->body);
  CHECK(str(parse(p, patched->body)["country"]) == "FR");
  CHECK(str(parse(p, patched->body)["phoneType"]) == "mobile");
}
