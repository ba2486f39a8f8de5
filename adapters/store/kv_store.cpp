#include "adapters/store/kv_store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include "fmt/format.h"

namespace pulse::store {
namespace {

Error storage_error(const rocksdb::Status& s) {
  return Error{Errc::unavailable, "Storage unavailable", s.ToString()};
}

class RocksKvStore final : public KvStore {
 public:
  RocksKvStore(std::unique_ptr<rocksdb::DB> db, std::filesystem::path dir, bool derived)
      : db_(std::move(db)), dir_(std::move(dir)), derived_(derived) {}

  Result<std::optional<std::string>> get(std::string_view key) override {
    std::string value;
    auto s = db_->Get(rocksdb::ReadOptions(), rocksdb::Slice(key.data(), key.size()), &value);
    if (s.IsNotFound()) return std::optional<std::string>{};
    if (!s.ok()) return storage_error(s);
    return std::optional<std::string>{std::move(value)};
  }

  Status write(const std::vector<WriteOp>& ops, bool sync) override {
    // Sized up front: a projector batch is megabytes, and growing it by doubling cost copies
    // and page faults in the replay profile.
    size_t bytes = 64;
    for (const auto& op : ops) bytes += op.key.size() + (op.value ? op.value->size() : 0) + 16;
    rocksdb::WriteBatch batch(bytes);
    for (const auto& op : ops) {
      if (op.value)
        batch.Put(op.key, *op.value);
      else
        batch.Delete(op.key);
    }
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    wo.disableWAL = derived_ && !sync;
    auto s = db_->Write(wo, &batch);
    if (!s.ok()) return storage_error(s);
    return ok_status();
  }

  Status scan(std::string_view prefix, std::string_view start, bool reverse,
              const std::function<bool(std::string_view, std::string_view)>& visit) override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    const rocksdb::Slice pfx(prefix.data(), prefix.size());
    if (!reverse) {
      it->Seek(start.empty() ? pfx : rocksdb::Slice(start.data(), start.size()));
    } else if (!start.empty()) {
      it->SeekForPrev(rocksdb::Slice(start.data(), start.size()));
    } else {
      // The last key with the prefix: seek past every key that starts with it.
      std::string upper(prefix);
      upper.append(1, '\xff');
      it->SeekForPrev(upper);
      while (it->Valid() && it->key().compare(upper) >= 0) it->Prev();
    }
    for (; it->Valid() && it->key().starts_with(pfx); reverse ? it->Prev() : it->Next()) {
      if (!visit(std::string_view(it->key().data(), it->key().size()),
                 std::string_view(it->value().data(), it->value().size())))
        break;
    }
    if (!it->status().ok()) return storage_error(it->status());
    return ok_status();
  }

  const std::filesystem::path& dir() const override { return dir_; }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::filesystem::path dir_;
  bool derived_ = false;
};

}  // namespace

Result<std::unique_ptr<KvStore>> KvStore::open(const std::filesystem::path& dir, bool read_only,
                                               bool derived) {
  std::error_code ec;
  if (!read_only) std::filesystem::create_directories(dir, ec);
  if (ec)
    return Error{Errc::unavailable, "Cannot create the store directory",
                 fmt::format("{}: {}", dir.string(), ec.message())};
  rocksdb::Options options;
  options.create_if_missing = !read_only;
  options.IncreaseParallelism(2);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(64 << 20);
  // Debian's librocksdb computes CRC32C in software; XXH3 is several times faster there. Each
  // table file records its own checksum type, so files written before keep being verified.
  table.checksum = rocksdb::kXXH3;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* raw = nullptr;
  auto s = read_only ? rocksdb::DB::OpenForReadOnly(options, dir.string(), &raw)
                     : rocksdb::DB::Open(options, dir.string(), &raw);
  if (!s.ok()) return storage_error(s);
  return std::unique_ptr<KvStore>(
      std::make_unique<RocksKvStore>(std::unique_ptr<rocksdb::DB>(raw), dir, derived));
}

Result<std::optional<std::string>> Overlay::get(std::string_view key) {
  auto it = pending_.find(key);
  if (it != pending_.end()) return it->second;
  return base_.get(key);
}

Status Overlay::erase_prefix(std::string_view prefix) {
  std::vector<std::string> keys;
  auto st = base_.scan(prefix, "", false, [&](std::string_view key, std::string_view) {
    keys.emplace_back(key);
    return true;
  });
  if (!st) return st;
  for (auto it = pending_.lower_bound(prefix);
       it != pending_.end() && std::string_view(it->first).starts_with(prefix); ++it)
    it->second = std::nullopt;
  for (auto& k : keys) pending_[std::move(k)] = std::nullopt;
  return ok_status();
}

std::vector<WriteOp> Overlay::take() {
  std::vector<WriteOp> ops;
  ops.reserve(pending_.size());
  while (!pending_.empty()) {
    auto node = pending_.extract(pending_.begin());  // moves the key out too
    ops.push_back(WriteOp{std::move(node.key()), std::move(node.mapped())});
  }
  return ops;
}

}  // namespace pulse::store
