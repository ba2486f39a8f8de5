#pragma once
// Plans and their limits, as in the PulseSMS pricing table. Operators may override every limit
// in the server's configuration; kUnlimited means no limit.
#include <cstdint>
#include <optional>
#include <string_view>

namespace pulse {

enum class Plan { free, pro, enterprise };

std::string_view to_string(Plan p);
std::optional<Plan> plan_from_string(std::string_view s);

inline constexpr int64_t kUnlimited = -1;

struct PlanLimits {
  int64_t monthly_sms = kUnlimited;      // messages queued per UTC month
  int64_t organizations = kUnlimited;    // organisations a user may own
  int64_t api_keys = kUnlimited;         // active API keys per organisation
  int64_t send_per_minute = kUnlimited;  // POST /api/sms/send requests per organisation
  auto operator<=>(const PlanLimits&) const = default;
};

struct PlanTable {
  PlanLimits free{100, 1, 1, 10};
  PlanLimits pro{kUnlimited, 5, kUnlimited, 10};
  PlanLimits enterprise{kUnlimited, kUnlimited, kUnlimited, 10};
  const PlanLimits& operator[](Plan p) const {
    return p == Plan::free ? free : p == Plan::pro ? pro : enterprise;
  }
  PlanLimits& operator[](Plan p) {
    return p == Plan::free ? free : p == Plan::pro ? pro : enterprise;
  }
  auto operator<=>(const PlanTable&) const = default;
};

// True when `used` more would still be within `limit`.
inline bool within(int64_t limit, int64_t used) {
  return limit == kUnlimited || used <= limit;
}

}  // namespace pulse
