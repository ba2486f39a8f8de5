#include "projections/table.h"

#include <cstdio>
#include <cstdlib>

#include "fmt/format.h"

namespace pulse::projections {

Result<std::optional<std::string>> MemoryKv::get(std::string_view key) {
  auto it = data_.find(key);
  if (it == data_.end()) return std::optional<std::string>{};
  return std::optional<std::string>{it->second};
}

Status MemoryKv::scan(std::string_view prefix, std::string_view start, bool reverse,
                      const Visit& visit) {
  auto in_prefix = [&](const std::string& k) { return std::string_view(k).starts_with(prefix); };
  if (!reverse) {
    auto it = data_.lower_bound(start.empty() ? prefix : start);
    for (; it != data_.end() && in_prefix(it->first); ++it)
      if (!visit(it->first, it->second)) break;
    return ok_status();
  }
  // Descending from `start` (inclusive), or from the last key of the prefix.
  auto it = start.empty() ? data_.end() : data_.upper_bound(start);
  if (start.empty()) {
    // The first key past the prefix: the prefix with its last byte incremented (or the end).
    std::string past(prefix);
    while (!past.empty() && static_cast<unsigned char>(past.back()) == 0xff) past.pop_back();
    if (!past.empty()) {
      past.back() = static_cast<char>(static_cast<unsigned char>(past.back()) + 1);
      it = data_.lower_bound(past);
    }
  }
  while (it != data_.begin()) {
    --it;
    if (!in_prefix(it->first)) {
      if (it->first < prefix) break;
      continue;  // after the prefix: `start` was beyond it
    }
    if (!visit(it->first, it->second)) break;
  }
  return ok_status();
}

void MemoryKv::put(std::string key, std::string value) {
  ++puts_;
  data_[std::move(key)] = std::move(value);
}

void MemoryKv::erase(std::string key) {
  data_.erase(key);
}

Status MemoryKv::erase_prefix(std::string_view prefix) {
  auto it = data_.lower_bound(prefix);
  while (it != data_.end() && std::string_view(it->first).starts_with(prefix)) it = data_.erase(it);
  return ok_status();
}

void projector_store_failed(std::string_view what, std::string_view key, const Error& error) {
  fmt::print(stderr, "pulse: projector: {} {}: {}\n", what, key, error.details);
  std::abort();
}

}  // namespace pulse::projections
