// The embedded (RocksDB) log against the log conformance suite, in a temporary directory.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "adapters/log/embedded_log.h"
#include "tests/adapters/log_conformance.h"
#include "tests/support/temp_dir.h"

namespace pulse::log {
namespace {

using pulse::testing::TempDir;

class EmbeddedFixture final : public testing::LogFixture {
 public:
  explicit EmbeddedFixture(int32_t partitions = 4) : partitions_(partitions) {}

  std::unique_ptr<Log> open() override { return open_with(partitions_); }
  int32_t partitions() const override { return partitions_; }

  Result<std::unique_ptr<Log>> try_open(int32_t partitions) {
    return open_embedded_log({.dir = dir_.path() / "log", .partitions = partitions});
  }

  std::unique_ptr<Log> open_with(int32_t partitions) {
    auto log = try_open(partitions);
    if (!log) FAIL("open_embedded_log: " << log.error().message << ": " << log.error().details);
    return std::move(log).value();
  }

 private:
  int32_t partitions_;
  TempDir dir_;
};

TEST_CASE("embedded log conforms to the log port") {
  EmbeddedFixture fixture(4);
  testing::check_log_conformance(fixture);
}

TEST_CASE("embedded log conforms to the log port (3 partitions)") {
  EmbeddedFixture fixture(3);
  testing::check_log_conformance(fixture);
}

TEST_CASE("embedded log refuses to reopen with another partition count") {
  EmbeddedFixture fixture(4);
  {
    auto log = fixture.open();
    const std::vector<Record> one{{"org_1", "v"}};
    REQUIRE(log->append(kEventsTopic, one).ok());
  }
  auto other = fixture.try_open(6);
  CHECK_FALSE(other.ok());
  auto same = fixture.try_open(4);
  CHECK(same.ok());
}

}  // namespace
}  // namespace pulse::log
