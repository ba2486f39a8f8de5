#include "adapters/log/embedded_log.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "fmt/format.h"

namespace pulse::log {
namespace {

// Layout of the log's RocksDB:
//   'r' topic '\0' partition(4, big-endian) offset(8, big-endian) -> ts(8) keylen(4) key value
//   'm' "partitions"                                                -> decimal count
// Big-endian numbers make RocksDB's byte order the log's offset order.
constexpr char kRecordTag = 'r';
const std::string kPartitionsMetaKey = "mpartitions";

void put_be(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t get_be(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string partition_prefix(std::string_view topic, Partition p) {
  std::string k;
  k.reserve(topic.size() + 6);
  k.push_back(kRecordTag);
  k.append(topic);
  k.push_back('\0');
  put_be(k, static_cast<uint32_t>(p.value), 4);
  return k;
}

std::string record_key(std::string_view topic, Partition p, Offset o) {
  std::string k = partition_prefix(topic, p);
  put_be(k, static_cast<uint64_t>(o.value), 8);
  return k;
}

std::string encode_value(int64_t ts, const Record& r) {
  std::string v;
  v.reserve(12 + r.key.size() + r.value.size());
  put_be(v, static_cast<uint64_t>(ts), 8);
  put_be(v, r.key.size(), 4);
  v.append(r.key);
  v.append(r.value);
  return v;
}

bool decode_value(std::string_view v, StoredRecord& out) {
  if (v.size() < 12) return false;
  out.timestamp_ms = static_cast<int64_t>(get_be(v.data(), 8));
  const auto klen = get_be(v.data() + 8, 4);
  if (v.size() < 12 + klen) return false;
  out.key.assign(v.data() + 12, klen);
  out.value.assign(v.data() + 12 + klen, v.size() - 12 - klen);
  return true;
}

Error storage_error(const rocksdb::Status& s) {
  return Error{Errc::unavailable, "Event log unavailable", s.ToString()};
}

using TopicPartition = std::pair<std::string, int32_t>;

class EmbeddedLog final : public Log {
 public:
  EmbeddedLog(std::unique_ptr<rocksdb::DB> db, int32_t partitions, bool sync, bool read_only)
      : db_(std::move(db)), partitions_(partitions), sync_(sync), read_only_(read_only) {
    writer_ = std::thread([this] { write_loop(); });
  }

  ~EmbeddedLog() override {
    {
      std::lock_guard lock(queue_mu_);
      stopping_ = true;
    }
    queue_cv_.notify_all();
    writer_.join();
  }

  int32_t partition_count() const override { return partitions_; }

  Result<std::vector<LogPosition>> append(std::string_view topic,
                                          std::span<const Record> records) override {
    if (records.empty()) return std::vector<LogPosition>{};
    if (read_only_) return Error{Errc::unavailable, "Event log is read-only", "opened read-only"};
    auto request = std::make_shared<AppendRequest>();
    request->topic = std::string(topic);
    request->records = records;
    auto done = request->done.get_future();
    {
      std::lock_guard lock(queue_mu_);
      if (stopping_) return Error{Errc::unavailable, "Event log unavailable", "log is closing"};
      queue_.push_back(request);
    }
    queue_cv_.notify_one();
    return done.get();
  }

  Result<Offset> end_offset(std::string_view topic, Partition partition) override {
    if (partition.value < 0 || partition.value >= partitions_)
      return Error{Errc::validation, "No such partition", fmt::format("{}", partition.value)};
    std::lock_guard lock(ends_mu_);
    return Offset{end_locked(topic, partition)};
  }

  Result<std::unique_ptr<Reader>> reader(std::string_view topic,
                                         std::vector<Assignment> assignments) override;

  // For readers.
  rocksdb::DB& db() { return *db_; }
  int64_t published_end(const std::string& topic, Partition p) {
    std::lock_guard lock(ends_mu_);
    return end_locked(topic, p);
  }
  // Waits until an end of `topic` moves past `seen_version` or the deadline passes. Appends to
  // other topics wake no one here: the decider's reader sleeps through events, the projector's
  // through commands.
  uint64_t wait_for_append(const std::string& topic, uint64_t seen_version,
                           std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(ends_mu_);
    auto& wake = wakes_[topic];
    wake.cv.wait_until(lock, deadline, [&] { return wake.version != seen_version; });
    return wake.version;
  }
  uint64_t version(const std::string& topic) {
    std::lock_guard lock(ends_mu_);
    return wakes_[topic].version;
  }

 private:
  struct AppendRequest {
    std::string topic;
    std::span<const Record> records;
    std::promise<Result<std::vector<LogPosition>>> done;
  };

  // ends_mu_ held. The end offset is found once per partition by seeking to its last record.
  int64_t& end_locked(std::string_view topic, Partition p) {
    auto key = TopicPartition{std::string(topic), p.value};
    auto it = ends_.find(key);
    if (it != ends_.end()) return it->second;
    int64_t end = 0;
    const std::string prefix = partition_prefix(topic, p);
    std::string upper = prefix;
    put_be(upper, ~uint64_t{0}, 8);
    std::unique_ptr<rocksdb::Iterator> iter(db_->NewIterator(rocksdb::ReadOptions()));
    iter->SeekForPrev(upper);
    if (iter->Valid() && iter->key().starts_with(prefix) &&
        iter->key().size() == prefix.size() + 8) {
      end = static_cast<int64_t>(get_be(iter->key().data() + prefix.size(), 8)) + 1;
    }
    return ends_.emplace(std::move(key), end).first->second;
  }

  // The group-commit writer: whatever is queued when it wakes goes into one synced WriteBatch.
  void write_loop() {
    for (;;) {
      std::deque<std::shared_ptr<AppendRequest>> group;
      {
        std::unique_lock lock(queue_mu_);
        queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty() && stopping_) return;
        group.swap(queue_);
      }
      commit_group(group);
    }
  }

  void commit_group(std::deque<std::shared_ptr<AppendRequest>>& group) {
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    rocksdb::WriteBatch batch;
    std::map<TopicPartition, int64_t> next;  // tentative ends for this group
    std::vector<std::vector<LogPosition>> positions(group.size());
    {
      std::lock_guard lock(ends_mu_);
      for (size_t g = 0; g < group.size(); ++g) {
        auto& req = *group[g];
        positions[g].reserve(req.records.size());
        for (const auto& rec : req.records) {
          const Partition p = partition_for(rec.key);
          auto tp = TopicPartition{req.topic, p.value};
          auto it = next.find(tp);
          if (it == next.end()) it = next.emplace(tp, end_locked(req.topic, p)).first;
          const Offset o{it->second++};
          batch.Put(record_key(req.topic, p, o), encode_value(now_ms, rec));
          positions[g].push_back(LogPosition{p, o});
        }
      }
    }
    rocksdb::WriteOptions wo;
    wo.sync = sync_;
    const auto status = db_->Write(wo, &batch);
    if (!status.ok()) {
      for (auto& req : group) req->done.set_value(storage_error(status));
      return;
    }
    std::vector<std::condition_variable*> woken;
    {
      std::lock_guard lock(ends_mu_);
      for (auto& [tp, end] : next) ends_[tp] = end;
      for (const auto& req : group) {
        auto& wake = wakes_[req->topic];
        if (std::find(woken.begin(), woken.end(), &wake.cv) == woken.end()) {
          ++wake.version;
          woken.push_back(&wake.cv);
        }
      }
    }
    for (auto* cv : woken) cv->notify_all();
    for (size_t g = 0; g < group.size(); ++g) group[g]->done.set_value(std::move(positions[g]));
  }

  std::unique_ptr<rocksdb::DB> db_;
  const int32_t partitions_;
  const bool sync_;
  const bool read_only_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::shared_ptr<AppendRequest>> queue_;
  bool stopping_ = false;

  // Per topic: bumped by every group that appended to it, with the readers waiting for that.
  struct Wake {
    uint64_t version = 0;
    std::condition_variable cv;
  };
  std::mutex ends_mu_;
  std::map<TopicPartition, int64_t> ends_;
  std::map<std::string, Wake> wakes_;  // nodes stay put: woken holds their addresses

  std::thread writer_;
};

class EmbeddedReader final : public Reader {
 public:
  EmbeddedReader(EmbeddedLog& log, std::string topic, std::vector<Assignment> assignments)
      : log_(log), topic_(std::move(topic)), assignments_(std::move(assignments)) {}

  Result<std::vector<StoredRecord>> poll(size_t max, std::chrono::milliseconds timeout) override {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<StoredRecord> out;
    for (;;) {
      const uint64_t version = log_.version(topic_);
      auto st = read_available(max, out);
      if (!st.ok()) return st.error();
      if (!out.empty() || std::chrono::steady_clock::now() >= deadline) return out;
      log_.wait_for_append(topic_, version, deadline);
    }
  }

 private:
  Status read_available(size_t max, std::vector<StoredRecord>& out) {
    // Round-robin the starting partition so one busy partition can't starve the others.
    const size_t n = assignments_.size();
    for (size_t k = 0; k < n && out.size() < max; ++k) {
      auto& a = assignments_[(next_ + k) % n];
      const int64_t end = log_.published_end(topic_, a.partition);
      if (a.from.value >= end) continue;
      std::unique_ptr<rocksdb::Iterator> it(log_.db().NewIterator(rocksdb::ReadOptions()));
      const std::string prefix = partition_prefix(topic_, a.partition);
      for (it->Seek(record_key(topic_, a.partition, a.from));
           it->Valid() && a.from.value < end && out.size() < max; it->Next()) {
        const auto key = it->key();
        if (!key.starts_with(prefix) || key.size() != prefix.size() + 8)
          return Error{Errc::internal, "Event log corrupt", "unexpected key in partition range"};
        const auto offset = static_cast<int64_t>(get_be(key.data() + prefix.size(), 8));
        if (offset != a.from.value)
          return Error{Errc::internal, "Event log corrupt",
                       fmt::format("{}[{}]: expected offset {}, found {}", topic_,
                                   a.partition.value, a.from.value, offset)};
        StoredRecord rec;
        rec.partition = a.partition;
        rec.offset = Offset{offset};
        if (!decode_value(std::string_view(it->value().data(), it->value().size()), rec))
          return Error{Errc::internal, "Event log corrupt", "truncated record"};
        out.push_back(std::move(rec));
        ++a.from.value;
      }
      if (!it->status().ok()) return storage_error(it->status());
    }
    next_ = n ? (next_ + 1) % n : 0;
    return ok_status();
  }

  EmbeddedLog& log_;
  std::string topic_;
  std::vector<Assignment> assignments_;
  size_t next_ = 0;
};

Result<std::unique_ptr<Reader>> EmbeddedLog::reader(std::string_view topic,
                                                    std::vector<Assignment> assignments) {
  for (const auto& a : assignments)
    if (a.partition.value < 0 || a.partition.value >= partitions_ || a.from.value < 0)
      return Error{Errc::validation, "Invalid assignment",
                   fmt::format("partition {} offset {}", a.partition.value, a.from.value)};
  return std::unique_ptr<Reader>(
      std::make_unique<EmbeddedReader>(*this, std::string(topic), std::move(assignments)));
}

}  // namespace

Result<std::unique_ptr<Log>> open_embedded_log(const EmbeddedLogOptions& options) {
  if (options.partitions < 0 || options.partitions > 1024)
    return Error{Errc::validation, "Invalid partition count",
                 fmt::format("{} (1..1024)", options.partitions)};
  int32_t partitions = options.partitions;
  std::error_code ec;
  if (!options.read_only) std::filesystem::create_directories(options.dir, ec);
  if (ec)
    return Error{Errc::unavailable, "Cannot create the log directory",
                 fmt::format("{}: {}", options.dir.string(), ec.message())};
  rocksdb::Options db_options;
  db_options.create_if_missing = !options.read_only;
  db_options.IncreaseParallelism(2);
  db_options.max_total_wal_size = 256 << 20;
  rocksdb::BlockBasedTableOptions table;
  table.checksum = rocksdb::kXXH3;  // as the read models' store (kv_store.cpp)
  db_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* raw = nullptr;
  auto status = options.read_only
                    ? rocksdb::DB::OpenForReadOnly(db_options, options.dir.string(), &raw)
                    : rocksdb::DB::Open(db_options, options.dir.string(), &raw);
  if (!status.ok()) return storage_error(status);
  std::unique_ptr<rocksdb::DB> db(raw);

  std::string stored;
  status = db->Get(rocksdb::ReadOptions(), kPartitionsMetaKey, &stored);
  if (status.IsNotFound() && options.read_only) {
    return Error{Errc::not_found, "Empty event log", options.dir.string()};
  } else if (status.IsNotFound()) {
    if (partitions == 0) partitions = kDefaultPartitions;
    rocksdb::WriteOptions wo;
    wo.sync = true;
    status = db->Put(wo, kPartitionsMetaKey, std::to_string(partitions));
    if (!status.ok()) return storage_error(status);
  } else if (!status.ok()) {
    return storage_error(status);
  } else if (partitions == 0) {
    partitions = std::stoi(stored);
  } else if (stored != std::to_string(partitions)) {
    return Error{Errc::validation, "Partition count mismatch",
                 fmt::format("the log in {} has {} partitions, {} were requested",
                             options.dir.string(), stored, options.partitions)};
  }
  return std::unique_ptr<Log>(
      std::make_unique<EmbeddedLog>(std::move(db), partitions, options.sync, options.read_only));
}

}  // namespace pulse::log
