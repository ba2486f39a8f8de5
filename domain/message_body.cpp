#include "domain/message_body.h"

#include "domain/text.h"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "fmt/format.h"

namespace pulse {

namespace {

// The GSM 03.38 (3GPP TS 23.038) default alphabet, by septet value. 0x1B is the escape to
// the extension table, not a character: gsm_septets() refuses it.
// clang-format off
constexpr std::array<char32_t, 128> kGsmBasic = {
    U'@', U'£', U'$', U'¥', U'è', U'é', U'ù', U'ì', U'ò', U'Ç', U'\n', U'Ø', U'ø', U'\r', U'Å', U'å',
    U'Δ', U'_', U'Φ', U'Γ', U'Λ', U'Ω', U'Π', U'Ψ', U'Σ', U'Θ', U'Ξ', 0x1B, U'Æ', U'æ', U'ß', U'É',
    U' ', U'!', U'"', U'#', U'¤', U'%', U'&', U'\'', U'(', U')', U'*', U'+', U',', U'-', U'.', U'/',
    U'0', U'1', U'2', U'3', U'4', U'5', U'6', U'7', U'8', U'9', U':', U';', U'<', U'=', U'>', U'?',
    U'¡', U'A', U'B', U'C', U'D', U'E', U'F', U'G', U'H', U'I', U'J', U'K', U'L', U'M', U'N', U'O',
    U'P', U'Q', U'R', U'S', U'T', U'U', U'V', U'W', U'X', U'Y', U'Z', U'Ä', U'Ö', U'Ñ', U'Ü', U'§',
    U'¿', U'a', U'b', U'c', U'd', U'e', U'f', U'g', U'h', U'i', U'j', U'k', U'l', U'm', U'n', U'o',
    U'p', U'q', U'r', U's', U't', U'u', U'v', U'w', U'x', U'y', U'z', U'ä', U'ö', U'ñ', U'ü', U'à',
};
// clang-format on

// The extension table: ESC + one septet, so each costs two septets.
constexpr std::array<char32_t, 10> kGsmExtension = {U'\f', U'^', U'{', U'}', U'\\',
                                                    U'[',  U'~', U']', U'|', U'€'};

// Septets each ASCII code point costs, from the tables above: most bodies are ASCII, and a
// linear search of the tables per character dominated the cost of a 500-recipient send.
constexpr std::array<uint8_t, 128> kAsciiSeptets = [] {
  std::array<uint8_t, 128> t{};
  for (const char32_t c : kGsmBasic)
    if (c < 128 && c != 0x1B) t[c] = 1;
  for (const char32_t c : kGsmExtension)
    if (c < 128) t[c] = 2;
  return t;
}();

// Septets a code point costs in GSM-7, or 0 when it has no GSM-7 form.
int gsm_septets(char32_t c) {
  if (c < 128) return kAsciiSeptets[c];
  if (std::find(kGsmBasic.begin(), kGsmBasic.end(), c) != kGsmBasic.end()) return 1;
  if (std::find(kGsmExtension.begin(), kGsmExtension.end(), c) != kGsmExtension.end()) return 2;
  return 0;
}

bool is_unicode_space(char32_t c) {
  return c == U' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool decode_utf8(std::string_view s, std::vector<char32_t>& out) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if (b0 < 0x80) {
      out.push_back(b0);
      ++i;
      continue;
    } else if ((b0 & 0xE0) == 0xC0) {
      len = 2, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
      return false;  // a continuation byte, or 0xF8..0xFF
    }
    if (s.size() - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    out.push_back(cp);
    i += len;
  }
  return true;
}

// Segments of a concatenated SMS, given each character's cost in units. A character is never
// split across two segments (an ESC pair or a surrogate pair stays whole), as handsets do, so
// this can be one more than ceil(units / per_segment).
int32_t count_segments(const std::vector<char32_t>& cps, int32_t units, int32_t single,
                       int32_t per_segment, bool gsm) {
  if (units <= single) return 1;
  int32_t segments = 1;
  int32_t used = 0;
  for (const char32_t c : cps) {
    const int32_t cost = gsm ? gsm_septets(c) : (c > 0xFFFF ? 2 : 1);
    if (used + cost > per_segment) {
      ++segments;
      used = 0;
    }
    used += cost;
  }
  return segments;
}

}  // namespace

std::string_view to_string(SmsEncoding e) {
  switch (e) {
    case SmsEncoding::gsm7:
      return "GSM-7";
    case SmsEncoding::ucs2:
      return "UCS-2";
  }
  return "GSM-7";
}

Result<BodyInfo> analyze_body(std::string_view utf8) {
  std::vector<char32_t> cps;
  cps.reserve(utf8.size());
  if (!decode_utf8(utf8, cps))
    return validation_error("Invalid message", "message is not valid UTF-8");
  if (auto st = check_text("message", utf8, TextKind::multi_line); !st) return st.error();
  if (cps.empty()) return validation_error("Message body cannot be empty", "message is empty");
  if (std::all_of(cps.begin(), cps.end(), is_unicode_space)) {
    return validation_error("Message body cannot be empty", "message contains only whitespace");
  }
  const auto characters = static_cast<int32_t>(cps.size());
  if (cps.size() > static_cast<size_t>(kMaxMessageChars)) {
    return validation_error(
        "Message is too long",
        fmt::format("message has {} characters; the maximum is {}", characters, kMaxMessageChars));
  }

  BodyInfo info;
  info.characters = characters;
  int32_t septets = 0;
  bool gsm = true;
  for (const char32_t c : cps) {
    const int cost = gsm_septets(c);
    if (cost == 0) {
      gsm = false;
      break;
    }
    septets += cost;
  }
  if (gsm) {
    info.encoding = SmsEncoding::gsm7;
    info.units = septets;
    info.segments = count_segments(cps, septets, 160, 153, true);
  } else {
    int32_t utf16 = 0;
    for (const char32_t c : cps) utf16 += c > 0xFFFF ? 2 : 1;
    info.encoding = SmsEncoding::ucs2;
    info.units = utf16;
    info.segments = count_segments(cps, utf16, 70, 67, false);
  }
  return info;
}

}  // namespace pulse
