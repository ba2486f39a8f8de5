#pragma once
// In-memory limits of the HTTP layer (never in the log): token-bucket request rates per
// organisation, and the log-in's guard.
// Time comes from the injected TimeSource, so tests drive it without sleeping.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "adapters/service/login_guard.h"
#include "domain/plans.h"
#include "domain/time.h"

namespace pulse::http {

class RateLimiter {
 public:
  explicit RateLimiter(const TimeSource& clock) : clock_(clock) {}

  struct Decision {
    bool allowed = true;
    int64_t limit = kUnlimited;
    int64_t remaining = 0;
    int64_t reset_seconds = 0;  // until the bucket is full again
    int64_t retry_after = 0;    // seconds, when not allowed
  };

  // Takes one request from `key`'s bucket of `per_minute` (kUnlimited: always allowed).
  Decision take(const std::string& key, int64_t per_minute);

 private:
  struct Bucket {
    double tokens = 0;
    TimePoint updated;
  };
  const TimeSource& clock_;
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;
};

// The log-in's defences (throttle per address, lock-out per address and account, bounded
// password hashing): adapters/service/login_guard.h.
using LoginGuard = service::LoginGuard;

}  // namespace pulse::http
