#pragma once
// The embedded log: a durable, partitioned, append-only log in its own RocksDB under the data
// directory. One process owns it. Appends are fsync'd before they are acknowledged and
// concurrent appends share one sync (group commit, done by one writer thread it owns).
#include <filesystem>
#include <memory>

#include "adapters/log/log.h"

namespace pulse::log {

inline constexpr int32_t kDefaultPartitions = 4;

struct EmbeddedLogOptions {
  std::filesystem::path dir;
  // Fixed when the log is created; a mismatch on reopen is an error. 0: as stored, or
  // kDefaultPartitions for a new log.
  int32_t partitions = 0;
  bool sync = true;  // fsync every group commit (turn off only in benchmarks' baselines)
  // Opens a snapshot of the log for reading while a server owns it (pulse events/status/replay);
  // append fails.
  bool read_only = false;
};

Result<std::unique_ptr<Log>> open_embedded_log(const EmbeddedLogOptions& options);

}  // namespace pulse::log
