#pragma once
// Errors and checks that several use cases share.
#include <optional>
#include <string>

#include "domain/result.h"
#include "domain/time.h"

namespace pulse::service {

// 404 for something of the caller's organisation that does not exist (or is not its own).
Error not_found(std::string what);

// A read model's answer as a value: its error, `missing` when absent.
template <class V>
Result<V> present_or(Result<std::optional<V>> found, const Error& missing) {
  if (!found) return found.error();
  if (!*found) return missing;
  return std::move(**found);
}

// scheduledAt: absent means now; otherwise an ISO 8601 time within the allowed window.
Result<std::optional<TimePoint>> parse_schedule(const std::optional<std::string>& at,
                                                TimePoint now);

}  // namespace pulse::service
