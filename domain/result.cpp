#include "domain/result.h"

#include <array>

namespace pulse {

namespace {
constexpr std::array<std::pair<Errc, std::string_view>, 9> kNames{{
    {Errc::validation, "validation"},
    {Errc::unauthorized, "unauthorized"},
    {Errc::forbidden, "forbidden"},
    {Errc::not_found, "not_found"},
    {Errc::conflict, "conflict"},
    {Errc::rate_limited, "rate_limited"},
    {Errc::quota_exceeded, "quota_exceeded"},
    {Errc::unavailable, "unavailable"},
    {Errc::internal, "internal"},
}};
}  // namespace

std::string_view to_string(Errc code) {
  for (auto& [c, n] : kNames)
    if (c == code) return n;
  return "internal";
}

bool errc_from_string(std::string_view s, Errc& out) {
  for (auto& [c, n] : kNames)
    if (n == s) {
      out = c;
      return true;
    }
  return false;
}

}  // namespace pulse

#include "domain/plans.h"

namespace pulse {

std::string_view to_string(Plan p) {
  switch (p) {
    case Plan::free:
      return "free";
    case Plan::pro:
      return "pro";
    case Plan::enterprise:
      return "enterprise";
  }
  return "free";
}

std::optional<Plan> plan_from_string(std::string_view s) {
  if (s == "free") return Plan::free;
  if (s == "pro") return Plan::pro;
  if (s == "enterprise") return Plan::enterprise;
  return std::nullopt;
}

}  // namespace pulse
