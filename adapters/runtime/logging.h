#pragma once
// Operator-facing log lines on stderr: "2026-11-22T06:32:27.123Z pulse <component>: message".
// Never print a secret through it.
#include <chrono>
#include <cstdio>
#include <string_view>

#include "domain/time.h"
#include "fmt/format.h"

namespace pulse::runtime {

template <class... Args>
void log_line(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  const auto now = std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
  fmt::print(stderr, "{} pulse {}: {}\n", format_iso8601(now), component,
             fmt::format(f, std::forward<Args>(args)...));
  std::fflush(stderr);
}

}  // namespace pulse::runtime
