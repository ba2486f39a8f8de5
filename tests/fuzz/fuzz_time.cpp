// parse_iso8601 on arbitrary text. Property: a time that parses formats to the fixed-width
// "YYYY-MM-DDTHH:MM:SS.mmmZ", which parses back to the same instant.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "domain/time.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto t = pulse::parse_iso8601(input);
  if (!t) return 0;
  const std::string text = pulse::format_iso8601(*t);
  PULSE_FUZZ_CHECK(text.size() == 24 && text.back() == 'Z', text);
  auto again = pulse::parse_iso8601(text);
  PULSE_FUZZ_CHECK(again && *again == *t, text);
  return 0;
}
