// The phone parser over libphonenumber: E.164 normalisation, validity per country, number types
// and the rule on which types take SMS (domain/phone.h).
#include "adapters/phone/phone_parser.h"

#include <doctest/doctest.h>

#include <string>

namespace pulse {
namespace {

const PhoneParser& phones = phone::default_parser();

ParsedPhone parsed(std::string_view input) {
  auto r = phones.parse(input);
  REQUIRE_MESSAGE(r.ok(), r.error().details);
  return *r;
}

std::string e164(std::string_view input) {
  return parsed(input).number.e164;
}

std::string rejection(std::string_view input) {
  auto r = phones.parse(input);
  REQUIRE(!r.ok());
  CHECK(r.error().code == Errc::validation);
  CHECK(r.error().message == "Invalid phone number");
  return r.error().details;
}

std::string refused_recipient(std::string_view input) {
  REQUIRE(phones.parse(input).ok());  // a valid number, of a type that takes no SMS
  auto r = parse_recipient(phones, input);
  REQUIRE(!r.ok());
  CHECK(r.error().code == Errc::validation);
  CHECK(r.error().message == "Invalid phone number");
  return r.error().details;
}

TEST_CASE("the parser normalises separators, the 00 prefix and a trunk (0) to E.164") {
  CHECK(e164("+14155552671") == "+14155552671");
  CHECK(e164("+1 (415) 555-2671") == "+14155552671");
  CHECK(e164("  +1.415.555.2671\t") == "+14155552671");
  CHECK(e164("0044 20 7946 0958") == "+442079460958");
  CHECK(e164("+44\xC2\xA0"
             "20\xC2\xA0"
             "7946 0958") == "+442079460958");  // no-break spaces
  // National formats written after the country code: the trunk prefix goes.
  CHECK(e164("+44 (0)20 7946 0958") == "+442079460958");
  CHECK(e164("+44 (0) 7400 123456") == "+447400123456");
  CHECK(e164("+49 (0)151 23456789") == "+4915123456789");
  CHECK(e164("+33 6 12 34 56 78") == "+33612345678");
  // Italy keeps the leading 0 of its fixed lines in E.164.
  CHECK(e164("+39 06 1234 5678") == "+390612345678");
}

TEST_CASE("the parser gives each number its country and type") {
  auto us = parsed("+14155552671");
  CHECK(us.region == "US");
  CHECK(us.type == PhoneType::fixed_line_or_mobile);
  auto ca = parsed("+1 613 555 0123");
  CHECK(ca.region == "CA");
  auto gb = parsed("+447400123456");
  CHECK(gb.region == "GB");
  CHECK(gb.type == PhoneType::mobile);
  CHECK(parsed("+442079460958").type == PhoneType::fixed_line);
  auto de = parsed("+4915123456789");
  CHECK(de.region == "DE");
  CHECK(de.type == PhoneType::mobile);
  CHECK(parsed("+33612345678").region == "FR");
  CHECK(parsed("+61412345678").region == "AU");
  CHECK(parsed("+5511961234567").region == "BR");
  CHECK(parsed("+18005551234").type == PhoneType::toll_free);
  CHECK(parsed("+19005550123").type == PhoneType::premium_rate);
  CHECK(parsed("+80012345678").region == "001");  // non-geographic
}

TEST_CASE("the parser refuses numbers that are not valid in their country") {
  CHECK(rejection("+999999999999999") ==
        "phone number has no known country code: '+999999999999999'");
  CHECK(rejection("+15555551234") ==
        "phone number is not a valid number for +1 (US): '+15555551234'");
  CHECK(rejection("+14150000001") ==
        "phone number is not a valid number for +1 (US): '+14150000001'");
  CHECK(rejection("+123456789012345") == "phone number is too long: '+123456789012345'");
  CHECK(rejection("+4915123456").starts_with("phone number is"));
  CHECK(rejection("+39312345678").starts_with("phone number is"));
  CHECK(rejection("+3306") == "phone number is too short: '+3306'");
  // Valid in Germany's plan, but 16 digits: longer than E.164 allows.
  CHECK(rejection("+4991999999999999") == "phone number is too long: '+4991999999999999'");
}

TEST_CASE("the parser explains each syntax rejection") {
  CHECK(rejection("") == "phone number is empty: ''");
  CHECK(rejection("  - ") == "phone number is empty: '  - '");
  CHECK(rejection("4155552671") ==
        "phone number must start with + and a country code: '4155552671'");
  CHECK(rejection("(415) 555-2671") ==
        "phone number must start with + and a country code: '(415) 555-2671'");
  CHECK(rejection("+04155552671") ==
        "phone number must start with + and a country code: '+04155552671'");
  CHECK(rejection("0004155552671") ==
        "phone number must start with + and a country code: '0004155552671'");
  CHECK(rejection("+1415abc") == "phone number contains letters or symbols: '+1415abc'");
  CHECK(rejection("++14155552671") == "phone number contains letters or symbols: '++14155552671'");
  CHECK(rejection("+1415555267#1") == "phone number contains letters or symbols: '+1415555267#1'");
  // The library would read keypad letters and extensions; a recipient has neither.
  CHECK(rejection("1-800-FLOWERS") == "phone number contains letters or symbols: '1-800-FLOWERS'");
  CHECK(rejection("+1 650 253 0000 ext 12") ==
        "phone number contains letters or symbols: '+1 650 253 0000 ext 12'");
  CHECK(rejection("+") == "phone number is too short: '+'");
  CHECK(rejection("+1") == "phone number is too short: '+1'");
  CHECK(rejection("+1234567890123456789") == "phone number is too long: '+1234567890123456789'");
}

TEST_CASE("the parser cuts an oversized input short in the details") {
  const std::string input = "+1" + std::string(100, '9');
  CHECK(rejection(input) == "phone number is too long: '" + input.substr(0, 64) + "...'");
}

TEST_CASE("recipients are the numbers that can receive SMS") {
  // Mobile, and the plans that can't tell a mobile from a fixed line (the US, Canada).
  CHECK(parse_recipient(phones, "+447400123456").ok());
  CHECK(parse_recipient(phones, "+14155552671").ok());
  CHECK(parse_recipient(phones, "+16135550123").ok());
  CHECK(parse_recipient(phones, "+445612345678").ok());  // VoIP
  CHECK(parse_recipient(phones, "+447011234567").ok());  // personal number
  CHECK(refused_recipient("+442079460958") ==
        "fixed_line numbers can't receive SMS: '+442079460958'");
  CHECK(refused_recipient("+49 30 123456") ==
        "fixed_line numbers can't receive SMS: '+49 30 123456'");
  CHECK(refused_recipient("+18005551234") == "toll_free numbers can't receive SMS: '+18005551234'");
  CHECK(refused_recipient("+448712345678") ==
        "premium_rate numbers can't receive SMS: '+448712345678'");
  CHECK(refused_recipient("+443001234567") == "uan numbers can't receive SMS: '+443001234567'");
  CHECK(refused_recipient("+80012345678") == "toll_free numbers can't receive SMS: '+80012345678'");
}

TEST_CASE("number types have stable names") {
  for (auto t : {PhoneType::mobile, PhoneType::fixed_line_or_mobile, PhoneType::fixed_line,
                 PhoneType::toll_free, PhoneType::premium_rate, PhoneType::shared_cost,
                 PhoneType::voip, PhoneType::personal_number, PhoneType::pager, PhoneType::uan,
                 PhoneType::voicemail, PhoneType::unknown})
    CHECK(phone_type_from_string(to_string(t)) == t);
  CHECK(to_string(PhoneType::fixed_line_or_mobile) == "fixed_line_or_mobile");
  CHECK_FALSE(phone_type_from_string("landline"));
}

}  // namespace
}  // namespace pulse

namespace pulse {
namespace {

TEST_CASE("a number parsed again, in any spelling, is the same number") {
  const phone::LibPhoneNumberParser parser;  // its own cache
  for (int round = 0; round < 2; ++round) {
    for (const auto* spelling : {"+44 7400 123456", "+447400123456", "0044 (7400) 123-456"}) {
      auto parsed = parser.parse(spelling);
      REQUIRE(parsed.ok());
      CHECK(parsed->number.e164 == "+447400123456");
      CHECK(parsed->region == "GB");
      CHECK(parsed->type == PhoneType::mobile);
    }
    // Refusals are not kept: each names its own input.
    auto bad = parser.parse("+44 7400 12");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().details.find("'+44 7400 12'") != std::string::npos);
  }
}

}  // namespace
}  // namespace pulse
