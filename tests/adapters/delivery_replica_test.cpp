// The copy of pulse.webhook-deliveries every dispatcher and API node keeps (DeliveryReplica), on
// librdkafka's mock cluster: records of other nodes are applied in offset order with their
// offset, the owner's own records are not applied twice, and a restart resumes at the offset
// the store holds.
#include <doctest/doctest.h>

#include <chrono>
#include <span>
#include <string>
#include <vector>

#include "adapters/codec/json_codec.h"
#include "adapters/log/kafka_log.h"
#include "adapters/store/kv_store.h"
#include "adapters/webhooks/delivery_replica.h"
#include "adapters/webhooks/delivery_store.h"
#include "domain/webhooks.h"
#include "tests/support/must.h"
#include "tests/support/temp_dir.h"

namespace pulse::webhooks {
namespace {

using namespace std::chrono_literals;
using pulse::testing::TempDir;

using pulse::testing::must;

std::string value_of(store::KvStore& kv, std::string_view key) {
  return must(kv.get(key)).value_or("(none)");
}

// Appends one DeliveryChanges record setting `key` to `value`; returns its offset.
Offset append(log::PartitionWriter& w, const std::string& key, const std::string& value) {
  DeliveryChanges c;
  c.writes.push_back({key, value});
  const log::Record r{"", codec::encode(c)};
  return must(w.append(std::span(&r, 1))).front().offset;
}

bool caught_up(DeliveryReplica& r, Offset through) {
  return r.wait_applied(Partition{1}, Offset{through.value + 1},
                        std::chrono::steady_clock::now() + 10s);
}

}  // namespace

TEST_CASE("delivery replica: others' records applied in order, its own once, resumes on restart") {
  auto cluster = must(log::MockKafkaCluster::start(1, 2));
  log::KafkaOptions o;
  o.brokers = cluster->bootstrap_servers();
  o.partitions = 2;
  o.fetch_wait = 10ms;
  o.delivery_timeout = 5s;
  auto log = must(log::open_kafka_log(o));
  TempDir dir;
  auto kv_a = must(store::KvStore::open(dir.path() / "a"));
  auto kv_b = must(store::KvStore::open(dir.path() / "b"));
  auto a = std::make_unique<DeliveryReplica>(*log, *kv_a, 2);
  auto b = std::make_unique<DeliveryReplica>(*log, *kv_b, 2);
  REQUIRE(a->start().ok());
  REQUIRE(b->start().ok());
  auto writer = must(log->partition_writer(log::kDeliveriesTopic, Partition{1}));

  // A owns partition 1: it applies what it appended itself, at once. Its record says
  // "appended", what it applied says "applied here": A's thread must not apply it again.
  const auto first = append(*writer, "d/x", "appended");
  REQUIRE(a->apply_own(Partition{1}, first, {{"d/x", std::string("applied here")}}).ok());
  REQUIRE(caught_up(*a, first));
  REQUIRE(caught_up(*b, first));
  CHECK(value_of(*kv_a, "d/x") == "applied here");
  CHECK(value_of(*kv_b, "d/x") == "appended");  // B applies the record
  CHECK(value_of(*kv_b, keys::applied(1)) == std::to_string(first.value));

  // The partition moved: another owner's records reach both, in order; deletes too.
  const auto second = append(*writer, "d/x", "second owner");
  const auto third = append(*writer, "d/y", "y");
  REQUIRE(caught_up(*a, third));
  REQUIRE(caught_up(*b, third));
  CHECK(second.value < third.value);
  for (auto* kv : {kv_a.get(), kv_b.get()}) {
    CHECK(value_of(*kv, "d/x") == "second owner");
    CHECK(value_of(*kv, "d/y") == "y");
    CHECK(value_of(*kv, keys::applied(1)) == std::to_string(third.value));
  }
  CHECK(value_of(*kv_a, keys::applied(0)) == "(none)");  // nothing on partition 0

  // B stops; records arrive meanwhile; a new B resumes from the offset its store holds.
  b.reset();
  DeliveryChanges gone;
  gone.writes.push_back({"d/y", std::nullopt});
  const log::Record r{"", codec::encode(gone)};
  const auto fourth = must(writer->append(std::span(&r, 1))).front().offset;
  b = std::make_unique<DeliveryReplica>(*log, *kv_b, 2);
  REQUIRE(b->start().ok());
  CHECK(b->next(Partition{1}).value == third.value + 1);
  REQUIRE(caught_up(*b, fourth));
  CHECK(value_of(*kv_b, "d/y") == "(none)");
  CHECK(value_of(*kv_b, "d/x") == "second owner");
  b->stop();
  a->stop();
}

}  // namespace pulse::webhooks
