#pragma once
// A loop on a thread of its own, stopped by stop() or the destructor. Owns that thread.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace pulse::runtime {

class Worker {
 public:
  Worker() = default;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker() { stop(); }

  // Runs `step` until stop(); a step returns quickly (bounded poll).
  void start(std::function<void()> step) {
    stopping_ = false;
    thread_ = std::thread([this, step = std::move(step)] {
      while (!stopping_.load()) step();
    });
  }

  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  bool stopping() const { return stopping_.load(); }

  // A back-off that stop() interrupts.
  void pause(std::chrono::milliseconds d) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, d, [&] { return stopping_.load(); });
  }

 private:
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace pulse::runtime
