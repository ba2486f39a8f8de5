#pragma once
// A clock that stands still until a test moves it (single-threaded tests; the webhook tests
// keep their own atomic one).
#include "domain/time.h"

namespace pulse::testing {

class FakeClock final : public TimeSource {
 public:
  TimePoint now() const override { return t; }
  void advance(Millis d) { t += d; }
  TimePoint t = from_unix_ms(1795329938000);
};

}  // namespace pulse::testing
