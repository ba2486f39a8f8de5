#include "adapters/service/hash_pool.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

namespace pulse::service {
namespace {

// SCHED_IDLE runs only when no other thread wants the core, and a waking thread preempts it at
// once; nice 19 (where SCHED_IDLE is refused) still yields most of the core. Lowering one's
// own priority needs no privilege.
void lowest_priority() {
  sched_param none{};
  if (::pthread_setschedparam(::pthread_self(), SCHED_IDLE, &none) == 0) return;
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 19);
}

}  // namespace

struct HashPool::Job {
  enum class State { queued, running, done, abandoned };
  std::function<void()> fn;
  State state = State::queued;
  std::condition_variable finished;
};

size_t HashPool::for_this_machine() {
  return std::max<size_t>(1, std::thread::hardware_concurrency() / 2);
}

HashPool::HashPool(Options o) : options_(o) {
  const size_t n = std::max<size_t>(1, options_.threads);
  threads_.reserve(n);
  for (size_t i = 0; i < n; ++i) threads_.emplace_back([this] { work(); });
}

HashPool::~HashPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& job : queue_) {
      job->state = Job::State::abandoned;
      job->finished.notify_all();
    }
    queue_.clear();
  }
  ready_.notify_all();
  for (auto& t : threads_) t.join();
}

std::optional<HashPool::Refused> HashPool::submit(std::function<void()> fn) {
  auto job = std::make_shared<Job>();
  job->fn = std::move(fn);
  std::unique_lock lock(mu_);
  // Idle threads take a job each at once: only the jobs beyond them wait.
  const size_t idle = threads_.size() - running_;
  if (stopping_ || queue_.size() >= options_.max_queued + idle) return Refused::queue_full;
  queue_.push_back(job);
  ready_.notify_one();
  const auto deadline = std::chrono::steady_clock::now() + options_.wait;
  auto finished = [&] {
    return job->state == Job::State::done || job->state == Job::State::abandoned;
  };
  bool done = false;
  while (!(done = job->finished.wait_until(
               lock, std::min(deadline, std::chrono::steady_clock::now() + options_.starved_after),
               finished)) &&
         std::chrono::steady_clock::now() < deadline) {
    const auto now = std::chrono::steady_clock::now();
    if (job->state != Job::State::queued || caller_running_ ||
        now - last_progress_ < options_.starved_after)
      continue;
    // Starved: this caller runs its own job (it stays counted as queued for nobody else).
    queue_.erase(std::find(queue_.begin(), queue_.end(), job));
    job->state = Job::State::running;
    caller_running_ = true;
    ++run_by_callers_;
    lock.unlock();
    job->fn();
    lock.lock();
    caller_running_ = false;
    last_progress_ = std::chrono::steady_clock::now();
    job->state = Job::State::done;
    return std::nullopt;
  }
  if (done && job->state == Job::State::done) return std::nullopt;
  if (job->state == Job::State::queued) queue_.erase(std::find(queue_.begin(), queue_.end(), job));
  job->state = Job::State::abandoned;
  return Refused::timed_out;
}

void HashPool::work() {
  lowest_priority();
  std::unique_lock lock(mu_);
  for (;;) {
    ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    auto job = std::move(queue_.front());
    queue_.pop_front();
    job->state = Job::State::running;
    ++running_;
    last_progress_ = std::chrono::steady_clock::now();
    lock.unlock();
    job->fn();
    lock.lock();
    --running_;
    last_progress_ = std::chrono::steady_clock::now();
    // A job abandoned while running keeps that state: its caller has gone.
    if (job->state == Job::State::running) job->state = Job::State::done;
    job->finished.notify_all();
  }
}

size_t HashPool::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

size_t HashPool::run_by_callers() const {
  std::lock_guard lock(mu_);
  return run_by_callers_;
}

size_t HashPool::running() const {
  std::lock_guard lock(mu_);
  return running_;
}

}  // namespace pulse::service
