#include "adapters/service/login_guard.h"

#include <arpa/inet.h>

#include <cassert>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <thread>

#include "fmt/format.h"

namespace pulse::service {

int64_t AddressThrottle::take(const std::string& address) {
  const auto now = clock_.now();
  const double per_ms = 1.0 / static_cast<double>(std::max<int64_t>(1, limits_.refill.count()));
  std::lock_guard lock(mu_);
  auto& b = buckets_.touch(address);
  if (b.tokens < 0) {
    b.tokens = limits_.burst;
  } else {
    const auto elapsed = std::max<int64_t>(0, (now - b.updated).count());
    b.tokens = std::min(limits_.burst, b.tokens + static_cast<double>(elapsed) * per_ms);
  }
  b.updated = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  const auto wait_ms = (1.0 - b.tokens) / per_ms;
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait_ms / 1000.0)));
}

size_t AddressThrottle::tracked() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

std::string LoginLockouts::key(const std::string& address, const std::string& email) {
  // An address never holds a NUL; the e-mail is normalised before it gets here.
  std::string k = address;
  k.push_back('\0');
  k += email;
  return k;
}

int64_t LoginLockouts::wait_seconds(const std::string& address, const std::string& email) {
  std::lock_guard lock(mu_);
  const auto* e = entries_.find(key(address, email));
  if (!e) return 0;
  const auto wait = (e->next_allowed - clock_.now()).count();
  return wait <= 0 ? 0 : (wait + 999) / 1000;
}

void LoginLockouts::failed(const std::string& address, const std::string& email) {
  std::lock_guard lock(mu_);
  auto& e = entries_.touch(key(address, email));
  ++e.failures;
  const auto now = clock_.now();
  if (e.failures >= kLockFailures) {
    e.next_allowed = now + kLock;
  } else if (e.failures >= kFreeFailures) {
    e.next_allowed = now + Millis{1000LL << (e.failures - kFreeFailures)};
  }
}

void LoginLockouts::succeeded(const std::string& address, const std::string& email) {
  std::lock_guard lock(mu_);
  entries_.erase(key(address, email));
}

size_t LoginLockouts::tracked() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

LoginGuard::LoginGuard(const TimeSource& clock, Options o)
    : throttle(clock, o.throttle), lockouts(clock), hashing(o.hashing) {}

std::optional<Refusal> LoginGuard::admit(const std::string& address, const std::string& email) {
  if (const auto wait = throttle.take(address); wait > 0)
    return Refusal{
        Error{Errc::rate_limited, "Too many log-in attempts",
              fmt::format("Too many log-ins from this address; try again in {} s.", wait)},
        wait};
  if (const auto wait = lockouts.wait_seconds(address, email); wait > 0)
    return Refusal{Error{Errc::rate_limited, "Too many failed logins",
                         fmt::format("Try again in {} s.", wait)},
                   wait};
  return std::nullopt;
}

Refusal LoginGuard::busy(HashPool::Refused why) {
  switch (why) {
    case HashPool::Refused::queue_full:
      return Refusal{Error{Errc::rate_limited, "Server busy",
                           "Too many passwords are being checked; try again in a second."},
                     1};
    case HashPool::Refused::timed_out:
      return Refusal{Error{Errc::unavailable, "Server busy",
                           "The password could not be checked in time; try again in a second."},
                     1};
  }
  assert(false && "every HashPool::Refused is mapped");
  return Refusal{Error{Errc::unavailable, "Server busy", ""}, 1};
}

namespace {

// The address's family and bytes (4 or 16 of them); 0 when it is not an address.
int parse_address(std::string_view text, unsigned char* out) {
  if (text.empty() || text.size() > 45) return 0;
  const std::string s(text);
  if (inet_pton(AF_INET, s.c_str(), out) == 1) return AF_INET;
  if (inet_pton(AF_INET6, s.c_str(), out) == 1) return AF_INET6;
  return 0;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<AddressRange> AddressRange::parse(std::string_view cidr) {
  AddressRange r;
  const auto slash = cidr.find('/');
  r.family_ = parse_address(cidr.substr(0, slash), r.bytes_);
  if (r.family_ == 0) return std::nullopt;
  const int bits = r.family_ == AF_INET ? 32 : 128;
  r.prefix_ = bits;
  if (slash != std::string_view::npos) {
    const auto p = cidr.substr(slash + 1);
    const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), r.prefix_);
    if (p.empty() || ec != std::errc() || end != p.data() + p.size() || r.prefix_ < 0 ||
        r.prefix_ > bits)
      return std::nullopt;
  }
  return r;
}

bool AddressRange::contains(std::string_view address) const {
  unsigned char bytes[16] = {};
  if (parse_address(address, bytes) != family_) return false;
  const int whole = prefix_ / 8, rest = prefix_ % 8;
  if (std::memcmp(bytes, bytes_, static_cast<size_t>(whole)) != 0) return false;
  if (rest == 0) return true;
  const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (bytes[whole] & mask) == (bytes_[whole] & mask);
}

std::string client_address(const std::string& peer, std::string_view forwarded_for,
                           const std::optional<AddressRange>& trusted_proxy) {
  if (!trusted_proxy || !trusted_proxy->contains(peer)) return peer;
  const auto comma = forwarded_for.rfind(',');
  const auto last =
      trim(comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1));
  unsigned char bytes[16];
  if (parse_address(last, bytes) == 0) return peer;
  return std::string(last);
}

}  // namespace pulse::service
