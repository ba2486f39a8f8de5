// The log-in's defences with a fake clock and no HTTP: the throttle per address, the lock-out
// per (address, account), the bound on password hashes, and the memory they hold.
#include "adapters/service/login_guard.h"

#include <doctest/doctest.h>

#include "tests/support/fake_clock.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "fmt/format.h"

using namespace pulse;
using namespace pulse::service;

namespace {

using pulse::testing::FakeClock;

const std::string kOwner = "ada@example.com";

bool admitted(const std::variant<HashSlots::Permit, Refusal>& v) {
  return std::holds_alternative<HashSlots::Permit>(v);
}
const Refusal& refusal(const std::variant<HashSlots::Permit, Refusal>& v) {
  return std::get<Refusal>(v);
}

}  // namespace

TEST_CASE("lru map: bounded, dropping the least recently used") {
  LruMap<std::string, int> m(3);
  m.touch("a") = 1;
  m.touch("b") = 2;
  m.touch("c") = 3;
  CHECK(m.touch("a") == 1);  // now the most recent: "b" is the oldest
  m.touch("d") = 4;
  CHECK(m.size() == 3);
  CHECK(m.find("b") == nullptr);
  REQUIRE(m.find("a"));
  CHECK(*m.find("a") == 1);
  CHECK(*m.find("c") == 3);
  m.erase("c");
  CHECK(m.find("c") == nullptr);
  CHECK(m.size() == 2);
  CHECK(m.touch("c") == 0);  // new entries start value-initialised
}

TEST_CASE("address throttle: a burst, then one attempt per refill, per address") {
  FakeClock clock;
  AddressThrottle t(clock, {.burst = 3, .refill = Millis{2000}, .max_addresses = 100});
  for (int i = 0; i < 3; ++i) CHECK(t.take("198.51.100.7") == 0);
  CHECK(t.take("198.51.100.7") == 2);  // the next token in 2 s
  CHECK(t.take("203.0.113.9") == 0);   // another address has its own bucket
  clock.advance(Millis{1000});
  CHECK(t.take("198.51.100.7") == 1);
  clock.advance(Millis{1000});
  CHECK(t.take("198.51.100.7") == 0);
  CHECK(t.take("198.51.100.7") == 2);
  clock.advance(Millis{60 * 60 * 1000});  // never more than the burst
  for (int i = 0; i < 3; ++i) CHECK(t.take("198.51.100.7") == 0);
  CHECK(t.take("198.51.100.7") > 0);
}

TEST_CASE("address throttle: memory stays bounded under many addresses") {
  FakeClock clock;
  AddressThrottle t(clock, {.burst = 1, .refill = Millis{60000}, .max_addresses = 64});
  for (int i = 0; i < 10000; ++i) CHECK(t.take(fmt::format("10.0.{}", i)) == 0);
  CHECK(t.tracked() == 64);
  // A recently seen address keeps its (empty) bucket.
  CHECK(t.take("10.0.9999") > 0);
}

TEST_CASE("lock-outs: keyed on (address, account); the owner logs in from elsewhere") {
  FakeClock clock;
  LoginLockouts l(clock);
  const std::string attacker = "198.51.100.7", owner = "203.0.113.9";
  for (int i = 0; i < 2; ++i) {
    l.failed(attacker, kOwner);
    CHECK(l.wait_seconds(attacker, kOwner) == 0);
  }
  l.failed(attacker, kOwner);  // 3rd: each attempt now waits 1, 2, 4, … s
  CHECK(l.wait_seconds(attacker, kOwner) == 1);
  clock.advance(Millis{1000});
  CHECK(l.wait_seconds(attacker, kOwner) == 0);
  l.failed(attacker, kOwner);
  CHECK(l.wait_seconds(attacker, kOwner) == 2);
  for (int i = 0; i < 20; ++i) {
    clock.advance(Millis{1000 * 1000});
    l.failed(attacker, kOwner);
  }
  CHECK(l.wait_seconds(attacker, kOwner) == 15 * 60);  // locked
  CHECK(l.wait_seconds(owner, kOwner) == 0);           // not for the owner's address
  CHECK(l.wait_seconds(attacker, "bob@example.com") == 0);
  clock.advance(LoginLockouts::kLock);
  CHECK(l.wait_seconds(attacker, kOwner) == 0);

  // A success clears that pair only.
  for (int i = 0; i < 5; ++i) l.failed(attacker, kOwner), l.failed(owner, kOwner);
  l.succeeded(owner, kOwner);
  CHECK(l.wait_seconds(owner, kOwner) == 0);
  CHECK(l.wait_seconds(attacker, kOwner) > 0);
}

TEST_CASE("lock-outs: memory stays bounded under many e-mails") {
  FakeClock clock;
  LoginLockouts l(clock, 128);
  for (int i = 0; i < 5000; ++i) l.failed("198.51.100.7", fmt::format("u{}@x.com", i));
  CHECK(l.tracked() == 128);
}

TEST_CASE("hash slots: at most N at once, a bounded wait, a bounded queue") {
  HashSlots slots(2, 1);
  auto a = slots.try_acquire(Millis{0});
  auto b = slots.try_acquire(Millis{0});
  REQUIRE(a);
  REQUIRE(b);
  CHECK(slots.in_use() == 2);
  CHECK_FALSE(slots.try_acquire(Millis{0}));
  CHECK_FALSE(slots.try_acquire(Millis{20}));  // none freed within the wait
  {
    auto moved = std::move(*a);  // a moved-from permit releases nothing
    a.reset();
    CHECK(slots.in_use() == 2);
  }
  CHECK(slots.in_use() == 1);
  auto c = slots.try_acquire(Millis{0});
  REQUIRE(c);

  c.reset();
  b.reset();
  CHECK(slots.in_use() == 0);
}

TEST_CASE("hash slots: a waiter gets the slot freed while it waits; the queue is bounded") {
  HashSlots slots(1, 1);
  auto held = slots.try_acquire(Millis{0});
  REQUIRE(held);
  std::atomic<bool> waiter_got{false};
  std::thread waiter([&] { waiter_got = slots.try_acquire(Millis{30000}).has_value(); });
  for (int i = 0; i < 30000 && slots.waiting() == 0; ++i)
    std::this_thread::sleep_for(Millis{1});  // until the waiter waits
  REQUIRE(slots.waiting() == 1);
  // The queue (one waiter) is full: refused at once, not after the wait.
  const auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(slots.try_acquire(Millis{30000}));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  held.reset();
  waiter.join();
  CHECK(waiter_got);
  CHECK(slots.in_use() == 0);
}

TEST_CASE("log-in guard: throttle, then lock-out, then a hash slot; 429s say when") {
  FakeClock clock;
  LoginGuard guard(clock, {.throttle = {.burst = 5, .refill = Millis{10000}, .max_addresses = 16},
                           .hash_slots = 1,
                           .max_waiting = 0,
                           .slot_wait = Millis{0}});
  const std::string flood = "198.51.100.7", owner = "203.0.113.9";

  // The flood from one address: a few attempts get hashed (and fail), then 429 before hashing.
  int refused = 0;
  std::vector<std::string> why;
  for (int i = 0; i < 50; ++i) {
    auto v = guard.admit(flood, kOwner);
    if (admitted(v)) {
      guard.failed(flood, kOwner);
    } else {
      ++refused;
      why.push_back(refusal(v).error.message);
      CHECK(refusal(v).error.code == Errc::rate_limited);
      CHECK(refusal(v).retry_after >= 1);
    }
  }
  CHECK(refused == 47);  // 3 free failures; then the back-off, then the bucket is empty
  CHECK(why[0] == "Too many failed logins");
  CHECK(why[1] == "Too many failed logins");
  CHECK(why[2] == "Too many log-in attempts");
  auto last = guard.admit(flood, kOwner);
  REQUIRE_FALSE(admitted(last));
  CHECK(refusal(last).error.message == "Too many log-in attempts");
  CHECK(refusal(last).retry_after == 10);

  // The owner, from another address, is admitted: no lock-out follows them.
  auto mine = guard.admit(owner, kOwner);
  CHECK(admitted(mine));
  // While the one slot is held, another log-in is refused at once as busy.
  auto busy = guard.admit("192.0.2.1", "bob@example.com");
  REQUIRE_FALSE(admitted(busy));
  CHECK(refusal(busy).error.message == "Server busy");
  CHECK(refusal(busy).retry_after == 1);
  CHECK_FALSE(admitted(guard.hash_slot()));  // sign-up shares the slots
  guard.succeeded(owner, kOwner);
  { auto release = std::move(mine); }
  CHECK(admitted(guard.admit("192.0.2.1", "bob@example.com")));
}

TEST_CASE("client address: the peer, unless it is the trusted proxy") {
  const auto proxy = AddressRange::parse("172.16.0.0/12");
  REQUIRE(proxy);
  // No proxy configured: X-Forwarded-For is the client's to invent.
  CHECK(client_address("198.51.100.7", "203.0.113.9", std::nullopt) == "198.51.100.7");
  // A peer outside the trusted range: the same.
  CHECK(client_address("198.51.100.7", "203.0.113.9", proxy) == "198.51.100.7");
  // From the proxy: the address it appended last; what the client sent before it is ignored.
  CHECK(client_address("172.18.0.5", "203.0.113.9", proxy) == "203.0.113.9");
  CHECK(client_address("172.18.0.5", "1.2.3.4, 203.0.113.9", proxy) == "203.0.113.9");
  CHECK(client_address("172.18.0.5", "1.2.3.4,2001:db8::1", proxy) == "2001:db8::1");
  // Missing or not an address: the peer.
  CHECK(client_address("172.18.0.5", "", proxy) == "172.18.0.5");
  CHECK(client_address("172.18.0.5", "1.2.3.4, evil", proxy) == "172.18.0.5");
}

TEST_CASE("address ranges: IPv4 and IPv6 prefixes, single hosts, malformed ones") {
  auto r = AddressRange::parse("10.1.2.0/23");
  REQUIRE(r);
  CHECK(r->contains("10.1.2.1"));
  CHECK(r->contains("10.1.3.255"));
  CHECK_FALSE(r->contains("10.1.4.0"));
  CHECK_FALSE(r->contains("::ffff:10.1.2.1"));  // another family
  CHECK_FALSE(r->contains("not an address"));
  auto host = AddressRange::parse("127.0.0.1");
  REQUIRE(host);
  CHECK(host->contains("127.0.0.1"));
  CHECK_FALSE(host->contains("127.0.0.2"));
  auto v6 = AddressRange::parse("fd00::/8");
  REQUIRE(v6);
  CHECK(v6->contains("fd12:3456::1"));
  CHECK_FALSE(v6->contains("fe80::1"));
  CHECK(AddressRange::parse("0.0.0.0/0")->contains("8.8.8.8"));
  for (const char* bad : {"", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8x", "::/129",
                          "example.com", "10.0.0.0/8/8"})
    CHECK_FALSE(AddressRange::parse(bad));
}
