#pragma once
// Where password hashes run (scrypt: about 32 MiB and tens to hundreds of milliseconds each):
// a few threads of their own at the lowest CPU priority Linux offers without privileges
// (SCHED_IDLE, else nice 19). Any other runnable thread, an authenticated request above all,
// takes a core from a hash at once, so a flood of log-ins spends only the CPU nobody else wants;
// the memory stays bounded at one hash per thread. A request queues its hash and waits for the
// result with a deadline; when `max_queued` hashes wait already it is refused at once.
// A machine whose cores are all taken by other work would starve the pool for good: when no
// hash has started or finished for `starved_after`, one waiting caller at a time runs its own
// hash at its own priority, so log-ins still go through, slowly, instead of all timing out.
// Owns its threads.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

namespace pulse::service {

class HashPool {
 public:
  struct Options {
    size_t threads = for_this_machine();
    size_t max_queued = 8 * for_this_machine();  // waiting for a thread, beyond the idle ones
    // From queueing to the result, the hash included.
    std::chrono::milliseconds wait{3000};
    // No progress for this long (no job started or finished) while a job waits: starved.
    std::chrono::milliseconds starved_after{1000};
  };
  // One thread per 2 cores, at least one: a hash keeps a core and its cache busy even at the
  // lowest priority, so on a small machine a single one runs at a time.
  static size_t for_this_machine();

  HashPool() : HashPool(Options{}) {}
  explicit HashPool(Options o);
  HashPool(const HashPool&) = delete;
  HashPool& operator=(const HashPool&) = delete;
  ~HashPool();  // finishes the hash under way, drops the queued ones

  enum class Refused {
    queue_full,  // every thread busy and max_queued hashes waiting: nothing was queued
    timed_out,   // no result within the wait: dropped if not started, else its result ignored
  };
  // `job`'s result, computed on a pool thread. `job` must own what it reads: a job that timed
  // out while running finishes after the caller has gone.
  template <class T>
  std::variant<T, Refused> run(std::function<T()> job) {
    auto out = std::make_shared<std::optional<T>>();
    if (auto refused = submit([out, job = std::move(job)] { *out = job(); })) return *refused;
    return std::move(**out);
  }

  size_t queued() const;
  size_t running() const;
  size_t run_by_callers() const;  // jobs a starved pool left to their callers, in all

 private:
  struct Job;
  std::optional<Refused> submit(std::function<void()> fn);
  void work();

  const Options options_;
  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::shared_ptr<Job>> queue_;
  size_t running_ = 0;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point last_progress_ = std::chrono::steady_clock::now();
  bool caller_running_ = false;
  size_t run_by_callers_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace pulse::service
