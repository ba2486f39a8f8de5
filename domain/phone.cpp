#include "domain/phone.h"

#include "fmt/format.h"

namespace pulse {

namespace {

constexpr size_t kMinDigits = 8;
constexpr size_t kMaxDigits = 15;  // E.164
constexpr std::string_view kNbsp = "\xC2\xA0";

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// The input echoed in details, cut short (at a UTF-8 boundary) so an oversized value stays
// readable in an error body.
std::string quote_input(std::string_view input) {
  constexpr size_t kMaxEcho = 64;
  if (input.size() <= kMaxEcho) return std::string(input);
  size_t n = kMaxEcho;
  while (n > 0 && (static_cast<unsigned char>(input[n]) & 0xC0) == 0x80) --n;
  return fmt::format("{}...", input.substr(0, n));
}

Error invalid(std::string_view reason, std::string_view input) {
  return validation_error("Invalid phone number",
                          fmt::format("{}: '{}'", reason, quote_input(input)));
}

}  // namespace

Result<PhoneNumber> parse_phone(std::string_view input) {
  // Drop the separators people type ("+1 (415) 555-2671", "0044.20.7946.0958"), wherever
  // they are; that also trims surrounding whitespace.
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
  if (start == 0 || (start < s.size() && s[start] == '0')) {
    return invalid("phone number must start with + and a country code", input);
  }
  const size_t digits = s.size() - start;
  if (digits < kMinDigits) return invalid("phone number is too short", input);
  if (digits > kMaxDigits) return invalid("phone number is too long", input);
  return PhoneNumber{"+" + s.substr(start)};
}

}  // namespace pulse
