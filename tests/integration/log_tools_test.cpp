// The event log as a product, end to end: pulse events (filters, --follow, a large export),
// pulse replay (--verify determinism, --until served by pulse serve --read-only, --swap) and
// pulse status, against real `pulse serve` processes.
#include <doctest/doctest.h>
#include <poll.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "adapters/codec/json_codec.h"
#include "adapters/log/embedded_log.h"
#include "adapters/store/kv_store.h"
#include "domain/time.h"
#include "fmt/format.h"
#include "tests/integration/server_process.h"

using pulse::testing::Account;
using pulse::testing::run_command;
using pulse::testing::ServerProcess;
using pulse::testing::TempDir;

namespace {

namespace fs = std::filesystem;

std::string send_body(int recipients, int first = 0) {
  std::string b = R"({"recipients":[)";
  for (int i = 0; i < recipients; ++i)
    b += fmt::format(R"({}{{"phone":"+1 415 555 {:04}","name":"Person{} Last"}})", i ? "," : "",
                     (first + i) % 10000, first + i);
  return b + R"(],"message":"Hi {{firstName}}, hello"})";
}

std::string send(httplib::Client& c, int recipients, int first = 0) {
  auto res = c.Post("/api/sms/send", send_body(recipients, first), "application/json");
  REQUIRE(res);
  REQUIRE_MESSAGE(res->status == 201, res->body);
  simdjson::dom::parser parser;
  return std::string(std::string_view(parser.parse(res->body)["campaignId"].get_string()));
}

struct Event {
  std::string type, org, at, id, campaign;
};

std::vector<Event> parse_events(const std::string& ndjson) {
  std::vector<Event> out;
  simdjson::dom::parser parser;
  for (size_t pos = 0, nl; (nl = ndjson.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    simdjson::dom::element doc;
    REQUIRE_MESSAGE(!parser.parse(ndjson.substr(pos, nl - pos)).get(doc), ndjson.substr(pos, 200));
    Event e{std::string(std::string_view(doc["type"])), std::string(std::string_view(doc["orgId"])),
            std::string(std::string_view(doc["at"])), std::string(std::string_view(doc["id"])), ""};
    std::string_view campaign;
    if (!doc["data"]["campaignId"].get_string().get(campaign)) e.campaign = campaign;
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<Event> events(const fs::path& data, std::vector<std::string> filters = {}) {
  std::vector<std::string> args = {PULSE_BINARY, "events", "--data-dir", data.string()};
  args.insert(args.end(), filters.begin(), filters.end());
  auto [code, out] = run_command(args);
  REQUIRE(code == 0);
  return parse_events(out);
}

std::vector<std::pair<std::string, std::string>> dump_store(const fs::path& dir) {
  auto kv = pulse::store::KvStore::open(dir, true);
  REQUIRE_MESSAGE(kv.ok(), kv.error().details);
  std::vector<std::pair<std::string, std::string>> out;
  REQUIRE((*kv)->scan("", "", false, [&](std::string_view k, std::string_view v) {
    out.emplace_back(std::string(k), std::string(v));
    return true;
  }));
  return out;
}

// A moment strictly between what was sent before and what is sent after (command times have
// millisecond precision): a millisecond after now, returned once the clock is past it.
pulse::TimePoint moment_between() {
  const auto t = std::chrono::time_point_cast<pulse::Millis>(std::chrono::system_clock::now()) +
                 pulse::Millis{1};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (std::chrono::system_clock::now() < t + std::chrono::milliseconds(2) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  return t;
}

// A child process whose stdout the test reads line by line as it comes (pulse events --follow).
class Streaming {
 public:
  explicit Streaming(const std::vector<std::string>& args) {
    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
    pid_ = pulse::testing::spawn(args, fds[1], -1);
    close(fds[1]);
    fd_ = fds[0];
  }
  ~Streaming() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    close(fd_);
  }
  // Reads and drops the output until `want` lines came or the deadline; returns the lines and
  // bytes read.
  std::pair<int64_t, int64_t> count_lines(int64_t want, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int64_t lines = 0, bytes = 0;
    std::vector<char> buf(1 << 20);
    while (lines < want && std::chrono::steady_clock::now() < deadline) {
      const ssize_t n = read(fd_, buf.data(), buf.size());
      if (n <= 0) break;
      bytes += n;
      lines += std::count(buf.data(), buf.data() + n, '\n');
    }
    return {lines, bytes};
  }
  // Reads until `done(everything read so far)` or the deadline; returns what was read.
  template <class Pred>
  std::string read_until(Pred done, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done(out_) && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[65536];
      const ssize_t n = read(fd_, buf, sizeof buf);
      if (n <= 0) break;
      out_.append(buf, static_cast<size_t>(n));
    }
    return out_;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string out_;
};

size_t count(const std::vector<Event>& es, const std::string& type) {
  size_t n = 0;
  for (auto& e : es) n += e.type == type;
  return n;
}

}  // namespace

TEST_CASE(
    "pulse events: filters by type, organisation, offset and time; --follow sees new events") {
  TempDir dir;
  const auto data = dir.path() / "data";
  ServerProcess server(data);
  const Account ada = server.signup(), bob = server.signup();
  auto a = server.client(ada);
  auto b = server.client(bob);
  const std::string first = send(*a, 2);
  send(*b, 1);
  const auto middle = moment_between();
  send(*a, 3);

  const auto all = events(data);
  REQUIRE(count(all, "CampaignCreated") == 3);
  REQUIRE(count(all, "MessagesQueued") == 3);

  // --type, one or several
  const auto created = events(data, {"--type", "CampaignCreated"});
  CHECK(created.size() == 3);
  for (auto& e : created) CHECK(e.type == "CampaignCreated");
  CHECK(events(data, {"--type", "CampaignCreated,MessagesQueued"}).size() == 6);
  CHECK(events(data, {"--type", "NoSuchEvent"}).empty());

  // --org
  const auto bobs = events(data, {"--org", bob.org_id});
  size_t expected = 0;
  for (auto& e : all) expected += e.org == bob.org_id;
  CHECK(bobs.size() == expected);
  CHECK(count(bobs, "CampaignCreated") == 1);
  for (auto& e : bobs) CHECK(e.org == bob.org_id);

  // --from/--to a time: [from, to), so the two halves add up to the whole
  const auto t = pulse::format_iso8601(middle);
  const auto before = events(data, {"--to", t});
  const auto after = events(data, {"--from", t});
  CHECK(before.size() + after.size() == all.size());
  for (auto& e : before) CHECK(e.at < t);
  for (auto& e : after) CHECK(e.at >= t);
  CHECK(count(after, "CampaignCreated") == 1);
  CHECK(events(data, {"--from", t, "--to", t}).empty());

  // --from/--to offsets: the same offset in every partition, or per partition
  std::map<int32_t, int64_t> per_partition;  // events per partition
  {
    auto log = pulse::log::open_embedded_log({data / "log", 0, true, true});
    REQUIRE(log.ok());
    for (int32_t p = 0; p < (*log)->partition_count(); ++p)
      per_partition[p] = (*log)->end_offset(pulse::log::kEventsTopic, pulse::Partition{p})->value;
  }
  size_t nonempty = 0;
  std::string ends;
  for (auto& [p, n] : per_partition) {
    nonempty += n > 0;
    ends += fmt::format("{}{}:{}", ends.empty() ? "" : ",", p, n);
  }
  CHECK(events(data, {"--from", "1"}).size() == all.size() - nonempty);
  CHECK(events(data, {"--to", "1"}).size() == nonempty);
  CHECK(events(data, {"--from", ends}).empty());
  CHECK(events(data, {"--to", ends}).size() == all.size());
  auto [bad, _] = run_command({PULSE_BINARY, "events", "--data-dir", data.string(), "--from", "x"});
  CHECK(bad == 1);

  // --follow: prints what is there, then what the server appends, as it is appended
  Streaming follow({PULSE_BINARY, "events", "--data-dir", data.string(), "--follow", "--type",
                    "CampaignCreated"});
  auto seen = follow.read_until([&](const std::string& s) { return s.find(first) != s.npos; },
                                std::chrono::seconds(20));
  CHECK(seen.find(first) != std::string::npos);
  const std::string later = send(*b, 1);
  seen = follow.read_until([&](const std::string& s) { return s.find(later) != s.npos; },
                           std::chrono::seconds(20));
  CHECK(seen.find(later) != std::string::npos);
  CHECK(parse_events(seen).size() == 4);
}

TEST_CASE("replay is deterministic: --verify identical while serving and after, three times") {
  TempDir dir;
  const auto data = dir.path() / "data";
  ServerProcess server(data);
  const Account ada = server.signup();
  auto c = server.client(ada);
  for (int i = 0; i < 4; ++i) send(*c, 1 + i * 7, i * 100);
  send(*c, 50);  // 96 of the Free plan's 100 this month
  auto refused = c->Post("/api/sms/send", send_body(10), "application/json");
  REQUIRE(refused);
  CHECK(refused->status == 429);  // a CommandRejected: part of the log, replayed too

  // While the server serves: a fresh store beside the live one, compared with it.
  const auto ran = run_command({PULSE_BINARY, "replay", "--data-dir", data.string(), "--into",
                                (dir.path() / "r0").string(), "--verify"});
  const int code = ran.first;  // named: the MESSAGE macros capture it
  const std::string& out = ran.second;
  CHECK_MESSAGE(code == 0, out);
  CHECK(out.find("identical") != std::string::npos);
  CHECK(server.terminate() == 0);

  const auto live = dump_store(data / "views");
  REQUIRE(live.size() > 20);
  for (int i = 1; i <= 2; ++i) {
    const auto into = dir.path() / fmt::format("r{}", i);
    const auto rerun = run_command(
        {PULSE_BINARY, "replay", "--data-dir", data.string(), "--into", into.string(), "--verify"});
    const int again = rerun.first;  // named: the MESSAGE macros capture it
    const std::string& verify = rerun.second;
    CHECK_MESSAGE(again == 0, verify);
    CHECK(verify.find(fmt::format("identical: {} entries", live.size())) != std::string::npos);
    CHECK(dump_store(into / "views") == live);
  }
  CHECK(dump_store(dir.path() / "r0" / "views") == live);
  // --verify alone rebuilds into a temporary directory.
  CHECK(run_command({PULSE_BINARY, "replay", "--data-dir", data.string(), "--verify"}).first == 0);

  // pulse status: everything consumed, no lag; no webhook waits.
  auto [status_code, status] = run_command({PULSE_BINARY, "status", "--data-dir", data.string()});
  CHECK(status_code == 0);
  CHECK(status.find("decider-lag") != std::string::npos);
  CHECK(status.find("projector-lag") != std::string::npos);
  CHECK(status.find("webhook outbox depth: 0 not yet taken over by the dispatcher, 0 deliveries "
                    "pending") != std::string::npos);
  const auto total = status.substr(status.find("total"));
  std::istringstream row(total);
  std::string label;
  int64_t commands = 0, decided = 0, decider_lag = -1, evts = 0, projected = 0, projector_lag = -1;
  row >> label >> commands >> decided >> decider_lag >> evts >> projected >> projector_lag;
  CHECK(commands > 6);
  CHECK(decided == commands);
  CHECK(decider_lag == 0);
  CHECK(projected == evts);
  CHECK(projector_lag == 0);
}

TEST_CASE("replay --until T: the read models as the API answered at T, served read-only") {
  TempDir dir;
  const auto data = dir.path() / "data";
  std::string list_at_t, first_at_t, first, second;
  pulse::TimePoint t;
  const Account ada = [&] {
    ServerProcess server(data);
    Account acct = server.signup();
    auto c = server.client(acct);
    first = send(*c, 3);
    auto list = c->Get("/api/campaigns");
    auto got = c->Get(("/api/campaigns/" + first).c_str());
    REQUIRE((list && got));
    list_at_t = list->body;
    first_at_t = got->body;
    t = moment_between();
    second = send(*c, 2);
    auto now = c->Get("/api/campaigns");
    REQUIRE(now);
    CHECK(now->body != list_at_t);
    CHECK(server.terminate() == 0);
    return acct;
  }();

  const auto asof = dir.path() / "asof";
  const auto ran = run_command({PULSE_BINARY, "replay", "--data-dir", data.string(), "--into",
                                asof.string(), "--until", pulse::format_iso8601(t)});
  const int code = ran.first;  // named: the MESSAGE macros capture it
  const std::string& out = ran.second;
  REQUIRE_MESSAGE(code == 0, out);
  CHECK(out.find("as of") != std::string::npos);
  // --until is never compared with, or swapped into, the live store.
  CHECK(run_command({PULSE_BINARY, "replay", "--data-dir", data.string(), "--into",
                     (dir.path() / "x").string(), "--until", pulse::format_iso8601(t), "--swap"})
            .first == 1);

  ServerProcess readonly(asof, {"--read-only"});
  auto c = readonly.client(ada);
  auto list = c->Get("/api/campaigns");
  REQUIRE(list);
  CHECK(list->status == 200);
  CHECK(list->body == list_at_t);
  auto got = c->Get(("/api/campaigns/" + first).c_str());
  REQUIRE(got);
  CHECK(got->body == first_at_t);
  auto later = c->Get(("/api/campaigns/" + second).c_str());
  REQUIRE(later);
  CHECK(later->status == 404);
  // No log, no decider: every write is refused with the documented error shape.
  auto write = c->Post("/api/sms/send", send_body(1), "application/json");
  REQUIRE(write);
  CHECK(write->status == 405);
  CHECK(write->get_header_value("Allow") == "GET, HEAD");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(!parser.parse(write->body).get(doc));
  CHECK(std::string_view(doc["error"]) == "Read-only server");
  CHECK(doc.get_object().size() == 2);
}

TEST_CASE("replay --swap: refused while the server runs, an atomic exchange once it stopped") {
  TempDir dir;
  const auto data = dir.path() / "data";
  std::string id;
  const auto rebuilt = dir.path() / "rebuilt";
  const Account ada = [&] {
    ServerProcess server(data);
    Account acct = server.signup();
    auto c = server.client(acct);
    id = send(*c, 2);
    // The server holds views/: nothing is rebuilt or swapped under it.
    auto [busy, _] = run_command({PULSE_BINARY, "replay", "--data-dir", data.string(), "--into",
                                  rebuilt.string(), "--swap"});
    CHECK(busy == 1);
    CHECK(!fs::exists(rebuilt / "views"));
    CHECK(server.terminate() == 0);
    return acct;
  }();
  const auto live = dump_store(data / "views");
  const auto ran = run_command(
      {PULSE_BINARY, "replay", "--data-dir", data.string(), "--into", rebuilt.string(), "--swap"});
  const int code = ran.first;  // named: the MESSAGE macros capture it
  const std::string& out = ran.second;
  REQUIRE_MESSAGE(code == 0, out);
  CHECK(out.find("swapped") != std::string::npos);
  // The previous store is kept where the rebuilt one was; both hold the same.
  CHECK(dump_store(rebuilt / "views") == live);
  CHECK(dump_store(data / "views") == live);

  ServerProcess server(data);
  auto c = server.client(ada);
  auto got = c->Get(("/api/campaigns/" + id).c_str());
  REQUIRE(got);
  CHECK(got->status == 200);
  send(*c, 1);  // and it goes on from the swapped-in store's positions
}

TEST_CASE("pulse events exports a large log quickly") {
  // PULSE_EXPORT_BENCH_EVENTS=1000000 for the figure in the README.
  const char* env = std::getenv("PULSE_EXPORT_BENCH_EVENTS");
  const int64_t n = env ? std::atoll(env) : 200'000;
  TempDir dir;
  const auto data = dir.path() / "data";
  const auto start_gen = std::chrono::steady_clock::now();
  {
    auto log = pulse::log::open_embedded_log({data / "log", 4, /*sync=*/false});
    REQUIRE(log.ok());
    std::vector<pulse::log::Record> batch;
    const auto t0 = pulse::from_unix_ms(1'790'000'000'000);
    for (int64_t i = 0; i < n; i += 2) {
      const std::string org = fmt::format("org_01m80zvb19jv{:04}", i / 2 % 50);
      const std::string cmp = fmt::format("cmp_01m80zvb{:08}", i / 2 % 100'000'000);
      pulse::EventEnvelope e;
      e.source = {{pulse::Partition{static_cast<int32_t>(i / 2 % 4)}, pulse::Offset{i / 2}}, 0};
      e.command_id = pulse::CommandId{fmt::format("cmd_01m80zvb{:08}", i / 2 % 100'000'000)};
      e.org = pulse::OrgId{org};
      e.at = t0 + pulse::Millis{i};
      e.event_count = 2;
      e.body = pulse::CampaignCreated{pulse::CampaignId{cmp}, "SMS to 1 recipient", "api",
                                      "Hi {{firstName}}, your order has shipped", 1};
      batch.push_back({org, pulse::codec::encode(e)});
      pulse::MessagesQueued q{pulse::CampaignId{cmp}, {}};
      q.messages.push_back({pulse::MessageId{cmp + "0000"}, pulse::PhoneNumber{"+14155552671"},
                            "Ada Lovelace", "Hi Ada, your order has shipped",
                            pulse::SmsEncoding::gsm7, 1});
      e.source.index = 1;
      e.body = std::move(q);
      batch.push_back({org, pulse::codec::encode(e)});
      if (batch.size() >= 20'000 || i + 2 >= n) {
        REQUIRE((*log)->append(pulse::log::kEventsTopic, batch).ok());
        batch.clear();
      }
    }
  }
  const double gen_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_gen).count();

  // Read the export as it streams, counting lines and bytes.
  const auto start = std::chrono::steady_clock::now();
  Streaming exporter({PULSE_BINARY, "events", "--data-dir", data.string()});
  const auto [lines, bytes] = exporter.count_lines(n, std::chrono::seconds(120));
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MESSAGE(
      fmt::format("pulse events: {} events ({:.0f} MB) in {:.2f} s ({:.0f} events/s); "
                  "generating them took {:.2f} s",
                  lines, bytes / 1e6, secs, lines / secs, gen_s));
  CHECK(lines == n);
  CHECK(secs < 30);
}
