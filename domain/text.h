#pragma once
// Text that enters from outside (request bodies, path segments, CSV files, phones): the rules
// every input path applies, and the UTF-8 helpers they and the JSON writer share. Pure.
#include <cstddef>
#include <string>
#include <string_view>

#include "domain/result.h"

namespace pulse {

// The length of the valid UTF-8 sequence at s[i] (1 to 4), or 0 when none starts there: strict
// RFC 3629, so no overlong forms, no surrogates and nothing above U+10FFFF.
size_t utf8_sequence_length(std::string_view s, size_t i);
bool valid_utf8(std::string_view s);
// `s` with each invalid UTF-8 sequence replaced by U+FFFD (for echoing bad input back).
std::string sanitize_utf8(std::string_view s);

// Whether a text may hold line breaks and tabs: message bodies and templates may; names,
// addresses, senders and the like are one line.
enum class TextKind { single_line, multi_line };

// The first C0 control character (U+0000 to U+001F) or DEL (U+007F) in `s`, except '\t', '\n'
// and '\r' in multi-line text; npos when there is none.
size_t find_control_character(std::string_view s, TextKind kind);

// The rule for text from outside: valid UTF-8 without control characters (see above). A
// validation error "Invalid <field>" naming the character otherwise.
Status check_text(std::string_view field, std::string_view s,
                  TextKind kind = TextKind::single_line);

}  // namespace pulse
