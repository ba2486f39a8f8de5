// The Kafka adapter against librdkafka's mock cluster: the log conformance suite, broker
// failures, and records written or read by plain Kafka clients (as kcat would).
#include <doctest/doctest.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "adapters/log/kafka_log.h"
#include "tests/adapters/log_conformance.h"

namespace pulse::log {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

std::unique_ptr<MockKafkaCluster> must_start(int brokers, int32_t partitions) {
  auto cluster = MockKafkaCluster::start(brokers, partitions);
  if (!cluster) FAIL(cluster.error().message << ": " << cluster.error().details);
  return std::move(cluster).value();
}

// A fresh mock cluster per fixture: each SUBCASE starts empty.
class KafkaFixture final : public testing::LogFixture {
 public:
  explicit KafkaFixture(int brokers, int32_t partitions = 4)
      : partitions_(partitions), cluster_(must_start(brokers, partitions)) {}

  std::unique_ptr<Log> open() override { return open_with(options()); }
  int32_t partitions() const override { return partitions_; }

  KafkaOptions options() const {
    KafkaOptions o;
    o.brokers = cluster_->bootstrap_servers();
    o.partitions = partitions_;
    o.replication = 1;
    o.client_id = "pulse-test";
    return o;
  }

  std::unique_ptr<Log> open_with(const KafkaOptions& o) {
    auto log = open_kafka_log(o);
    if (!log) FAIL("open_kafka_log: " << log.error().message << ": " << log.error().details);
    return std::move(log).value();
  }

  MockKafkaCluster& cluster() { return *cluster_; }

 private:
  int32_t partitions_;
  std::unique_ptr<MockKafkaCluster> cluster_;
};

// Three brokers, so partitions have different leaders. (Each SUBCASE starts a new cluster;
// librdkafka 2.0's mock often takes ~1 s to start or stop one, which dominates the run time.)
TEST_CASE("kafka log conforms to the log port (3 brokers, 3 partitions)") {
  KafkaFixture fixture(3, 3);
  testing::check_log_conformance(fixture);
}

TEST_CASE("kafka log refuses topics whose partition count differs") {
  KafkaFixture fixture(1, 4);
  KafkaOptions o = fixture.options();
  o.partitions = 6;
  auto log = open_kafka_log(o);
  REQUIRE_FALSE(log.ok());
  CHECK(log.error().code == Errc::internal);
  CHECK(log.error().details.find("pulse.commands has 4 partitions") != std::string::npos);
}

TEST_CASE("kafka log fails fast when no broker answers") {
  KafkaOptions o;
  o.brokers = "127.0.0.1:1";  // nothing listens on port 1
  o.connect_timeout = milliseconds(1'500);
  const auto start = Clock::now();
  auto log = open_kafka_log(o);
  REQUIRE_FALSE(log.ok());
  CHECK(log.error().code == Errc::unavailable);
  CHECK(Clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("kafka append fails within a bound while the broker is down, then recovers") {
  KafkaFixture fixture(1);
  KafkaOptions o = fixture.options();
  o.delivery_timeout = milliseconds(1'500);
  auto log = fixture.open_with(o);
  const std::vector<Record> one{{"org_1", "before"}};
  REQUIRE(log->append(kEventsTopic, one).ok());

  fixture.cluster().set_broker_down(1, true);
  const auto start = Clock::now();
  const std::vector<Record> during{{"org_1", "during"}};
  auto failed = log->append(kEventsTopic, during);
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().code == Errc::unavailable);
  CHECK(failed.error().message == "Event log unavailable");
  // message.timeout.ms plus the adapter's margin, never forever.
  CHECK(Clock::now() - start < o.delivery_timeout + std::chrono::seconds(6));

  // A reader opened meanwhile neither hangs nor invents records: its poll returns within its
  // timeout, empty or with an error (every broker is down).
  {
    auto down_reader = log->reader(kEventsTopic, {{log->partition_for("org_1"), Offset{1}}});
    REQUIRE(down_reader.ok());
    const auto poll_start = Clock::now();
    auto r = (*down_reader)->poll(10, milliseconds(300));
    CHECK(Clock::now() - poll_start < std::chrono::seconds(3));
    if (r.ok()) CHECK(r->empty());
  }

  fixture.cluster().set_broker_down(1, false);
  // Reconnection takes a backoff; retry within a bound (each try is itself bounded).
  const std::vector<Record> after{{"org_1", "after"}};
  const auto deadline = Clock::now() + std::chrono::seconds(15);
  Result<std::vector<LogPosition>> ok = Error{};
  do {
    ok = log->append(kEventsTopic, after);
  } while (!ok.ok() && Clock::now() < deadline);
  REQUIRE_MESSAGE(ok.ok(), ok.error().details);

  // "before" is at 0; "during" may or may not have been written (the contract allows it).
  auto reader = log->reader(kEventsTopic, {{log->partition_for("org_1"), Offset{0}}});
  REQUIRE(reader.ok());
  std::vector<StoredRecord> got;
  const auto read_deadline = Clock::now() + std::chrono::seconds(10);
  while (got.size() < static_cast<size_t>((*ok)[0].offset.value + 1) &&
         Clock::now() < read_deadline) {
    auto r = (*reader)->poll(100, milliseconds(500));
    REQUIRE(r.ok());
    for (auto& rec : *r) got.push_back(std::move(rec));
  }
  REQUIRE(got.size() == static_cast<size_t>((*ok)[0].offset.value + 1));
  CHECK(got.front().value == "before");
  CHECK(got.back().value == "after");
}

// Plain librdkafka clients, configured as kcat would be.
struct RdKafka {
  rd_kafka_t* rk = nullptr;
  RdKafka(rd_kafka_type_t type, const std::vector<std::pair<std::string, std::string>>& settings) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[256];
    for (const auto& [k, v] : settings) {
      REQUIRE(rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) == RD_KAFKA_CONF_OK);
    }
    rk = rd_kafka_new(type, conf, err, sizeof err);
    REQUIRE_MESSAGE(rk != nullptr, err);
  }
  ~RdKafka() { rd_kafka_destroy(rk); }
};

TEST_CASE("kafka values are stored verbatim: plain JSON is readable by and from other clients") {
  KafkaFixture fixture(1);
  auto log = fixture.open();
  const std::string key = "org_kcat";
  const Partition p = log->partition_for(key);
  const std::string json = R"({"type":"message.queued","v":1,"org":"org_kcat","to":"+15550100"})";

  // Written by a plain producer (kcat -P -k org_kcat -p <partition>), read by the adapter.
  {
    RdKafka producer(RD_KAFKA_PRODUCER, {{"bootstrap.servers", fixture.options().brokers}});
    REQUIRE(rd_kafka_producev(producer.rk, RD_KAFKA_V_TOPIC(std::string(kEventsTopic).c_str()),
                              RD_KAFKA_V_PARTITION(p.value), RD_KAFKA_V_KEY(key.data(), key.size()),
                              RD_KAFKA_V_VALUE(const_cast<char*>(json.data()), json.size()),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR);
    REQUIRE(rd_kafka_flush(producer.rk, 10'000) == RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  auto reader = log->reader(kEventsTopic, {{p, Offset{0}}});
  REQUIRE(reader.ok());
  const auto got = testing::detail::read_exactly(**reader, 1);
  CHECK(got[0].key == key);
  CHECK(got[0].value == json);
  CHECK(got[0].timestamp_ms > 0);

  // Written by the adapter, read by a plain consumer (kcat -C): the same bytes, no framing.
  const std::vector<Record> mine{{key, json + " "}};
  const auto pos = log->append(kEventsTopic, mine);
  REQUIRE(pos.ok());
  CHECK((*pos)[0] == LogPosition{p, Offset{1}});
  RdKafka consumer(RD_KAFKA_CONSUMER, {{"bootstrap.servers", fixture.options().brokers},
                                       {"group.id", "kcat-like"},
                                       {"enable.auto.commit", "false"}});
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, std::string(kEventsTopic).c_str(), p.value)->offset = 1;
  REQUIRE(rd_kafka_assign(consumer.rk, list) == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_message_t* msg = nullptr;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (msg == nullptr && Clock::now() < deadline) {
    msg = rd_kafka_consumer_poll(consumer.rk, 500);
    if (msg != nullptr && msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      FAIL("consumer error: " << rd_kafka_message_errstr(msg));
    }
  }
  REQUIRE(msg != nullptr);
  CHECK(std::string(static_cast<const char*>(msg->key), msg->key_len) == key);
  CHECK(std::string(static_cast<const char*>(msg->payload), msg->len) == json + " ");
  CHECK(msg->offset == 1);
  rd_kafka_message_destroy(msg);
  rd_kafka_consumer_close(consumer.rk);
}

}  // namespace
}  // namespace pulse::log
