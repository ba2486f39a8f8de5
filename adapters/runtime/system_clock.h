#pragma once
#include <chrono>

#include "domain/time.h"

namespace pulse::runtime {

class SystemTimeSource final : public TimeSource {
 public:
  TimePoint now() const override {
    return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
  }
};

}  // namespace pulse::runtime
