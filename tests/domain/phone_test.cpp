#include "domain/phone.h"

#include <doctest/doctest.h>

#include <string>

namespace pulse {
namespace {

std::string e164(std::string_view input) {
  auto r = parse_phone(input);
  REQUIRE_MESSAGE(r.ok(), r.error().details);
  return r->e164;
}

std::string rejection(std::string_view input) {
  auto r = parse_phone(input);
  REQUIRE(!r.ok());
  CHECK(r.error().code == Errc::validation);
  CHECK(r.error().message == "Invalid phone number");
  return r.error().details;
}

TEST_CASE("parse_phone normalises separators and the 00 prefix") {
  CHECK(e164("+14155552671") == "+14155552671");
  CHECK(e164("+1 (415) 555-2671") == "+14155552671");
  CHECK(e164("  +1.415.555.2671\t") == "+14155552671");
  CHECK(e164("0044 20 7946 0958") == "+442079460958");
  CHECK(e164("+44\xC2\xA0"
             "20\xC2\xA0"
             "7946 0958") == "+442079460958");  // no-break spaces
  CHECK(e164("+4915123456") == "+4915123456");
  CHECK(e164("+12345678") == "+12345678");                // 8 digits, the minimum
  CHECK(e164("+123456789012345") == "+123456789012345");  // 15 digits, the maximum
}

TEST_CASE("parse_phone explains each rejection") {
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
  CHECK(rejection("1-800-FLOWERS") == "phone number contains letters or symbols: '1-800-FLOWERS'");
  CHECK(rejection("+") == "phone number is too short: '+'");
  CHECK(rejection("+1234567") == "phone number is too short: '+1234567'");
  CHECK(rejection("001234567") == "phone number is too short: '001234567'");
  CHECK(rejection("+1234567890123456") == "phone number is too long: '+1234567890123456'");
}

TEST_CASE("parse_phone cuts an oversized input short in the details") {
  const std::string input = "+1" + std::string(100, '9');
  CHECK(rejection(input) == "phone number is too long: '" + input.substr(0, 64) + "...'");
}

}  // namespace
}  // namespace pulse
