#pragma once
// Time is injected: deciders and projectors only see the time carried by a command.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pulse {

using Millis = std::chrono::milliseconds;
using TimePoint = std::chrono::sys_time<Millis>;

inline int64_t to_unix_ms(TimePoint t) {
  return t.time_since_epoch().count();
}
inline TimePoint from_unix_ms(int64_t ms) {
  return TimePoint{Millis{ms}};
}

class TimeSource {
 public:
  virtual ~TimeSource() = default;
  virtual TimePoint now() const = 0;
};

// "2026-04-01T11:00:03.123Z" (UTC, millisecond precision, always the same width).
std::string format_iso8601(TimePoint t);
// Accepts "YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)"; nullopt when malformed.
std::optional<TimePoint> parse_iso8601(std::string_view s);

}  // namespace pulse
