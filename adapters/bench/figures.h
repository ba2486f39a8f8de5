#pragma once
// The figures of `pulse bench`: each measures Pulse beside the raw baseline of the part
// underneath it, in the same run, and returns one or more table rows.
#include <optional>
#include <string>
#include <vector>

namespace pulse::bench {

struct Settings {
  bool quick = false;
};

struct Row {
  std::string figure;
  std::optional<double> value;  // nullopt: not measured (capability missing or run failed)
  std::string unit;
  std::optional<double> baseline;
  std::optional<double> ratio;  // value / baseline
  std::string target;           // ">= 0.25" (ratio), "< 10 ms" (value), "report"
  std::optional<bool> met;
  std::string note;  // shown under the table; never in the JSON line
  bool emit_json = true;
};

// A row for a figure that could not be measured, with the reason.
Row failed_row(const std::string& figure, const std::string& unit, const std::string& target,
               const std::string& why);
// A ratio target as printed and emitted: ">= 0.35".
std::string at_least(double goal);

std::vector<Row> ingest_embedded(const Settings& s);
std::vector<Row> ingest_kafka(const Settings& s);
std::vector<Row> command_latency(const Settings& s);
std::vector<Row> query(const Settings& s);
std::vector<Row> replay(const Settings& s);
std::vector<Row> memory(const Settings& s);
std::vector<Row> gateway(const Settings& s);
std::vector<Row> campaign_get_10k(const Settings& s);  // GET a 10k-message campaign
std::vector<Row> webhooks(const Settings& s);
// Authenticated p99 during a flood of log-ins from many addresses, beside idle.
std::vector<Row> login_flood(const Settings& s);
// p99s of queries and sends, memory and disk per message as one organisation grows 100x.
std::vector<Row> growth(const Settings& s);

}  // namespace pulse::bench
