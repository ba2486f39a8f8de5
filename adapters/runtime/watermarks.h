#pragma once
// Per-partition "every command up to offset W has its events projected", published by the
// projector and awaited by write handlers (read-your-writes).
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include "domain/log_position.h"
#include "domain/time.h"

namespace pulse::runtime {

class Watermarks {
 public:
  explicit Watermarks(int32_t partitions)
      : values_(static_cast<size_t>(partitions), -1), cvs_(static_cast<size_t>(partitions)) {}

  // Wakes only the handlers waiting on this partition (one condition variable each).
  void advance(Partition p, int64_t value) {
    {
      std::lock_guard lock(mu_);
      auto& v = values_.at(static_cast<size_t>(p.value));
      if (value <= v) return;
      v = value;
    }
    cvs_[static_cast<size_t>(p.value)].notify_all();
  }

  int64_t get(Partition p) const {
    std::lock_guard lock(mu_);
    return values_.at(static_cast<size_t>(p.value));
  }

  // True once the partition's watermark reaches `value`, false at the deadline.
  bool wait_until(Partition p, int64_t value, std::chrono::steady_clock::time_point deadline) {
    const auto i = static_cast<size_t>(p.value);
    std::unique_lock lock(mu_);
    return cvs_.at(i).wait_until(lock, deadline, [&] { return values_[i] >= value; });
  }

  int32_t partitions() const { return static_cast<int32_t>(values_.size()); }

 private:
  mutable std::mutex mu_;
  std::vector<int64_t> values_;
  std::vector<std::condition_variable> cvs_;  // by partition
};

}  // namespace pulse::runtime

namespace pulse::runtime {

// What the decider did with each command, for the write handler waiting on it: whether the
// command is decided yet, and whether it produced events (else there is nothing to project).
// In-process: the HTTP layer and the decider share it. Remembers the last kWindow commands
// per partition.
class Decisions {
 public:
  static constexpr size_t kWindow = 8192;
  explicit Decisions(int32_t partitions) : parts_(static_cast<size_t>(partitions)) {}

  void record(Partition p, int64_t offset, bool produced_events) {
    auto& part = parts_.at(static_cast<size_t>(p.value));
    {
      std::lock_guard lock(mu_);
      part.decided = std::max(part.decided, offset);
      part.recent.emplace_back(offset, produced_events);
      if (part.recent.size() > kWindow) part.recent.pop_front();
    }
    part.cv.notify_all();
  }

  // Once the command at `offset` is decided: whether it produced events (nullopt at the
  // deadline). A command older than the window counts as having produced events.
  std::optional<bool> wait(Partition p, int64_t offset,
                           std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mu_);
    auto& part = parts_.at(static_cast<size_t>(p.value));
    if (!part.cv.wait_until(lock, deadline, [&] { return part.decided >= offset; }))
      return std::nullopt;
    for (auto it = part.recent.rbegin(); it != part.recent.rend(); ++it)
      if (it->first == offset) return it->second;
    return true;
  }

 private:
  struct Part {
    int64_t decided = -1;
    std::deque<std::pair<int64_t, bool>> recent;
    std::condition_variable cv;  // the handlers waiting on this partition
  };
  std::mutex mu_;
  std::vector<Part> parts_;
};

// The decider's next due time per partition, for the ticker. Thread-safe.
class Deadlines {
 public:
  explicit Deadlines(int32_t partitions) : next_(static_cast<size_t>(partitions)) {}
  void set(Partition p, std::optional<TimePoint> t) {
    std::lock_guard lock(mu_);
    next_.at(static_cast<size_t>(p.value)) = t;
  }
  std::optional<TimePoint> get(Partition p) const {
    std::lock_guard lock(mu_);
    return next_.at(static_cast<size_t>(p.value));
  }
  int32_t partitions() const { return static_cast<int32_t>(next_.size()); }

 private:
  mutable std::mutex mu_;
  std::vector<std::optional<TimePoint>> next_;
};

// A generation counter to wait on: bumped when something happened, waited for with a bound.
class Signal {
 public:
  uint64_t generation() const {
    std::lock_guard lock(mu_);
    return generation_;
  }
  void notify() {
    {
      std::lock_guard lock(mu_);
      ++generation_;
    }
    cv_.notify_all();
  }
  // True when the generation moved past `seen` before the deadline.
  bool wait(uint64_t seen, std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mu_);
    return cv_.wait_until(lock, deadline, [&] { return generation_ != seen; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t generation_ = 0;
};

}  // namespace pulse::runtime
