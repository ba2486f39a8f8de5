#pragma once
// E.164 phone numbers: "+" then 8..15 digits, the first not 0.
#include <string>
#include <string_view>

#include "domain/result.h"

namespace pulse {

struct PhoneNumber {
  std::string e164;  // "+14155552671"
  auto operator<=>(const PhoneNumber&) const = default;
};

// Normalises spaces, dashes, dots and parentheses away and accepts a leading "00" as "+".
// Rejects, with a reason in Error::details, numbers without a country code, letters,
// too short or too long numbers. Never guesses a country.
Result<PhoneNumber> parse_phone(std::string_view input);

}  // namespace pulse
