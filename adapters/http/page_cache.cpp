#include "adapters/http/page_cache.h"

namespace pulse::http {

std::shared_ptr<const std::string> PageCache::get(const std::string& key, int64_t version) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.version != version) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  ++hits_;
  return it->second.body;
}

void PageCache::put(const std::string& key, int64_t version,
                    std::shared_ptr<const std::string> body) {
  if (!body || body->size() > max_bytes_ / 8) return;
  std::lock_guard lock(mu_);
  if (auto it = entries_.find(key); it != entries_.end()) {
    if (it->second.version > version) return;  // a newer answer is already kept
    erase(it);
  }
  bytes_ += body->size() + key.size();
  lru_.push_front(key);
  entries_.emplace(key, Entry{version, std::move(body), lru_.begin()});
  while (bytes_ > max_bytes_ && !lru_.empty()) erase(entries_.find(lru_.back()));
}

void PageCache::erase(std::unordered_map<std::string, Entry>::iterator it) {
  bytes_ -= it->second.body->size() + it->first.size();
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

size_t PageCache::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

uint64_t PageCache::hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

}  // namespace pulse::http
