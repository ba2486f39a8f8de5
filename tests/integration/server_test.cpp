// End to end against real `pulse serve` processes: read-your-writes, bad input, kill -9,
// rebuild from the log, and the decider's consistent quota check.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <atomic>
#include <fstream>
#include <set>
#include <thread>

#include "adapters/log/embedded_log.h"
#include "adapters/log/kafka_log.h"
#include "adapters/store/kv_store.h"
#include "fmt/format.h"
#include "tests/integration/api_helpers.h"
#include "tests/integration/server_process.h"

using pulse::testing::ServerProcess;
using pulse::testing::TempDir;

namespace {

using pulse::testing::parse;

std::string send_body(int recipients, const std::string& message = "Hi {{firstName}}, hello",
                      int first_number = 0) {
  std::string b = R"({"recipients":[)";
  for (int i = 0; i < recipients; ++i) {
    if (i) b += ",";
    b += fmt::format(R"({{"phone":"+1 415 555 {:04}","name":"Person{} Last"}})",
                     (first_number + i) % 10000, first_number + i);
  }
  b += fmt::format(R"(],"message":"{}"}})", message);
  return b;
}

// Every campaign id the server lists for the organisation, following the cursor.
std::vector<std::string> all_campaign_ids(httplib::Client& c) {
  std::vector<std::string> ids;
  std::string cursor;
  simdjson::dom::parser parser;
  for (;;) {
    auto res =
        c.Get(("/api/campaigns?limit=200" + (cursor.empty() ? "" : "&cursor=" + cursor)).c_str());
    REQUIRE(res);
    REQUIRE(res->status == 200);
    auto doc = parse(parser, res->body);
    for (auto item : doc.get_array()) ids.emplace_back(std::string_view(item["id"].get_string()));
    if (!res->has_header("X-Next-Cursor")) break;
    cursor = res->get_header_value("X-Next-Cursor");
  }
  return ids;
}

// Records appended to a topic of the embedded log, across partitions.
int64_t log_records(const std::filesystem::path& data_dir, std::string_view topic) {
  auto log = pulse::log::open_embedded_log({data_dir / "log", 0, true, true});
  REQUIRE(log.ok());
  int64_t total = 0;
  for (int32_t p = 0; p < (*log)->partition_count(); ++p) {
    auto end = (*log)->end_offset(topic, pulse::Partition{p});
    REQUIRE(end.ok());
    total += end->value;
  }
  return total;
}

// Commands of one type in the embedded log.
int64_t commands_of_type(const std::filesystem::path& data_dir, std::string_view type) {
  auto log = pulse::log::open_embedded_log({data_dir / "log", 0, true, true});
  REQUIRE(log.ok());
  std::vector<pulse::log::Assignment> all;
  for (int32_t p = 0; p < (*log)->partition_count(); ++p)
    all.push_back({pulse::Partition{p}, pulse::Offset{0}});
  auto reader = (*log)->reader("pulse.commands", all);
  REQUIRE(reader.ok());
  int64_t n = 0;
  const std::string needle = fmt::format(R"("type":"{}")", type);
  for (;;) {
    auto batch = (*reader)->poll(1000, std::chrono::milliseconds(0));
    REQUIRE(batch.ok());
    if (batch->empty()) break;
    for (const auto& r : *batch) n += r.value.starts_with("{" + needle) ? 1 : 0;
  }
  return n;
}

std::vector<std::pair<std::string, std::string>> dump_store(const std::filesystem::path& dir) {
  auto kv = pulse::store::KvStore::open(dir, true);
  REQUIRE_MESSAGE(kv.ok(), kv.error().details);
  std::vector<std::pair<std::string, std::string>> out;
  auto st = (*kv)->scan("", "", false, [&](std::string_view k, std::string_view v) {
    out.emplace_back(std::string(k), std::string(v));
    return true;
  });
  REQUIRE(st.ok());
  return out;
}

}  // namespace

TEST_CASE("a client that gets 201 can GET the campaign at once, personalised") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  const auto account = server.signup();
  server.set_plan(account, "pro");  // more than the Free plan's 100 SMS a month
  auto c = server.client(account);
  simdjson::dom::parser parser;

  auto health = c->Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);

  for (int round = 0; round < 20; ++round) {
    const int n = 1 + round * 7;
    auto res = c->Post("/api/sms/send", send_body(n), "application/json");
    REQUIRE(res);
    REQUIRE_MESSAGE(res->status == 201, res->body);
    CHECK(res->has_header("X-Request-Id"));
    auto doc = parse(parser, res->body);
    const std::string id(std::string_view(doc["campaignId"].get_string()));
    CHECK(int64_t(doc["recipientCount"]) == n);
    CHECK(std::string_view(doc["message"]) ==
          fmt::format("Campaign created with {} recipients", n));

    auto got = c->Get(("/api/campaigns/" + id).c_str());
    REQUIRE(got);
    REQUIRE(got->status == 200);
    auto campaign = parse(parser, got->body);
    CHECK(std::string_view(campaign["id"]) == id);
    CHECK(std::string_view(campaign["status"]) == "running");
    CHECK(int64_t(campaign["totalMessages"]) == n);
    CHECK(int64_t(campaign["sentCount"]) == 0);
    CHECK(int64_t(campaign["deliveredCount"]) == 0);
    CHECK(int64_t(campaign["failedCount"]) == 0);
    auto messages = campaign["messages"].get_array();
    REQUIRE(messages.size() == static_cast<size_t>(n));
    int i = 0;
    for (auto m : messages) {
      CHECK(std::string_view(m["status"]) == "queued");
      CHECK(std::string_view(m["contactPhone"]) == fmt::format("+1415555{:04}", i));
      CHECK(std::string_view(m["body"]) == fmt::format("Hi Person{}, hello", i));
      CHECK(m["sentAt"].is_null());
      CHECK(m["deliveredAt"].is_null());
      ++i;
    }
  }
  CHECK(all_campaign_ids(*c).size() == 20);

  auto missing = c->Get("/api/campaigns/cmp_0000000000000000");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  auto doc = parse(parser, missing->body);
  CHECK(std::string_view(doc["error"]) == "Campaign not found");
}

TEST_CASE("bad input: a 400 with the documented error shape, and nothing appended") {
  TempDir dir;
  const auto data = dir.path() / "data";
  ServerProcess server(data);
  auto c = server.client(server.signup());
  simdjson::dom::parser parser;
  const auto commands_before = log_records(data, "pulse.commands");
  const auto events_before = log_records(data, "pulse.events");

  const std::string long_message(1601, 'a');
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"malformed JSON", R"({"recipients": [)"},
      {"not an object", R"([1,2,3])"},
      {"empty body", ""},
      {"recipients of the wrong type", R"({"recipients":"+14155552671","message":"hi"})"},
      {"message of the wrong type", R"({"recipients":[{"phone":"+14155552671"}],"message":42})"},
      {"phone of the wrong type", R"({"recipients":[{"phone":14155552671}],"message":"hi"})"},
      {"recipient not an object", R"({"recipients":["+14155552671"],"message":"hi"})"},
      {"0 recipients", R"({"recipients":[],"message":"hi"})"},
      {"501 recipients", send_body(501, "hi")},
      {"invalid phone", R"({"recipients":[{"phone":"4155552671"}],"message":"hi"})"},
      {"letters in phone", R"({"recipients":[{"phone":"+1415CALLNOW"}],"message":"hi"})"},
      {"empty message", R"({"recipients":[{"phone":"+14155552671"}],"message":""})"},
      {"1601-character message",
       R"({"recipients":[{"phone":"+14155552671"}],"message":")" + long_message + R"("})"},
      {"missing message", R"({"recipients":[{"phone":"+14155552671"}]})"},
      {"unclosed template",
       R"({"recipients":[{"phone":"+14155552671"}],"message":"Hi {{firstName"})"},
      {"unknown template variable",
       R"({"recipients":[{"phone":"+14155552671"}],"message":"Your code is {{code}}"})"},
      {"mis-cased template variable",
       R"({"recipients":[{"phone":"+14155552671"}],"message":"Hi {{FirstName}}"})"},
      {"invalid missingVariables",
       R"({"recipients":[{"phone":"+14155552671"}],"message":"Hi {{x}}","missingVariables":"skip"})"},
  };
  for (const auto& entry : cases) {
    const auto& name = entry.first;  // named, not bound: CAPTURE captures it
    const auto& body = entry.second;
    CAPTURE(name);
    auto res = c->Post("/api/sms/send", body, "application/json");
    REQUIRE(res);
    CHECK(res->status == 400);
    auto doc = parse(parser, res->body);
    std::string_view error, details;
    CHECK(!doc["error"].get_string().get(error));
    CHECK(!doc["details"].get_string().get(details));
    CHECK(!error.empty());
    CHECK(!details.empty());
    CHECK(doc.get_object().size() == 2);
  }
  // Exactly 1,600 characters is fine: the bound is inclusive.
  auto ok = c->Post(
      "/api/sms/send",
      R"({"recipients":[{"phone":"+14155552671"}],"message":")" + std::string(1600, 'a') + R"("})",
      "application/json");
  REQUIRE(ok);
  CHECK(ok->status == 201);
  // An unknown variable renders as empty text when the request says so.
  auto empty = c->Post(
      "/api/sms/send",
      R"({"recipients":[{"phone":"+14155552671"}],"message":"Code {{code}}.","missingVariables":"empty"})",
      "application/json");
  REQUIRE(empty);
  REQUIRE(empty->status == 201);
  auto sent =
      c->Get(("/api/campaigns/" + pulse::testing::json_field(empty->body, "campaignId")).c_str());
  REQUIRE(sent);
  CHECK(sent->body.find(R"("body":"Code .")") != std::string::npos);
  CHECK(server.terminate() == 0);
  CHECK(log_records(data, "pulse.commands") == commands_before + 2);
  CHECK(log_records(data, "pulse.events") ==
        events_before + 4);  // CampaignCreated + MessagesQueued, twice
}

TEST_CASE("a known path asked with another method: 405 with Allow; an unknown path: 404") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  auto c = server.client(server.signup());
  // Not recorded for the contract tests: these method/path pairs are absent from the OpenAPI
  // document on purpose.
  c->set_logger(httplib::Logger());
  simdjson::dom::parser parser;
  struct Case {
    std::string method, path;
    int status;
    std::string allow;
  };
  const std::vector<Case> cases = {
      {"POST", "/api/stats", 405, "GET, HEAD"},
      {"GET", "/api/sms/send", 405, "POST"},
      {"DELETE", "/api/campaigns", 405, "GET, HEAD, POST"},
      {"PUT", "/api/webhooks/wh_x", 405, "GET, HEAD, PATCH, DELETE"},
      {"DELETE", "/api/campaigns/cmp_x/pause", 405, "POST"},
      {"GET", "/api/nowhere", 404, ""},
      {"DELETE", "/api/nowhere", 404, ""},
  };
  for (const auto& k : cases) {
    CAPTURE(k.method);
    CAPTURE(k.path);
    httplib::Request req;
    req.method = k.method;
    req.path = k.path;
    if (k.method != "GET" && k.method != "DELETE") req.body = "{}";
    req.set_header("Content-Type", "application/json");
    auto res = c->send(req);
    REQUIRE(res);
    CHECK(res->status == k.status);
    CHECK(res->get_header_value("Allow") == k.allow);
    auto doc = parse(parser, res->body);
    CHECK(std::string_view(doc["error"]) == (k.status == 405 ? "Method not allowed" : "Not found"));
  }
  // The reference's page takes its URLs relative to /reference.
  auto slash = c->Get("/reference/");
  REQUIRE(slash);
  CHECK(slash->status == 308);
  CHECK(slash->get_header_value("Location") == "../reference");
}

TEST_CASE("kill -9 mid-stream: every acknowledged command is applied exactly once") {
  TempDir dir;
  const auto data = dir.path() / "data";
  std::set<std::string> acknowledged;
  std::mutex mu;
  std::condition_variable enough;
  constexpr size_t kKillAfter = 300;
  pulse::testing::Account account;
  {
    ServerProcess server(data);
    account = server.signup();
    server.set_plan(account, "enterprise");
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int t = 0; t < 6; ++t) {
      clients.emplace_back([&, t] {
        auto c = server.client(account);
        simdjson::dom::parser parser;
        for (int i = 0; !stop; ++i) {
          auto res = c->Post("/api/sms/send", send_body(1 + (i % 3), "hi", t * 1000 + i),
                             "application/json");
          if (!res) continue;  // the server died under us: not acknowledged
          if (res->status != 201) continue;
          simdjson::dom::element doc;
          if (parser.parse(res->body).get(doc)) continue;
          std::lock_guard lock(mu);
          acknowledged.emplace(std::string_view(doc["campaignId"].get_string()));
          if (acknowledged.size() >= kKillAfter) enough.notify_all();
        }
      });
    }
    {
      std::unique_lock lock(mu);
      REQUIRE(enough.wait_for(lock, std::chrono::seconds(120),
                              [&] { return acknowledged.size() >= kKillAfter; }));
    }
    server.kill9();  // mid-stream: the clients are still sending
    stop = true;
    for (auto& t : clients) t.join();
  }

  ServerProcess restarted(data);
  auto c = restarted.client(account);  // the token outlives the restart
  // Keep going after the restart: the decider resumes where it stopped.
  auto more = c->Post("/api/sms/send", send_body(2), "application/json");
  REQUIRE(more);
  REQUIRE(more->status == 201);

  const auto ids = all_campaign_ids(*c);
  const std::set<std::string> listed(ids.begin(), ids.end());
  CHECK(listed.size() == ids.size());  // no campaign twice
  for (const auto& id : acknowledged) CHECK_MESSAGE(listed.count(id) == 1, id);
  // Commands in flight at the kill may or may not have been appended, but never more than
  // what was accepted: every listed campaign comes from a command in the log.
  CHECK(ids.size() >= acknowledged.size() + 1);
  CHECK(restarted.terminate() == 0);
  // Every SendSms in the log made exactly one campaign (the log also holds the sign-up, the
  // gateway's pairing and the ticker's clock).
  CHECK(static_cast<int64_t>(ids.size()) == commands_of_type(data, "SendSms"));

  // Each campaign's counts match its messages, and no event was appended twice.
  auto [code, out] =
      pulse::testing::run_command({PULSE_BINARY, "events", "--data-dir", data.string()});
  REQUIRE(code == 0);
  std::set<std::string> event_ids;
  size_t created = 0, lines = 0;
  simdjson::dom::parser parser;
  for (size_t pos = 0, nl; (nl = out.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    auto doc = parse(parser, out.substr(pos, nl - pos));
    ++lines;
    event_ids.emplace(std::string_view(doc["id"].get_string()));
    if (std::string_view(doc["type"]) == "CampaignCreated") ++created;
  }
  CHECK(event_ids.size() == lines);
  CHECK(created == ids.size());
}

TEST_CASE("delete the read models, restart: rebuilt from the log, byte for byte") {
  TempDir dir;
  const auto data = dir.path() / "data";
  const auto plans = (dir.path() / "plans.json").string();
  std::ofstream(plans) << R"({"free": {"monthlySms": 40, "sendPerMinute": null}})";
  pulse::testing::Account account;
  {
    ServerProcess server(data, {"--plans", plans});
    account = server.signup();
    auto c = server.client(account);
    for (int i = 0; i < 12; ++i) {
      auto res = c->Post("/api/sms/send", send_body(1 + i % 5, "Hello {{name}}", i * 10),
                         "application/json");
      REQUIRE(res);
      CHECK((res->status == 201 || res->status == 429));  // a rejection is part of the log too
    }
    CHECK(server.terminate() == 0);
  }
  const auto before = dump_store(data / "views");
  REQUIRE(before.size() > 20);

  const auto ran =
      pulse::testing::run_command({PULSE_BINARY, "replay", "--data-dir", data.string(), "--into",
                                   (dir.path() / "replayed").string(), "--verify"});
  const int code = ran.first;  // named: the MESSAGE macros capture it
  const std::string& verify = ran.second;
  CHECK_MESSAGE(code == 0, verify);
  CHECK(verify.find("identical") != std::string::npos);

  std::filesystem::remove_all(data / "views");
  {
    ServerProcess server(data, {"--plans", plans});
    // It serves only once the read models caught up with the log.
    auto c = server.client(account);
    CHECK(all_campaign_ids(*c).size() > 0);
    CHECK(server.terminate() == 0);
  }
  const auto after = dump_store(data / "views");
  REQUIRE(after.size() == before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    CAPTURE(before[i].first);
    CHECK(after[i] == before[i]);
  }
}

TEST_CASE("the data directory is its owner's alone: directories 0700, files 0600") {
  namespace fs = std::filesystem;
  TempDir dir;
  const auto data = dir.path() / "data";
  // As an older version (or a copy made with another umask) left it: open to everyone.
  fs::create_directories(data / "log");
  std::ofstream(data / "log" / "LEFT-BEHIND") << "x";
  for (const auto& p : {data, data / "log", data / "log" / "LEFT-BEHIND"})
    fs::permissions(p, fs::perms::all, fs::perm_options::replace);
  {
    ServerProcess server(data);
    auto c = server.client(server.signup());
    auto res = c->Post("/api/sms/send", send_body(3), "application/json");
    REQUIRE(res);
    CHECK(res->status == 201);
    CHECK(server.terminate() == 0);
  }
  size_t dirs = 0, files = 0;
  const auto open = fs::perms::group_all | fs::perms::others_all;
  CHECK((fs::status(data).permissions() & open) == fs::perms::none);
  for (const auto& e : fs::recursive_directory_iterator(data)) {
    CAPTURE(e.path().string());
    CHECK((e.symlink_status().permissions() & open) == fs::perms::none);
    ++(e.is_directory() ? dirs : files);
  }
  CHECK(dirs >= 3);  // log, views, state at least
  CHECK(files >= 10);
}

TEST_CASE("Free plan: the 101st SMS of the month is refused, even when 20 requests race") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  const auto account = server.signup();
  {
    auto c = server.client(account);
    auto res = c->Post("/api/sms/send", send_body(90), "application/json");
    REQUIRE(res);
    REQUIRE(res->status == 201);
  }
  std::atomic<int> accepted{0}, limited{0}, other{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 20; ++t) {
    clients.emplace_back([&, t] {
      auto c = server.client(account);
      auto res = c->Post("/api/sms/send", send_body(1, "hi", t), "application/json");
      if (res && res->status == 201)
        ++accepted;
      else if (res && res->status == 429)
        ++limited;
      else {
        ++other;
        MESSAGE("unexpected: ", res ? std::to_string(res->status) + " " + res->body
                                    : httplib::to_string(res.error()));
      }
    });
  }
  for (auto& t : clients) t.join();
  CHECK(accepted == 10);
  CHECK(limited == 10);
  CHECK(other == 0);

  auto c = server.client(account);
  auto res = c->Post("/api/sms/send", send_body(1), "application/json");
  REQUIRE(res);
  CHECK(res->status == 429);
  simdjson::dom::parser parser;
  auto doc = parse(parser, res->body);
  CHECK(std::string_view(doc["error"]) == "Monthly SMS limit reached");
  CHECK(std::string_view(doc["details"]).starts_with("0 SMS remaining this month"));
  // The monthly limit's numbers, machine-readable: in the body and as X-Quota-* headers.
  CHECK(int64_t(doc["limit"]) == 100);
  CHECK(int64_t(doc["remaining"]) == 0);
  const auto today = std::chrono::year_month_day(
      std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
  const auto next_month = std::chrono::sys_days(
      std::chrono::year_month_day(today.year() / today.month() / 1) + std::chrono::months{1});
  CHECK(std::string_view(doc["resetAt"]) ==
        pulse::format_iso8601(std::chrono::time_point_cast<pulse::Millis>(next_month)));
  CHECK(res->get_header_value("X-Quota-Limit") == "100");
  CHECK(res->get_header_value("X-Quota-Remaining") == "0");
  CHECK(
      res->get_header_value("X-Quota-Reset") ==
      std::to_string(
          std::chrono::duration_cast<std::chrono::seconds>(next_month.time_since_epoch()).count()));
  // Exactly 100 messages were queued.
  size_t queued = 0;
  for (const auto& id : all_campaign_ids(*c)) {
    auto got = c->Get(("/api/campaigns/" + id).c_str());
    REQUIRE(got);
    queued += static_cast<size_t>(int64_t(parse(parser, got->body)["totalMessages"]));
  }
  CHECK(queued == 100);
}

TEST_CASE("the same API on the Kafka adapter (librdkafka mock cluster)") {
  auto cluster = pulse::log::MockKafkaCluster::start(1, 4);
  REQUIRE_MESSAGE(cluster.ok(), cluster.error().details);
  TempDir dir;
  const auto data = dir.path() / "data";
  simdjson::dom::parser parser;
  std::string id;
  pulse::testing::Account account;
  {
    ServerProcess server(data, {"--kafka", (*cluster)->bootstrap_servers()});
    account = server.signup();
    auto c = server.client(account);
    auto res = c->Post("/api/sms/send", send_body(3), "application/json");
    REQUIRE(res);
    REQUIRE_MESSAGE(res->status == 201, res->body);
    id = std::string(std::string_view(parse(parser, res->body)["campaignId"]));
    auto got = c->Get(("/api/campaigns/" + id).c_str());
    REQUIRE(got);
    REQUIRE(got->status == 200);
    CHECK(parse(parser, got->body)["messages"].get_array().size() == 3);
    auto bad = c->Post("/api/sms/send", R"({"recipients":[],"message":"x"})", "application/json");
    REQUIRE(bad);
    CHECK(bad->status == 400);
    CHECK(server.terminate() == 0);
  }
  // The read models are rebuilt from the events kept in Kafka.
  std::filesystem::remove_all(data / "views");
  ServerProcess server(data, {"--kafka", (*cluster)->bootstrap_servers()});
  auto c = server.client(account);
  auto got = c->Get(("/api/campaigns/" + id).c_str());
  REQUIRE(got);
  CHECK(got->status == 200);
  CHECK(all_campaign_ids(*c).size() == 1);
}
