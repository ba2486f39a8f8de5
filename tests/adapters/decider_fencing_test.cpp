// Zombie deciders on Kafka (librdkafka's mock cluster): a partition's event writer is fenced by
// the next one opened for it, and a decider whose writer was fenced stops deciding the
// partition, so every command's events are in pulse.events exactly once.
//
// librdkafka 2.0's mock coordinator does not fence by itself (a second producer of a
// transactional.id gets a new producer id, not a bumped epoch) and writes no transaction
// markers; MockKafkaCluster::fence_next_transactions answers the zombie's next transaction as a
// real coordinator would once the new owner has initialised its producer.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "adapters/codec/json_codec.h"
#include "adapters/log/kafka_log.h"
#include "adapters/runtime/decider_runner.h"
#include "adapters/store/kv_store.h"
#include "domain/ids.h"
#include "tests/support/must.h"
#include "tests/support/temp_dir.h"

namespace pulse::runtime {
namespace {

using pulse::testing::TempDir;

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

using pulse::testing::must;

log::KafkaOptions options(const log::MockKafkaCluster& cluster, int32_t partitions) {
  log::KafkaOptions o;
  o.brokers = cluster.bootstrap_servers();
  o.partitions = partitions;
  o.client_id = "pulse-test";
  o.fetch_wait = 10ms;
  o.delivery_timeout = 5s;
  return o;
}

// A decider's appends, as a test sees them: counted, and held while the gate is closed (the
// decider goes on deciding meanwhile: it is cut off, not stopped).
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = true;
  int waiting = 0;
  int attempted = 0;  // while closed or since
  int fenced = 0;
  int succeeded = 0;
  bool counting = false;
};

class GatedWriter final : public log::PartitionWriter {
 public:
  GatedWriter(std::unique_ptr<log::PartitionWriter> inner, Gate& gate)
      : inner_(std::move(inner)), gate_(gate) {}
  Result<std::vector<LogPosition>> append(std::span<const log::Record> records) override {
    {
      std::unique_lock lock(gate_.mu);
      if (gate_.counting) ++gate_.attempted;
      ++gate_.waiting;
      gate_.cv.notify_all();
      gate_.cv.wait(lock, [&] { return gate_.open; });
      --gate_.waiting;
    }
    auto r = inner_->append(records);
    std::lock_guard lock(gate_.mu);
    if (gate_.counting) {
      if (r) ++gate_.succeeded;
      if (!r && r.error().code == Errc::conflict) ++gate_.fenced;
    }
    return r;
  }

 private:
  std::unique_ptr<log::PartitionWriter> inner_;
  Gate& gate_;
};

class GatedLog final : public log::Log {
 public:
  GatedLog(log::Log& inner, Gate& gate) : inner_(inner), gate_(gate) {}
  int32_t partition_count() const override { return inner_.partition_count(); }
  Result<std::vector<LogPosition>> append(std::string_view topic,
                                          std::span<const log::Record> records) override {
    return inner_.append(topic, records);
  }
  Result<Offset> end_offset(std::string_view topic, Partition p) override {
    return inner_.end_offset(topic, p);
  }
  Result<std::optional<log::StoredRecord>> last_record(std::string_view topic,
                                                       Partition p) override {
    return inner_.last_record(topic, p);
  }
  Result<std::unique_ptr<log::Reader>> reader(std::string_view topic,
                                              std::vector<log::Assignment> a) override {
    return inner_.reader(topic, std::move(a));
  }
  Result<std::unique_ptr<log::PartitionWriter>> partition_writer(std::string_view topic,
                                                                 Partition p) override {
    auto w = inner_.partition_writer(topic, p);
    if (!w) return w.error();
    return std::unique_ptr<log::PartitionWriter>(
        std::make_unique<GatedWriter>(std::move(w).value(), gate_));
  }

 private:
  log::Log& inner_;
  Gate& gate_;
};

std::vector<log::Record> commands(int n, int first) {
  std::vector<log::Record> out;
  for (int i = 0; i < n; ++i) {
    const auto at = from_unix_ms(1'800'000'000'000 + first + i);
    CommandEnvelope env{CommandId{make_id(id_prefix::command, at,
                                          static_cast<uint64_t>(first) + static_cast<uint64_t>(i))},
                        OrgId{"org_fencing"}, at, SendSms{}};
    out.push_back(log::Record{partition_key(env), codec::encode(env)});
  }
  return out;
}

// Every record of pulse.events/0 that a read_committed reader sees.
std::vector<EventEnvelope> read_events(log::Log& log) {
  std::vector<EventEnvelope> out;
  auto last = must(log.last_record(log::kEventsTopic, Partition{0}));
  if (!last) return out;
  auto reader = must(log.reader(log::kEventsTopic, {{Partition{0}, Offset{0}}}));
  for (int64_t next = 0; next <= last->offset.value;) {
    auto batch = must(reader->poll(1024, 5s));
    REQUIRE_FALSE(batch.empty());
    for (auto& rec : batch) {
      next = rec.offset.value + 1;
      out.push_back(must(codec::decode<EventEnvelope>(rec.value)));
    }
  }
  return out;
}

// Per command offset: how many times each of its events is in the log.
struct Census {
  int commands = 0;    // with all their events, each exactly once
  int duplicated = 0;  // commands with an event seen more than once
  int incomplete = 0;  // commands missing events
};

Census census(const std::vector<EventEnvelope>& events, int64_t commands_appended) {
  std::map<int64_t, std::map<int32_t, int>> seen;
  std::map<int64_t, int32_t> count;
  for (const auto& e : events) {
    ++seen[e.source.command.offset.value][e.source.index];
    count[e.source.command.offset.value] = e.event_count;
  }
  Census c;
  for (int64_t o = 0; o < commands_appended; ++o) {
    auto s = seen.find(o);
    if (s == seen.end()) {
      ++c.incomplete;
      continue;
    }
    bool twice = false;
    for (auto& [i, n] : s->second) twice |= n > 1;
    if (twice) ++c.duplicated;
    if (static_cast<int32_t>(s->second.size()) != count[o]) ++c.incomplete;
    if (!twice && static_cast<int32_t>(s->second.size()) == count[o]) ++c.commands;
  }
  return c;
}

}  // namespace

TEST_CASE("kafka partition writer: a newer writer fences the older one; nothing of it is seen") {
  auto cluster = must(log::MockKafkaCluster::start(1, 1));
  auto zombie_log = must(log::open_kafka_log(options(*cluster, 1)));
  auto owner_log = must(log::open_kafka_log(options(*cluster, 1)));
  auto zombie = must(zombie_log->partition_writer(log::kEventsTopic, Partition{0}));
  const std::vector<log::Record> before{{"org_fencing", "{\"n\":\"before\"}"}};
  auto first = must(zombie->append(before));
  CHECK(first.at(0).offset.value == 0);

  // The new owner initialises its producer (a real coordinator bumps the epoch here).
  auto owner = must(owner_log->partition_writer(log::kEventsTopic, Partition{0}));
  cluster->fence_next_transactions(1);
  const int attempts = 5;
  int fenced = 0;
  for (int i = 0; i < attempts; ++i) {
    const std::vector<log::Record> late{{"org_fencing", "{\"n\":\"zombie\"}"}};
    auto r = zombie->append(late);
    if (!r && r.error().code == Errc::conflict) ++fenced;
  }
  int owned = 0;
  for (int i = 0; i < attempts; ++i) {
    const std::vector<log::Record> mine{{"org_fencing", "{\"n\":\"owner\"}"}};
    if (owner->append(mine)) ++owned;
  }
  auto reader = must(owner_log->reader(log::kEventsTopic, {{Partition{0}, Offset{0}}}));
  std::vector<std::string> seen;
  const auto deadline = Clock::now() + 10s;
  while (seen.size() < 1 + attempts && Clock::now() < deadline) {
    for (auto& rec : must(reader->poll(64, 200ms))) seen.push_back(rec.value);
  }
  int zombie_visible = 0;
  for (const auto& v : seen) zombie_visible += v.find("zombie") != std::string::npos;
  MESSAGE("zombie appends attempted ", attempts, ", fenced ", fenced, ", visible ", zombie_visible,
          "; owner appends ", owned, " of ", attempts);
  CHECK(fenced == attempts);
  CHECK(zombie_visible == 0);
  CHECK(owned == attempts);
  CHECK(seen.size() == 1 + attempts);
  auto last = must(owner_log->last_record(log::kEventsTopic, Partition{0}));
  REQUIRE(last);
  CHECK(last->value.find("owner") != std::string::npos);
}

TEST_CASE("decider: a zombie that keeps deciding after a takeover is fenced; each command once") {
  TempDir dir{"pulse-fencing"};
  auto cluster = must(log::MockKafkaCluster::start(1, 1));
  auto log_a = must(log::open_kafka_log(options(*cluster, 1)));
  auto log_b = must(log::open_kafka_log(options(*cluster, 1)));
  auto store_a = must(store::KvStore::open(dir.path() / "a"));
  auto store_b = must(store::KvStore::open(dir.path() / "b"));
  Gate gate;
  GatedLog gated_a(*log_a, gate);
  Decisions decisions_a(1), decisions_b(1);
  Deadlines deadlines_a(1), deadlines_b(1);
  const Partition p0{0};
  const auto bound = [] { return Clock::now() + 20s; };

  // A decides the first commands.
  DeciderRunner a(gated_a, *store_a, {}, {p0}, decisions_a, deadlines_a);
  REQUIRE(a.start().ok());
  const int n = 20;
  REQUIRE(log_b->append(log::kCommandsTopic, commands(n, 0)).ok());
  REQUIRE(decisions_a.wait(p0, n - 1, bound()).has_value());

  // A is cut off: it reads and decides the next commands, its appends are held.
  {
    std::lock_guard lock(gate.mu);
    gate.open = false;
    gate.counting = true;
  }
  REQUIRE(log_b->append(log::kCommandsTopic, commands(n, n)).ok());
  {
    std::unique_lock lock(gate.mu);
    REQUIRE(gate.cv.wait_until(lock, bound(), [&] { return gate.waiting > 0; }));
  }

  // B takes the partition over (its writer fences A's) and decides everything so far.
  DeciderRunner b(*log_b, *store_b, {}, {p0}, decisions_b, deadlines_b);
  REQUIRE(b.start().ok());
  REQUIRE(decisions_b.wait(p0, 2 * n - 1, bound()).has_value());

  // A's held appends go out now: the coordinator refuses them.
  cluster->fence_next_transactions(1);
  {
    std::lock_guard lock(gate.mu);
    gate.open = true;
  }
  gate.cv.notify_all();
  const auto deadline = bound();
  while (!a.owned().empty() && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
  CHECK(a.owned().empty());

  // Only B decides from now on.
  REQUIRE(log_b->append(log::kCommandsTopic, commands(n, 2 * n)).ok());
  REQUIRE(decisions_b.wait(p0, 3 * n - 1, bound()).has_value());
  a.stop();
  b.stop();

  const auto events = read_events(*log_b);
  const auto c = census(events, 3 * n);
  int attempted = 0, fenced = 0, succeeded = 0;
  {
    std::lock_guard lock(gate.mu);
    attempted = gate.attempted;
    fenced = gate.fenced;
    succeeded = gate.succeeded;
  }
  MESSAGE("commands ", 3 * n, ": decided exactly once ", c.commands, ", twice ", c.duplicated,
          ", incomplete ", c.incomplete, "; events ", events.size(), "; zombie appends attempted ",
          attempted, ", fenced ", fenced, ", visible ", succeeded);
  CHECK(c.commands == 3 * n);
  CHECK(c.duplicated == 0);
  CHECK(c.incomplete == 0);
  CHECK(attempted >= 1);
  CHECK(fenced == attempted);
  CHECK(succeeded == 0);
}

}  // namespace pulse::runtime
