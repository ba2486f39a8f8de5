#include "adapters/log/log.h"

#include <cstring>
#include <string>

#include "fmt/format.h"

namespace pulse::log {

// Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), seed 0x9747b28c.
uint32_t murmur2(std::string_view data) {
  const uint32_t seed = 0x9747b28c;
  const uint32_t m = 0x5bd1e995;
  const int r = 24;
  const size_t length = data.size();
  uint32_t h = seed ^ static_cast<uint32_t>(length);
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t i = 0;
  for (; i + 4 <= length; i += 4) {
    uint32_t k = static_cast<uint32_t>(p[i]) | (static_cast<uint32_t>(p[i + 1]) << 8) |
                 (static_cast<uint32_t>(p[i + 2]) << 16) | (static_cast<uint32_t>(p[i + 3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  switch (length % 4) {
    case 3:
      h ^= static_cast<uint32_t>(p[i + 2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<uint32_t>(p[i + 1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= static_cast<uint32_t>(p[i]);
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return h;
}

Partition Log::partition_for(std::string_view key) const {
  return Partition{
      static_cast<int32_t>((murmur2(key) & 0x7fffffff) % static_cast<uint32_t>(partition_count()))};
}

namespace {

// Appends through the log itself: nothing to fence within one process.
class PlainPartitionWriter final : public PartitionWriter {
 public:
  PlainPartitionWriter(Log& log, std::string_view topic) : log_(log), topic_(topic) {}
  Result<std::vector<LogPosition>> append(std::span<const Record> records) override {
    return log_.append(topic_, records);
  }

 private:
  Log& log_;
  std::string topic_;
};

}  // namespace

Result<std::optional<StoredRecord>> Log::last_record(std::string_view topic, Partition partition) {
  auto end = end_offset(topic, partition);
  if (!end) return end.error();
  if (end->value == 0) return std::optional<StoredRecord>{};
  auto r = reader(topic, {{partition, Offset{end->value - 1}}});
  if (!r) return r.error();
  auto last = (*r)->poll(1, std::chrono::seconds(10));
  if (!last) return last.error();
  if (last->empty()) {
    return Error{Errc::unavailable, "Event log unavailable",
                 fmt::format("could not read the last record of {}/{}", topic, partition.value)};
  }
  return std::optional<StoredRecord>{std::move(last->front())};
}

Result<std::unique_ptr<PartitionWriter>> Log::partition_writer(std::string_view topic,
                                                               Partition partition) {
  (void)partition;
  return std::unique_ptr<PartitionWriter>(std::make_unique<PlainPartitionWriter>(*this, topic));
}

}  // namespace pulse::log
