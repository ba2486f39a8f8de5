#include "adapters/http/request_json.h"

#include <doctest/doctest.h>

#include <random>
#include <string>

#include "adapters/phone/phone_parser.h"
#include "fmt/format.h"

namespace pulse::http {
namespace {

// ---- request bodies ----------------------------------------------------------------------

Error request_error(std::string_view body) {
  auto r = decode_send_sms_request(body);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::validation);
  return r.error();
}

TEST_CASE("decode_send_sms_request reads a valid body") {
  auto r = decode_send_sms_request(
      R"({"recipients":[{"phone":"+1 415 555 2671","name":"Ada Lovelace"},)"
      R"({"phone":"+442079460958"},{"phone":"+4915112345678","name":null}],)"
      R"("message":"Hi {{firstName}} \u263a"})");
  REQUIRE_MESSAGE(r.ok(), r.error().details);
  CHECK(r->message == "Hi {{firstName}} ☺");
  REQUIRE(r->recipients.size() == 3);
  CHECK(r->recipients[0].phone == "+1 415 555 2671");  // normalised later, by make_send_sms
  CHECK(r->recipients[0].name == "Ada Lovelace");
  CHECK(r->recipients[1].phone == "+442079460958");
  CHECK(r->recipients[1].name == "");
  CHECK(r->recipients[2].name == "");

  // An empty list is make_send_sms's to refuse, with its own message.
  auto empty = decode_send_sms_request(R"({"recipients":[],"message":"x"})");
  REQUIRE(empty.ok());
  CHECK(empty->recipients.empty());
}

TEST_CASE("decode_send_sms_request refuses malformed bodies with a clear reason") {
  Error e = request_error("{\"recipients\":[");
  CHECK(e.message == "Invalid request body");
  CHECK(e.details.starts_with("invalid JSON: "));

  e = request_error("");
  CHECK(e.message == "Invalid request body");
  CHECK(e.details.starts_with("invalid JSON: "));

  for (const char* body : {"[]", "42", "\"hi\"", "null", "true"}) {
    CAPTURE(body);
    e = request_error(body);
    CHECK(e.message == "Invalid request body");
    CHECK(e.details == "the body must be a JSON object");
  }

  e = request_error(R"({"recipients":{"phone":"+14155552671"},"message":"x"})");
  CHECK(e.message == "Invalid request body");
  CHECK(e.details == "recipients must be an array");

  e = request_error(R"({"recipients":"+14155552671","message":"x"})");
  CHECK(e.details == "recipients must be an array");

  e = request_error(R"({"recipients":["+14155552671"],"message":"x"})");
  CHECK(e.message == "Invalid request body");
  CHECK(e.details == "recipients[0] must be an object {phone, name}");

  e = request_error(R"({"recipients":[{"phone":"+14155552671"},null],"message":"x"})");
  CHECK(e.details == "recipients[1] must be an object {phone, name}");

  e = request_error(R"({"recipients":[{"phone":14155552671}],"message":"x"})");
  CHECK(e.message == "Invalid request body");
  CHECK(e.details == "recipients[0].phone must be a string");

  e = request_error(R"({"recipients":[{"phone":"+1415555267"},{"name":"Bo"}],"message":"x"})");
  CHECK(e.details == "recipients[1].phone must be a phone number in E.164 format");

  e = request_error(R"({"recipients":[{"phone":"+14155552671","name":7}],"message":"x"})");
  CHECK(e.details == "recipients[0].name must be a string");

  e = request_error(R"({"recipients":[{"phone":"+14155552671"}]})");
  CHECK(e.message == "Message body cannot be empty");
  CHECK(e.details == "message is required");

  e = request_error(R"({"recipients":[{"phone":"+14155552671"}],"message":null})");
  CHECK(e.message == "Message body cannot be empty");

  e = request_error(R"({"recipients":[{"phone":"+14155552671"}],"message":["x"]})");
  CHECK(e.message == "Invalid request body");
  CHECK(e.details == "message must be a string");

  e = request_error(R"({"message":"x"})");
  CHECK(e.message == "At least one recipient is required");
  CHECK(e.details == "recipients must be an array of 1 to 500 {phone, name}");

  e = request_error(R"({"recipients":null,"message":"x"})");
  CHECK(e.message == "At least one recipient is required");
}

TEST_CASE("decode_send_sms_request survives random and truncated input") {
  std::mt19937_64 rng(42);
  const std::string alphabet = "{}[]\":,0123456789.-+eE tfnrulasphonemg\\\n";
  for (int i = 0; i < 4000; ++i) {  // 2,000 of each kind
    std::string body(rng() % 96, '\0');
    // Half raw bytes, half JSON-ish characters, which get further into the parser.
    for (char& c : body) c = i % 2 ? static_cast<char>(rng()) : alphabet[rng() % alphabet.size()];
    auto r = decode_send_sms_request(body);
    if (!r.ok()) {
      CHECK(r.error().code == Errc::validation);
      CHECK_FALSE(r.error().message.empty());
      CHECK_FALSE(r.error().details.empty());
    }
  }

  const std::string valid =
      R"({"recipients":[{"phone":"+14155552671","name":"Ada Lovelace"},)"
      R"({"phone":"+442079460958","name":"Zoë"}],"message":"Hi {{firstName}}, see you at 5"})";
  REQUIRE(decode_send_sms_request(valid).ok());
  for (size_t n = 0; n < valid.size(); ++n) {
    CAPTURE(n);
    const Error e = request_error(std::string_view(valid).substr(0, n));
    CHECK(e.message == "Invalid request body");
    CHECK(e.details.starts_with("invalid JSON: "));
  }
  for (int i = 0; i < 2000; ++i) {
    std::string body = valid.substr(0, rng() % valid.size());
    if (!body.empty() && i % 2) body[rng() % body.size()] = static_cast<char>(rng());
    CHECK(request_error(body).code == Errc::validation);
  }
}

TEST_CASE("decode_send_sms_body reads scheduledAt from the same body") {
  auto b = decode_send_sms_body(
      R"({"recipients":[{"phone":"+14155552671"}],"message":"x","scheduledAt":"2026-04-02T09:00:00Z"})");
  REQUIRE(b.ok());
  CHECK(b->scheduled_at == "2026-04-02T09:00:00Z");
  CHECK_FALSE(b->scheduled_at_error);
  CHECK(b->request.recipients.size() == 1);

  for (const char* absent : {R"("scheduledAt":null)", R"("scheduledAt":"")", R"("other":1)"}) {
    CAPTURE(absent);
    auto none = decode_send_sms_body(
        fmt::format(R"({{"recipients":[{{"phone":"+14155552671"}}],"message":"x",{}}})", absent));
    REQUIRE(none.ok());
    CHECK_FALSE(none->scheduled_at);
    CHECK_FALSE(none->scheduled_at_error);
  }

  // Not a string: kept aside, so the recipients' own problems are reported first.
  auto bad = decode_send_sms_body(
      R"({"recipients":[{"phone":"+14155552671"}],"message":"x","scheduledAt":5})");
  REQUIRE(bad.ok());
  REQUIRE(bad->scheduled_at_error);
  CHECK(bad->scheduled_at_error->message == "Invalid request body");
  CHECK(bad->scheduled_at_error->details == "scheduledAt must be a string");
}

TEST_CASE("body decoders name the field that is wrong") {
  auto list = decode_contact_list_request(R"({"name":"VIP","contacts":[{"phone":5}]})");
  REQUIRE_FALSE(list.ok());
  CHECK(list.error().details == "body.contacts[].phone must be a string");
  auto campaign = decode_campaign_request(R"({"name":"S","message":"m"})");
  REQUIRE_FALSE(campaign.ok());
  CHECK(campaign.error().details == "body.contactListId must be present");
  auto hook = decode_webhook_request(R"({"enabled":"yes"})");
  REQUIRE_FALSE(hook.ok());
  CHECK(hook.error().details == "body.enabled must be a boolean");
  auto strings = decode_strings(R"({"email":"a@b.io"})", {"email", "password"});
  REQUIRE_FALSE(strings.ok());
  CHECK(strings.error().details == "password is required");
  auto ints = decode_ints(R"({"max":"3"})", {"max", "waitSeconds"});
  REQUIRE_FALSE(ints.ok());
  CHECK(ints.error().details == "max must be an integer");
}

TEST_CASE("a registration fills in the phone's defaults") {
  auto r = decode_device_registration(
      R"({"pairingToken":"pt_x","sims":[{"slot":1,"phoneNumber":"+1 415 555 2671"}]})",
      phone::default_parser());
  REQUIRE_MESSAGE(r.ok(), r.error().details);
  CHECK(r->device.device_name == "Android gateway");
  REQUIRE(r->device.sims.size() == 1);
  CHECK(r->device.sims[0].slot == 1);
  CHECK(r->device.sims[0].phone_number == "+14155552671");
  auto none = decode_device_registration(R"({"pairingToken":"pt_x"})", phone::default_parser());
  REQUIRE(none.ok());
  CHECK(none->device.sims.size() == 1);
  auto dup = decode_device_registration(R"({"pairingToken":"pt_x","sims":[{"slot":0},{"slot":0}]})",
                                        phone::default_parser());
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().message == "Invalid SIM slot");
}

}  // namespace
}  // namespace pulse::http
