#pragma once
// The log-in's defences, met before a password is hashed: a token bucket per client address, a
// lock-out per (address, account) after repeated failures; then the hash itself runs on the
// HashPool (scrypt, about 32 MiB and tens of milliseconds each): a bounded queue, a deadline, the
// lowest CPU priority.
//
// They live in memory, never in the log: a failed log-in is not a fact of the business, and
// writing one event per attempt would turn a flood of log-ins into a flood of log writes that
// every replay pays for again. A restart clears them (the attacker can't cause one); the memory
// they hold is bounded, however many addresses and e-mails a flood uses. Time comes from the
// injected TimeSource, so tests drive it without sleeping.
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>

#include "adapters/service/hash_pool.h"
#include "domain/result.h"
#include "domain/time.h"

namespace pulse::service {

// A map that holds at most `capacity` entries: making room drops the least recently used.
template <class K, class V>
class LruMap {
 public:
  explicit LruMap(size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

  // The entry for `key` (value-initialised when new), now the most recently used.
  V& touch(const K& key) {
    if (auto it = index_.find(key); it != index_.end()) {
      order_.splice(order_.begin(), order_, it->second);
      return it->second->second;
    }
    if (index_.size() >= capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
    order_.emplace_front(key, V{});
    index_.emplace(key, order_.begin());
    return order_.front().second;
  }
  V* find(const K& key) {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &it->second->second;
  }
  void erase(const K& key) {
    if (auto it = index_.find(key); it != index_.end()) {
      order_.erase(it->second);
      index_.erase(it);
    }
  }
  size_t size() const { return index_.size(); }

 private:
  using Entry = std::pair<K, V>;
  size_t capacity_;
  std::list<Entry> order_;  // most recently used first
  std::unordered_map<K, typename std::list<Entry>::iterator> index_;
};

// A token bucket per client address: `burst` attempts at once, then one every `refill`.
class AddressThrottle {
 public:
  struct Limits {
    double burst = 20;
    Millis refill{3000};
    size_t max_addresses = 8192;  // beyond it the least recently seen address starts afresh
  };
  explicit AddressThrottle(const TimeSource& clock) : AddressThrottle(clock, Limits{}) {}
  AddressThrottle(const TimeSource& clock, Limits limits)
      : clock_(clock), limits_(limits), buckets_(limits.max_addresses) {}

  // Takes one attempt from `address`'s bucket: 0 when allowed, else the seconds (>= 1) until
  // the next one would be.
  int64_t take(const std::string& address);
  size_t tracked() const;

 private:
  struct Bucket {
    double tokens = -1;  // < 0: new, full
    TimePoint updated;
  };
  const TimeSource& clock_;
  Limits limits_;
  mutable std::mutex mu_;
  LruMap<std::string, Bucket> buckets_;
};

// Failed log-ins per (address, account): the first few are free, then each attempt must wait
// 1, 2, 4, … s, then that address is locked out of that account for kLock. The owner, from
// another address, still logs in.
class LoginLockouts {
 public:
  static constexpr int kFreeFailures = 3;
  static constexpr int kLockFailures = 10;
  static constexpr Millis kLock{15 * 60 * 1000};

  explicit LoginLockouts(const TimeSource& clock, size_t max_entries = 65536)
      : clock_(clock), entries_(max_entries) {}

  // Seconds `address` must wait before trying `email` again (0: may try now).
  int64_t wait_seconds(const std::string& address, const std::string& email);
  void failed(const std::string& address, const std::string& email);
  void succeeded(const std::string& address, const std::string& email);
  size_t tracked() const;

 private:
  struct Entry {
    int failures = 0;
    TimePoint next_allowed;
  };
  static std::string key(const std::string& address, const std::string& email);
  const TimeSource& clock_;
  mutable std::mutex mu_;
  LruMap<std::string, Entry> entries_;
};

// An address range in CIDR notation ("10.0.0.0/8", "fd00::/8"; a bare address is one host).
class AddressRange {
 public:
  static std::optional<AddressRange> parse(std::string_view cidr);
  bool contains(std::string_view address) const;

 private:
  int family_ = 0;  // AF_INET or AF_INET6
  unsigned char bytes_[16] = {};
  int prefix_ = 0;
};

// The client a request comes from: the socket's peer, unless the peer is the configured
// trusted proxy (a reverse proxy in front of Pulse); then the address that proxy appended last
// to X-Forwarded-For (what nginx's $proxy_add_x_forwarded_for does). Entries before it are the
// client's to invent and never used.
std::string client_address(const std::string& peer, std::string_view forwarded_for,
                           const std::optional<AddressRange>& trusted_proxy);

// What the caller must do when a log-in is refused: the documented error (429, or 503 when the
// hash took too long) and its Retry-After.
struct Refusal {
  Error error;
  int64_t retry_after = 1;
};

// The defences in the order a log-in meets them: the address's bucket and the lock-out of
// (address, account) in admit(), then the hash on the pool in hash().
class LoginGuard {
 public:
  struct Options {
    AddressThrottle::Limits throttle{};
    HashPool::Options hashing{};
  };
  explicit LoginGuard(const TimeSource& clock) : LoginGuard(clock, Options{}) {}
  LoginGuard(const TimeSource& clock, Options o);

  // Before verifying `email`'s password for `address`: why not, or nullopt to go on.
  std::optional<Refusal> admit(const std::string& address, const std::string& email);
  // `job` (a password hash: a log-in's check, a sign-up's new hash) run on the hash pool: its
  // result, or why not. `job` must own what it reads (HashPool::run).
  template <class T>
  std::variant<T, Refusal> hash(std::function<T()> job) {
    auto got = hashing.run(std::move(job));
    if (auto* refused = std::get_if<HashPool::Refused>(&got)) return busy(*refused);
    return std::move(std::get<T>(got));
  }
  void failed(const std::string& address, const std::string& email) {
    lockouts.failed(address, email);
  }
  void succeeded(const std::string& address, const std::string& email) {
    lockouts.succeeded(address, email);
  }

  AddressThrottle throttle;
  LoginLockouts lockouts;
  HashPool hashing;

 private:
  static Refusal busy(HashPool::Refused why);
};

}  // namespace pulse::service
