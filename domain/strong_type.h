#pragma once
// Strong types so that an OrgId can't be passed where a CampaignId is wanted.
#include <compare>
#include <functional>
#include <string>
#include <utility>

namespace pulse {

template <class T, class Tag>
struct Named {
  T value{};
  constexpr Named() = default;
  constexpr explicit Named(T v) : value(std::move(v)) {}
  constexpr auto operator<=>(const Named&) const = default;
};

}  // namespace pulse

template <class T, class Tag>
struct std::hash<pulse::Named<T, Tag>> {
  size_t operator()(const pulse::Named<T, Tag>& n) const noexcept {
    return std::hash<T>{}(n.value);
  }
};
