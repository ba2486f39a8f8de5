#include "adapters/webhooks/signing.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <openssl/evp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "adapters/auth/crypto.h"
#include "fmt/format.h"

namespace pulse::webhooks {
namespace {

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t len = static_cast<size_t>(n);
  for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) --len;  // padding
  out.resize(len);
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::string new_secret() {
  std::string bytes;
  const auto hex = auth::random_hex(24);
  for (size_t i = 0; i < hex.size(); i += 2)
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return "whsec_" + auth::base64(bytes);
}

std::optional<std::string> secret_key(std::string_view secret) {
  if (!secret.starts_with("whsec_")) return std::nullopt;
  return base64_decode(secret.substr(6));
}

std::string standard_signature(std::string_view secret, std::string_view id, int64_t timestamp,
                               std::string_view body) {
  const auto key = secret_key(secret).value_or(std::string(secret));
  std::string signed_content = fmt::format("{}.{}.", id, timestamp);
  signed_content.append(body);
  return "v1," + auth::base64(auth::hmac_sha256(key, signed_content));
}

std::string body_signature(std::string_view secret, std::string_view body) {
  return "sha256=" + auth::to_hex(auth::hmac_sha256(secret, body));
}

std::string Url::origin() const {
  const bool v6 = host.find(':') != std::string::npos;
  return fmt::format("{}://{}{}{}:{}", scheme, v6 ? "[" : "", host, v6 ? "]" : "", port);
}

Result<Url> parse_url(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return validation_error("Invalid webhook URL", fmt::format("{}: {}", why, text));
  };
  if (text.size() > 2048) return validation_error("Invalid webhook URL", "at most 2048 characters");
  const auto sep = text.find("://");
  if (sep == std::string_view::npos) return bad("expected http:// or https://");
  Url u;
  u.scheme = lower(text.substr(0, sep));
  if (u.scheme != "http" && u.scheme != "https") return bad("only http and https are allowed");
  auto rest = text.substr(sep + 3);
  const auto path_at = rest.find_first_of("/?#");
  auto authority = rest.substr(0, path_at);
  u.target = path_at == std::string_view::npos ? "/" : std::string(rest.substr(path_at));
  if (auto hash = u.target.find('#'); hash != std::string::npos) u.target.resize(hash);
  if (u.target.empty() || u.target[0] != '/') u.target = "/" + u.target;
  if (authority.find('@') != std::string_view::npos) return bad("credentials in the URL");
  u.port = u.scheme == "https" ? 443 : 80;
  std::string_view port;
  if (authority.starts_with("[")) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return bad("unclosed IPv6 literal");
    u.host = std::string(authority.substr(1, close - 1));
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("malformed host");
      port = after.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    u.host = lower(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty()) return bad("no host");
  for (char c : u.host)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
          c == '_'))
      return bad("malformed host");
  if (!port.empty()) {
    int p = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc{} || end != port.data() + port.size() || p < 1 || p > 65535)
      return bad("malformed port");
    u.port = p;
  }
  return u;
}

bool is_private_address(std::string_view ip_text) {
  const std::string ip(ip_text);
  in_addr v4{};
  in6_addr v6{};
  auto private_v4 = [](const unsigned char* b) {
    return b[0] == 0 || b[0] == 10 || b[0] == 127 || (b[0] == 169 && b[1] == 254) ||
           (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) ||
           (b[0] == 100 && (b[1] & 0xc0) == 64) || b[0] >= 224;
  };
  if (inet_pton(AF_INET, ip.c_str(), &v4) == 1)
    return private_v4(reinterpret_cast<const unsigned char*>(&v4));
  if (inet_pton(AF_INET6, ip.c_str(), &v6) == 1) {
    const unsigned char* b = v6.s6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&v6) || IN6_IS_ADDR_V4COMPAT(&v6)) return private_v4(b + 12);
    if (IN6_IS_ADDR_LOOPBACK(&v6) || IN6_IS_ADDR_UNSPECIFIED(&v6)) return true;
    if ((b[0] & 0xfe) == 0xfc) return true;                  // fc00::/7 unique local
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;  // fe80::/10 link-local
    if (b[0] == 0xff) return true;                           // multicast
    return false;
  }
  return true;  // not an address: refuse
}

Result<std::string> resolve_public(const Url& url, bool allow_private) {
  in6_addr literal{};
  if (inet_pton(AF_INET, url.host.c_str(), &literal) == 1 ||
      inet_pton(AF_INET6, url.host.c_str(), &literal) == 1) {
    if (!allow_private && is_private_address(url.host))
      return validation_error(
          "Webhook URL not allowed",
          fmt::format("{} is a loopback, private or link-local address (pulse serve "
                      "--allow-private-webhooks allows them, for development)",
                      url.host));
    return url.host;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(url.host.c_str(), nullptr, &hints, &res) != 0 || !res)
    return validation_error("Webhook URL does not resolve",
                            fmt::format("{} has no address", url.host));
  std::vector<std::string> addresses;
  for (auto* a = res; a; a = a->ai_next) {
    char buf[INET6_ADDRSTRLEN] = {};
    const void* src =
        a->ai_family == AF_INET
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr);
    if (inet_ntop(a->ai_family, src, buf, sizeof buf)) addresses.emplace_back(buf);
  }
  freeaddrinfo(res);
  if (addresses.empty())
    return validation_error("Webhook URL does not resolve",
                            fmt::format("{} has no address", url.host));
  if (!allow_private)
    for (const auto& a : addresses)
      if (is_private_address(a))
        return validation_error(
            "Webhook URL not allowed",
            fmt::format("{} resolves to {}, a loopback, private or link-local address (pulse "
                        "serve --allow-private-webhooks allows them, for development)",
                        url.host, a));
  return addresses.front();
}

}  // namespace pulse::webhooks
