// parse_csv on arbitrary bytes (a contact import file). Properties: records start on increasing
// lines, each has a field; when no record has an error, writing every field quoted and parsing
// that again gives the same fields.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "domain/csv.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

std::string quoted_csv(const std::vector<pulse::CsvRecord>& records) {
  std::string out;
  for (const auto& r : records) {
    for (size_t i = 0; i < r.fields.size(); ++i) {
      if (i > 0) out += ',';
      out += '"';
      for (char c : r.fields[i]) {
        if (c == '"') out += '"';
        out += c;
      }
      out += '"';
    }
    out += "\r\n";
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto records = pulse::parse_csv(input);
  if (!records) return 0;
  int64_t last_line = 0;
  bool any_error = false;
  for (const auto& r : *records) {
    PULSE_FUZZ_CHECK(r.line > last_line, input);
    PULSE_FUZZ_CHECK(!r.fields.empty(), input);
    last_line = r.line;
    any_error = any_error || !r.error.empty();
  }
  if (any_error) return 0;
  const std::string text = quoted_csv(*records);
  auto again = pulse::parse_csv(text);
  PULSE_FUZZ_CHECK(again && again->size() == records->size(), text);
  for (size_t i = 0; i < records->size(); ++i)
    PULSE_FUZZ_CHECK((*again)[i].fields == (*records)[i].fields && (*again)[i].error.empty(), text);
  return 0;
}
