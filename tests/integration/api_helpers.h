#pragma once
// What the end-to-end suites do with the API's answers: parse a JSON body (a REQUIRE failure
// names the body), run the gateway simulator against a server, count the online devices.
#include <doctest/doctest.h>
#include <httplib.h>
#include <simdjson.h>

#include <string>
#include <string_view>
#include <vector>

#include "tests/integration/server_process.h"

namespace pulse::testing {

inline simdjson::dom::element parse(simdjson::dom::parser& parser, const std::string& body) {
  simdjson::dom::element doc;
  REQUIRE_MESSAGE(!parser.parse(body).get(doc), "not JSON: " << body);
  return doc;
}

// The command line of `pulse gateway-sim` against `server` with `a`'s key, plus `extra`.
inline std::vector<std::string> sim_args(const ServerProcess& server, const Account& a,
                                         std::vector<std::string> extra) {
  std::vector<std::string> args = {PULSE_BINARY, "gateway-sim", "--server", server.base_url(),
                                   "--api-key",  a.api_key,     "--quiet"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// Devices the API lists as online; -1 when it does not answer.
inline int online_devices(httplib::Client& c) {
  auto res = c.Get("/api/devices");
  if (!res || res->status != 200) return -1;
  simdjson::dom::parser parser;
  int n = 0;
  for (auto d : parse(parser, res->body).get_array())
    if (std::string_view(d["status"]) == "online") ++n;
  return n;
}

}  // namespace pulse::testing
