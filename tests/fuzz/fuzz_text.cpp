// The UTF-8 and control-character rules for outside text (domain/text.h), and the JSON writer's
// strings, which echo such text back. Properties: sanitize_utf8 always yields valid UTF-8 and
// changes exactly the invalid inputs; utf8_sequence_length agrees with a plain reference
// decoder; a string written by JsonWriter is valid JSON that reads back as the sanitized text;
// an SMS body that analyze_body accepts is valid text of 1 to 1600 characters whose segment
// count fits its units.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "domain/json_writer.h"
#include "domain/message_body.h"
#include "domain/text.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// RFC 3629's table 3.1 of well-formed byte sequences, written out as ranges.
size_t reference_length(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  auto in = [&](size_t k, unsigned lo, unsigned hi) {
    return i + k < s.size() && at(k) >= lo && at(k) <= hi;
  };
  const unsigned c = at(0);
  if (c <= 0x7F) return 1;
  if (c >= 0xC2 && c <= 0xDF) return in(1, 0x80, 0xBF) ? 2 : 0;
  if (c == 0xE0) return in(1, 0xA0, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF)
    return in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
  if (c == 0xED) return in(1, 0x80, 0x9F) && in(2, 0x80, 0xBF) ? 3 : 0;
  if (c == 0xF0) return in(1, 0x90, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3)
    return in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  if (c == 0xF4) return in(1, 0x80, 0x8F) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (size_t i = 0; i < input.size(); ++i)
    PULSE_FUZZ_CHECK(pulse::utf8_sequence_length(input, i) == reference_length(input, i), input);

  const bool valid = pulse::valid_utf8(input);
  const std::string clean = pulse::sanitize_utf8(input);
  PULSE_FUZZ_CHECK(pulse::valid_utf8(clean), input);
  PULSE_FUZZ_CHECK(valid == (clean == input), input);
  PULSE_FUZZ_CHECK(pulse::sanitize_utf8(clean) == clean, input);

  for (auto kind : {pulse::TextKind::single_line, pulse::TextKind::multi_line}) {
    const size_t at = pulse::find_control_character(input, kind);
    auto st = pulse::check_text("field", input, kind);
    PULSE_FUZZ_CHECK(st.ok() == (valid && at == std::string_view::npos), input);
    if (!st.ok()) PULSE_FUZZ_CHECK(pulse::valid_utf8(st.error().details), st.error().details);
  }

  if (auto body = pulse::analyze_body(input)) {
    PULSE_FUZZ_CHECK(pulse::check_text("message", input, pulse::TextKind::multi_line).ok(), input);
    PULSE_FUZZ_CHECK(body->characters >= 1 && body->characters <= pulse::kMaxMessageChars, input);
    PULSE_FUZZ_CHECK(body->units >= body->characters, input);
    const bool gsm = body->encoding == pulse::SmsEncoding::gsm7;
    const int32_t single = gsm ? 160 : 70, per = gsm ? 153 : 67;
    if (body->units <= single)
      PULSE_FUZZ_CHECK(body->segments == 1, input);
    else
      PULSE_FUZZ_CHECK(body->segments >= (body->units + per - 1) / per &&
                           body->segments <= (body->units + per - 1) / per + body->units / per,
                       input);
  }

  std::string json;
  pulse::append_json_string(json, input);
  PULSE_FUZZ_CHECK(pulse::valid_utf8(json), json);
  static simdjson::dom::parser parser;
  std::string_view back;
  PULSE_FUZZ_CHECK(!parser.parse(json).get_string().get(back), json);
  PULSE_FUZZ_CHECK(back == clean, json);
  return 0;
}
