#include "adapters/runtime/projector_runner.h"

#include <doctest/doctest.h>

#include <functional>
#include <thread>

#include "adapters/codec/json_codec.h"
#include "adapters/log/embedded_log.h"
#include "adapters/runtime/read_models.h"
#include "adapters/store/kv_store.h"
#include "domain/ids.h"
#include "tests/support/must.h"
#include "tests/support/temp_dir.h"

namespace pulse::runtime {
namespace {

using pulse::testing::must;
using pulse::testing::TempDir;

const TimePoint kT0 = from_unix_ms(1794736800000);  // 2026-11-15T10:00:00Z
const OrgId kOrg{make_id(id_prefix::org, from_unix_ms(1700000000000), 1)};

CampaignId campaign_of(int64_t command) {
  return CampaignId{make_id(id_prefix::campaign, kT0, static_cast<uint64_t>(command) + 1)};
}

// An embedded log of one partition whose events topic is written the way the decider writes
// it (one CampaignCreated per command, through the partition's writer), and a views store.
class Harness {
 public:
  Harness() {
    log_ = must(log::open_embedded_log(log::EmbeddedLogOptions{dir_.path() / "log", 1}));
    views_ = must(store::KvStore::open(dir_.path() / "views"));
    partition_ = log_->partition_for(kOrg.value);
    writer_ = must(log_->partition_writer(log::kEventsTopic, partition_));
  }

  // Appends the events of the next `n` commands; returns them as the log stored them.
  std::vector<log::StoredRecord> append(int n) {
    std::vector<log::Record> records;
    for (int i = 0; i < n; ++i) {
      const int64_t command = next_command_++;
      CampaignCreated created{campaign_of(command), "c", "api", "Hello there", 1};
      const EventEnvelope event{
          EventSource{{partition_, Offset{command}}, 0},
          CommandId{make_id(id_prefix::command, kT0, static_cast<uint64_t>(command) + 1)},
          kOrg,
          kT0,
          1,
          created};
      records.push_back({kOrg.value, codec::encode(event)});
    }
    auto at = writer_->append(records);
    REQUIRE_MESSAGE(at.ok(), at.error().details);
    std::vector<log::StoredRecord> stored;
    for (size_t i = 0; i < records.size(); ++i)
      stored.push_back({(*at)[i].partition, (*at)[i].offset, 0, records[i].key, records[i].value});
    return stored;
  }

  log::Log& log() { return *log_; }
  store::KvStore& views() { return *views_; }
  Partition partition() const { return partition_; }

 private:
  TempDir dir_;
  std::unique_ptr<log::Log> log_;
  std::unique_ptr<store::KvStore> views_;
  Partition partition_;
  std::unique_ptr<log::PartitionWriter> writer_;
  int64_t next_command_ = 0;
};

bool eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

TEST_CASE("a projector fed by appends applies each event once, in order, whoever hands it") {
  Harness h;
  Watermarks watermarks(h.log().partition_count());
  ProjectorRunner runner(h.log(), h.views(), watermarks, {h.partition()});
  runner.fed_by_appends();
  REQUIRE(runner.start().ok());
  ReadModels models(h.views());
  auto has_campaign = [&](int64_t command) {
    auto c = models.campaign(kOrg, campaign_of(command));
    return c.ok() && c->has_value();
  };

  // Handed over in order: applied when the call returns (a write handler reads its write).
  runner.apply_appended(h.append(3));
  CHECK(watermarks.get(h.partition()) == 2);
  CHECK(has_campaign(2));

  // Commands 3 and 4 are never handed over; 5 and 6 are, and must wait for them: the runner's
  // thread reads all four from the log.
  auto unreported = h.append(2);
  auto later = h.append(2);
  runner.apply_appended(later);
  REQUIRE(eventually([&] { return watermarks.get(h.partition()) == 6; }));
  CHECK(has_campaign(3));
  CHECK(has_campaign(6));
  CHECK(runner.applied() == 7);

  // Handed over after the thread applied them: dropped, not applied again.
  runner.apply_appended(unreported);
  runner.apply_appended(later);
  CHECK(runner.applied() == 7);

  // A bulk batch (over the inline size) is the thread's, read from the log.
  runner.apply_appended(h.append(200));
  REQUIRE(eventually([&] { return watermarks.get(h.partition()) == 206; }));
  CHECK(has_campaign(206));
  CHECK(runner.applied() == 207);

  // Events nobody hands over at all are found at the log's end.
  h.append(1);
  REQUIRE(eventually([&] { return watermarks.get(h.partition()) == 207; }));
  CHECK(runner.applied() == 208);
  runner.stop();
}

}  // namespace
}  // namespace pulse::runtime
