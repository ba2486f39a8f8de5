#pragma once
// A fresh directory under the system temp dir, removed with everything in it when this goes.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>

namespace pulse::testing {

class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "pulse-test") {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            (std::string(prefix) + "-" + std::to_string(::getpid()) + "-" +
             std::to_string(std::random_device{}()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace pulse::testing
