#include "adapters/runtime/metrics.h"

#include <algorithm>
#include <cmath>

#include "fmt/format.h"

namespace pulse::runtime {

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds.begin(), bounds.end()),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds.size() + 1)) {}

void Histogram::observe(double value) {
  const auto i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                     bounds_.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  double sum = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(sum, sum + value, std::memory_order_relaxed)) {
  }
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.bounds = bounds_;
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(total);
  }
  s.count = total;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

Metrics::Family& Metrics::family(std::string_view name, std::string_view type) {
  auto it = families_.find(name);
  if (it == families_.end()) it = families_.emplace(std::string(name), Family{}).first;
  if (it->second.type.empty()) it->second.type = type;
  return it->second;
}

void Metrics::describe(std::string_view name, std::string_view help, std::string_view type) {
  std::lock_guard lock(mu_);
  auto& f = family(name, type);
  f.help = help;
}

void Metrics::add(std::string_view name, const Labels& labels, double delta) {
  std::lock_guard lock(mu_);
  family(name, "counter").values[labels] += delta;
}

void Metrics::set(std::string_view name, const Labels& labels, double value) {
  std::lock_guard lock(mu_);
  family(name, "gauge").values[labels] = value;
}

void Metrics::observe(std::string_view name, const Labels& labels, double value,
                      std::span<const double> bounds) {
  Histogram* h = nullptr;
  {
    std::lock_guard lock(mu_);
    auto& slot = family(name, "histogram").series[labels];
    if (!slot) slot = std::make_unique<Histogram>(bounds);
    h = slot.get();  // series are never removed
  }
  h->observe(value);
}

void Metrics::collect(std::string_view name, std::string_view help, Collector collect) {
  std::lock_guard lock(mu_);
  auto& f = family(name, "gauge");
  f.help = help;
  f.collector = std::move(collect);
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{}", v);
}

namespace {

std::string render_labels(const Labels& labels, const std::pair<std::string, std::string>* extra) {
  if (labels.empty() && !extra) return {};
  std::string out = "{";
  bool first = true;
  auto one = [&](const std::string& k, const std::string& v) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    out += escape_label_value(v);
    out += '"';
  };
  for (const auto& [k, v] : labels) one(k, v);
  if (extra) one(extra->first, extra->second);
  out += '}';
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string Metrics::render() const {
  // Collectors may be slow (store scans, log end offsets): run them outside the lock.
  std::vector<std::pair<std::string, Collector>> collectors;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, f] : families_)
      if (f.collector) collectors.emplace_back(name, f.collector);
  }
  std::map<std::string, std::vector<Sample>, std::less<>> collected;
  for (auto& [name, fn] : collectors) collected[name] = fn();

  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& [name, f] : families_) {
    if (!f.help.empty()) out += fmt::format("# HELP {} {}\n", name, escape_help(f.help));
    out += fmt::format("# TYPE {} {}\n", name, f.type);
    for (const auto& [labels, v] : f.values)
      out += fmt::format("{}{} {}\n", name, render_labels(labels, nullptr), format_value(v));
    if (auto it = collected.find(name); it != collected.end())
      for (const auto& s : it->second)
        out +=
            fmt::format("{}{} {}\n", name, render_labels(s.labels, nullptr), format_value(s.value));
    for (const auto& [labels, h] : f.series) {
      const auto s = h->snapshot();
      for (size_t i = 0; i <= s.bounds.size(); ++i) {
        const std::pair<std::string, std::string> le{
            "le", i < s.bounds.size() ? format_value(s.bounds[i]) : "+Inf"};
        out += fmt::format("{}_bucket{} {}\n", name, render_labels(labels, &le), s.cumulative[i]);
      }
      out +=
          fmt::format("{}_sum{} {}\n", name, render_labels(labels, nullptr), format_value(s.sum));
      out += fmt::format("{}_count{} {}\n", name, render_labels(labels, nullptr), s.count);
    }
  }
  return out;
}

std::string route_of(std::string_view path) {
  if (path.empty() || path.front() != '/') return "other";
  std::string out;
  size_t start = 1;
  while (start <= path.size()) {
    const auto end = std::min(path.find('/', start), path.size());
    const auto seg = path.substr(start, end - start);
    out += '/';
    const bool id_like = seg.size() > 20 || std::any_of(seg.begin(), seg.end(), [](char c) {
                           return (c >= '0' && c <= '9') || c == '%';
                         });
    if (id_like && seg != "qr.svg")
      out += "{id}";
    else
      out += seg;
    start = end + 1;
    if (end == path.size()) break;
  }
  return out;
}

}  // namespace pulse::runtime
