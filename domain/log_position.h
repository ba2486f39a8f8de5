#pragma once
#include <cstdint>

#include "domain/strong_type.h"

namespace pulse {

using Partition = Named<int32_t, struct PartitionTag>;
using Offset = Named<int64_t, struct OffsetTag>;

// Where a record sits in a topic.
struct LogPosition {
  Partition partition;
  Offset offset;
  auto operator<=>(const LogPosition&) const = default;
};

}  // namespace pulse
