#pragma once
// SMS bodies: 1..1600 characters (Unicode code points), GSM-7 or UCS-2, and segment counts.
#include <cstdint>
#include <string_view>

#include "domain/result.h"

namespace pulse {

enum class SmsEncoding { gsm7, ucs2 };
std::string_view to_string(SmsEncoding e);

inline constexpr int kMaxMessageChars = 1600;

struct BodyInfo {
  SmsEncoding encoding = SmsEncoding::gsm7;
  int32_t characters = 0;  // Unicode code points
  int32_t units = 0;       // septets for GSM-7 (extension chars count 2), UTF-16 units for UCS-2
  int32_t segments = 0;    // 160/153 for GSM-7, 70/67 for UCS-2
};

// Rejects invalid UTF-8, control characters but tabs and line breaks (domain/text.h), an empty
// (or whitespace-only) body and more than 1600 characters.
Result<BodyInfo> analyze_body(std::string_view utf8);

}  // namespace pulse
