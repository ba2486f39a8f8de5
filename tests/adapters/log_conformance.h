#pragma once
// The log port's contract, checked the same way against every adapter (embedded RocksDB log,
// Kafka through librdkafka). An adapter's test supplies a LogFixture and calls
// check_log_conformance from a TEST_CASE.
//
// Each SUBCASE re-runs the enclosing TEST_CASE from the top, so the test case must construct
// its fixture inside its body: every subcase then starts from empty storage (offsets from 0).
//
// Decisions the checks pin down for both adapters:
// - An empty key is accepted: it is placed at partition_for("") and read back as "". (Keys are
//   organisation ids and never empty in practice; the point is that both adapters agree.)
// - An empty value is read back as "" (Kafka's null and empty values are not distinguished).
// - Keys and values are bytes: embedded NULs, invalid UTF-8 and multi-byte UTF-8 round-trip.
// - append of zero records succeeds with no positions.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "adapters/log/log.h"

namespace pulse::log::testing {

struct LogFixture {
  virtual ~LogFixture() = default;
  // (Re)opens the same underlying storage or cluster. The previous Log is destroyed first
  // when a check reopens.
  virtual std::unique_ptr<Log> open() = 0;
  virtual int32_t partitions() const = 0;
};

namespace detail {

using std::chrono::milliseconds;

// prefix + decimal. (Not `"x" + std::to_string(i)`: GCC 12 warns falsely on it, -Wrestrict.)
inline std::string numbered(std::string_view prefix, int64_t n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

// Bounds, never sleeps: a poll returns as soon as records are there.
inline constexpr milliseconds kPollTimeout{10'000};

inline std::unique_ptr<Log> must_open(LogFixture& f) {
  auto log = f.open();
  REQUIRE(log != nullptr);
  REQUIRE(log->partition_count() == f.partitions());
  return log;
}

inline std::vector<LogPosition> must_append(Log& log, std::string_view topic,
                                            const std::vector<Record>& records) {
  auto r = log.append(topic, records);
  if (!r) FAIL("append failed: " << r.error().message << ": " << r.error().details);
  REQUIRE(r->size() == records.size());
  return std::move(r).value();
}

inline int64_t must_end(Log& log, std::string_view topic, Partition p) {
  auto r = log.end_offset(topic, p);
  if (!r) FAIL("end_offset failed: " << r.error().message << ": " << r.error().details);
  return r->value;
}

inline std::unique_ptr<Reader> must_reader(Log& log, std::string_view topic,
                                           std::vector<Assignment> assignments) {
  auto r = log.reader(topic, std::move(assignments));
  if (!r) FAIL("reader failed: " << r.error().message << ": " << r.error().details);
  REQUIRE(r.value() != nullptr);
  return std::move(r).value();
}

// Polls until `count` records arrived (failing after a bound), then checks that nothing more
// arrives within `settle`.
inline std::vector<StoredRecord> read_exactly(Reader& reader, size_t count,
                                              milliseconds settle = milliseconds(200)) {
  std::vector<StoredRecord> out;
  const auto deadline = std::chrono::steady_clock::now() + kPollTimeout;
  while (out.size() < count) {
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                    "only " << out.size() << " of " << count << " records arrived");
    auto r = reader.poll(count - out.size(), milliseconds(500));
    if (!r) FAIL("poll failed: " << r.error().message << ": " << r.error().details);
    REQUIRE(r->size() <= count - out.size());
    for (auto& rec : *r) out.push_back(std::move(rec));
  }
  auto extra = reader.poll(100, settle);
  if (!extra) FAIL("poll failed: " << extra.error().message << ": " << extra.error().details);
  CHECK_MESSAGE(extra->empty(), "unexpected extra records: " << extra->size());
  return out;
}

// Every partition of the log from offset 0.
inline std::vector<Assignment> all_from_start(const Log& log) {
  std::vector<Assignment> a;
  for (int32_t p = 0; p < log.partition_count(); ++p) a.push_back({Partition{p}, Offset{0}});
  return a;
}

// Keys that spread over every partition (and a few more).
inline std::vector<std::string> spread_keys(const Log& log, size_t per_partition) {
  std::map<int32_t, size_t> seen;
  std::vector<std::string> keys;
  for (int i = 0; keys.size() < per_partition * static_cast<size_t>(log.partition_count()); ++i) {
    REQUIRE(i < 100'000);
    std::string key = numbered("org_", i);
    if (seen[log.partition_for(key).value]++ < per_partition) keys.push_back(std::move(key));
  }
  return keys;
}

// A key that lands in partition p.
inline std::string key_in(const Log& log, int32_t p, int start = 0) {
  for (int i = start; i < start + 100'000; ++i) {
    std::string key = numbered("org_", i);
    if (log.partition_for(key).value == p) return key;
  }
  FAIL("no key found for partition " << p);
  return {};
}

}  // namespace detail

inline void check_log_conformance(LogFixture& f) {
  using namespace detail;
  REQUIRE(f.partitions() >= 2);

  SUBCASE("an empty log ends at offset 0 in every partition of both topics") {
    auto log = must_open(f);
    for (int32_t p = 0; p < f.partitions(); ++p) {
      CHECK(must_end(*log, kCommandsTopic, Partition{p}) == 0);
      CHECK(must_end(*log, kEventsTopic, Partition{p}) == 0);
    }
    CHECK(must_append(*log, kEventsTopic, {}).empty());
  }

  SUBCASE("appends get consecutive offsets from 0 in partition_for(key)") {
    auto log = must_open(f);
    const auto keys = spread_keys(*log, 3);
    std::map<int32_t, int64_t> next;
    for (const auto& key : keys) {
      const auto pos = must_append(*log, kEventsTopic, {{key, "{\"k\":\"" + key + "\"}"}});
      CHECK(pos[0].partition == log->partition_for(key));
      CHECK(pos[0].offset.value == next[pos[0].partition.value]++);
    }
    for (int32_t p = 0; p < f.partitions(); ++p) {
      CHECK(next[p] == 3);
      CHECK(must_end(*log, kEventsTopic, Partition{p}) == 3);
      // Topics are independent.
      CHECK(must_end(*log, kCommandsTopic, Partition{p}) == 0);
    }
  }

  SUBCASE("a multi-record append keeps per-partition order and returns positions in input order") {
    auto log = must_open(f);
    const std::string a = key_in(*log, 0);
    const std::string b = key_in(*log, 1);
    std::vector<Record> batch;
    for (int i = 0; i < 10; ++i) batch.push_back({i % 3 == 0 ? b : a, numbered("v", i)});
    const auto pos = must_append(*log, kCommandsTopic, batch);
    std::map<int32_t, int64_t> next;
    for (size_t i = 0; i < batch.size(); ++i) {
      CHECK(pos[i].partition == log->partition_for(batch[i].key));
      CHECK(pos[i].offset.value == next[pos[i].partition.value]++);
    }
    auto reader = must_reader(*log, kCommandsTopic, {{Partition{0}, Offset{0}}});
    const auto got = read_exactly(*reader, static_cast<size_t>(next[0]));
    std::vector<std::string> expected;
    for (const auto& r : batch) {
      if (r.key == a) expected.push_back(r.value);
    }
    REQUIRE(got.size() == expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      CHECK(got[i].value == expected[i]);
      CHECK(got[i].offset.value == static_cast<int64_t>(i));
      CHECK(got[i].partition.value == 0);
    }
  }

  SUBCASE("keys and values round-trip byte for byte") {
    auto log = must_open(f);
    using namespace std::string_literals;
    const std::vector<Record> records{
        {"org_1", R"({"type":"message.sent","v":1,"body":"Hello"})"},
        {"org_ünïcødé", "Привет, 世界 👋 \"quoted\" \\ back\nslash"},
        {"org\0nul"s, "\0\x01\x02\xff\xfe binary \0 tail"s},
        {"org_2", "\xc3\x28 invalid utf-8 \xa0\xa1"},
        {"org_3", ""},
        {"", "an empty key"},
        {"org_4", std::string(64 * 1024, 'x')},
    };
    const auto pos = must_append(*log, kEventsTopic, records);
    CHECK(pos[5].partition == log->partition_for(""));
    auto reader = must_reader(*log, kEventsTopic, all_from_start(*log));
    const auto got = read_exactly(*reader, records.size());
    std::set<size_t> matched;
    for (const auto& rec : got) {
      bool found = false;
      for (size_t i = 0; i < records.size(); ++i) {
        if (pos[i].partition == rec.partition && pos[i].offset == rec.offset) {
          CHECK(rec.key == records[i].key);
          CHECK(rec.value == records[i].value);
          CHECK(matched.insert(i).second);
          found = true;
        }
      }
      CHECK_MESSAGE(found, "record at " << rec.partition.value << "/" << rec.offset.value);
    }
    CHECK(matched.size() == records.size());
  }

  SUBCASE("a reader starts at the offset it is given") {
    auto log = must_open(f);
    const std::string key = key_in(*log, 1);
    std::vector<Record> batch;
    for (int i = 0; i < 6; ++i) batch.push_back({key, numbered("r", i)});
    must_append(*log, kEventsTopic, batch);
    CHECK(must_end(*log, kEventsTopic, Partition{1}) == 6);

    auto from_start = must_reader(*log, kEventsTopic, {{Partition{1}, Offset{0}}});
    auto all = read_exactly(*from_start, 6);
    for (int i = 0; i < 6; ++i) CHECK(all[i].value == numbered("r", i));

    auto middle = must_reader(*log, kEventsTopic, {{Partition{1}, Offset{4}}});
    auto tail = read_exactly(*middle, 2);
    CHECK(tail[0].offset.value == 4);
    CHECK(tail[0].value == "r4");
    CHECK(tail[1].offset.value == 5);
    CHECK(tail[1].value == "r5");

    // At the end: nothing yet, which is not an error.
    auto at_end = must_reader(*log, kEventsTopic, {{Partition{1}, Offset{6}}});
    auto none = at_end->poll(10, milliseconds(100));
    REQUIRE(none.ok());
    CHECK(none->empty());
  }

  SUBCASE("poll honours max") {
    auto log = must_open(f);
    const std::string key = key_in(*log, 0);
    std::vector<Record> batch(7, Record{key, "x"});
    must_append(*log, kEventsTopic, batch);
    auto reader = must_reader(*log, kEventsTopic, {{Partition{0}, Offset{0}}});
    size_t total = 0;
    const auto deadline = std::chrono::steady_clock::now() + kPollTimeout;
    while (total < 7 && std::chrono::steady_clock::now() < deadline) {
      auto r = reader->poll(3, milliseconds(500));
      REQUIRE(r.ok());
      CHECK(r->size() <= 3);
      for (const auto& rec : *r) CHECK(rec.offset.value == static_cast<int64_t>(total++));
    }
    CHECK(total == 7);
  }

  SUBCASE("a reader over several partitions returns every record once, in partition order") {
    auto log = must_open(f);
    const auto keys = spread_keys(*log, 2);
    std::vector<Record> records;
    for (int round = 0; round < 5; ++round) {
      for (const auto& key : keys) records.push_back({key, key + "#" + std::to_string(round)});
    }
    // Several appends, so partitions interleave.
    for (size_t i = 0; i < records.size(); i += 7) {
      must_append(*log, kEventsTopic,
                  std::vector<Record>(records.begin() + static_cast<std::ptrdiff_t>(i),
                                      records.begin() + static_cast<std::ptrdiff_t>(
                                                            std::min(i + 7, records.size()))));
    }
    // Partition 0 from its start, the others from offset 2.
    std::vector<Assignment> assignments{{Partition{0}, Offset{0}}};
    size_t expected = static_cast<size_t>(must_end(*log, kEventsTopic, Partition{0}));
    for (int32_t p = 1; p < f.partitions(); ++p) {
      assignments.push_back({Partition{p}, Offset{2}});
      expected += static_cast<size_t>(must_end(*log, kEventsTopic, Partition{p}) - 2);
    }
    auto reader = must_reader(*log, kEventsTopic, assignments);
    const auto got = read_exactly(*reader, expected);
    std::map<int32_t, int64_t> next{{0, 0}};
    for (int32_t p = 1; p < f.partitions(); ++p) next[p] = 2;
    std::map<std::string, int> last_round;  // per key, rounds must come in order
    for (const auto& rec : got) {
      CHECK(rec.partition == log->partition_for(rec.key));
      CHECK(rec.offset.value == next[rec.partition.value]++);
      const int round = std::stoi(rec.value.substr(rec.value.find('#') + 1));
      auto [it, fresh] = last_round.try_emplace(rec.key, round);
      if (!fresh) {
        CHECK(round == it->second + 1);
        it->second = round;
      }
    }
  }

  SUBCASE("a reader waits for records appended later") {
    auto log = must_open(f);
    const std::string key = key_in(*log, 1);
    auto reader = must_reader(*log, kEventsTopic, {{Partition{1}, Offset{0}}});
    auto empty = reader->poll(10, milliseconds(200));
    REQUIRE(empty.ok());
    CHECK(empty->empty());

    std::optional<Result<std::vector<LogPosition>>> appended;
    std::thread writer([&] {
      const std::vector<Record> one{{key, "late"}};
      appended.emplace(log->append(kEventsTopic, one));
    });
    std::vector<StoredRecord> got;
    const auto deadline = std::chrono::steady_clock::now() + kPollTimeout;
    while (got.empty() && std::chrono::steady_clock::now() < deadline) {
      auto r = reader->poll(10, kPollTimeout);
      REQUIRE(r.ok());
      got = std::move(r).value();
    }
    writer.join();
    REQUIRE(appended.has_value());
    CHECK(appended->ok());
    REQUIRE(got.size() == 1);
    CHECK(got[0].key == key);
    CHECK(got[0].value == "late");
    CHECK(got[0].offset.value == 0);
  }

  SUBCASE("concurrent appends from 8 threads are all acknowledged and read back once") {
    auto log = must_open(f);
    constexpr int kThreads = 8;
    constexpr int kAppends = 20;
    const auto keys = spread_keys(*log, 2);
    std::vector<std::vector<std::pair<std::string, LogPosition>>> acked(kThreads);
    std::vector<std::string> failures(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kAppends; ++i) {
          std::vector<Record> batch;
          for (int j = 0; j <= i % 3; ++j) {
            const std::string& key = keys[static_cast<size_t>(t + i + j) % keys.size()];
            std::string value = numbered("t", t);
            value += numbered("-", i);
            value += numbered("-", j);
            batch.push_back({key, std::move(value)});
          }
          auto r = log->append(kEventsTopic, batch);
          if (!r) {
            failures[t] = r.error().message + ": " + r.error().details;
            return;
          }
          for (size_t j = 0; j < batch.size(); ++j) acked[t].emplace_back(batch[j].value, (*r)[j]);
        }
      });
    }
    for (auto& th : threads) th.join();
    for (const auto& failure : failures) CHECK_MESSAGE(failure.empty(), failure);

    std::map<std::string, LogPosition> by_value;
    std::set<LogPosition> positions;
    for (const auto& list : acked) {
      for (const auto& entry : list) {
        // Named references, not structured bindings: doctest's messages capture them in lambdas,
        // which clang before 16 (clang-tidy 14) refuses for bindings.
        const auto& value = entry.first;
        const auto& pos = entry.second;
        CHECK(by_value.emplace(value, pos).second);
        CHECK_MESSAGE(
            positions.insert(pos).second,
            "position acknowledged twice: " << pos.partition.value << "/" << pos.offset.value);
      }
    }
    // Dense: per partition, the acknowledged offsets are exactly 0..end-1.
    std::map<int32_t, int64_t> count;
    for (const auto& pos : positions) {
      CHECK(pos.offset.value == count[pos.partition.value]++);
    }
    for (const auto& [p, n] : count) CHECK(must_end(*log, kEventsTopic, Partition{p}) == n);

    auto reader = must_reader(*log, kEventsTopic, all_from_start(*log));
    const auto got = read_exactly(*reader, by_value.size());
    std::set<std::string> seen;
    for (const auto& rec : got) {
      CHECK(seen.insert(rec.value).second);
      auto it = by_value.find(rec.value);
      REQUIRE(it != by_value.end());
      CHECK(it->second == LogPosition{rec.partition, rec.offset});
    }
    CHECK(seen.size() == by_value.size());
  }

  SUBCASE("reopening keeps every record and continues the offsets") {
    const std::string key_a = "org_reopen_a";
    std::string key_b;
    {
      auto log = must_open(f);
      key_b = key_in(*log, (log->partition_for(key_a).value + 1) % f.partitions());
      must_append(*log, kEventsTopic, {{key_a, "a0"}, {key_b, "b0"}, {key_a, "a1"}});
      must_append(*log, kCommandsTopic, {{key_a, "c0"}});
    }
    auto log = must_open(f);
    const Partition pa = log->partition_for(key_a);
    const Partition pb = log->partition_for(key_b);
    CHECK(must_end(*log, kEventsTopic, pa) == 2);
    CHECK(must_end(*log, kEventsTopic, pb) == 1);
    CHECK(must_end(*log, kCommandsTopic, pa) == 1);
    const auto pos = must_append(*log, kEventsTopic, {{key_a, "a2"}, {key_b, "b1"}});
    CHECK(pos[0] == LogPosition{pa, Offset{2}});
    CHECK(pos[1] == LogPosition{pb, Offset{1}});

    auto reader = must_reader(*log, kEventsTopic, {{pa, Offset{0}}});
    const auto got = read_exactly(*reader, 3);
    CHECK(got[0].value == "a0");
    CHECK(got[1].value == "a1");
    CHECK(got[2].value == "a2");
    auto commands = must_reader(*log, kCommandsTopic, {{pa, Offset{0}}});
    const auto cmd = read_exactly(*commands, 1);
    CHECK(cmd[0].value == "c0");
    CHECK(cmd[0].key == key_a);
  }
}

}  // namespace pulse::log::testing
