#pragma once
// Prometheus metrics (text exposition format 0.0.4), without a client library: counters and
// histograms updated on the hot path with atomics behind a map lookup, gauges set by whoever
// owns the number, and collectors that compute gauges at scrape time (lags, read-model
// counts). Thread-safe.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pulse::runtime {

// Label pairs, in the order they are rendered.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Histogram {
 public:
  explicit Histogram(std::span<const double> bounds);
  void observe(double value);
  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // per bound, then +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bound, then +Inf (not cumulative)
  std::atomic<double> sum_{0};
};

class Metrics {
 public:
  // Seconds: 0.5 ms to 10 s.
  static constexpr double kLatencyBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                               0.1,    0.25,  0.5,    1,     2.5,  5,     10};

  // A sample of a gauge computed at scrape time.
  struct Sample {
    Labels labels;
    double value = 0;
  };
  using Collector = std::function<std::vector<Sample>()>;

  // Declares a family (name, help, type "counter" | "gauge" | "histogram"); idempotent.
  void describe(std::string_view name, std::string_view help, std::string_view type);
  void add(std::string_view name, const Labels& labels, double delta = 1);
  void set(std::string_view name, const Labels& labels, double value);
  void observe(std::string_view name, const Labels& labels, double value,
               std::span<const double> bounds = kLatencyBuckets);
  // A gauge family whose samples `collect` computes at each scrape. A collector that fails
  // returns no samples (the family is still described).
  void collect(std::string_view name, std::string_view help, Collector collect);

  // The whole exposition, families in name order.
  std::string render() const;

 private:
  struct Family {
    std::string help;
    std::string type;
    std::map<Labels, double> values;                      // counters, gauges
    std::map<Labels, std::unique_ptr<Histogram>> series;  // histograms
    Collector collector;
  };
  Family& family(std::string_view name, std::string_view type);

  mutable std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;
};

// Metric and label values rendered by the text format's rules (escaping, floats).
std::string escape_label_value(std::string_view v);
std::string format_value(double v);

// The request path as a route pattern: segments that hold ids or tokens become {id}, so a
// route's series don't multiply with its arguments.
std::string route_of(std::string_view path);

}  // namespace pulse::runtime
