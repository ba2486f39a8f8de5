#pragma once
// A Log that times every append into the metrics (pulse_log_append_duration_seconds by topic,
// pulse_log_append_failures_total) and forwards everything else. Owns the log it wraps.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "adapters/log/log.h"
#include "adapters/runtime/metrics.h"

namespace pulse::runtime {

class MeteredLog final : public log::Log {
 public:
  MeteredLog(std::unique_ptr<log::Log> inner, Metrics& metrics)
      : inner_(std::move(inner)), metrics_(metrics) {
    metrics_.describe("pulse_log_append_duration_seconds",
                      "Time to append records durably (fsync or acks=all), by topic.", "histogram");
    metrics_.describe("pulse_log_append_failures_total", "Appends that failed, by topic.",
                      "counter");
  }

  int32_t partition_count() const override { return inner_->partition_count(); }
  Result<std::vector<LogPosition>> append(std::string_view topic,
                                          std::span<const log::Record> records) override {
    const auto start = std::chrono::steady_clock::now();
    auto r = inner_->append(topic, records);
    observe(topic, start, r.ok());
    return r;
  }
  Result<Offset> end_offset(std::string_view topic, Partition partition) override {
    return inner_->end_offset(topic, partition);
  }
  Result<std::optional<log::StoredRecord>> last_record(std::string_view topic,
                                                       Partition partition) override {
    return inner_->last_record(topic, partition);
  }
  Result<std::unique_ptr<log::PartitionWriter>> partition_writer(std::string_view topic,
                                                                 Partition partition) override {
    auto w = inner_->partition_writer(topic, partition);
    if (!w) return w.error();
    return std::unique_ptr<log::PartitionWriter>(
        std::make_unique<Writer>(std::move(w).value(), *this, std::string(topic)));
  }
  Result<std::unique_ptr<log::Reader>> reader(std::string_view topic,
                                              std::vector<log::Assignment> assignments) override {
    return inner_->reader(topic, std::move(assignments));
  }
  Result<std::unique_ptr<log::Reader>> group_reader(std::string_view topic,
                                                    const std::string& group,
                                                    log::GroupHandlers handlers) override {
    return inner_->group_reader(topic, group, std::move(handlers));
  }
  bool reachable() const override { return inner_->reachable(); }

 private:
  // A partition writer's appends count as appends to its topic.
  class Writer final : public log::PartitionWriter {
   public:
    Writer(std::unique_ptr<log::PartitionWriter> inner, MeteredLog& log, std::string topic)
        : inner_(std::move(inner)), log_(log), topic_(std::move(topic)) {}
    Result<std::vector<LogPosition>> append(std::span<const log::Record> records) override {
      const auto start = std::chrono::steady_clock::now();
      auto r = inner_->append(records);
      log_.observe(topic_, start, r.ok());
      return r;
    }

   private:
    std::unique_ptr<log::PartitionWriter> inner_;
    MeteredLog& log_;
    std::string topic_;
  };

  void observe(std::string_view topic, std::chrono::steady_clock::time_point start, bool ok) {
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    const Labels labels{{"topic", std::string(topic)}};
    metrics_.observe("pulse_log_append_duration_seconds", labels, took.count());
    if (!ok) metrics_.add("pulse_log_append_failures_total", labels);
  }

  std::unique_ptr<log::Log> inner_;
  Metrics& metrics_;
};

}  // namespace pulse::runtime
