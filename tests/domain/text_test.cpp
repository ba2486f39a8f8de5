#include "domain/text.h"

#include <doctest/doctest.h>

#include <string>

namespace pulse {
namespace {

TEST_CASE(
    "control characters are refused in one-line text, line breaks and tabs allowed in bodies") {
  for (int c = 0; c < 0x20; ++c) {
    const std::string s = std::string("a") + static_cast<char>(c) + "b";
    CHECK_MESSAGE(find_control_character(s, TextKind::single_line) == 1, c);
    const bool space = c == '\t' || c == '\n' || c == '\r';
    CHECK_MESSAGE((find_control_character(s, TextKind::multi_line) == 1) == !space, c);
  }
  CHECK(find_control_character("a\x7f", TextKind::multi_line) == 1);  // DEL
  CHECK(find_control_character("Zoë 日本 🙂 ~!", TextKind::single_line) == std::string::npos);
  CHECK(find_control_character("", TextKind::single_line) == std::string::npos);

  CHECK(check_text("name", "Front desk"));
  CHECK(check_text("message", "Hi\r\n\tthere", TextKind::multi_line));
  auto nul = check_text("email", std::string_view("a@x.com\0admin", 13));
  REQUIRE_FALSE(nul);
  CHECK(nul.error().code == Errc::validation);
  CHECK(nul.error().message == "Invalid email");
  CHECK(nul.error().details == "email contains the control character U+0000 at byte 7");
  CHECK_FALSE(check_text("name", "tab\there"));
  CHECK_FALSE(check_text("message", "bell\a", TextKind::multi_line));
  auto bad = check_text("name", "\xFF");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().details == "name is not valid UTF-8");
}

TEST_CASE("UTF-8 sequences are strict") {
  CHECK(utf8_sequence_length("a", 0) == 1);
  CHECK(utf8_sequence_length("é", 0) == 2);
  CHECK(utf8_sequence_length("€", 0) == 3);
  CHECK(utf8_sequence_length("😀", 0) == 4);
  CHECK(utf8_sequence_length("\xE2\x82", 0) == 0);  // cut short
  CHECK(utf8_sequence_length("\xC0\xAF", 0) == 0);  // overlong
  CHECK(utf8_sequence_length("\x80", 0) == 0);      // a lone continuation byte
  CHECK(sanitize_utf8("a\xFF"
                      "b") ==
        "a\xEF\xBF\xBD"
        "b");
}

}  // namespace
}  // namespace pulse
