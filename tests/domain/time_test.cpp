#include "domain/time.h"

#include <doctest/doctest.h>

namespace pulse {
namespace {

// 2026-04-01T11:00:03.123Z, computed independently (20544 days since the epoch).
constexpr int64_t kApril1st = (20544LL * 86400 + 11 * 3600 + 3) * 1000 + 123;

TEST_CASE("format_iso8601 prints UTC with three millisecond digits") {
  CHECK(format_iso8601(from_unix_ms(0)) == "1970-01-01T00:00:00.000Z");
  CHECK(format_iso8601(from_unix_ms(kApril1st)) == "2026-04-01T11:00:03.123Z");
  CHECK(format_iso8601(from_unix_ms(951782400000)) == "2000-02-29T00:00:00.000Z");
  CHECK(format_iso8601(from_unix_ms(1)) == "1970-01-01T00:00:00.001Z");
  CHECK(format_iso8601(from_unix_ms(-1)) == "1969-12-31T23:59:59.999Z");
  CHECK(format_iso8601(from_unix_ms(253402300799999)) == "9999-12-31T23:59:59.999Z");
}

TEST_CASE("parse_iso8601 accepts Z, offsets and fractions") {
  CHECK(parse_iso8601("2026-04-01T11:00:03.123Z") == from_unix_ms(kApril1st));
  CHECK(parse_iso8601("2026-04-01T11:00:03Z") == from_unix_ms(kApril1st - 123));
  CHECK(parse_iso8601("2026-04-01T11:00:03.1Z") == from_unix_ms(kApril1st - 23));
  // Digits beyond milliseconds are truncated, not rounded.
  CHECK(parse_iso8601("2026-04-01T11:00:03.123999999Z") == from_unix_ms(kApril1st));
  CHECK(parse_iso8601("2026-04-01T13:00:03.123+02:00") == from_unix_ms(kApril1st));
  CHECK(parse_iso8601("2026-04-01T13:00:03.123+0200") == from_unix_ms(kApril1st));
  CHECK(parse_iso8601("2026-04-01T05:30:03.123-05:30") == from_unix_ms(kApril1st));
  CHECK(parse_iso8601("2026-04-01T11:00:03.123+00:00") == from_unix_ms(kApril1st));
  // An offset can move the date across midnight and month ends.
  CHECK(parse_iso8601("2026-04-01T01:00:00+02:00") == parse_iso8601("2026-03-31T23:00:00Z"));
}

TEST_CASE("parse_iso8601 validates calendar ranges") {
  CHECK(parse_iso8601("2024-02-29T00:00:00Z").has_value());
  CHECK(parse_iso8601("2000-02-29T00:00:00Z").has_value());
  CHECK_FALSE(parse_iso8601("2026-02-29T00:00:00Z").has_value());
  CHECK_FALSE(parse_iso8601("1900-02-29T00:00:00Z").has_value());
  CHECK_FALSE(parse_iso8601("2026-04-31T00:00:00Z").has_value());
  CHECK_FALSE(parse_iso8601("2026-13-01T00:00:00Z").has_value());
  CHECK_FALSE(parse_iso8601("2026-00-01T00:00:00Z").has_value());
  CHECK_FALSE(parse_iso8601("2026-01-00T00:00:00Z").has_value());
  CHECK_FALSE(parse_iso8601("2026-01-01T24:00:00Z").has_value());
  CHECK_FALSE(parse_iso8601("2026-01-01T00:60:00Z").has_value());
  CHECK_FALSE(parse_iso8601("2026-01-01T00:00:60Z").has_value());
  CHECK_FALSE(parse_iso8601("2026-01-01T00:00:00+24:00").has_value());
  CHECK_FALSE(parse_iso8601("2026-01-01T00:00:00+01:60").has_value());
}

TEST_CASE("parse_iso8601 rejects malformed text") {
  for (const char* s :
       {"", "2026-04-01", "2026-04-01T11:00:03", "2026-04-01 11:00:03Z", "2026-4-01T11:00:03Z",
        "2026-04-01T11:00:03.Z", "2026-04-01T11:00:03.12", "2026-04-01T11:00:03ZZ",
        "2026-04-01T11:00:03+02", "2026-04-01T11:00:03+2:00", "2026-04-01T11:00:03+02:00x",
        " 2026-04-01T11:00:03Z", "2026-04-01T11:0a:03Z", "+2026-04-01T11:00:03Z"}) {
    CAPTURE(s);
    CHECK_FALSE(parse_iso8601(s).has_value());
  }
}

TEST_CASE("format and parse round-trip") {
  for (int64_t ms : {int64_t{0}, int64_t{1}, int64_t{-1}, kApril1st, int64_t{951782400000},
                     int64_t{4102444799999}, int64_t{-62167219200000}, int64_t{253402300799999}}) {
    CAPTURE(ms);
    const TimePoint t = from_unix_ms(ms);
    CHECK(parse_iso8601(format_iso8601(t)) == t);
  }
  // Every day for a few centuries, including all leap-year rules.
  for (int64_t day = -50000; day < 150000; day += 7) {
    const TimePoint t = from_unix_ms(day * 86'400'000 + 45'296'789);
    REQUIRE(parse_iso8601(format_iso8601(t)) == t);
  }
}

TEST_CASE("parse_iso8601 refuses instants outside years 0000..9999") {
  CHECK(format_iso8601(*parse_iso8601("0000-01-01T00:00:00Z")) == "0000-01-01T00:00:00.000Z");
  CHECK_FALSE(parse_iso8601("0000-01-01T00:00:00+01:00").has_value());
  CHECK_FALSE(parse_iso8601("9999-12-31T23:00:00-01:00").has_value());
}

}  // namespace
}  // namespace pulse
