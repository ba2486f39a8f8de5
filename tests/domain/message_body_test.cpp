#include "domain/message_body.h"

#include <doctest/doctest.h>

#include <string>

namespace pulse {
namespace {

BodyInfo analyze(std::string_view s) {
  auto r = analyze_body(s);
  REQUIRE_MESSAGE(r.ok(), r.error().details);
  return *r;
}

std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST_CASE("to_string(SmsEncoding)") {
  CHECK(to_string(SmsEncoding::gsm7) == "GSM-7");
  CHECK(to_string(SmsEncoding::ucs2) == "UCS-2");
}

TEST_CASE("GSM-7 segment boundaries: 160 single, 153 per part") {
  struct Case {
    int length;
    int segments;
  };
  for (const Case& c : {Case{1, 1}, Case{160, 1}, Case{161, 2}, Case{306, 2}, Case{307, 3},
                        Case{459, 3}, Case{460, 4}, Case{1600, 11}}) {
    CAPTURE(c.length);
    const BodyInfo info = analyze(std::string(static_cast<size_t>(c.length), 'a'));
    CHECK(info.encoding == SmsEncoding::gsm7);
    CHECK(info.characters == c.length);
    CHECK(info.units == c.length);
    CHECK(info.segments == c.segments);
  }
}

TEST_CASE("GSM-7 extension characters cost two septets") {
  BodyInfo euro = analyze("€");
  CHECK(euro.encoding == SmsEncoding::gsm7);
  CHECK(euro.characters == 1);
  CHECK(euro.units == 2);
  CHECK(euro.segments == 1);

  // The extension table's form feed is a control character, refused in bodies.
  BodyInfo ext = analyze("{}[]~\\|^€");
  CHECK(ext.encoding == SmsEncoding::gsm7);
  CHECK(ext.characters == 9);
  CHECK(ext.units == 18);

  CHECK(analyze(repeat("€", 80)).segments == 1);  // 160 septets
  CHECK(analyze(repeat("€", 81)).segments == 2);  // 162 septets
  // An escape pair is never split: 152 + 2 doesn't fit in 153, so the euro opens part 2,
  // which then overflows by one. ceil(306 / 153) would say 2.
  const BodyInfo straddle = analyze(std::string(152, 'a') + "€" + std::string(152, 'a'));
  CHECK(straddle.units == 306);
  CHECK(straddle.segments == 3);
}

TEST_CASE("GSM-7 basic set includes accented letters and Greek capitals") {
  const BodyInfo info = analyze("héllo");
  CHECK(info.encoding == SmsEncoding::gsm7);
  CHECK(info.characters == 5);
  CHECK(info.units == 5);
  const std::string whole_set =
      "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
      "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  const BodyInfo all = analyze(whole_set);
  CHECK(all.encoding == SmsEncoding::gsm7);
  CHECK(all.characters == 127);
  CHECK(all.units == 127);
  CHECK(all.segments == 1);
}

TEST_CASE("control characters are refused in bodies, but tabs and line breaks") {
  for (const std::string_view bad :
       {std::string_view("nul\0", 4), std::string_view("esc\x1b"), std::string_view("ff\f"),
        std::string_view("bell\a"), std::string_view("del\x7f")}) {
    auto r = analyze_body(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::validation);
    CHECK(r.error().message == "Invalid message");
  }
  CHECK(analyze("line\r\nbreak\tand tab").characters == 19);
}

TEST_CASE("characters outside GSM-7 switch the whole message to UCS-2") {
  CHECK(analyze("ça va").encoding == SmsEncoding::ucs2);
  CHECK(analyze("tab\there").encoding == SmsEncoding::ucs2);
  CHECK(analyze("back`tick").encoding == SmsEncoding::ucs2);

  const BodyInfo cjk = analyze("Hello 世界");
  CHECK(cjk.encoding == SmsEncoding::ucs2);
  CHECK(cjk.characters == 8);
  CHECK(cjk.units == 8);
  CHECK(cjk.segments == 1);

  // In UCS-2 the euro sign is a single unit.
  const BodyInfo mixed = analyze("€ 世");
  CHECK(mixed.units == 3);
}

TEST_CASE("astral characters take two UTF-16 units") {
  const BodyInfo emoji = analyze("😀");
  CHECK(emoji.encoding == SmsEncoding::ucs2);
  CHECK(emoji.characters == 1);
  CHECK(emoji.units == 2);
  CHECK(emoji.segments == 1);

  CHECK(analyze(repeat("😀", 35)).segments == 1);  // 70 units
  const BodyInfo over = analyze(repeat("😀", 36));
  CHECK(over.units == 72);
  CHECK(over.segments == 2);
  // A surrogate pair is never split: 33 pairs fill 66 of 67 units, the 34th opens part 2.
  const BodyInfo pairs = analyze(repeat("😀", 67));
  CHECK(pairs.characters == 67);
  CHECK(pairs.units == 134);
  CHECK(pairs.segments == 3);  // 33 + 33 + 1 pairs; ceil(134 / 67) would say 2
}

TEST_CASE("UCS-2 segment boundaries: 70 single, 67 per part") {
  struct Case {
    int length;
    int segments;
  };
  for (const Case& c : {Case{70, 1}, Case{71, 2}, Case{134, 2}, Case{135, 3}, Case{1600, 24}}) {
    CAPTURE(c.length);
    const BodyInfo info = analyze(repeat("ж", c.length));
    CHECK(info.encoding == SmsEncoding::ucs2);
    CHECK(info.characters == c.length);
    CHECK(info.units == c.length);
    CHECK(info.segments == c.segments);
  }
}

TEST_CASE("length limit is 1600 code points, not bytes") {
  CHECK(analyze(std::string(1600, 'a')).characters == 1600);
  CHECK(analyze(repeat("😀", 1600)).characters == 1600);  // 6400 bytes
  for (const std::string& body : {std::string(1601, 'a'), repeat("😀", 1601)}) {
    auto r = analyze_body(body);
    REQUIRE(!r.ok());
    CHECK(r.error().code == Errc::validation);
    CHECK(r.error().message == "Message is too long");
    CHECK(r.error().details == "message has 1601 characters; the maximum is 1600");
  }
}

TEST_CASE("empty and whitespace-only bodies are rejected") {
  for (const char* s : {"", " ", "\n\t \r", "\xC2\xA0", "\xE3\x80\x80 "}) {
    CAPTURE(s);
    auto r = analyze_body(s);
    REQUIRE(!r.ok());
    CHECK(r.error().code == Errc::validation);
    CHECK(r.error().message == "Message body cannot be empty");
  }
  CHECK(analyze_body("").error().details == "message is empty");
  CHECK(analyze_body("  ").error().details == "message contains only whitespace");
  CHECK(analyze(" x ").characters == 3);
}

TEST_CASE("invalid UTF-8 is rejected") {
  for (const char* s : {
           "\x80",              // lone continuation byte
           "abc\xC3",           // truncated sequence
           "\xC3\x28",          // bad continuation
           "\xC0\xAF",          // overlong '/'
           "\xE0\x80\xAF",      // overlong, 3 bytes
           "\xF0\x80\x80\xAF",  // overlong, 4 bytes
           "\xED\xA0\x80",      // U+D800, a surrogate
           "\xED\xBF\xBF",      // U+DFFF
           "\xF4\x90\x80\x80",  // U+110000
           "\xF8\x88\x80\x80\x80",
           "\xFF",
       }) {
    CAPTURE(s);
    auto r = analyze_body(s);
    REQUIRE(!r.ok());
    CHECK(r.error().code == Errc::validation);
    CHECK(r.error().message == "Invalid message");
    CHECK(r.error().details == "message is not valid UTF-8");
  }
  // The extremes of valid UTF-8 are accepted.
  CHECK(analyze("\xC2\x80").characters == 1);             // U+0080
  CHECK(analyze("\xEF\xBF\xBF").characters == 1);         // U+FFFF
  CHECK(analyze("\xF4\x8F\xBF\xBF").units == 2);          // U+10FFFF
  CHECK(analyze("\xED\x9F\xBF\xEE\x80\x80").units == 2);  // U+D7FF, U+E000
}

}  // namespace
}  // namespace pulse
