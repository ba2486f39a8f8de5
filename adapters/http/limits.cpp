#include "adapters/http/limits.h"

#include <algorithm>
#include <cmath>

namespace pulse::http {

RateLimiter::Decision RateLimiter::take(const std::string& key, int64_t per_minute) {
  Decision d;
  if (per_minute == kUnlimited) return d;
  d.limit = per_minute;
  const auto now = clock_.now();
  const double capacity = static_cast<double>(per_minute);
  const double per_ms = capacity / 60000.0;
  std::lock_guard lock(mu_);
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{capacity, now});
  auto& b = it->second;
  if (!fresh) {
    const auto elapsed = std::max<int64_t>(0, (now - b.updated).count());
    b.tokens = std::min(capacity, b.tokens + static_cast<double>(elapsed) * per_ms);
    b.updated = now;
  }
  if (per_minute > 0 && b.tokens >= 1.0) {
    b.tokens -= 1.0;
    d.allowed = true;
  } else {
    d.allowed = false;
    d.retry_after =
        per_minute > 0 ? static_cast<int64_t>(std::ceil((1.0 - b.tokens) / per_ms / 1000.0)) : 60;
    d.retry_after = std::max<int64_t>(1, d.retry_after);
  }
  d.remaining = static_cast<int64_t>(std::floor(b.tokens));
  d.reset_seconds = per_minute > 0
                        ? static_cast<int64_t>(std::ceil((capacity - b.tokens) / per_ms / 1000.0))
                        : 60;
  return d;
}

}  // namespace pulse::http
