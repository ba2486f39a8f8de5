// parse_phone on arbitrary text. Property: a number that parses is E.164 ("+", 8 to 15 digits,
// the first not 0), and its E.164 form parses to itself.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "domain/phone.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto phone = pulse::parse_phone(input);
  if (!phone) {
    PULSE_FUZZ_CHECK(!phone.error().details.empty());
    return 0;
  }
  const std::string& e164 = phone->e164;
  PULSE_FUZZ_CHECK(e164.size() >= 9 && e164.size() <= 16, e164);
  PULSE_FUZZ_CHECK(e164[0] == '+' && e164[1] >= '1' && e164[1] <= '9', e164);
  for (size_t i = 1; i < e164.size(); ++i) PULSE_FUZZ_CHECK(e164[i] >= '0' && e164[i] <= '9', e164);
  auto again = pulse::parse_phone(e164);
  PULSE_FUZZ_CHECK(again && *again == *phone, e164);
  return 0;
}
