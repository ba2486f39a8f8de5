#include "domain/json_writer.h"

#include <cassert>
#include <cmath>
#include <cstring>
#include <iterator>

#include "domain/text.h"
#include "fmt/format.h"

namespace pulse {

namespace {
// Bytes copied as they are: printable ASCII but '"' and '\\'. The others are escaped, or (from
// 0x80) checked to start a valid UTF-8 sequence.
bool needs_escape(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
}

// True when one of the 8 bytes of `w` needs a look (< 0x20, '"', '\\' or >= 0x80): the classic
// "has a zero byte" / "has a byte less than n" bit tricks, exact for "any".
bool word_needs_escape(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  const uint64_t quote = w ^ (kOnes * '"'), backslash = w ^ (kOnes * '\\');
  return (((w - kOnes * 0x20) & ~w) | ((quote - kOnes) & ~quote) |
          ((backslash - kOnes) & ~backslash) | w) &
         kHigh;
}

// The length of the prefix of `s` from `i` that needs no escaping.
size_t plain_run(std::string_view s, size_t i) {
  while (i + 8 <= s.size()) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if (word_needs_escape(w)) break;
    i += 8;
  }
  while (i < s.size() && !needs_escape(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}
}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  // Runs of characters that need no escaping are copied at once (the common case: all of it).
  size_t i = 0;
  while (i < s.size()) {
    const size_t run = plain_run(s, i);
    out.append(s.data() + i, run - i);
    if (run == s.size()) break;
    i = run + 1;
    const auto c = static_cast<unsigned char>(s[run]);
    if (c >= 0x80) {
      // Valid UTF-8 is copied; any other byte becomes U+FFFD, so the output is always valid
      // JSON text (RFC 8259 requires UTF-8) whatever bytes a caller passed in.
      if (const auto n = utf8_sequence_length(s, run); n > 0) {
        out.append(s.data() + run, n);
        i = run + n;
      } else {
        out += "\xEF\xBF\xBD";
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);  // c < 0x20
    }
  }
  out.push_back('"');
}

void JsonWriter::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (first_.empty()) {
    assert(out_.empty() && "only one top-level JSON value");
    return;
  }
  if (!first_.back()) out_.push_back(',');
  first_.back() = false;
}

JsonWriter& JsonWriter::begin_object() {
  separate();
  out_.push_back('{');
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  assert(!first_.empty() && !after_key_);
  first_.pop_back();
  out_.push_back('}');
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  separate();
  out_.push_back('[');
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  assert(!first_.empty() && !after_key_);
  first_.pop_back();
  out_.push_back(']');
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view k) {
  assert(!first_.empty() && !after_key_);
  separate();
  append_json_string(out_, k);
  out_.push_back(':');
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view s) {
  separate();
  append_json_string(out_, s);
  return *this;
}

JsonWriter& JsonWriter::value(int64_t n) {
  separate();
  const fmt::format_int digits(n);
  out_.append(digits.data(), digits.size());
  return *this;
}

JsonWriter& JsonWriter::value(double d) {
  // JSON has no NaN or infinity.
  if (!std::isfinite(d)) return null();
  separate();
  // fmt's "{}" is the shortest representation that round-trips, e.g. 0.1 -> "0.1", 1.0 -> "1".
  fmt::format_to(std::back_inserter(out_), "{}", d);
  return *this;
}

JsonWriter& JsonWriter::value(bool b) {
  separate();
  out_ += b ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::null() {
  separate();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::raw(std::string_view raw) {
  separate();
  out_.append(raw);
  return *this;
}

}  // namespace pulse
