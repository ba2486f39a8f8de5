#include "adapters/log/kafka_log.h"

#include <librdkafka/rdkafka.h>
// rdkafka_mock.h must come after rdkafka.h.
#include <librdkafka/rdkafka_mock.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>

namespace pulse::log {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// RAII holders for librdkafka's C handles.
struct KafkaDeleter {
  void operator()(rd_kafka_t* p) const { rd_kafka_destroy(p); }
};
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* p) const { rd_kafka_conf_destroy(p); }
};
struct TopicDeleter {
  void operator()(rd_kafka_topic_t* p) const { rd_kafka_topic_destroy(p); }
};
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* p) const { rd_kafka_queue_destroy(p); }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* p) const { rd_kafka_event_destroy(p); }
};
struct AdminOptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* p) const { rd_kafka_AdminOptions_destroy(p); }
};
struct NewTopicDeleter {
  void operator()(rd_kafka_NewTopic_t* p) const { rd_kafka_NewTopic_destroy(p); }
};
struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* p) const { rd_kafka_metadata_destroy(p); }
};
struct MessageDeleter {
  void operator()(rd_kafka_message_t* p) const { rd_kafka_message_destroy(p); }
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* p) const {
    rd_kafka_topic_partition_list_destroy(p);
  }
};
struct MockClusterDeleter {
  void operator()(rd_kafka_mock_cluster_t* p) const { rd_kafka_mock_cluster_destroy(p); }
};

using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using TopicPtr = std::unique_ptr<rd_kafka_topic_t, TopicDeleter>;
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;
using EventPtr = std::unique_ptr<rd_kafka_event_t, EventDeleter>;
using AdminOptionsPtr = std::unique_ptr<rd_kafka_AdminOptions_t, AdminOptionsDeleter>;
using NewTopicPtr = std::unique_ptr<rd_kafka_NewTopic_t, NewTopicDeleter>;
using MetadataPtr = std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter>;
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;
using MockClusterPtr = std::unique_ptr<rd_kafka_mock_cluster_t, MockClusterDeleter>;

// Waited for on top of message.timeout.ms before an append gives up on its delivery reports.
constexpr milliseconds kDeliveryMargin{5'000};
constexpr milliseconds kCloseFlush{5'000};
constexpr std::string_view kPossiblyAppended =
    "the records were possibly appended (sent, never acknowledged): their outcome is unknown";

Error unavailable(std::string details) {
  return Error{Errc::unavailable, "Event log unavailable", std::move(details)};
}

int to_ms(milliseconds d) {
  return static_cast<int>(std::clamp<int64_t>(d.count(), 0, 1'000'000'000));
}

int remaining_ms(Clock::time_point deadline) {
  return to_ms(std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
}

std::string err_text(rd_kafka_resp_err_t err) {
  return std::string(rd_kafka_err2name(err)) + ": " + rd_kafka_err2str(err);
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

Result<ConfPtr> make_conf(const std::vector<std::pair<std::string, std::string>>& settings) {
  ConfPtr conf(rd_kafka_conf_new());
  char errstr[512];
  for (const auto& [name, value] : settings) {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
      return Error{Errc::internal, "Kafka configuration rejected", name + ": " + errstr};
    }
  }
  return conf;
}

// A consumed message as the log interface's record.
StoredRecord stored_record(const rd_kafka_message_t& msg) {
  StoredRecord rec;
  rec.partition = Partition{msg.partition};
  rec.offset = Offset{msg.offset};
  rd_kafka_timestamp_type_t ts_type;
  const int64_t ts = rd_kafka_message_timestamp(&msg, &ts_type);
  rec.timestamp_ms = ts < 0 ? 0 : ts;
  if (msg.key != nullptr) rec.key.assign(static_cast<const char*>(msg.key), msg.key_len);
  if (msg.payload != nullptr) rec.value.assign(static_cast<const char*>(msg.payload), msg.len);
  return rec;
}

Result<KafkaPtr> make_handle(rd_kafka_type_t type, ConfPtr conf) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof errstr);
  if (rk == nullptr) return Error{Errc::internal, "Kafka client creation failed", errstr};
  static_cast<void>(conf.release());  // rd_kafka_new took ownership
  return KafkaPtr(rk);
}

// One append's delivery reports. Shared with every in-flight message, so a report arriving
// after the append gave up (timeout) still lands in live memory.
struct Delivery {
  std::mutex mu;
  std::condition_variable done;
  size_t pending = 0;
  std::vector<int64_t> offsets;
  rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;
  // A failed record that may still be in the log (sent, never acknowledged).
  bool possibly_persisted = false;
};

// The msg_opaque of one produced message; the delivery report callback deletes it.
struct DeliverySlot {
  std::shared_ptr<Delivery> delivery;
  size_t index;
  int32_t partition;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void*) {
  std::unique_ptr<DeliverySlot> slot(static_cast<DeliverySlot*>(msg->_private));
  Delivery& d = *slot->delivery;
  std::lock_guard lock(d.mu);
  if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (d.error == RD_KAFKA_RESP_ERR_NO_ERROR) d.error = msg->err;
    if (rd_kafka_message_status(msg) != RD_KAFKA_MSG_STATUS_NOT_PERSISTED)
      d.possibly_persisted = true;
  } else if (msg->partition != slot->partition || msg->offset < 0) {
    // Explicit partitions and acks=all: anything else is a broken client or broker.
    if (d.error == RD_KAFKA_RESP_ERR_NO_ERROR) d.error = RD_KAFKA_RESP_ERR__BAD_MSG;
  } else {
    d.offsets[slot->index] = msg->offset;
  }
  if (--d.pending == 0) d.done.notify_all();
}

std::string unique_group_id(uint64_t salt) {
  static std::atomic<uint64_t> counter{0};
  return "pulse-reader-" + std::to_string(::getpid()) + "-" + std::to_string(salt) + "-" +
         std::to_string(counter.fetch_add(1));
}

// Reads assigned partitions through a dedicated consumer. Owns a librdkafka consumer handle
// (and its threads). Nothing is ever committed to Kafka: callers keep their offsets.
class KafkaReader final : public Reader {
 public:
  KafkaReader(KafkaPtr consumer, std::string topic)
      : consumer_(std::move(consumer)), topic_(std::move(topic)) {}
  // A group member: the consumer is attached once created (its rebalance callback points here).
  KafkaReader(std::string topic, GroupHandlers handlers)
      : topic_(std::move(topic)), handlers_(std::move(handlers)), grouped_(true) {}
  void attach(KafkaPtr consumer) { consumer_ = std::move(consumer); }

  ~KafkaReader() override {
    if (!consumer_) return;
    // A group member leaves its group here (the partitions move at once, not after the session
    // times out); the revocation during close is not passed on: the owner is going away.
    closing_ = true;
    rd_kafka_consumer_close(consumer_.get());
  }

  Status subscribe() {
    PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), RD_KAFKA_PARTITION_UA);
    if (auto err = rd_kafka_subscribe(consumer_.get(), list.get()); err) {
      return unavailable("subscribe to " + topic_ + ": " + err_text(err));
    }
    return ok_status();
  }

  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* parts, void* opaque) {
    static_cast<KafkaReader*>(opaque)->rebalance(rk, err, parts);
  }

  Status assign(const std::vector<Assignment>& assignments) {
    PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(assignments.size())));
    for (const Assignment& a : assignments) {
      if (a.from.value < 0) {
        return Error{Errc::internal, "Invalid reader assignment", "negative offset"};
      }
      rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), a.partition.value)->offset =
          a.from.value;
      next_[a.partition.value] = a.from.value;
    }
    if (auto err = rd_kafka_assign(consumer_.get(), list.get()); err) {
      return unavailable("assign " + topic_ + ": " + err_text(err));
    }
    return ok_status();
  }

  Result<std::vector<StoredRecord>> poll(size_t max, milliseconds timeout) override {
    std::vector<StoredRecord> out;
    const auto deadline = Clock::now() + timeout;
    while (out.size() < max) {
      // Wait only for the first record; then take what is already buffered.
      const int wait = out.empty() ? remaining_ms(deadline) : 0;
      MessagePtr msg(rd_kafka_consumer_poll(consumer_.get(), wait));
      if (rebalanced_) {
        // The partitions moved inside this poll: what was read before belongs to the previous
        // assignment (the owner's handlers have moved on); the new one starts where they said.
        rebalanced_ = false;
        out.clear();
      }
      if (error_) {
        auto e = std::move(*error_);
        error_.reset();
        return e;
      }
      if (!msg) {
        if (!out.empty() || Clock::now() >= deadline) break;
        continue;
      }
      // One broker connection dropping (an idle close, a restart) is retried by librdkafka
      // and is not worth failing a reader for; losing every broker is.
      if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF ||
          msg->err == RD_KAFKA_RESP_ERR__TRANSPORT) {
        continue;
      }
      if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return unavailable("read " + topic_ + ": " + err_text(msg->err) + " (" +
                           rd_kafka_message_errstr(msg.get()) + ")");
      }
      auto next = next_.find(msg->partition);
      // A group member may still get a record fetched for a partition it just gave up.
      if (grouped_ && (next == next_.end() || msg->offset < next->second)) continue;
      // Offsets may jump forward: transaction markers and aborted transactions' records
      // (read_committed) are never returned. Never backward.
      if (next == next_.end() || msg->offset < next->second) {
        return Error{
            Errc::internal, "Event log corrupt",
            topic_ + "/" + std::to_string(msg->partition) + ": expected offset " +
                (next == next_.end() ? std::string("none") : std::to_string(next->second)) +
                ", got " + std::to_string(msg->offset)};
      }
      next->second = msg->offset + 1;
      out.push_back(stored_record(*msg));
    }
    return out;
  }

 private:
  void rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
    std::vector<Partition> ps;
    for (int i = 0; i < parts->cnt; ++i) ps.push_back(Partition{parts->elems[i].partition});
    rebalanced_ = true;
    next_.clear();
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS && !closing_) {
      auto starts = handlers_.assigned(ps);
      if (!starts) {
        error_ = starts.error();  // the next poll fails; the owner reopens (leaves the group)
        rd_kafka_assign(rk, nullptr);
        return;
      }
      std::unordered_map<int32_t, int64_t> from;
      for (const auto& a : *starts) from[a.partition.value] = a.from.value;
      for (int i = 0; i < parts->cnt; ++i) {
        auto& e = parts->elems[i];
        e.offset = from.count(e.partition) ? from[e.partition] : 0;
        next_[e.partition] = e.offset;
      }
      if (auto e = rd_kafka_assign(rk, parts); e) {
        error_ = unavailable("assign " + topic_ + ": " + err_text(e));
      }
      return;
    }
    if (!closing_ && handlers_.revoked) handlers_.revoked(ps);
    rd_kafka_assign(rk, nullptr);
  }

  KafkaPtr consumer_;
  std::string topic_;
  std::unordered_map<int32_t, int64_t> next_;  // the next expected offset per partition
  GroupHandlers handlers_;
  const bool grouped_ = false;
  bool closing_ = false;
  bool rebalanced_ = false;     // set by the rebalance callback inside a poll
  std::optional<Error> error_;  // from the rebalance callback, for the next poll
};

struct ErrorDeleter {
  void operator()(rd_kafka_error_t* p) const { rd_kafka_error_destroy(p); }
};
using ErrorPtr = std::unique_ptr<rd_kafka_error_t, ErrorDeleter>;

std::string err_text(const rd_kafka_error_t* e) {
  return std::string(rd_kafka_error_name(e)) + ": " + rd_kafka_error_string(e);
}

// The transactional.id of a partition's writer: the same in every process, so that a new
// owner's producer fences the previous owner's.
std::string transactional_id(std::string_view topic, Partition p) {
  return "pulse:" + std::string(topic) + ":" + std::to_string(p.value);
}

// One partition's writer: a transactional producer, one transaction per append. Opening it
// (init_transactions) bumps the producer epoch of its transactional.id: the coordinator aborts
// what an earlier writer left open and refuses that writer's transactions and produces from
// then on (PRODUCER_FENCED / INVALID_PRODUCER_EPOCH, fatal for its producer). Owns a librdkafka
// producer handle and its threads.
class KafkaPartitionWriter final : public PartitionWriter {
 public:
  KafkaPartitionWriter(KafkaPtr producer, std::string topic, Partition partition,
                       milliseconds timeout, const std::atomic<bool>& reachable)
      : producer_(std::move(producer)),
        topic_(std::move(topic)),
        partition_(partition),
        timeout_(timeout),
        reachable_(reachable),
        rkt_(rd_kafka_topic_new(producer_.get(), topic_.c_str(), nullptr)) {}

  ~KafkaPartitionWriter() override {
    // Whatever is still queued belongs to a transaction that is never committed.
    rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(producer_.get(), 0);  // frees the purged records' delivery slots
    rkt_.reset();
  }

  Status init() {
    if (!rkt_) return unavailable("cannot create a handle for topic " + topic_);
    ErrorPtr e(rd_kafka_init_transactions(producer_.get(), to_ms(timeout_)));
    if (e) {
      return unavailable("init_transactions for " + transactional_id(topic_, partition_) + ": " +
                         err_text(e.get()));
    }
    return ok_status();
  }

  Result<std::vector<LogPosition>> append(std::span<const Record> records) override {
    if (records.empty()) return std::vector<LogPosition>{};
    if (fenced_) return *fenced_;
    if (!reachable_.load(std::memory_order_acquire)) {
      return unavailable(
          "no Kafka broker answers for every partition (health probe); nothing "
          "was appended");
    }
    rd_kafka_t* rk = producer_.get();
    if (ErrorPtr e(rd_kafka_begin_transaction(rk)); e) return failed("begin", e.get());
    auto delivery = std::make_shared<Delivery>();
    delivery->pending = records.size();
    delivery->offsets.assign(records.size(), -1);
    for (size_t i = 0; i < records.size(); ++i) {
      const Record& r = records[i];
      auto slot = std::make_unique<DeliverySlot>(DeliverySlot{delivery, i, partition_.value});
      const auto deadline = Clock::now() + timeout_;
      for (;;) {
        if (rd_kafka_produce(rkt_.get(), partition_.value, RD_KAFKA_MSG_F_COPY,
                             const_cast<char*>(r.value.data()), r.value.size(), r.key.data(),
                             r.key.size(), slot.get()) == 0) {
          static_cast<void>(slot.release());  // the delivery report callback owns it now
          break;
        }
        const rd_kafka_resp_err_t err = rd_kafka_last_error();
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && Clock::now() < deadline) {
          rd_kafka_poll(rk, 10);
          continue;
        }
        ErrorPtr e(rd_kafka_error_new(err, "%s", "produce"));
        return failed("produce", e.get());
      }
    }
    // Commits once every record is acknowledged; serves their delivery reports meanwhile.
    ErrorPtr e(rd_kafka_commit_transaction(rk, to_ms(timeout_)));
    if (e) return failed("commit", e.get());
    // Committed: every record was acknowledged; its report may still wait to be served.
    const auto deadline = Clock::now() + timeout_;
    std::unique_lock lock(delivery->mu);
    while (delivery->pending > 0 && Clock::now() < deadline) {
      lock.unlock();
      rd_kafka_poll(rk, 10);
      lock.lock();
    }
    std::vector<LogPosition> positions;
    positions.reserve(records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      if (delivery->offsets[i] < 0) {
        return Error{Errc::internal, "Kafka delivery report missing",
                     "a committed record of " + topic_ + " has no offset"};
      }
      positions.push_back(LogPosition{partition_, Offset{delivery->offsets[i]}});
    }
    return positions;
  }

 private:
  // A failed step of a transaction: fenced (fatal), or aborted so that nothing of it is ever
  // visible. A commit that timed out may still complete; it is aborted here too, so its
  // outcome is known: nothing was appended.
  Error failed(std::string_view step, const rd_kafka_error_t* e) {
    const std::string what = std::string(step) + " of a transaction on " +
                             transactional_id(topic_, partition_) + ": " + err_text(e);
    if (rd_kafka_error_is_fatal(e) || rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR__FENCED) {
      fenced_ =
          Error{Errc::conflict, "Partition writer fenced",
                what + "; a newer writer owns " + topic_ + "/" + std::to_string(partition_.value) +
                    ", nothing of this transaction is visible"};
      return *fenced_;
    }
    ErrorPtr aborted(rd_kafka_abort_transaction(producer_.get(), to_ms(timeout_)));
    rd_kafka_poll(producer_.get(), 0);
    if (aborted) {
      if (rd_kafka_error_is_fatal(aborted.get()) ||
          rd_kafka_error_code(aborted.get()) == RD_KAFKA_RESP_ERR__FENCED) {
        fenced_ = Error{Errc::conflict, "Partition writer fenced",
                        what + "; abort: " + err_text(aborted.get())};
        return *fenced_;
      }
      // Not known to be aborted: the writer can't be used again (the caller opens a new one,
      // which aborts it).
      fenced_ = unavailable(what + "; abort failed: " + err_text(aborted.get()) +
                            "; the transaction is aborted when the partition's next writer opens");
      return *fenced_;
    }
    return unavailable(what + "; the transaction was aborted: nothing was appended");
  }

  KafkaPtr producer_;
  std::string topic_;
  Partition partition_;
  milliseconds timeout_;
  const std::atomic<bool>& reachable_;
  TopicPtr rkt_;                 // destroyed before producer_
  std::optional<Error> fenced_;  // every append fails with it once set
};

// The producer side. Owns an idempotent librdkafka producer and a thread that serves its
// delivery reports.
class KafkaLog final : public Log {
 public:
  KafkaLog(KafkaOptions options, KafkaPtr producer)
      : options_(std::move(options)),
        producer_(std::move(producer)),
        main_queue_(rd_kafka_queue_get_main(producer_.get())) {
    poller_ = std::thread([this] {
      // Serves delivery reports (on_delivery); the destructor wakes it with a queue yield.
      while (!stopping_.load(std::memory_order_acquire)) {
        rd_kafka_queue_poll_callback(main_queue_.get(), 1'000);
      }
    });
  }

  // Probes the brokers until destroyed (after prepare_topics: the topics exist).
  void start_prober() {
    prober_ = std::thread([this] {
      std::unique_lock lock(probe_mu_);
      while (!stopping_.load(std::memory_order_acquire)) {
        lock.unlock();
        const bool ok = probe();
        if (ok != reachable_.exchange(ok)) {
          std::fprintf(stderr, "pulse: kafka: %s\n",
                       ok ? "brokers reachable again" : "brokers unreachable: appends fail fast");
        }
        lock.lock();
        probe_cv_.wait_for(lock, options_.probe_interval,
                           [&] { return stopping_.load(std::memory_order_acquire); });
      }
    });
  }

  bool reachable() const override { return reachable_.load(std::memory_order_acquire); }

  ~KafkaLog() override {
    rd_kafka_t* rk = producer_.get();
    if (rd_kafka_flush(rk, to_ms(kCloseFlush)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // Give up on what is left; the purge still produces (failed) delivery reports, which
      // frees their slots.
      rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      (void)rd_kafka_flush(rk, 1'000);
    }
    {
      std::lock_guard lock(probe_mu_);
      stopping_.store(true, std::memory_order_release);
    }
    probe_cv_.notify_all();
    if (prober_.joinable()) prober_.join();
    rd_kafka_queue_yield(main_queue_.get());
    poller_.join();
  }

  int32_t partition_count() const override { return options_.partitions; }

  Result<std::vector<LogPosition>> append(std::string_view topic,
                                          std::span<const Record> records) override {
    if (records.empty()) return std::vector<LogPosition>{};
    if (!reachable()) {
      // Fail fast rather than queue records for a broker that is gone: nothing is produced,
      // so nothing can be applied later behind the caller's back.
      return unavailable(
          "no Kafka broker answers for every partition (health probe); nothing "
          "was appended");
    }
    rd_kafka_topic_t* rkt = topic_handle(topic);
    if (rkt == nullptr) {
      return unavailable("cannot create a handle for topic " + std::string(topic));
    }

    const auto deadline = Clock::now() + options_.delivery_timeout + kDeliveryMargin;
    auto delivery = std::make_shared<Delivery>();
    delivery->pending = records.size();
    delivery->offsets.assign(records.size(), -1);
    std::vector<LogPosition> positions;
    positions.reserve(records.size());

    for (size_t i = 0; i < records.size(); ++i) {
      const Record& r = records[i];
      const Partition p = partition_for(r.key);
      positions.push_back(LogPosition{p, Offset{-1}});
      auto slot = std::make_unique<DeliverySlot>(DeliverySlot{delivery, i, p.value});
      for (;;) {
        if (rd_kafka_produce(rkt, p.value, RD_KAFKA_MSG_F_COPY, const_cast<char*>(r.value.data()),
                             r.value.size(), r.key.data(), r.key.size(), slot.get()) == 0) {
          static_cast<void>(slot.release());  // the delivery report callback owns it now
          break;
        }
        const rd_kafka_resp_err_t err = rd_kafka_last_error();
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && Clock::now() < deadline) {
          // Serve delivery reports here too, so the queue drains.
          rd_kafka_poll(producer_.get(), 10);
          continue;
        }
        // Records produced before this one may still be written; the contract allows it.
        return unavailable("produce to " + std::string(topic) + ": " + err_text(err) +
                           fatal_details());
      }
    }

    std::unique_lock lock(delivery->mu);
    if (!delivery->done.wait_until(lock, deadline, [&] { return delivery->pending == 0; })) {
      return unavailable("no delivery report for " + std::string(topic) + " within " +
                         std::to_string((options_.delivery_timeout + kDeliveryMargin).count()) +
                         " ms; " + std::string(kPossiblyAppended));
    }
    if (delivery->error != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return unavailable("delivery to " + std::string(topic) +
                         " failed: " + err_text(delivery->error) + fatal_details() + "; " +
                         (delivery->possibly_persisted ? std::string(kPossiblyAppended)
                                                       : std::string("nothing was appended")));
    }
    for (size_t i = 0; i < positions.size(); ++i) {
      positions[i].offset = Offset{delivery->offsets[i]};
    }
    return positions;
  }

  Result<Offset> end_offset(std::string_view topic, Partition partition) override {
    int64_t low = 0;
    int64_t high = 0;
    const std::string name(topic);
    const auto err =
        rd_kafka_query_watermark_offsets(producer_.get(), name.c_str(), partition.value, &low,
                                         &high, to_ms(options_.connect_timeout));
    if (err) {
      return unavailable("end offset of " + name + "/" + std::to_string(partition.value) + ": " +
                         err_text(err));
    }
    return Offset{high};
  }

  Result<std::unique_ptr<PartitionWriter>> partition_writer(std::string_view topic,
                                                            Partition partition) override {
    const auto timeout = options_.delivery_timeout + kDeliveryMargin;
    auto conf = make_conf({
        {"bootstrap.servers", options_.brokers},
        {"client.id", options_.client_id + "-writer-" + std::to_string(partition.value)},
        {"transactional.id", transactional_id(topic, partition)},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"linger.ms", "2"},
        {"compression.type", "none"},
        {"message.timeout.ms", std::to_string(options_.delivery_timeout.count())},
        // How long the coordinator lets a transaction stay open before aborting it: a writer
        // that dies mid-transaction holds read_committed readers back this long at most (a new
        // writer of the partition aborts it at once).
        {"transaction.timeout.ms", std::to_string(timeout.count())},
        {"allow.auto.create.topics", "false"},
        {"reconnect.backoff.max.ms", "1000"},
    });
    if (!conf) return conf.error();
    rd_kafka_conf_set_dr_msg_cb(conf->get(), on_delivery);
    auto producer = make_handle(RD_KAFKA_PRODUCER, std::move(conf).value());
    if (!producer) return producer.error();
    auto w = std::make_unique<KafkaPartitionWriter>(std::move(producer).value(), std::string(topic),
                                                    partition, timeout, reachable_);
    if (auto st = w->init(); !st) return st.error();
    return std::unique_ptr<PartitionWriter>(std::move(w));
  }

  // A reader's consumer: assigned partitions, never a group member, committed reads only;
  // `partition_eof` to be told when a partition's end is reached.
  Result<ConfPtr> reader_conf(bool partition_eof) const {
    return make_conf({
        {"bootstrap.servers", options_.brokers},
        {"client.id", options_.client_id + "-reader"},
        // Required by the consumer API; never joined (assign, not subscribe) and never
        // committed to, so a unique id keeps readers from touching each other.
        {"group.id", unique_group_id(options_.reader_salt)},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", partition_eof ? "true" : "false"},
        // Records of aborted (fenced) transactions are never seen; nor are those of open ones.
        {"isolation.level", "read_committed"},
        // An offset outside the log (truncated by retention, or from another cluster) is an
        // error for the caller, never a silent jump.
        {"auto.offset.reset", "error"},
        {"reconnect.backoff.max.ms", "1000"},
        // A real broker answers a fetch as soon as a record arrives; the mock broker holds it
        // for the full wait, so this bounds a reader's latency there.
        {"fetch.wait.max.ms", std::to_string(options_.fetch_wait.count())},
        {"fetch.error.backoff.ms", "100"},
    });
  }

  // Reads back from the end in growing windows: the offsets at the end may all be transaction
  // markers or aborted records, which no reader returns.
  Result<std::optional<StoredRecord>> last_record(std::string_view topic,
                                                  Partition partition) override {
    auto end = end_offset(topic, partition);
    if (!end) return end.error();
    const std::string name(topic);
    int64_t window = 16;
    for (int64_t to = end->value; to > 0; window *= 8) {
      const int64_t from = std::max<int64_t>(0, to - window);
      auto conf = reader_conf(/*partition_eof=*/true);
      if (!conf) return conf.error();
      auto consumer = make_handle(RD_KAFKA_CONSUMER, std::move(conf).value());
      if (!consumer) return consumer.error();
      rd_kafka_poll_set_consumer(consumer->get());
      PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
      rd_kafka_topic_partition_list_add(list.get(), name.c_str(), partition.value)->offset = from;
      if (auto err = rd_kafka_assign(consumer->get(), list.get()); err) {
        return unavailable("assign " + name + ": " + err_text(err));
      }
      std::optional<StoredRecord> last;
      const auto deadline = Clock::now() + options_.connect_timeout;
      for (bool eof = false; !eof;) {
        if (Clock::now() >= deadline) {
          rd_kafka_consumer_close(consumer->get());
          return unavailable("could not read to the end of " + name + "/" +
                             std::to_string(partition.value));
        }
        MessagePtr msg(rd_kafka_consumer_poll(consumer->get(), 100));
        if (!msg || msg->err == RD_KAFKA_RESP_ERR__TRANSPORT) continue;
        if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          eof = true;  // at the end (at or past `to`: records appended since are not wanted)
          continue;
        }
        if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          rd_kafka_consumer_close(consumer->get());
          return unavailable("read " + name + ": " + err_text(msg->err));
        }
        if (msg->offset >= to) {
          eof = true;
          continue;
        }
        last = stored_record(*msg);
      }
      rd_kafka_consumer_close(consumer->get());
      if (last) return last;
      to = from;
    }
    return std::optional<StoredRecord>{};
  }

  Result<std::unique_ptr<Reader>> reader(std::string_view topic,
                                         std::vector<Assignment> assignments) override {
    for (const Assignment& a : assignments) {
      if (a.partition.value < 0 || a.partition.value >= options_.partitions) {
        return Error{Errc::internal, "Invalid reader assignment",
                     "partition " + std::to_string(a.partition.value) + " out of range"};
      }
    }
    auto conf = reader_conf(/*partition_eof=*/false);
    if (!conf) return conf.error();
    auto consumer = make_handle(RD_KAFKA_CONSUMER, std::move(conf).value());
    if (!consumer) return consumer.error();
    rd_kafka_poll_set_consumer(consumer->get());
    auto r = std::make_unique<KafkaReader>(std::move(consumer).value(), std::string(topic));
    if (auto st = r->assign(assignments); !st) return st.error();
    return std::unique_ptr<Reader>(std::move(r));
  }

  Result<std::unique_ptr<Reader>> group_reader(std::string_view topic, const std::string& group,
                                               GroupHandlers handlers) override {
    auto r = std::make_unique<KafkaReader>(std::string(topic), std::move(handlers));
    auto conf = make_conf({
        {"bootstrap.servers", options_.brokers},
        {"client.id", options_.client_id + "-" + group},
        {"group.id", group},
        // Eager rebalancing: every member gives up all its partitions before any is assigned
        // again, so no partition ever has two owners among live members.
        {"partition.assignment.strategy", "range"},
        // A member killed with SIGKILL loses its partitions after this.
        {"session.timeout.ms", "6000"},
        {"heartbeat.interval.ms", "500"},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "false"},
        {"isolation.level", "read_committed"},
        {"auto.offset.reset", "error"},
        {"reconnect.backoff.max.ms", "1000"},
        {"fetch.wait.max.ms", std::to_string(options_.fetch_wait.count())},
        {"fetch.error.backoff.ms", "100"},
    });
    if (!conf) return conf.error();
    rd_kafka_conf_set_opaque(conf->get(), r.get());
    rd_kafka_conf_set_rebalance_cb(conf->get(), &KafkaReader::on_rebalance);
    auto consumer = make_handle(RD_KAFKA_CONSUMER, std::move(conf).value());
    if (!consumer) return consumer.error();
    rd_kafka_poll_set_consumer(consumer->get());
    r->attach(std::move(consumer).value());
    if (auto st = r->subscribe(); !st) return st.error();
    return std::unique_ptr<Reader>(std::move(r));
  }

  // Creates the topics when missing and checks their partition counts.
  Status prepare_topics() {
    const auto deadline = Clock::now() + options_.connect_timeout;
    const std::vector<std::string> wanted{std::string(kCommandsTopic), std::string(kEventsTopic),
                                          std::string(kDeliveriesTopic)};
    auto counts = partition_counts(deadline);
    if (!counts) return counts.error();
    std::vector<std::string> missing;
    for (const auto& t : wanted) {
      if (!counts->contains(t)) missing.push_back(t);
    }
    if (!missing.empty()) {
      if (auto st = create_topics(missing); !st) return st;
      // A new topic reaches every broker's metadata shortly after creation.
      for (;;) {
        counts = partition_counts(deadline);
        if (!counts) return counts.error();
        if (std::all_of(wanted.begin(), wanted.end(),
                        [&](const std::string& t) { return counts->contains(t); })) {
          break;
        }
        if (Clock::now() >= deadline) {
          return unavailable("created topics did not appear in the cluster metadata");
        }
        std::this_thread::sleep_for(milliseconds(100));  // backoff between metadata requests
      }
    }
    for (const auto& t : wanted) {
      const int32_t n = counts->at(t);
      if (n != options_.partitions) {
        return Error{Errc::internal, "Kafka topic has a different partition count",
                     t + " has " + std::to_string(n) + " partitions, configured " +
                         std::to_string(options_.partitions) +
                         "; records would land in other partitions than before"};
      }
    }
    for (const auto& t : wanted) {
      if (topic_handle(t) == nullptr) return unavailable("cannot create a handle for topic " + t);
    }
    return ok_status();
  }

 private:
  // Topic name -> partition count for every topic of the cluster (no auto-creation).
  Result<std::map<std::string, int32_t>> partition_counts(Clock::time_point deadline) {
    const rd_kafka_metadata_t* raw = nullptr;
    const auto err = rd_kafka_metadata(producer_.get(), 1, nullptr, &raw,
                                       std::max(remaining_ms(deadline), 1'000));
    if (err) {
      return unavailable("no Kafka broker of \"" + options_.brokers + "\" answered within " +
                         std::to_string(options_.connect_timeout.count()) +
                         " ms: " + err_text(err));
    }
    MetadataPtr md(raw);
    std::map<std::string, int32_t> out;
    for (int i = 0; i < md->topic_cnt; ++i) {
      const auto& t = md->topics[i];
      if (t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) continue;
      out[t.topic] = t.partition_cnt;
    }
    return out;
  }

  Status create_topics(const std::vector<std::string>& names) {
    rd_kafka_t* rk = producer_.get();
    char errstr[512];
    std::vector<NewTopicPtr> topics;
    std::vector<rd_kafka_NewTopic_t*> raw;
    for (const auto& name : names) {
      NewTopicPtr t(rd_kafka_NewTopic_new(name.c_str(), options_.partitions, options_.replication,
                                          errstr, sizeof errstr));
      if (!t) return Error{Errc::internal, "Invalid Kafka topic settings", name + ": " + errstr};
      raw.push_back(t.get());
      topics.push_back(std::move(t));
    }
    AdminOptionsPtr opts(rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS));
    const int timeout = to_ms(options_.connect_timeout);
    if (rd_kafka_AdminOptions_set_request_timeout(opts.get(), timeout, errstr, sizeof errstr) ||
        rd_kafka_AdminOptions_set_operation_timeout(opts.get(), timeout, errstr, sizeof errstr)) {
      return Error{Errc::internal, "Invalid Kafka admin options", errstr};
    }
    QueuePtr queue(rd_kafka_queue_new(rk));
    rd_kafka_CreateTopics(rk, raw.data(), raw.size(), opts.get(), queue.get());
    EventPtr ev(rd_kafka_queue_poll(queue.get(), timeout + to_ms(kDeliveryMargin)));
    if (!ev) return unavailable("CreateTopics got no answer");
    if (const auto err = rd_kafka_event_error(ev.get()); err) {
      return unavailable(
          "CreateTopics failed: " + err_text(err) + " (" + rd_kafka_event_error_string(ev.get()) +
          "); if the cluster can't create topics (librdkafka's mock broker "
          "can't), create " +
          join(names) + " with " + std::to_string(options_.partitions) + " partitions beforehand");
    }
    const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(ev.get());
    size_t n = 0;
    const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &n);
    for (size_t i = 0; i < n; ++i) {
      const auto err = rd_kafka_topic_result_error(results[i]);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        continue;
      }
      const char* msg = rd_kafka_topic_result_error_string(results[i]);
      return unavailable(std::string("creating ") + rd_kafka_topic_result_name(results[i]) + ": " +
                         err_text(err) + (msg ? std::string(" (") + msg + ")" : std::string()));
    }
    return ok_status();
  }

  rd_kafka_topic_t* topic_handle(std::string_view topic) {
    std::lock_guard lock(topics_mu_);
    auto it = topics_.find(topic);
    if (it != topics_.end()) return it->second.get();
    TopicPtr t(rd_kafka_topic_new(producer_.get(), std::string(topic).c_str(), nullptr));
    if (!t) return nullptr;
    return topics_.emplace(std::string(topic), std::move(t)).first->second.get();
  }

  std::string fatal_details() {
    char buf[512];
    if (rd_kafka_fatal_error(producer_.get(), buf, sizeof buf) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      return {};
    }
    return std::string("; producer fatal error: ") + buf;
  }

  // A metadata request, then the end offset of every partition of both topics (one ListOffsets
  // per leader, in parallel): a partition whose leader is down fails it.
  bool probe() {
    const auto timeout = std::max(1'000, to_ms(options_.probe_interval) * 4);
    const rd_kafka_metadata_t* raw = nullptr;
    if (rd_kafka_metadata(producer_.get(), 0, nullptr, &raw, timeout) != 0) return false;
    MetadataPtr md(raw);
    PartitionListPtr list(rd_kafka_topic_partition_list_new(2 * options_.partitions));
    for (std::string_view topic : {kCommandsTopic, kEventsTopic}) {
      for (int32_t p = 0; p < options_.partitions; ++p) {
        // offsets_for_times takes a timestamp in .offset; -1: the end of the partition.
        rd_kafka_topic_partition_list_add(list.get(), std::string(topic).c_str(), p)->offset = -1;
      }
    }
    if (rd_kafka_offsets_for_times(producer_.get(), list.get(), timeout) != 0) return false;
    for (int i = 0; i < list->cnt; ++i) {
      if (list->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
    }
    return true;
  }

  KafkaOptions options_;
  KafkaPtr producer_;
  QueuePtr main_queue_;  // a reference, released before producer_ is destroyed
  std::mutex topics_mu_;
  std::map<std::string, TopicPtr, std::less<>> topics_;  // destroyed before producer_
  std::atomic<bool> stopping_{false};
  std::thread poller_;
  std::atomic<bool> reachable_{true};  // prepare_topics succeeded
  std::mutex probe_mu_;
  std::condition_variable probe_cv_;
  std::thread prober_;  // joined before poller_
};

// Kafka protocol API key of AddPartitionsToTxn (rdkafka_protocol.h is not installed).
constexpr int16_t kAddPartitionsToTxn = 24;

class MockCluster final : public MockKafkaCluster {
 public:
  MockCluster(KafkaPtr handle, MockClusterPtr cluster)
      : handle_(std::move(handle)), cluster_(std::move(cluster)) {}

  std::string bootstrap_servers() const override {
    return rd_kafka_mock_cluster_bootstraps(cluster_.get());
  }

  void set_broker_down(int broker_id, bool down) override {
    const auto err = down ? rd_kafka_mock_broker_set_down(cluster_.get(), broker_id)
                          : rd_kafka_mock_broker_set_up(cluster_.get(), broker_id);
    // Only an unknown broker id fails: a test bug.
    if (err) std::abort();
  }

  void fence_next_transactions(int count) override {
    for (int i = 0; i < count; ++i) {
      rd_kafka_mock_push_request_errors(cluster_.get(), kAddPartitionsToTxn, 1,
                                        RD_KAFKA_RESP_ERR_PRODUCER_FENCED);
    }
  }

 private:
  KafkaPtr handle_;
  MockClusterPtr cluster_;  // declared last: destroyed before the handle it lives in
};

}  // namespace

Result<std::unique_ptr<Log>> open_kafka_log(const KafkaOptions& options) {
  if (options.brokers.empty()) {
    return Error{Errc::internal, "Kafka brokers not configured", "empty bootstrap list"};
  }
  if (options.partitions <= 0 || options.replication <= 0) {
    return Error{Errc::internal, "Invalid Kafka topic settings",
                 "partitions and replication must be positive"};
  }
  auto conf = make_conf({
      {"bootstrap.servers", options.brokers},
      {"client.id", options.client_id},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"linger.ms", "2"},
      {"compression.type", "none"},
      {"message.timeout.ms", std::to_string(options.delivery_timeout.count())},
      // Topics are created (with the right partition count) here, never by a produce.
      {"allow.auto.create.topics", "false"},
      {"reconnect.backoff.max.ms", "1000"},
  });
  if (!conf) return conf.error();
  rd_kafka_conf_set_dr_msg_cb(conf->get(), on_delivery);
  auto producer = make_handle(RD_KAFKA_PRODUCER, std::move(conf).value());
  if (!producer) return producer.error();
  auto log = std::make_unique<KafkaLog>(options, std::move(producer).value());
  if (auto st = log->prepare_topics(); !st) return st.error();
  log->start_prober();
  return std::unique_ptr<Log>(std::move(log));
}

Result<std::unique_ptr<MockKafkaCluster>> MockKafkaCluster::start(int brokers, int32_t partitions) {
  if (brokers <= 0 || partitions <= 0) {
    return Error{Errc::internal, "Invalid mock cluster settings",
                 "brokers and partitions must be positive"};
  }
  // The handle only hosts the mock brokers; it never connects anywhere, so its warnings
  // (no bootstrap.servers) are noise.
  auto conf = make_conf({{"log_level", "3"}});
  if (!conf) return conf.error();
  auto handle = make_handle(RD_KAFKA_PRODUCER, std::move(conf).value());
  if (!handle) return handle.error();
  MockClusterPtr cluster(rd_kafka_mock_cluster_new(handle->get(), brokers));
  if (!cluster) return Error{Errc::internal, "Mock Kafka cluster failed to start", ""};
  for (std::string_view topic : {kCommandsTopic, kEventsTopic, kDeliveriesTopic}) {
    const auto err = rd_kafka_mock_topic_create(cluster.get(), std::string(topic).c_str(),
                                                partitions, std::min(brokers, 3));
    if (err) {
      return Error{Errc::internal, "Mock Kafka topic creation failed",
                   std::string(topic) + ": " + err_text(err)};
    }
  }
  return std::unique_ptr<MockKafkaCluster>(
      std::make_unique<MockCluster>(std::move(handle).value(), std::move(cluster)));
}

}  // namespace pulse::log
