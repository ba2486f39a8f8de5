#include "adapters/http/router.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace pulse::http {

void Router::remember(std::string method, const std::string& pattern) {
  // httplib matches a route's pattern against the whole path (std::regex_match), as here.
  routes_.emplace_back(std::move(method), std::regex(pattern));
}

Router& Router::Get(const std::string& pattern, httplib::Server::Handler handler) {
  remember("GET", pattern);
  server_.Get(pattern, std::move(handler));
  return *this;
}

Router& Router::Post(const std::string& pattern, httplib::Server::Handler handler) {
  remember("POST", pattern);
  server_.Post(pattern, std::move(handler));
  return *this;
}

Router& Router::Put(const std::string& pattern, httplib::Server::Handler handler) {
  remember("PUT", pattern);
  server_.Put(pattern, std::move(handler));
  return *this;
}

Router& Router::Patch(const std::string& pattern, httplib::Server::Handler handler) {
  remember("PATCH", pattern);
  server_.Patch(pattern, std::move(handler));
  return *this;
}

Router& Router::Delete(const std::string& pattern, httplib::Server::Handler handler) {
  remember("DELETE", pattern);
  server_.Delete(pattern, std::move(handler));
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
