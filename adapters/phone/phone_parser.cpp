#include "adapters/phone/phone_parser.h"

#include <phonenumbers/phonenumberutil.h>

#include "fmt/format.h"

namespace pulse::phone {

namespace {

namespace lib = i18n::phonenumbers;

// More digits than any number written with a trunk "(0)" can have: refused before the
// library sees it.
constexpr size_t kMaxDigits = 17;
constexpr std::string_view kNbsp = "\xC2\xA0";

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

Error invalid(std::string_view reason, std::string_view input) {
  return validation_error("Invalid phone number",
                          fmt::format("{}: '{}'", reason, quote_phone_input(input)));
}

PhoneType type_of(lib::PhoneNumberUtil::PhoneNumberType t) {
  using T = lib::PhoneNumberUtil;
  switch (t) {
    case T::MOBILE:
      return PhoneType::mobile;
    case T::FIXED_LINE_OR_MOBILE:
      return PhoneType::fixed_line_or_mobile;
    case T::FIXED_LINE:
      return PhoneType::fixed_line;
    case T::TOLL_FREE:
      return PhoneType::toll_free;
    case T::PREMIUM_RATE:
      return PhoneType::premium_rate;
    case T::SHARED_COST:
      return PhoneType::shared_cost;
    case T::VOIP:
      return PhoneType::voip;
    case T::PERSONAL_NUMBER:
      return PhoneType::personal_number;
    case T::PAGER:
      return PhoneType::pager;
    case T::UAN:
      return PhoneType::uan;
    case T::VOICEMAIL:
      return PhoneType::voicemail;
    case T::UNKNOWN:
      return PhoneType::unknown;
  }
  return PhoneType::unknown;
}

// "+" and the digits, without the separators people type ("+1 (415) 555-2671",
// "0044.20.7946.0958"), or why not. Stricter than the library, which would read letters as
// keypad digits ("1-800-FLOWERS") and guess at a missing "+".
Result<std::string> international_digits(std::string_view input) {
  std::string s;
  s.reserve(input.size());
  for (size_t i = 0; i < input.size(); ++i) {
    const char c = input[i];
    if (is_ascii_space(c) || c == '-' || c == '.' || c == '(' || c == ')') continue;
    if (input.substr(i).starts_with(kNbsp)) {
      ++i;
      continue;
    }
    s.push_back(c);
  }
  if (s.empty()) return invalid("phone number is empty", input);
  size_t start = 0;  // first digit
  if (s.front() == '+') {
    start = 1;
  } else if (s.starts_with("00")) {
    start = 2;  // the international call prefix, as "+"
  }
  for (size_t i = start; i < s.size(); ++i)
    if (!is_digit(s[i])) return invalid("phone number contains letters or symbols", input);
  // Without "+" or "00" the country is unknown, and guessing one would send to the wrong person.
  if (start == 0 || (start < s.size() && s[start] == '0'))
    return invalid("phone number must start with + and a country code", input);
  // A country code and a digit or two are not a number (the library would call them "not a
  // number" at all); the shortest numbers in use have 5 digits.
  if (s.size() - start < 3) return invalid("phone number is too short", input);
  if (s.size() - start > kMaxDigits) return invalid("phone number is too long", input);
  return "+" + s.substr(start);
}

}  // namespace

Result<ParsedPhone> LibPhoneNumberParser::parse(std::string_view input) const {
  auto digits = international_digits(input);
  if (!digits) return digits.error();
  auto& shard = cache_[std::hash<std::string>{}(*digits) % kShards];
  {
    std::lock_guard lock(shard.mu);
    if (auto it = shard.parsed.find(*digits); it != shard.parsed.end()) return it->second;
  }
  const auto& util = *lib::PhoneNumberUtil::GetInstance();
  lib::PhoneNumber n;
  switch (util.Parse(*digits, "ZZ", &n)) {
    case lib::PhoneNumberUtil::NO_PARSING_ERROR:
      break;
    case lib::PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
      return invalid("phone number has no known country code", input);
    case lib::PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
    case lib::PhoneNumberUtil::TOO_SHORT_NSN:
      return invalid("phone number is too short", input);
    case lib::PhoneNumberUtil::TOO_LONG_NSN:
      return invalid("phone number is too long", input);
    case lib::PhoneNumberUtil::NOT_A_NUMBER:
      return invalid("not a phone number", input);
  }
  // A number is valid exactly when its type is known (libphonenumber's IsValidNumber is the
  // same region lookup and type match), so one GetNumberType call serves both: each of these
  // calls matches the number against the region's patterns, the cost of a parse.
  const auto type = util.GetNumberType(n);
  if (type == lib::PhoneNumberUtil::UNKNOWN) {
    switch (util.IsPossibleNumberWithReason(n)) {
      case lib::PhoneNumberUtil::TOO_SHORT:
        return invalid("phone number is too short", input);
      case lib::PhoneNumberUtil::TOO_LONG:
        return invalid("phone number is too long", input);
      default:
        break;
    }
    std::string region;
    util.GetRegionCodeForCountryCode(n.country_code(), &region);
    return invalid(
        fmt::format("phone number is not a valid number for +{} ({})", n.country_code(), region),
        input);
  }
  ParsedPhone out;
  util.Format(n, lib::PhoneNumberUtil::E164, &out.number.e164);
  // The plans hold a few ranges longer than E.164 allows (German fixed lines of 16 digits):
  // Pulse's numbers, keys and schemas are E.164, at most 15 digits.
  if (out.number.e164.size() > 16) return invalid("phone number is too long", input);
  util.GetRegionCodeForNumber(n, &out.region);
  out.type = type_of(type);
  std::lock_guard lock(shard.mu);
  if (shard.parsed.size() >= kCached / kShards) shard.parsed.clear();
  shard.parsed.emplace(std::move(digits).value(), out);
  return out;
}

const PhoneParser& default_parser() {
  static const LibPhoneNumberParser parser;
  return parser;
}

}  // namespace pulse::phone
