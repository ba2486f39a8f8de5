#pragma once
// The routes of the HTTP server, registered through one object that also remembers them, so
// that a request for a known path with a method it does not take is answered 405 with Allow
// (RFC 9110 §15.5.6) instead of 404.
#include <httplib.h>

#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pulse::http {

class Router {
 public:
  explicit Router(httplib::Server& server) : server_(server) {}

  Router& Get(const std::string& pattern, httplib::Server::Handler h) {
    return add("GET", pattern, std::move(h));
  }
  Router& Post(const std::string& pattern, httplib::Server::Handler h) {
    return add("POST", pattern, std::move(h));
  }
  Router& Put(const std::string& pattern, httplib::Server::Handler h) {
    return add("PUT", pattern, std::move(h));
  }
  Router& Patch(const std::string& pattern, httplib::Server::Handler h) {
    return add("PATCH", pattern, std::move(h));
  }
  Router& Delete(const std::string& pattern, httplib::Server::Handler h) {
    return add("DELETE", pattern, std::move(h));
  }

  // The methods some route takes for `path`, as an Allow header's value ("GET, HEAD, POST"; a
  // GET route takes HEAD too); empty when no route matches the path at all.
  std::string allowed(const std::string& path) const;

 private:
  Router& add(std::string_view method, const std::string& pattern, httplib::Server::Handler h);

  httplib::Server& server_;
  std::vector<std::pair<std::string, std::regex>> routes_;  // method, pattern
};

}  // namespace pulse::http
