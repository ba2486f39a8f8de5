#pragma once
// What a webhook request carries and where it may go: secrets, the two signatures (Standard
// Webhooks, and the reference's X-Pulse-Signature over the raw body), and the URL rules
// (http/https only; no loopback, private or link-local address unless allowed). No OpenSSL
// header here.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.h"

namespace pulse::webhooks {

// "whsec_" + base64 of 24 random bytes.
std::string new_secret();
// The HMAC key of a secret: the base64-decoded part after "whsec_" (Standard Webhooks).
std::optional<std::string> secret_key(std::string_view secret);
// "v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>".
std::string standard_signature(std::string_view secret, std::string_view id, int64_t timestamp,
                               std::string_view body);
// "sha256=<hex HMAC-SHA256(secret as written, body)>".
std::string body_signature(std::string_view secret, std::string_view body);

struct Url {
  std::string scheme;  // http | https
  std::string host;    // without brackets for IPv6 literals
  int port = 0;
  std::string target;          // path and query, "/" at least
  std::string origin() const;  // scheme://host:port, as httplib::Client takes it
};
// Only absolute http and https URLs with a host, at most 2048 characters.
Result<Url> parse_url(std::string_view text);

// True for loopback, private (RFC 1918, unique local), link-local, CGNAT, unspecified,
// multicast and broadcast addresses, IPv4 and IPv6 (v4-mapped included).
bool is_private_address(std::string_view ip);
// Resolves the host and returns the address to connect to; refuses (400) a host that resolves
// to a private address unless `allow_private`, and one that does not resolve.
Result<std::string> resolve_public(const Url& url, bool allow_private);

}  // namespace pulse::webhooks
