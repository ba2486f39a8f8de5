#pragma once
// A list of types, and the concept of being one of them: how a capability names its commands and
// events so that a visitor can route them as a group.
#include <type_traits>

namespace pulse {

template <class... Ts>
struct Types {};

template <class T, class List>
struct InList : std::false_type {};
template <class T, class... Ts>
struct InList<T, Types<Ts...>> : std::bool_constant<(std::is_same_v<T, Ts> || ...)> {};

// T is one of the list's types.
template <class T, class List>
concept OneOf = InList<std::remove_cvref_t<T>, List>::value;
// T is in none of the lists (another capability's record).
template <class T, class... Lists>
concept NoneOf = (!InList<std::remove_cvref_t<T>, Lists>::value && ...);

}  // namespace pulse
