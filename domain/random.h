#pragma once
// Randomness is injected, as time is (TimeSource): code that needs random bits draws them from
// a RandomSource it is given, and only a process's entry point (or a test) picks the seed.
#include <cstdint>
#include <limits>
#include <mutex>
#include <random>

namespace pulse {

// A uniform random bit generator (usable with <random>'s distributions). Thread-safe.
class RandomSource {
 public:
  using result_type = uint64_t;
  virtual ~RandomSource() = default;
  virtual uint64_t next() = 0;

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }
  result_type operator()() { return next(); }
};

// mt19937_64 behind a mutex: the same seed gives the same sequence.
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(uint64_t seed) : engine_(seed) {}
  uint64_t next() override {
    std::lock_guard lock(mu_);
    return engine_();
  }

 private:
  std::mutex mu_;
  std::mt19937_64 engine_;
};

}  // namespace pulse
