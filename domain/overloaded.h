#pragma once
// std::visit over a set of lambdas: std::visit(Overloaded{[](const A&) {…}, …}, v).

namespace pulse {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};

}  // namespace pulse
