#pragma once
// Waiting in tests without sleeping for a fixed time: poll a condition until it holds or a
// bound runs out.
#include <algorithm>
#include <chrono>
#include <thread>

namespace pulse::testing {

// Polls `done` until it returns true (then true) or `bound` has passed (then the last answer,
// re-read once at the deadline). The wait between polls starts at 5 ms and doubles up to 100 ms:
// quick for conditions that hold almost at once, light on servers that a condition queries.
template <class F>
bool eventually(F&& done, std::chrono::milliseconds bound = std::chrono::seconds(10)) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + bound;
  std::chrono::milliseconds pause{5};
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
        pause, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()) +
                   std::chrono::milliseconds(1)));
    pause = std::min(pause * 2, std::chrono::milliseconds(100));
  }
  return done();
}

}  // namespace pulse::testing
