// The log-in's defences with a fake clock and no HTTP: the throttle per address, the lock-out
// per (address, account), the hash pool (its priority, queue bound and deadline), and the memory
// they hold.
#include "adapters/service/login_guard.h"

#include <doctest/doctest.h>

#include "tests/support/fake_clock.h"

#include <sched.h>
#include <sys/resource.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "fmt/format.h"

using namespace pulse;
using namespace pulse::service;

namespace {

using pulse::testing::FakeClock;

const std::string kOwner = "ada@example.com";

// Polls a condition that another thread makes true, with a bound (no fixed sleep).
template <class F>
bool eventually(F done) {
  for (int i = 0; i < 30000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(Millis{1});
  }
  return done();
}

// A job that holds a pool thread until the test opens the gate.
std::function<int()> held_by(const std::shared_future<void>& gate, int result) {
  return [gate, result] {
    gate.wait();
    return result;
  };
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

TEST_CASE("hash pool: runs jobs on its own threads at the lowest priority") {
  HashPool pool({.threads = 1, .max_queued = 1, .wait = Millis{30000}});
  const auto caller = std::this_thread::get_id();
  auto got = pool.run<bool>([caller] { return std::this_thread::get_id() != caller; });
  REQUIRE(std::holds_alternative<bool>(got));
  CHECK(std::get<bool>(got));
  // SCHED_IDLE, or nice 19 where the kernel refuses it.
  auto lowest = pool.run<bool>(
      [] { return ::sched_getscheduler(0) == SCHED_IDLE || ::getpriority(PRIO_PROCESS, 0) == 19; });
  REQUIRE(std::holds_alternative<bool>(lowest));
  CHECK(std::get<bool>(lowest));
  // The caller's own priority is untouched.
  CHECK(::sched_getscheduler(0) != SCHED_IDLE);
}

TEST_CASE("hash pool: a full queue refuses at once; the running and queued jobs finish") {
  HashPool pool(
      {.threads = 1, .max_queued = 1, .wait = Millis{30000}, .starved_after = Millis{60000}});
  std::promise<void> open;
  const std::shared_future<void> gate = open.get_future().share();
  std::variant<int, HashPool::Refused> first, second;
  std::thread a([&] { first = pool.run(held_by(gate, 1)); });
  REQUIRE(eventually([&] { return pool.running() == 1; }));
  std::thread b([&] { second = pool.run(held_by(gate, 2)); });
  REQUIRE(eventually([&] { return pool.queued() == 1; }));

  const auto start = std::chrono::steady_clock::now();
  auto third = pool.run<int>([] { return 3; });
  REQUIRE(std::holds_alternative<HashPool::Refused>(third));
  CHECK(std::get<HashPool::Refused>(third) == HashPool::Refused::queue_full);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));  // not the wait

  open.set_value();
  a.join();
  b.join();
  REQUIRE(std::holds_alternative<int>(first));
  REQUIRE(std::holds_alternative<int>(second));
  CHECK(std::get<int>(first) == 1);
  CHECK(std::get<int>(second) == 2);
  CHECK(pool.running() == 0);
  CHECK(pool.queued() == 0);
}

TEST_CASE("hash pool: past the deadline a queued job is dropped, a running one ignored") {
  HashPool pool({.threads = 1, .max_queued = 4, .wait = Millis{50}});
  std::promise<void> open;
  const std::shared_future<void> gate = open.get_future().share();
  // Holds the one thread past its own deadline: the caller is told, the job runs on.
  auto running = pool.run(held_by(gate, 1));
  REQUIRE(std::holds_alternative<HashPool::Refused>(running));
  CHECK(std::get<HashPool::Refused>(running) == HashPool::Refused::timed_out);
  CHECK(pool.running() == 1);
  // Queued behind it and never started: dropped, so it won't spend a core for nobody.
  std::atomic<bool> ran{false};
  auto queued = pool.run<int>([&ran] {
    ran = true;
    return 2;
  });
  REQUIRE(std::holds_alternative<HashPool::Refused>(queued));
  CHECK(std::get<HashPool::Refused>(queued) == HashPool::Refused::timed_out);
  CHECK(pool.queued() == 0);
  open.set_value();
  REQUIRE(eventually([&] { return pool.running() == 0; }));
  CHECK_FALSE(ran);
}

TEST_CASE("hash pool: starved of the CPU, one waiting caller at a time runs its own job") {
  // The held job stands for a pool thread that never gets a core: nothing starts or finishes.
  HashPool pool(
      {.threads = 1, .max_queued = 4, .wait = Millis{30000}, .starved_after = Millis{50}});
  std::promise<void> open;
  const std::shared_future<void> gate = open.get_future().share();
  std::variant<int, HashPool::Refused> held;
  std::thread a([&] { held = pool.run(held_by(gate, 1)); });
  REQUIRE(eventually([&] { return pool.running() == 1; }));
  // The next callers run their own jobs, one at a time, long before the deadline.
  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false};
  auto job = [&](int result) {
    return std::function<int()>([&, result] {
      if (++inside > 1) overlapped = true;
      std::this_thread::sleep_for(Millis{20});
      --inside;
      return result;
    });
  };
  std::vector<std::variant<int, HashPool::Refused>> got(3);
  std::vector<std::thread> callers;
  for (int i = 0; i < 3; ++i) callers.emplace_back([&, i] { got[i] = pool.run(job(10 + i)); });
  for (auto& c : callers) c.join();
  for (int i = 0; i < 3; ++i) {
    REQUIRE(std::holds_alternative<int>(got[i]));
    CHECK(std::get<int>(got[i]) == 10 + i);
  }
  CHECK_FALSE(overlapped);
  CHECK(pool.run_by_callers() == 3);
  CHECK(pool.running() == 1);  // the held one is still the pool's
  open.set_value();
  a.join();
  REQUIRE(std::holds_alternative<int>(held));
  CHECK(std::get<int>(held) == 1);
}

TEST_CASE("hash pool: a pool that makes progress keeps its jobs") {
  HashPool pool(
      {.threads = 1, .max_queued = 8, .wait = Millis{30000}, .starved_after = Millis{200}});
  const auto caller = std::this_thread::get_id();
  for (int i = 0; i < 5; ++i) {
    auto on_pool = pool.run<bool>([caller] {
      std::this_thread::sleep_for(Millis{5});
      return std::this_thread::get_id() != caller;
    });
    REQUIRE(std::holds_alternative<bool>(on_pool));
    CHECK(std::get<bool>(on_pool));
  }
  CHECK(pool.run_by_callers() == 0);
}

TEST_CASE("log-in guard: throttle, then lock-out, then the hash; refusals say when") {
  FakeClock clock;
  LoginGuard guard(clock, {.throttle = {.burst = 5, .refill = Millis{10000}, .max_addresses = 16},
                           .hashing = {.threads = 1, .max_queued = 0, .wait = Millis{30000}}});
  const std::string flood = "198.51.100.7", owner = "203.0.113.9";

  // The flood from one address: a few attempts get hashed (and fail), then 429 before hashing.
  int refused = 0;
  std::vector<std::string> why;
  for (int i = 0; i < 50; ++i) {
    auto v = guard.admit(flood, kOwner);
    if (!v) {
      guard.failed(flood, kOwner);
    } else {
      ++refused;
      why.push_back(v->error.message);
      CHECK(v->error.code == Errc::rate_limited);
      CHECK(v->retry_after >= 1);
    }
  }
  CHECK(refused == 47);  // 3 free failures; then the back-off, then the bucket is empty
  CHECK(why[0] == "Too many failed logins");
  CHECK(why[1] == "Too many failed logins");
  CHECK(why[2] == "Too many log-in attempts");
  auto last = guard.admit(flood, kOwner);
  REQUIRE(last);
  CHECK(last->error.message == "Too many log-in attempts");
  CHECK(last->retry_after == 10);

  // The owner, from another address, is admitted: no lock-out follows them.
  CHECK_FALSE(guard.admit(owner, kOwner));
  auto checked = guard.hash<bool>([] { return true; });
  REQUIRE(std::holds_alternative<bool>(checked));
  CHECK(std::get<bool>(checked));
  guard.succeeded(owner, kOwner);
}

TEST_CASE("log-in guard: a full hash queue is a 429, a hash too slow a 503, both retry in 1 s") {
  FakeClock clock;
  LoginGuard guard(clock, {.hashing = {.threads = 1, .max_queued = 0, .wait = Millis{50}}});
  std::promise<void> open;
  const std::shared_future<void> gate = open.get_future().share();
  // Past its deadline while it holds the one thread: 503.
  auto slow = guard.hash(held_by(gate, 1));
  REQUIRE(std::holds_alternative<Refusal>(slow));
  CHECK(std::get<Refusal>(slow).error.code == Errc::unavailable);
  CHECK(std::get<Refusal>(slow).error.message == "Server busy");
  CHECK(std::get<Refusal>(slow).retry_after == 1);
  // The thread still busy and no room to queue (sign-ups share it): 429 at once.
  auto full = guard.hash<int>([] { return 2; });
  REQUIRE(std::holds_alternative<Refusal>(full));
  CHECK(std::get<Refusal>(full).error.code == Errc::rate_limited);
  CHECK(std::get<Refusal>(full).error.message == "Server busy");
  CHECK(std::get<Refusal>(full).retry_after == 1);
  open.set_value();
  REQUIRE(eventually([&] { return guard.hashing.running() == 0; }));
}
