#pragma once
// The read-model table: typed keys over an ordered key-value store. A key space names where a
// view is stored and which type its values have (Key<V>, Prefix<V>); values go through a codec
// the adapters provide (CodecFor<V>), so the projectors need no I/O and no JSON. Every scan,
// the projector's and the queries', is one paging loop: scan_page.
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "domain/result.h"

namespace pulse::projections {

// One record of type V, stored under `bytes`.
template <class V>
struct Key {
  std::string bytes;
};

// The keys of one key space that start with `bytes`, all holding V.
template <class V>
struct Prefix {
  std::string bytes;
  Key<V> key(std::string_view rest) const { return Key<V>{bytes + std::string(rest)}; }
};

// The value of an index entry: the key says everything, the stored value is empty.
struct NoValue {
  auto operator<=>(const NoValue&) const = default;
};

// Reads of an ordered key-value store.
class KvReader {
 public:
  using Visit = std::function<bool(std::string_view key, std::string_view value)>;
  virtual ~KvReader() = default;
  virtual Result<std::optional<std::string>> get(std::string_view key) = 0;
  // Visits keys starting with `prefix` in order (reverse: descending), from `start`
  // (inclusive; empty: the first/last key of the prefix), until `visit` returns false.
  virtual Status scan(std::string_view prefix, std::string_view start, bool reverse,
                      const Visit& visit) = 0;
};

// Reads and buffered writes: what a projector batch sees.
class Kv : public KvReader {
 public:
  virtual void put(std::string key, std::string value) = 0;
  virtual void erase(std::string key) = 0;
  // Erases every key starting with `prefix`.
  virtual Status erase_prefix(std::string_view prefix) = 0;
};

// A Kv in memory: the store the projector tests run on.
class MemoryKv final : public Kv {
 public:
  Result<std::optional<std::string>> get(std::string_view key) override;
  Status scan(std::string_view prefix, std::string_view start, bool reverse,
              const Visit& visit) override;
  void put(std::string key, std::string value) override;
  void erase(std::string key) override;
  Status erase_prefix(std::string_view prefix) override;

  const std::map<std::string, std::string, std::less<>>& data() const { return data_; }
  size_t puts() const { return puts_; }  // writes so far, to check that an event was ignored

 private:
  std::map<std::string, std::string, std::less<>> data_;
  size_t puts_ = 0;
};

// How values of type V are stored. The adapters fill it in (adapters/codec/value_codec.h).
template <class V>
struct CodecFor {
  std::string (*encode)(const V&) = nullptr;
  Result<V> (*decode)(std::string_view) = nullptr;
};

// The codecs of every value type `Vs`; of<V>() does not compile for a type not listed.
template <class... Vs>
struct CodecSet : CodecFor<Vs>... {
  template <class V>
  const CodecFor<V>& of() const {
    return *this;
  }
  template <class V>
  CodecFor<V>& of() {
    return *this;
  }
};

template <class V, class Codec>
std::string encode_value(const Codec& codec, const V& v) {
  if constexpr (std::is_same_v<V, NoValue>) {
    return {};
  } else {
    return codec.template of<V>().encode(v);
  }
}

template <class V, class Codec>
Result<V> decode_value(const Codec& codec, std::string_view bytes) {
  if constexpr (std::is_same_v<V, NoValue>) {
    return NoValue{};
  } else {
    return codec.template of<V>().decode(bytes);
  }
}

// Where one page of a scan starts and ends.
struct ScanRange {
  std::string start;  // a full key; empty: the first (reverse: the last) of the prefix
  bool after = true;  // skip `start` itself (strictly after / before it)
  bool reverse = false;
  size_t limit = 0;                // values kept; 0: all
  std::optional<std::string> end;  // the scan stops at a key beyond it (in the scan order)
  size_t max_visited = 0;          // entries visited, so a sparse filter can't run long; 0: all
};

template <class V>
struct ScanPage {
  std::vector<V> values;
  std::string last_key;  // the last entry visited
  bool complete = true;  // the range was read to its end (no page follows)
};

// The one scan loop: values under `prefix` within `range` that `keep(key, value)` accepts.
// `keep` returns bool, or Result<bool> when it can fail (an error ends the scan).
template <class V, class Codec, class Keep>
Result<ScanPage<V>> scan_page(KvReader& kv, const Codec& codec, const Prefix<V>& prefix,
                              const ScanRange& range, Keep&& keep) {
  ScanPage<V> page;
  std::optional<Error> error;
  size_t visited = 0;
  auto st = kv.scan(
      prefix.bytes, range.start, range.reverse, [&](std::string_view key, std::string_view bytes) {
        if (range.after && !range.start.empty() && key == range.start) return true;
        if (range.end && (range.reverse ? key < *range.end : key > *range.end)) return false;
        if (range.max_visited != 0 && ++visited > range.max_visited) {
          page.complete = false;
          return false;
        }
        page.last_key = key;
        auto v = decode_value<V>(codec, bytes);
        if (!v) {
          error = v.error();
          return false;
        }
        bool kept = false;
        if constexpr (std::is_same_v<std::invoke_result_t<Keep&, std::string_view, const V&>,
                                     bool>) {
          kept = keep(key, *v);
        } else {
          auto k = keep(key, *v);
          if (!k) {
            error = k.error();
            return false;
          }
          kept = *k;
        }
        if (!kept) return true;
        page.values.push_back(std::move(v).value());
        if (range.limit != 0 && page.values.size() >= range.limit) {
          page.complete = false;
          return false;
        }
        return true;
      });
  if (!st) return st.error();
  if (error) return *error;
  return page;
}

// Every value under `prefix`, in key order.
template <class V, class Codec>
Result<std::vector<V>> scan_all(KvReader& kv, const Codec& codec, const Prefix<V>& prefix) {
  auto page =
      scan_page(kv, codec, prefix, ScanRange{}, [](std::string_view, const V&) { return true; });
  if (!page) return page.error();
  return std::move(page->values);
}

template <class V, class Codec>
Result<std::optional<V>> get_value(KvReader& kv, const Codec& codec, const Key<V>& key) {
  auto raw = kv.get(key.bytes);
  if (!raw) return raw.error();
  if (!raw->has_value()) return std::optional<V>{};
  auto v = decode_value<V>(codec, **raw);
  if (!v) return v.error();
  return std::optional<V>{std::move(v).value()};
}

// A store the projector wrote itself and can't read back is broken: stop loudly rather than
// project on top of it.
[[noreturn]] void projector_store_failed(std::string_view what, std::string_view key,
                                         const Error& error);

}  // namespace pulse::projections
