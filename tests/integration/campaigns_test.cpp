// Contact lists and campaigns end to end with `pulse gateway-sim`: the reference's
// Steps 3-5 and its full example on a CSV-imported list, scheduling, and pause/resume/cancel.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "domain/time.h"
#include "fmt/format.h"
#include "tests/integration/api_helpers.h"
#include "tests/integration/server_process.h"
#include "tests/support/eventually.h"

using pulse::testing::Account;
using pulse::testing::BackgroundProcess;
using pulse::testing::ServerProcess;
using pulse::testing::TempDir;

namespace {

using pulse::testing::online_devices;
using pulse::testing::parse;
using pulse::testing::sim_args;

using pulse::testing::eventually;

using Clock = std::chrono::steady_clock;

std::string phone(int i) {
  return fmt::format("+1415{:07}", 5550000 + i);
}

// A CSV of n contacts: phone,firstName,lastName,email,city.
std::string csv(int n) {
  std::string out = "phone,firstName,lastName,email,city\n";
  for (int i = 0; i < n; ++i)
    out += fmt::format("{},First{},Last{},p{}@example.com,City{}\n", phone(i), i, i, i, i % 7);
  return out;
}

// A list filled from a CSV file; returns its id.
std::string imported_list(httplib::Client& c, int n) {
  auto created =
      c.Post("/api/contacts", R"({"name":"Newsletter subscribers"})", "application/json");
  REQUIRE(created);
  REQUIRE_MESSAGE(created->status == 201, created->body);
  simdjson::dom::parser parser;
  std::string id{std::string_view(parse(parser, created->body)["id"])};
  auto imported = c.Post(("/api/contacts/" + id + "/import").c_str(), csv(n), "text/csv");
  REQUIRE(imported);
  REQUIRE_MESSAGE(imported->status == 200, imported->body);
  auto report = parse(parser, imported->body);
  CHECK(int64_t(report["imported"]) == n);
  CHECK(int64_t(report["updated"]) == 0);
  CHECK(report["rejected"].get_array().size() == 0);
  return id;
}

struct Snapshot {
  std::string status;
  std::map<std::string, std::string> status_of;  // message id -> status
  std::map<std::string, std::string> error_of;
  std::set<std::string> sent;  // ids with a sentAt
  std::map<std::string, std::string> body_of_phone;
};

Snapshot snapshot(httplib::Client& c, const std::string& id) {
  auto r = c.Get(("/api/campaigns/" + id + "?limit=1000").c_str());
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == 200, r->body);
  simdjson::dom::parser parser;
  auto doc = parse(parser, r->body);
  Snapshot s;
  s.status = std::string(std::string_view(doc["status"]));
  for (auto m : doc["messages"].get_array()) {
    const std::string mid{std::string_view(m["id"])};
    s.status_of[mid] = std::string(std::string_view(m["status"]));
    if (!m["error"].is_null()) s.error_of[mid] = std::string(std::string_view(m["error"]));
    if (!m["sentAt"].is_null()) s.sent.insert(mid);
    s.body_of_phone[std::string(std::string_view(m["contactPhone"]))] =
        std::string(std::string_view(m["body"]));
  }
  return s;
}

int count_status(const Snapshot& s, std::string_view status) {
  int n = 0;
  for (const auto& [id, st] : s.status_of) n += st == status;
  return n;
}

}  // namespace

TEST_CASE("the reference's Steps 3-5 and full example on a CSV-imported list of 250 contacts") {
  TempDir dir;
  ServerProcess server(dir.path() / "data",
                       {"--device-rate-per-minute", "-1", "--delivery-window-seconds", "3"});
  Account account = server.signup({}, /*with_device=*/false);
  server.set_plan(account, "pro");
  auto c = server.client(account);
  BackgroundProcess sim(sim_args(server, account,
                                 {"--devices", "2", "--send-delay-ms", "5", "--delivery-delay-ms",
                                  "50", "--seed", "5"}),
                        (dir.path() / "sim.log").string());
  // 1. A gateway is online.
  REQUIRE(eventually([&] { return online_devices(*c) == 2; }, std::chrono::seconds(30)));
  simdjson::dom::parser parser;
  // Step 3: a one-off send answers exactly {campaignId, recipientCount, message}.
  auto sent = c->Post("/api/sms/send",
                      R"({"recipients":[{"phone":"+14155552671","name":"Alice"}],)"
                      R"("message":"Your PulseSMS verification code is 482910."})",
                      "application/json");
  REQUIRE(sent);
  REQUIRE_MESSAGE(sent->status == 201, sent->body);
  auto result = parse(parser, sent->body);
  CHECK(result.get_object().size() == 3);
  CHECK(int64_t(result["recipientCount"]) == 1);
  // Step 4: a campaign on a list imported from CSV.
  const auto list = imported_list(*c, 250);
  auto launched = c->Post("/api/campaigns",
                          R"({"name":"Spring Sale 2026","message":"Hi {{firstName}} {{lastName}})"
                          R"( of {{city}}, enjoy 30% off storewide. Use code SPRING30.",)"
                          R"("contactListId":")" +
                              list + R"("})",
                          "application/json");
  REQUIRE(launched);
  REQUIRE_MESSAGE(launched->status == 201, launched->body);
  auto campaign = parse(parser, launched->body);
  const std::string id{std::string_view(campaign["id"])};
  CHECK(std::string_view(campaign["name"]) == "Spring Sale 2026");
  CHECK(std::string_view(campaign["status"]) == "running");
  CHECK(int64_t(campaign["totalMessages"]) == 250);
  CHECK(int64_t(campaign["sentCount"]) == 0);
  CHECK(int64_t(campaign["deliveredCount"]) == 0);
  CHECK(int64_t(campaign["failedCount"]) == 0);
  CHECK(std::string_view(campaign["contactList"]["name"]) == "Newsletter subscribers");
  CHECK(int64_t(campaign["contactList"]["contactCount"]) == 250);
  CHECK(!std::string_view(campaign["createdAt"]).empty());
  CHECK(!std::string_view(campaign["updatedAt"]).empty());
  // The list changes afterwards; the campaign keeps its snapshot.
  auto later =
      c->Post(("/api/contacts/" + list + "/contacts").c_str(),
              R"({"contacts":[{"phone":"+14155559999","firstName":"Late"}]})", "application/json");
  REQUIRE(later);
  CHECK(later->status == 200);
  // Step 5: poll until completed; every body is personalised.
  Snapshot s;
  REQUIRE(eventually(
      [&] {
        s = snapshot(*c, id);
        return s.status == "completed";
      },
      std::chrono::seconds(90)));
  REQUIRE(s.body_of_phone.size() == 250);
  for (int i = 0; i < 250; ++i) {
    CAPTURE(i);
    CHECK(s.body_of_phone[phone(i)] ==
          fmt::format("Hi First{} Last{} of City{}, enjoy 30% off storewide. Use code SPRING30.", i,
                      i, i % 7));
  }
  CHECK(count_status(s, "delivered") + count_status(s, "failed") == 250);
  auto done = c->Get("/api/campaigns?status=completed");
  REQUIRE(done);
  CHECK(done->body.find(id) != std::string::npos);
  auto running = c->Get("/api/campaigns?status=running");
  REQUIRE(running);
  CHECK(running->body == "[]");
}

TEST_CASE("scheduledAt: bounds, a scheduled send and campaign start on the clock") {
  TempDir dir;
  ServerProcess server(dir.path() / "data",
                       {"--device-rate-per-minute", "-1", "--delivery-window-seconds", "3"});
  Account account = server.signup({}, /*with_device=*/false);
  auto c = server.client(account);
  const auto list = imported_list(*c, 3);
  auto post = [&](const std::string& when) {
    return c->Post("/api/campaigns",
                   R"({"name":"Later","message":"Hi {{name}}","contactListId":")" + list +
                       R"(","scheduledAt":")" + when + R"("})",
                   "application/json");
  };
  const auto now = std::chrono::system_clock::now();
  auto iso = [](std::chrono::system_clock::time_point t) {
    return pulse::format_iso8601(std::chrono::time_point_cast<pulse::Millis>(t));
  };
  auto past = post(iso(now - std::chrono::hours(1)));
  REQUIRE(past);
  CHECK(past->status == 400);
  CHECK(past->body.find("scheduledAt") != std::string::npos);
  auto far = post(iso(now + std::chrono::hours(24 * 31)));
  REQUIRE(far);
  CHECK(far->status == 400);
  // No device is online: a scheduled campaign is accepted all the same.
  auto scheduled = post(iso(now + std::chrono::seconds(3)));
  REQUIRE(scheduled);
  REQUIRE_MESSAGE(scheduled->status == 201, scheduled->body);
  simdjson::dom::parser parser;
  auto campaign = parse(parser, scheduled->body);
  const std::string id{std::string_view(campaign["id"])};
  CHECK(std::string_view(campaign["status"]) == "scheduled");
  CHECK(campaign["startedAt"].is_null());
  auto send = c->Post("/api/sms/send",
                      R"({"recipients":[{"phone":"+14155552671","name":"Alice"}],)"
                      R"("message":"Later, {{firstName}}","scheduledAt":")" +
                          iso(now + std::chrono::seconds(3)) + R"("})",
                      "application/json");
  REQUIRE(send);
  REQUIRE_MESSAGE(send->status == 201, send->body);
  auto sent = parse(parser, send->body);
  CHECK(sent.get_object().size() == 3);
  const std::string send_id{std::string_view(sent["campaignId"])};
  auto send_view = c->Get(("/api/campaigns/" + send_id).c_str());
  REQUIRE(send_view);
  CHECK(send_view->body.find(R"("status":"scheduled")") != std::string::npos);
  // A phone comes; at the time, both start and complete.
  BackgroundProcess sim(
      sim_args(server, account,
               {"--devices", "1", "--send-delay-ms", "5", "--delivery-delay-ms", "20"}),
      (dir.path() / "sim.log").string());
  for (const auto& cid : {id, send_id}) {
    CAPTURE(cid);
    Snapshot s;
    CHECK(eventually(
        [&] {
          s = snapshot(*c, cid);
          return s.status == "completed";
        },
        std::chrono::seconds(60)));
  }
  auto detail = c->Get(("/api/campaigns/" + id).c_str());
  REQUIRE(detail);
  auto d = parse(parser, detail->body);
  CHECK(std::string_view(d["startedAt"]) >= std::string_view(d["scheduledAt"]));
  CHECK(d["messages"].at(0)["body"].get_string().value().starts_with("Hi First"));
}

TEST_CASE("pause stops hand-outs, resume continues, cancel: nothing sent after it") {
  TempDir dir;
  ServerProcess server(dir.path() / "data",
                       {"--device-rate-per-minute", "-1", "--delivery-window-seconds", "3"});
  Account account = server.signup({}, /*with_device=*/false);
  server.set_plan(account, "pro");
  auto c = server.client(account);
  BackgroundProcess sim(sim_args(server, account,
                                 {"--devices", "1", "--send-delay-ms", "40", "--batch", "5",
                                  "--delivery-delay-ms", "20"}),
                        (dir.path() / "sim.log").string());
  REQUIRE(eventually([&] { return online_devices(*c) == 1; }, std::chrono::seconds(30)));
  const auto list = imported_list(*c, 200);
  auto launched = c->Post(
      "/api/campaigns",
      R"({"name":"Controls","message":"Hi {{firstName}}","contactListId":")" + list + R"("})",
      "application/json");
  REQUIRE(launched);
  REQUIRE_MESSAGE(launched->status == 201, launched->body);
  simdjson::dom::parser parser;
  const std::string id{std::string_view(parse(parser, launched->body)["id"])};
  const std::string base = "/api/campaigns/" + id;
  REQUIRE(eventually([&] { return !snapshot(*c, id).sent.empty(); }, std::chrono::seconds(30)));

  // Pause: what was handed out before the answer may finish; nothing else leaves the queue.
  auto paused = c->Post((base + "/pause").c_str(), "", "application/json");
  REQUIRE(paused);
  REQUIRE_MESSAGE(paused->status == 200, paused->body);
  CHECK(paused->body.find(R"("status":"paused")") != std::string::npos);
  const auto at_pause = snapshot(*c, id);
  const int queued_at_pause = count_status(at_pause, "queued");
  CHECK(queued_at_pause > 0);
  Snapshot s;
  REQUIRE(eventually(
      [&] {
        s = snapshot(*c, id);
        return count_status(s, "sending") == 0;
      },
      std::chrono::seconds(30)));
  CHECK(count_status(s, "queued") == queued_at_pause);
  auto again = c->Post((base + "/pause").c_str(), "", "application/json");
  REQUIRE(again);
  CHECK(again->status == 409);
  CHECK(again->body.find(R"("error":)") != std::string::npos);
  CHECK(again->body.find(R"("details":)") != std::string::npos);

  // Resume: hand-outs continue.
  auto resumed = c->Post((base + "/resume").c_str(), "", "application/json");
  REQUIRE(resumed);
  REQUIRE_MESSAGE(resumed->status == 200, resumed->body);
  CHECK(resumed->body.find(R"("status":"running")") != std::string::npos);
  REQUIRE(eventually([&] { return count_status(snapshot(*c, id), "queued") < queued_at_pause; },
                     std::chrono::seconds(30)));

  // Cancel: the queued ones fail "cancelled"; no message is sent after the answer, but those a
  // device held then may still report.
  auto cancelled = c->Post((base + "/cancel").c_str(), "", "application/json");
  REQUIRE(cancelled);
  REQUIRE_MESSAGE(cancelled->status == 200, cancelled->body);
  CHECK(cancelled->body.find(R"("status":"cancelled")") != std::string::npos);
  const auto at_cancel = snapshot(*c, id);
  CHECK(count_status(at_cancel, "queued") == 0);
  std::set<std::string> out_at_cancel;  // handed out before the cancel was acknowledged
  int cancelled_count = 0;
  for (const auto& [mid, st] : at_cancel.status_of) {
    auto e = at_cancel.error_of.find(mid);
    if (e != at_cancel.error_of.end() && e->second == "cancelled")
      ++cancelled_count;
    else
      out_at_cancel.insert(mid);
  }
  CHECK(cancelled_count > 0);
  REQUIRE(eventually(
      [&] {
        s = snapshot(*c, id);
        return count_status(s, "sending") == 0;
      },
      std::chrono::seconds(90)));
  for (const auto& mid : s.sent) {
    CAPTURE(mid);
    CHECK(out_at_cancel.count(mid) == 1);
  }
  CHECK(s.status == "cancelled");
  auto resume = c->Post((base + "/resume").c_str(), "", "application/json");
  REQUIRE(resume);
  CHECK(resume->status == 409);
  auto missing = c->Post("/api/campaigns/cmp_0000000000000000/cancel", "", "application/json");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  // Replaying the log rebuilds the same read models (scheduling and controls are commands).
  const auto ran = pulse::testing::run_command(
      {PULSE_BINARY, "replay", "--data-dir", (dir.path() / "data").string(), "--verify"});
  const int code = ran.first;  // named: the MESSAGE macros capture it
  const std::string& out = ran.second;
  CHECK_MESSAGE(code == 0, out);
}

TEST_CASE("contact lists over HTTP: CRUD, pagination, CSV report, malformed files") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  Account account = server.signup({}, /*with_device=*/false);
  auto c = server.client(account);
  simdjson::dom::parser parser;
  auto created = c->Post(
      "/api/contacts",
      R"({"name":"VIP","contacts":[{"phone":"+1 415 555 0001","firstName":"Ada","fields":{"tier":"gold"}},)"
      R"({"phone":"+14155550002","name":"Bob Stone","email":"bob@example.com"}]})",
      "application/json");
  REQUIRE(created);
  REQUIRE_MESSAGE(created->status == 201, created->body);
  auto list = parse(parser, created->body);
  const std::string id{std::string_view(list["id"])};
  CHECK(id.starts_with("cl_"));
  CHECK(int64_t(list["contactCount"]) == 2);
  // Bad input is a 400 and changes nothing.
  auto bad = c->Post("/api/contacts", R"({"name":"X","contacts":[{"phone":"call me"}]})",
                     "application/json");
  REQUIRE(bad);
  CHECK(bad->status == 400);
  // Pages of contacts by phone.
  auto page = c->Get(("/api/contacts/" + id + "?limit=1").c_str());
  REQUIRE(page);
  REQUIRE(page->status == 200);
  auto p1 = parse(parser, page->body);
  CHECK(std::string_view(p1["contacts"].at(0)["phone"]) == "+14155550001");
  CHECK(std::string_view(p1["contacts"].at(0)["fields"]["tier"]) == "gold");
  CHECK(std::string_view(p1["nextCursor"]) == "+14155550001");
  auto page2 = c->Get(("/api/contacts/" + id + "?limit=1&cursor=+14155550001").c_str());
  REQUIRE(page2);
  auto p2 = parse(parser, page2->body);
  CHECK(std::string_view(p2["contacts"].at(0)["phone"]) == "+14155550002");
  CHECK(p2["nextCursor"].is_null());
  // Update and remove one.
  auto patched = c->Patch(("/api/contacts/" + id + "/contacts/%2B14155550002").c_str(),
                          R"({"firstName":"Robert","email":""})", "application/json");
  REQUIRE(patched);
  REQUIRE_MESSAGE(patched->status == 200, patched->body);
  auto pc = parse(parser, patched->body);
  CHECK(std::string_view(pc["firstName"]) == "Robert");
  CHECK(pc["email"].is_null());
  auto removed = c->Delete(("/api/contacts/" + id + "/contacts/%2B14155550001").c_str());
  REQUIRE(removed);
  CHECK(removed->status == 200);
  // CSV: the fixture's 13 kinds of bad rows are reported; its good rows imported.
  std::ifstream in(std::string(PULSE_TEST_DATA_DIR) + "/contacts/bad_rows.csv", std::ios::binary);
  std::ostringstream file;
  file << in.rdbuf();
  auto report = c->Post(("/api/contacts/" + id + "/import").c_str(), file.str(), "text/csv");
  REQUIRE(report);
  REQUIRE_MESSAGE(report->status == 200, report->body);
  auto r = parse(parser, report->body);
  CHECK(int64_t(r["imported"]) == 4);
  CHECK(int64_t(r["updated"]) == 0);
  CHECK(r["rejected"].get_array().size() == 13);
  CHECK(int64_t(r["rejected"].at(0)["row"]) == 4);
  CHECK(int64_t(r["contactCount"]) == 5);
  // Importing it again updates the same four.
  auto again = c->Post(("/api/contacts/" + id + "/import").c_str(), file.str(), "text/csv");
  REQUIRE(again);
  auto r2 = parse(parser, again->body);
  CHECK(int64_t(r2["imported"]) == 0);
  CHECK(int64_t(r2["updated"]) == 4);
  // Malformed files import nothing.
  for (const std::string& body :
       {std::string("phone,firstName\n+14155550200,\"Unclosed\n"),
        std::string("firstName,lastName\nA,B\n"), std::string("\xFF\xFEp\0h\0", 6)}) {
    auto refused = c->Post(("/api/contacts/" + id + "/import").c_str(), body, "text/csv");
    REQUIRE(refused);
    CHECK(refused->status == 400);
    CHECK(refused->body.find(R"("details":)") != std::string::npos);
  }
  auto wrong_type = c->Post(("/api/contacts/" + id + "/import").c_str(), "phone\n", "text/plain");
  REQUIRE(wrong_type);
  CHECK(wrong_type->status == 400);
  auto after = c->Get(("/api/contacts/" + id).c_str());
  REQUIRE(after);
  CHECK(int64_t(parse(parser, after->body)["contactCount"]) == 5);
  // Lists, then delete.
  auto lists = c->Get("/api/contacts");
  REQUIRE(lists);
  CHECK(parse(parser, lists->body).get_array().size() == 1);
  auto deleted = c->Delete(("/api/contacts/" + id).c_str());
  REQUIRE(deleted);
  CHECK(deleted->status == 200);
  auto gone = c->Get(("/api/contacts/" + id).c_str());
  REQUIRE(gone);
  CHECK(gone->status == 404);
  const auto ran = pulse::testing::run_command(
      {PULSE_BINARY, "replay", "--data-dir", (dir.path() / "data").string(), "--verify"});
  const int code = ran.first;  // named: the MESSAGE macros capture it
  const std::string& out = ran.second;
  CHECK_MESSAGE(code == 0, out);
}

TEST_CASE("a 50,000-row CSV imports in one request") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  Account account = server.signup({}, /*with_device=*/false);
  auto c = server.client(account);
  c->set_read_timeout(120, 0);
  const auto start = Clock::now();
  imported_list(*c, 50000);
  MESSAGE("50,000 rows imported in ",
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count(),
          " ms");
}

// One import workflow under kill -9: the server dies with part of a file staged; after a
// restart the decider's clock discards it (--import-timeout-seconds) and the list has none of
// it. Read-your-writes holds for the rest: the file imported again arrives whole.
TEST_CASE("a CSV import cut off by kill -9 leaves nothing; the clock discards what it staged") {
  TempDir dir;
  const auto data = dir.path() / "data";
  const std::vector<std::string> flags = {"--import-timeout-seconds", "1"};
  auto server = std::make_unique<ServerProcess>(data, flags);
  Account account = server->signup({}, /*with_device=*/false);
  simdjson::dom::parser parser;
  auto c = server->client(account);
  auto created = c->Post("/api/contacts", R"({"name":"Cut off"})", "application/json");
  REQUIRE(created);
  REQUIRE(created->status == 201);
  const std::string id{std::string_view(parse(parser, created->body)["id"])};
  auto count_events = [&](std::string_view type) {
    auto [code, out] = pulse::testing::run_command(
        {PULSE_BINARY, "events", "--data-dir", data.string(), "--type", std::string(type)});
    REQUIRE(code == 0);
    return std::count(out.begin(), out.end(), '\n');
  };
  const std::string file = csv(50000);  // 100 chunks: seconds of work
  std::thread request([&] {
    auto importer = server->client(account);
    importer->set_read_timeout(120, 0);
    auto r = importer->Post(("/api/contacts/" + id + "/import").c_str(), file, "text/csv");
    CHECK_FALSE(r);  // the server died under it
  });
  CHECK(eventually([&] { return count_events("ContactsStaged") > 0; }, std::chrono::seconds(30)));
  server->kill9();
  request.join();
  CHECK(count_events("ContactImportCompleted") == 0);
  server = std::make_unique<ServerProcess>(data, flags);
  CHECK(eventually([&] { return count_events("ContactImportDiscarded") == 1; },
                   std::chrono::seconds(30)));
  c = server->client(account);
  auto list = c->Get(("/api/contacts/" + id).c_str());
  REQUIRE(list);
  REQUIRE(list->status == 200);
  CHECK(int64_t(parse(parser, list->body)["contactCount"]) == 0);
  auto again = c->Post(("/api/contacts/" + id + "/import").c_str(), csv(1200), "text/csv");
  REQUIRE(again);
  REQUIRE_MESSAGE(again->status == 200, again->body);
  CHECK(int64_t(parse(parser, again->body)["contactCount"]) == 1200);
  CHECK(server->terminate() == 0);
  const auto verified =
      pulse::testing::run_command({PULSE_BINARY, "replay", "--data-dir", data.string(), "--into",
                                   (dir.path() / "rebuilt").string(), "--verify"});
  CHECK_MESSAGE(verified.first == 0, verified.second);
}
