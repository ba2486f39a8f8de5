#include "domain/time.h"

#include <cstdint>

#include "fmt/format.h"

namespace pulse {

namespace {

// Howard Hinnant's civil-date algorithms (proleptic Gregorian calendar), so that formatting
// and parsing never depend on the C library's time zone or locale state.
constexpr int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);                 // [0, 399]
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            // [0, 146096]
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t year;
  unsigned month;
  unsigned day;
};

constexpr Civil civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);                    // [0, 146096]
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);  // [0, 365]
  const unsigned mp = (5 * doy + 2) / 153;                       // [0, 11]
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;               // [1, 31]
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;                  // [1, 12]
  return Civil{y + (m <= 2), m, d};
}

static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(civil_from_days(0).year == 1970);

constexpr bool is_leap(int64_t y) {
  return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

constexpr unsigned days_in_month(int64_t y, unsigned m) {
  constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

constexpr int64_t kMsPerDay = 86'400'000;
constexpr int64_t kMinMs = days_from_civil(0, 1, 1) * kMsPerDay;
constexpr int64_t kMaxMs = days_from_civil(10000, 1, 1) * kMsPerDay - 1;

int64_t floor_div(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// Reads exactly `n` ASCII digits at `pos`; false when any is missing or not a digit.
bool read_digits(std::string_view s, size_t& pos, size_t n, int& out) {
  if (s.size() < pos + n) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  out = v;
  return true;
}

bool expect(std::string_view s, size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

std::string format_iso8601(TimePoint t) {
  const int64_t ms = to_unix_ms(t);
  const int64_t days = floor_div(ms, kMsPerDay);
  const int64_t in_day = ms - days * kMsPerDay;  // [0, kMsPerDay)
  const Civil c = civil_from_days(days);
  if (c.year >= 0 && c.year <= 9999) {
    // Hot (every read-model value carries timestamps): digits written directly.
    char buf[] = "0000-00-00T00:00:00.000Z";  // 24 characters and a NUL
    auto put = [&buf](int at, int64_t v, int width) {
      for (int i = at + width - 1; i >= at; --i, v /= 10) buf[i] = static_cast<char>('0' + v % 10);
    };
    put(0, c.year, 4);
    put(5, c.month, 2);
    put(8, c.day, 2);
    put(11, in_day / 3'600'000, 2);
    put(14, in_day / 60'000 % 60, 2);
    put(17, in_day / 1000 % 60, 2);
    put(20, in_day % 1000, 3);
    return std::string(buf, 24);
  }
  // Years outside 0000..9999 (which parse_iso8601 never yields) come out wider, not wrong.
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", c.year, c.month, c.day,
                     in_day / 3'600'000, in_day / 60'000 % 60, in_day / 1000 % 60, in_day % 1000);
}

std::optional<TimePoint> parse_iso8601(std::string_view s) {
  size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(s, pos, 4, year) || !expect(s, pos, '-') || !read_digits(s, pos, 2, month) ||
      !expect(s, pos, '-') || !read_digits(s, pos, 2, day) || !expect(s, pos, 'T') ||
      !read_digits(s, pos, 2, hour) || !expect(s, pos, ':') || !read_digits(s, pos, 2, minute) ||
      !expect(s, pos, ':') || !read_digits(s, pos, 2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12) return std::nullopt;
  if (day < 1 || static_cast<unsigned>(day) > days_in_month(year, static_cast<unsigned>(month))) {
    return std::nullopt;
  }
  // Leap seconds (":60") are rejected: sys_time cannot represent them.
  if (hour > 23 || minute > 59 || second > 59) return std::nullopt;

  int64_t millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const size_t start = pos;
    int64_t scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      millis += (s[pos] - '0') * scale;  // digits beyond milliseconds are truncated
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }

  int64_t offset_minutes = 0;
  if (pos >= s.size()) return std::nullopt;
  if (s[pos] == 'Z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    const int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int oh = 0, om = 0;
    if (!read_digits(s, pos, 2, oh)) return std::nullopt;
    if (pos < s.size() && s[pos] == ':') ++pos;
    if (!read_digits(s, pos, 2, om)) return std::nullopt;
    if (oh > 23 || om > 59) return std::nullopt;
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;

  const int64_t days =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const int64_t local_ms =
      days * kMsPerDay + (hour * 3600 + minute * 60 + second) * int64_t{1000} + millis;
  const int64_t utc_ms = local_ms - offset_minutes * 60'000;
  // Keep the result formattable as a four-digit year.
  if (utc_ms < kMinMs || utc_ms > kMaxMs) return std::nullopt;
  return from_unix_ms(utc_ms);
}

}  // namespace pulse
