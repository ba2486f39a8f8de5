#include "commands/send_sms.h"

#include <doctest/doctest.h>

#include <string>

#include "adapters/phone/phone_parser.h"
#include "domain/ids.h"
#include "fmt/format.h"

namespace pulse::commands {
namespace {

const PhoneParser& kPhones = phone::default_parser();
const CampaignId kCampaign{make_id(id_prefix::campaign, from_unix_ms(1794736800000), 0x1234567)};

// n recipients with distinct valid numbers: +14155550000, +14155550001, …
SendSmsRequest request(size_t n, std::string message = "Your order has shipped.") {
  SendSmsRequest r;
  r.message = std::move(message);
  for (size_t i = 0; i < n; ++i)
    r.recipients.push_back({fmt::format("+1415555{:04}", i), fmt::format("Person {}", i)});
  return r;
}

SendSms ok(const SendSmsRequest& r) {
  auto cmd = make_send_sms(r, kCampaign, kPhones);
  REQUIRE_MESSAGE(cmd.ok(), cmd.error().message, ": ", cmd.error().details);
  return std::move(cmd).value();
}

Error rejected(const SendSmsRequest& r) {
  auto cmd = make_send_sms(r, kCampaign, kPhones);
  REQUIRE_FALSE(cmd.ok());
  CHECK(cmd.error().code == Errc::validation);
  return cmd.error();
}

// n code points of "é" (two bytes each): lengths count characters, not bytes.
std::string repeat(std::string_view s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

TEST_CASE("make_send_sms needs at least one recipient") {
  const Error e = rejected(request(0));
  CHECK(e.message == "At least one recipient is required");
  CHECK(e.details == "recipients must contain 1 to 500 entries");
}

TEST_CASE("make_send_sms accepts 500 recipients and refuses 501") {
  const SendSms cmd = ok(request(500));
  CHECK(cmd.campaign_id == kCampaign);
  CHECK(cmd.message == "Your order has shipped.");
  REQUIRE(cmd.recipients.size() == 500);
  CHECK(cmd.recipients.front().phone.e164 == "+14155550000");
  CHECK(cmd.recipients.front().name == "Person 0");
  CHECK(cmd.recipients.back().phone.e164 == "+14155550499");
  CHECK(cmd.recipients.back().name == "Person 499");

  const Error e = rejected(request(501));
  CHECK(e.message == "Maximum 500 recipients per request");
  CHECK(e.details == "recipients has 501 entries; the maximum is 500");
}

TEST_CASE("an invalid phone number is reported with its recipient index") {
  auto r = request(6);
  r.recipients[3].phone = "4155552671";  // no country code
  Error e = rejected(r);
  CHECK(e.message == "Invalid phone number");
  CHECK(e.details ==
        "recipients[3].phone: phone number must start with + and a country code: '4155552671'");

  r = request(6);
  r.recipients[5].phone = "+1 415 CALL-NOW";
  e = rejected(r);
  CHECK(e.message == "Invalid phone number");
  CHECK(e.details ==
        "recipients[5].phone: phone number contains letters or symbols: '+1 415 CALL-NOW'");

  r = request(2);
  r.recipients[0].phone = "";
  e = rejected(r);
  CHECK(e.details == "recipients[0].phone: phone number is empty: ''");
}

TEST_CASE("phone numbers are normalised to E.164") {
  SendSmsRequest r;
  r.message = "Hi";
  r.recipients = {{"+1 (415) 555-2671", "A"},
                  {"0044 7400 123456", "B"},
                  {"+49.151.2345.6789", "C"},
                  {"  +33 6 12 34 56 78\t", "D"},
                  {"+14155552671", "E"}};
  const SendSms cmd = ok(r);
  REQUIRE(cmd.recipients.size() == 5);
  CHECK(cmd.recipients[0].phone.e164 == "+14155552671");
  CHECK(cmd.recipients[1].phone.e164 == "+447400123456");
  CHECK(cmd.recipients[2].phone.e164 == "+4915123456789");
  CHECK(cmd.recipients[3].phone.e164 == "+33612345678");
  CHECK(cmd.recipients[4].phone.e164 == "+14155552671");
  // Names are kept as given, in order.
  CHECK(cmd.recipients[0].name == "A");
  CHECK(cmd.recipients[4].name == "E");
}

TEST_CASE("recipients carry their country and type; numbers that take no SMS are refused") {
  SendSmsRequest r;
  r.message = "Hi";
  r.recipients = {{"+14155552671", "A"}, {"+44 7400 123456", "B"}};
  const SendSms cmd = ok(r);
  CHECK(cmd.recipients[0].country == "US");
  CHECK(cmd.recipients[0].phone_type == "fixed_line_or_mobile");
  CHECK(cmd.recipients[1].country == "GB");
  CHECK(cmd.recipients[1].phone_type == "mobile");
  for (auto [phone, why] :
       {std::pair{"+44 20 7946 0958", "fixed_line numbers can't receive SMS: '+44 20 7946 0958'"},
        std::pair{"+1 800 555 1234", "toll_free numbers can't receive SMS: '+1 800 555 1234'"},
        std::pair{"+999999999999999", "phone number has no known country code: '+999999999999999'"},
        std::pair{"+15555551234",
                  "phone number is not a valid number for +1 (US): '+15555551234'"}}) {
    r.recipients = {{"+14155552671", "A"}, {phone, "B"}};
    auto refused = make_send_sms(r, kCampaign, kPhones);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message == "Invalid phone number");
    CHECK(refused.error().details == fmt::format("recipients[1].phone: {}", why));
  }
}

TEST_CASE("recipient names are at most 200 bytes") {
  auto r = request(3);
  r.recipients[2].name = std::string(200, 'n');
  CHECK(ok(r).recipients[2].name == std::string(200, 'n'));
  r.recipients[2].name = std::string(201, 'n');
  const Error e = rejected(r);
  CHECK(e.message == "Recipient name is too long");
  CHECK(e.details == "recipients[2].name: at most 200 bytes");
}

TEST_CASE("the message must not be empty or whitespace") {
  Error e = rejected(request(1, ""));
  CHECK(e.message == "Message body cannot be empty");
  CHECK(e.details == "message is empty");

  e = rejected(request(1, " \t\r\n  "));
  CHECK(e.message == "Message body cannot be empty");
  CHECK(e.details == "message contains only whitespace");
}

TEST_CASE("the message is at most 1600 characters") {
  CHECK(ok(request(1, std::string(1600, 'a'))).message.size() == 1600);
  // Characters, not bytes: 1600 two-byte characters are fine too.
  CHECK(ok(request(1, repeat("é", 1600))).message.size() == 3200);

  Error e = rejected(request(1, std::string(1601, 'a')));
  CHECK(e.message == "Message is too long");
  CHECK(e.details == "message has 1601 characters; the maximum is 1600");

  e = rejected(request(1, repeat("é", 1601)));
  CHECK(e.details == "message has 1601 characters; the maximum is 1600");
}

TEST_CASE("an invalid template is refused") {
  Error e = rejected(request(2, "Hi {{firstName"));
  CHECK(e.message == "Invalid message template");
  CHECK(e.details == "unclosed '{{' at character 4");

  e = rejected(request(2, "Hi {{ }}!"));
  CHECK(e.message == "Invalid message template");
  CHECK(e.details == "empty variable name at character 4");
}

TEST_CASE("a variable no recipient provides is refused, unless missingVariables is empty") {
  Error e = rejected(request(2, "Your code is {{code}}"));
  CHECK(e.message == "Unknown template variable");
  CHECK(e.details ==
        "{{code}} is not available; the variables are firstName, lastName, name, phone. Send "
        "\"missingVariables\": \"empty\" to render unknown variables as empty text.");
  // Names are case-sensitive; the one meant is named.
  e = rejected(request(2, "Hi {{FIRSTNAME}}"));
  CHECK(e.details.starts_with(
      "{{FIRSTNAME}} is not available (did you mean {{firstName}}? names are case-sensitive)"));
  auto r = request(2, "Hi {{FIRSTNAME}}{{firstName}}");
  r.missing_variables = MissingVariables::empty;
  CHECK(ok(r).message == "Hi {{FIRSTNAME}}{{firstName}}");
  CHECK(ok(request(2, "Hi {{firstName}} {{lastName}}, {{name}} at {{phone}}")).recipients.size() ==
        2);
  CHECK(parse_missing_variables("empty").value() == MissingVariables::empty);
  CHECK(parse_missing_variables("error").value() == MissingVariables::refuse);
  CHECK(parse_missing_variables("Empty").error().message == "Invalid missingVariables");
}

TEST_CASE("every personalised body is checked") {
  // 1590 + "{{name}}" = 1598 characters as a template: valid on its own.
  const std::string message = std::string(1590, 'a') + "{{name}}";
  SendSmsRequest r;
  r.message = message;
  r.recipients = {{"+14155550000", "Al"}, {"+14155550001", "0123456789"}};
  CHECK(ok(r).recipients.size() == 2);  // 1592 and 1600 characters

  r.recipients.push_back({"+14155550002", "Bartholomew"});  // 1601 characters
  Error e = rejected(r);
  CHECK(e.message == "Message is too long");
  CHECK(e.details == "message for recipients[2]: message has 1601 characters; the maximum is 1600");

  // A body made only of a variable that is empty for one recipient.
  r.message = "{{firstName}}";
  r.recipients = {{"+14155550000", "Ada"}, {"+14155550001", ""}};
  e = rejected(r);
  CHECK(e.message == "Message body cannot be empty");
  CHECK(e.details == "message for recipients[1]: message is empty");
}

TEST_CASE("a recipient problem is reported for the first bad recipient") {
  auto r = request(5);
  r.recipients[1].phone = "123";
  r.recipients[4].phone = "456";
  CHECK(rejected(r).details.starts_with("recipients[1].phone: "));
}

TEST_CASE("recipient_vars splits the name into first and last name") {
  auto vars = recipient_vars(Recipient{PhoneNumber{"+14155552671"}, "Ada Lovelace"});
  CHECK(vars.size() == 4);
  CHECK(vars["name"] == "Ada Lovelace");
  CHECK(vars["firstName"] == "Ada");
  CHECK(vars["lastName"] == "Lovelace");
  CHECK(vars["phone"] == "+14155552671");

  vars = recipient_vars(Recipient{PhoneNumber{"+442079460958"}, "Mary Ann Evans"});
  CHECK(vars["firstName"] == "Mary");
  CHECK(vars["lastName"] == "Ann Evans");
  CHECK(vars["phone"] == "+442079460958");

  vars = recipient_vars(Recipient{PhoneNumber{"+14155552671"}, "Cher"});
  CHECK(vars["firstName"] == "Cher");
  CHECK(vars["lastName"] == "");

  // Leading, trailing and repeated spaces don't leak into the parts.
  vars = recipient_vars(Recipient{PhoneNumber{"+14155552671"}, "  Ada   Lovelace "});
  CHECK(vars["name"] == "Ada   Lovelace");
  CHECK(vars["firstName"] == "Ada");
  CHECK(vars["lastName"] == "Lovelace");

  vars = recipient_vars(Recipient{PhoneNumber{"+14155552671"}, "   "});
  CHECK(vars["name"] == "");
  CHECK(vars["firstName"] == "");

  vars = recipient_vars(Recipient{PhoneNumber{"+14155552671"}, ""});
  CHECK(vars.size() == 4);
  CHECK(vars["name"] == "");
  CHECK(vars["firstName"] == "");
  CHECK(vars["lastName"] == "");
}

}  // namespace
}  // namespace pulse::commands
