#pragma once
// Encoded answers of read-only queries, each kept with the version of the read models it was
// read from (the projector's applied event offset of the organisation's partition): while that
// version holds, the same query gets the same bytes, so serving it again is a copy instead of
// decoding every stored view of the page and encoding the answer. A version that moved (any
// event of the partition applied) misses; nothing is invalidated by hand. Bounded by bytes,
// least recently used first out. Thread-safe.
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace pulse::http {

class PageCache {
 public:
  explicit PageCache(size_t max_bytes) : max_bytes_(max_bytes) {}

  // The body stored for `key` at exactly `version`, or nullptr.
  std::shared_ptr<const std::string> get(const std::string& key, int64_t version);
  // Keeps `body` for `key` at `version` (replacing an older one); bodies over an eighth of the
  // budget are not kept.
  void put(const std::string& key, int64_t version, std::shared_ptr<const std::string> body);

  // A cache of 0 bytes keeps nothing: callers skip building its keys.
  bool enabled() const { return max_bytes_ > 0; }
  size_t bytes() const;
  uint64_t hits() const;

 private:
  struct Entry {
    int64_t version;
    std::shared_ptr<const std::string> body;
    std::list<std::string>::iterator lru;  // position in lru_ (front: most recent)
  };
  void erase(std::unordered_map<std::string, Entry>::iterator it);

  const size_t max_bytes_;
  mutable std::mutex mu_;
  size_t bytes_ = 0;
  uint64_t hits_ = 0;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> lru_;
};

}  // namespace pulse::http
