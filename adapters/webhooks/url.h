#pragma once
// Where a webhook may go: absolute http and https URLs (parsed by uriparser, RFC 3986), to
// addresses that are globally reachable. The address checks follow the IANA IPv4 and IPv6
// Special-Purpose Address Registries, and look inside every IPv6 form that carries an IPv4
// address (mapped, compatible, NAT64, 6to4, Teredo). No uriparser header here.
#include <optional>
#include <string>
#include <string_view>

#include "domain/result.h"

namespace pulse::webhooks {

struct Url {
  std::string scheme;  // http | https
  std::string host;    // lower case; without brackets for IPv6 literals
  int port = 0;
  std::string target;          // path and query, "/" at least
  std::string origin() const;  // scheme://host:port, as httplib::Client takes it
};
// Only absolute http and https URLs with a host, without user information, at most 2048
// characters.
Result<Url> parse_url(std::string_view text);

// The special-purpose block `ip` (IPv4 or IPv6 text) falls in when it is not globally
// reachable, e.g. "loopback (127.0.0.0/8)" or "6to4 of 10.0.0.1: private-use (10.0.0.0/8)";
// nullopt for a globally reachable address. Text that is no address is "not an IP address".
std::optional<std::string> special_purpose(std::string_view ip);
// True when special_purpose(ip) names a block: loopback, private, link-local, shared (CGNAT),
// documentation, benchmarking, reserved, multicast and the like, IPv4 and IPv6.
bool is_private_address(std::string_view ip);
// Resolves the host and returns the address to connect to; refuses (400) a host that resolves
// to an address that is not globally reachable unless `allow_private`, and one that does not
// resolve.
Result<std::string> resolve_public(const Url& url, bool allow_private);

}  // namespace pulse::webhooks
