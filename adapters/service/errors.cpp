#include "adapters/service/errors.h"

#include "commands/campaigns.h"

namespace pulse::service {

Error not_found(std::string what) {
  return Error{Errc::not_found, std::move(what), "It does not exist in this organization."};
}

Result<std::optional<TimePoint>> parse_schedule(const std::optional<std::string>& at,
                                                TimePoint now) {
  if (!at) return std::optional<TimePoint>{};
  auto when = parse_iso8601(*at);
  if (!when)
    return validation_error("Invalid scheduledAt", "an ISO 8601 time such as 2026-04-05T09:00:00Z");
  if (auto st = commands::check_schedule(*when, now); !st) return st.error();
  return std::optional<TimePoint>{when};
}

}  // namespace pulse::service
