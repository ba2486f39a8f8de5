#pragma once
// std::visit over a set of lambdas: std::visit(Overloaded{[](const A&) {…}, …}, v).

namespace pulse {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
// C++20 deduces this for aggregates; Clang before 17 (clang-tidy 14) needs the guide.
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace pulse
