#pragma once
// A RocksDB key-value store behind a small interface (no RocksDB header here). Owns the DB
// handle. Used for the decider state (data/state) and the read models (data/views).
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.h"
#include "projections/table.h"

namespace pulse::store {

struct WriteOp {
  std::string key;
  std::optional<std::string> value;  // nullopt deletes
};

class KvStore : public projections::KvReader {
 public:
  // `derived`: the store holds only what can be derived again from the log (read models): its
  // unsynced writes skip RocksDB's write-ahead log. A crash then loses the writes since the
  // last memtable flush, never a part of one WriteBatch (a flush persists a prefix of the
  // writes), so a derived store comes back consistent at an older position and its runner
  // applies the log from there again. A clean close flushes everything. Other processes see
  // only what is flushed, so the live read models (read by `pulse replay --verify`, `dump`,
  // `status` while serving) keep the WAL; rebuilds into a fresh store (`replay --into`) don't.
  static Result<std::unique_ptr<KvStore>> open(const std::filesystem::path& dir,
                                               bool read_only = false, bool derived = false);
  Result<std::optional<std::string>> get(std::string_view key) override = 0;
  // Atomic: all or nothing.
  virtual Status write(const std::vector<WriteOp>& ops, bool sync = false) = 0;
  // scan (projections::KvReader): keys starting with a prefix, in order, from a start key.
  virtual const std::filesystem::path& dir() const = 0;
};

// Reads go through pending writes first: what a projector batch wrote is visible to the rest
// of the batch before it is committed.
class Overlay {
 public:
  explicit Overlay(KvStore& base) : base_(base) {}
  Result<std::optional<std::string>> get(std::string_view key);
  void put(std::string key, std::string value) { pending_[std::move(key)] = std::move(value); }
  void erase(std::string key) { pending_[std::move(key)] = std::nullopt; }
  // Erases every key starting with `prefix`, in the base and pending alike.
  Status erase_prefix(std::string_view prefix);
  bool empty() const { return pending_.empty(); }
  // The writes not taken yet (nullopt: erased).
  const std::map<std::string, std::optional<std::string>, std::less<>>& pending() const {
    return pending_;
  }
  std::vector<WriteOp> take();

 private:
  KvStore& base_;
  std::map<std::string, std::optional<std::string>, std::less<>> pending_;
};

}  // namespace pulse::store
