#include "adapters/http/router.h"

#include <array>
#include <string_view>

namespace pulse::http {

Router& Router::add(std::string_view method, const std::string& pattern,
                    httplib::Server::Handler h) {
  // httplib matches a route's pattern against the whole path (std::regex_match), as here.
  routes_.emplace_back(std::string(method), std::regex(pattern));
  if (method == "GET")
    server_.Get(pattern, std::move(h));
  else if (method == "POST")
    server_.Post(pattern, std::move(h));
  else if (method == "PUT")
    server_.Put(pattern, std::move(h));
  else if (method == "PATCH")
    server_.Patch(pattern, std::move(h));
  else
    server_.Delete(pattern, std::move(h));
  return *this;
}

std::string Router::allowed(const std::string& path) const {
  // In a fixed order, so the header is the same whatever order the routes were added in.
  constexpr std::array<std::string_view, 6> kOrder = {"GET", "HEAD",  "POST",
                                                      "PUT", "PATCH", "DELETE"};
  std::array<bool, kOrder.size()> takes{};
  for (const auto& [method, pattern] : routes_) {
    if (!std::regex_match(path, pattern)) continue;
    for (size_t i = 0; i < kOrder.size(); ++i)
      if (kOrder[i] == method || (method == "GET" && kOrder[i] == "HEAD")) takes[i] = true;
  }
  std::string out;
  for (size_t i = 0; i < kOrder.size(); ++i) {
    if (!takes[i]) continue;
    if (!out.empty()) out += ", ";
    out += kOrder[i];
  }
  return out;
}

}  // namespace pulse::http
