#pragma once
// Per-partition "every command up to offset W has its events projected", published by the
// projector and awaited by write handlers (read-your-writes).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#include "domain/log_position.h"

namespace pulse::runtime {

class Watermarks {
 public:
  explicit Watermarks(int32_t partitions) : values_(static_cast<size_t>(partitions), -1) {}

  void advance(Partition p, int64_t value) {
    {
      std::lock_guard lock(mu_);
      auto& v = values_.at(static_cast<size_t>(p.value));
      if (value <= v) return;
      v = value;
    }
    cv_.notify_all();
  }

  int64_t get(Partition p) const {
    std::lock_guard lock(mu_);
    return values_.at(static_cast<size_t>(p.value));
  }

  // True once the partition's watermark reaches `value`, false at the deadline.
  bool wait_until(Partition p, int64_t value, std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mu_);
    return cv_.wait_until(lock, deadline,
                          [&] { return values_.at(static_cast<size_t>(p.value)) >= value; });
  }

  int32_t partitions() const { return static_cast<int32_t>(values_.size()); }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int64_t> values_;
};

}  // namespace pulse::runtime
