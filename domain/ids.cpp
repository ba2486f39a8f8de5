#include "domain/ids.h"

#include <cassert>

namespace pulse {

namespace {

// Crockford base32, lower case: no i, l, o, u, so ids survive being read aloud.
constexpr std::string_view kAlphabet = "0123456789abcdefghjkmnpqrstvwxyz";
constexpr size_t kTimeChars = 10;    // 50 bits of unix milliseconds
constexpr size_t kEntropyChars = 6;  // 30 bits
constexpr size_t kIndexChars = 4;    // 20 bits
constexpr size_t kMinBody = kTimeChars + kEntropyChars;
constexpr size_t kMaxBody = kMinBody + 2 * kIndexChars;  // a grandchild id

int decode_char(char c) {
  const size_t i = kAlphabet.find(c);
  return i == std::string_view::npos ? -1 : static_cast<int>(i);
}

// Appends the low 5 * n bits of `v`, most significant first, so that string order is
// numeric order.
void append_base32(std::string& out, uint64_t v, size_t n) {
  for (size_t i = n; i-- > 0;) out.push_back(kAlphabet[(v >> (5 * i)) & 31]);
}

bool is_valid_body(std::string_view body) {
  if (body.size() < kMinBody || body.size() > kMaxBody) return false;
  for (char c : body)
    if (decode_char(c) < 0) return false;
  return true;
}

}  // namespace

std::string make_id(std::string_view prefix, TimePoint at, uint64_t entropy) {
  const int64_t ms = to_unix_ms(at);
  assert(ms >= 0 && ms < (int64_t{1} << 50));
  std::string out;
  out.reserve(prefix.size() + 1 + kMinBody);
  out.append(prefix);
  out.push_back('_');
  append_base32(out, static_cast<uint64_t>(ms), kTimeChars);
  append_base32(out, entropy, kEntropyChars);
  return out;
}

std::string derive_id(std::string_view prefix, std::string_view parent_id, uint32_t index) {
  assert(index < (uint32_t{1} << 20));
  const size_t sep = parent_id.find('_');
  assert(sep != std::string_view::npos);
  const std::string_view body = parent_id.substr(sep + 1);
  assert(body.size() + kIndexChars <= kMaxBody);
  std::string out;
  out.reserve(prefix.size() + 1 + body.size() + kIndexChars);
  out.append(prefix);
  out.push_back('_');
  out.append(body);
  append_base32(out, index, kIndexChars);
  return out;
}

bool is_valid_id(std::string_view prefix, std::string_view s) {
  if (s.size() <= prefix.size() || !s.starts_with(prefix) || s[prefix.size()] != '_') return false;
  return is_valid_body(s.substr(prefix.size() + 1));
}

std::optional<TimePoint> id_time(std::string_view id) {
  const size_t sep = id.find('_');
  if (sep == std::string_view::npos || sep == 0) return std::nullopt;
  const std::string_view body = id.substr(sep + 1);
  if (!is_valid_body(body)) return std::nullopt;
  int64_t ms = 0;
  for (size_t i = 0; i < kTimeChars; ++i) ms = (ms << 5) | decode_char(body[i]);
  return from_unix_ms(ms);
}

}  // namespace pulse
