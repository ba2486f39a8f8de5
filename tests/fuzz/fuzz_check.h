#pragma once
// The fuzz targets' property checks: a violated property is a finding, like a crash, so it
// prints what broke and aborts (libFuzzer then saves the input).
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace pulse::fuzz {

[[noreturn]] inline void violated(const char* property, std::string_view detail, const char* file,
                                  int line) {
  std::fprintf(stderr, "%s:%d: property violated: %s\n  %.*s\n", file, line, property,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

}  // namespace pulse::fuzz

// CHECK(cond) or CHECK(cond, detail): aborts with the condition's text when it does not hold.
#define PULSE_FUZZ_CHECK(cond, ...)                                                      \
  do {                                                                                   \
    if (!(cond))                                                                         \
      ::pulse::fuzz::violated(#cond, std::string_view{__VA_ARGS__}, __FILE__, __LINE__); \
  } while (0)
