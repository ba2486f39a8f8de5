#pragma once
// In-memory limits of the HTTP layer (never in the log): token-bucket request rates per
// organisation, and the login guard that slows down and then locks repeated failures.
// Time comes from the injected TimeSource, so tests drive it without sleeping.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

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

class LoginGuard {
 public:
  explicit LoginGuard(const TimeSource& clock) : clock_(clock) {}

  static constexpr int kFreeFailures = 3;   // then each attempt must wait 1, 2, 4, … s
  static constexpr int kLockFailures = 10;  // then the account is locked for kLock
  static constexpr Millis kLock{15 * 60 * 1000};

  // Seconds the caller must wait before trying `email` again (0: may try now).
  int64_t wait_seconds(const std::string& email);
  void failed(const std::string& email);
  void succeeded(const std::string& email);

 private:
  struct Entry {
    int failures = 0;
    TimePoint next_allowed;
  };
  const TimeSource& clock_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace pulse::http
