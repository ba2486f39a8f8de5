#include "adapters/webhooks/url.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <uriparser/Uri.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <memory>
#include <vector>

#include "fmt/format.h"

namespace pulse::webhooks {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view text_of(const UriTextRangeA& r) {
  if (!r.first || !r.afterLast) return {};
  return {r.first, static_cast<size_t>(r.afterLast - r.first)};
}

struct UriDeleter {
  void operator()(UriUriA* u) const {
    uriFreeUriMembersA(u);
    delete u;
  }
};

// A block of a special-purpose registry: the first `bits` bits of `prefix`.
template <size_t N>
struct Block {
  std::array<uint8_t, N> prefix;
  int bits;
  std::string_view name;
};

template <size_t N>
bool within(const uint8_t* a, const Block<N>& b) {
  int bits = b.bits;
  for (size_t i = 0; bits > 0; ++i, bits -= 8) {
    const auto mask = static_cast<uint8_t>(bits >= 8 ? 0xFF : 0xFF << (8 - bits));
    if ((a[i] & mask) != (b.prefix[i] & mask)) return false;
  }
  return true;
}

// IANA IPv4 Special-Purpose Address Registry, the entries that are not globally reachable,
// with multicast (224.0.0.0/4, its own registry) added. Deliberately wider than the registry
// in two places: all of 192.0.0.0/24 (the registry allows its anycast 192.0.0.9 and
// 192.0.0.10, no webhook target) and the deprecated 6to4 relay anycast 192.88.99.0/24.
// AS112 (192.31.196.0/24, 192.175.48.0/24) and AMT (192.52.193.0/24) are globally reachable.
constexpr Block<4> kIpv4Blocks[] = {
    {{0, 0, 0, 0}, 8, "\"this network\" (0.0.0.0/8)"},
    {{10, 0, 0, 0}, 8, "private-use (10.0.0.0/8)"},
    {{100, 64, 0, 0}, 10, "shared address space (100.64.0.0/10)"},
    {{127, 0, 0, 0}, 8, "loopback (127.0.0.0/8)"},
    {{169, 254, 0, 0}, 16, "link-local (169.254.0.0/16)"},
    {{172, 16, 0, 0}, 12, "private-use (172.16.0.0/12)"},
    {{192, 0, 0, 0}, 24, "IETF protocol assignments (192.0.0.0/24)"},
    {{192, 0, 2, 0}, 24, "documentation (192.0.2.0/24)"},
    {{192, 88, 99, 0}, 24, "deprecated 6to4 relay anycast (192.88.99.0/24)"},
    {{192, 168, 0, 0}, 16, "private-use (192.168.0.0/16)"},
    {{198, 18, 0, 0}, 15, "benchmarking (198.18.0.0/15)"},
    {{198, 51, 100, 0}, 24, "documentation (198.51.100.0/24)"},
    {{203, 0, 113, 0}, 24, "documentation (203.0.113.0/24)"},
    {{224, 0, 0, 0}, 4, "multicast (224.0.0.0/4)"},
    {{240, 0, 0, 0}, 4, "reserved (240.0.0.0/4)"},
    {{255, 255, 255, 255}, 32, "limited broadcast (255.255.255.255/32)"},
};

// IANA IPv6 Special-Purpose Address Registry, the entries that are not globally reachable,
// for addresses inside global unicast (2000::/3; everything outside it is refused, which
// covers ::/128, ::1/128, 100::/64, 5f00::/16, fc00::/7, fe80::/10, the deprecated site-local
// fec0::/10 and multicast ff00::/8). All of 2001::/23 is refused but Teredo (2001::/32), whose
// IPv4 addresses are checked instead: the registry's few globally reachable entries there
// (anycast services, ORCHIDv2, DRIP) are no webhook targets.
constexpr Block<16> kIpv6Blocks[] = {
    {{0x20, 0x01, 0x0d, 0xb8}, 32, "documentation (2001:db8::/32)"},
    {{0x3f, 0xff}, 20, "documentation (3fff::/20)"},
    {{0x20, 0x01}, 23, "IETF protocol assignments (2001::/23)"},
};

std::optional<std::string> special_v4(const uint8_t* a) {
  for (const auto& b : kIpv4Blocks)
    if (within(a, b)) return std::string(b.name);
  return std::nullopt;
}

// An IPv4 address carried inside an IPv6 one: refused when it is.
std::optional<std::string> embedded(std::string_view form, const uint8_t* v4) {
  auto why = special_v4(v4);
  if (!why) return std::nullopt;
  return fmt::format("{} of {}.{}.{}.{}: {}", form, v4[0], v4[1], v4[2], v4[3], *why);
}

std::optional<std::string> special_v6(const uint8_t* a) {
  constexpr Block<16> kMapped{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96, ""};
  constexpr Block<16> kCompatible{{}, 96, ""};
  constexpr Block<16> kNat64{{0x00, 0x64, 0xff, 0x9b}, 96, ""};
  constexpr Block<16> kLocalNat64{{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48, ""};
  constexpr Block<16> k6to4{{0x20, 0x02}, 16, ""};
  constexpr Block<16> kTeredo{{0x20, 0x01, 0x00, 0x00}, 32, ""};
  constexpr Block<16> kGlobalUnicast{{0x20}, 3, ""};
  if (within(a, kMapped)) return embedded("IPv4-mapped address", a + 12);
  if (within(a, kCompatible)) {
    // ::/128 and ::1/128 first: they are no IPv4-compatible addresses.
    if (std::all_of(a, a + 15, [](uint8_t b) { return b == 0; }))
      return std::string(a[15] == 1 ? "loopback (::1/128)" : "unspecified (::/128)");
    return embedded("IPv4-compatible address", a + 12);
  }
  if (within(a, kNat64)) return embedded("NAT64 address", a + 12);
  if (within(a, kLocalNat64)) return std::string("local-use NAT64 (64:ff9b:1::/48)");
  if (!within(a, kGlobalUnicast)) {
    if (a[0] == 0xff) return std::string("multicast (ff00::/8)");
    if ((a[0] & 0xfe) == 0xfc) return std::string("unique local (fc00::/7)");
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return std::string("link-local (fe80::/10)");
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return std::string("site-local (fec0::/10)");
    return std::string("not global unicast (outside 2000::/3)");
  }
  if (within(a, k6to4)) return embedded("6to4 address", a + 2);
  if (within(a, kTeredo)) {
    // The Teredo server's address in bits 32-63, the client's (inverted) in the last 32.
    if (auto why = embedded("Teredo server", a + 4)) return why;
    const std::array<uint8_t, 4> client = {
        static_cast<uint8_t>(~a[12]), static_cast<uint8_t>(~a[13]), static_cast<uint8_t>(~a[14]),
        static_cast<uint8_t>(~a[15])};
    return embedded("Teredo client", client.data());
  }
  for (const auto& b : kIpv6Blocks)
    if (within(a, b)) return std::string(b.name);
  return std::nullopt;
}

}  // namespace

std::string Url::origin() const {
  const bool v6 = host.find(':') != std::string::npos;
  return fmt::format("{}://{}{}{}:{}", scheme, v6 ? "[" : "", host, v6 ? "]" : "", port);
}

Result<Url> parse_url(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return validation_error("Invalid webhook URL", fmt::format("{}: {}", why, text));
  };
  if (text.size() > 2048) return validation_error("Invalid webhook URL", "at most 2048 characters");
  std::unique_ptr<UriUriA, UriDeleter> uri(new UriUriA{});
  const char* error_at = nullptr;
  if (uriParseSingleUriExA(uri.get(), text.data(), text.data() + text.size(), &error_at) !=
      URI_SUCCESS) {
    // The members are left empty on failure; nothing to free but the struct.
    delete uri.release();
    return bad("not a URL");
  }
  Url u;
  u.scheme = lower(text_of(uri->scheme));
  if (u.scheme.empty()) return bad("expected http:// or https://");
  if (u.scheme != "http" && u.scheme != "https") return bad("only http and https are allowed");
  if (uri->userInfo.first) return bad("credentials in the URL");
  if (uri->hostData.ipFuture.first) return bad("malformed host");
  u.host = lower(text_of(uri->hostText));
  if (u.host.empty()) return bad("no host");
  // A registered name is a DNS name: letters, digits, '-', '_' and dots (no percent-encoding).
  if (!uri->hostData.ip4 && !uri->hostData.ip6)
    for (char c : u.host)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_'))
        return bad("malformed host");
  u.port = u.scheme == "https" ? 443 : 80;
  if (const auto port = text_of(uri->portText); !port.empty()) {
    int p = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc{} || end != port.data() + port.size() || p < 1 || p > 65535)
      return bad("malformed port");
    u.port = p;
  }
  for (auto* s = uri->pathHead; s; s = s->next) {
    u.target += '/';
    u.target += text_of(s->text);
  }
  if (u.target.empty()) u.target = "/";
  if (uri->query.first) u.target += "?" + std::string(text_of(uri->query));
  return u;
}

std::optional<std::string> special_purpose(std::string_view ip_text) {
  const std::string ip(ip_text);
  std::array<uint8_t, 16> bytes{};
  if (inet_pton(AF_INET, ip.c_str(), bytes.data()) == 1) return special_v4(bytes.data());
  if (inet_pton(AF_INET6, ip.c_str(), bytes.data()) == 1) return special_v6(bytes.data());
  return std::string("not an IP address");
}

bool is_private_address(std::string_view ip) {
  return special_purpose(ip).has_value();
}

Result<std::string> resolve_public(const Url& url, bool allow_private) {
  auto refused = [&](std::string_view address, const std::string& why) {
    return validation_error(
        "Webhook URL not allowed",
        fmt::format("{}{} is {}, not a globally reachable address (pulse serve "
                    "--allow-private-webhooks allows it, for development)",
                    url.host,
                    address == url.host ? "" : fmt::format(" resolves to {}, which", address),
                    why));
  };
  std::array<uint8_t, 16> literal{};
  if (inet_pton(AF_INET, url.host.c_str(), literal.data()) == 1 ||
      inet_pton(AF_INET6, url.host.c_str(), literal.data()) == 1) {
    if (!allow_private)
      if (auto why = special_purpose(url.host)) return refused(url.host, *why);
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
  // Every address is checked, not only the one connected to: a host must not mix in a private
  // one for a later lookup to pick.
  if (!allow_private)
    for (const auto& a : addresses)
      if (auto why = special_purpose(a)) return refused(a, *why);
  return addresses.front();
}

}  // namespace pulse::webhooks
