// Secrets at rest, end to end: webhooks are created (one rotated), traffic is delivered and
// verified with the secrets the API showed, and then no secret is found in clear anywhere the
// server wrote: any raw file of the data directory (RocksDB's WAL and SSTs included), any value
// read back through RocksDB (so compression cannot hide one), `pulse events`, `pulse dump`, or
// the server's own output. A log written before sealing (a clear secret) still delivers.
#include <doctest/doctest.h>
#include <rocksdb/db.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "adapters/auth/crypto.h"
#include "adapters/log/embedded_log.h"
#include "domain/time.h"
#include "fmt/format.h"
#include "tests/integration/api_helpers.h"
#include "tests/integration/server_process.h"
#include "tests/support/eventually.h"

using pulse::testing::Account;
using pulse::testing::ServerProcess;
using pulse::testing::TempDir;

namespace {

namespace fs = std::filesystem;

// A subscriber on 127.0.0.1, port 0: a request to /<name> verifies when every secret set for
// that name signed it (Standard Webhooks and X-Pulse-Signature).
class Subscriber {
 public:
  Subscriber() {
    server_.Post(R"(/(\w+))", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string name = req.matches[1];
      const auto id = req.get_header_value("webhook-id");
      const auto ts = req.get_header_value("webhook-timestamp");
      const auto standard = req.get_header_value("webhook-signature");
      const auto raw = req.get_header_value("X-Pulse-Signature");
      std::lock_guard lock(mu_);
      bool ok = !secrets_[name].empty();
      for (const auto& s : secrets_[name]) {
        const auto key = pulse::auth::base64_decode(s.substr(6)).value_or("");
        const auto v1 = "v1," + pulse::auth::base64(
                                    pulse::auth::hmac_sha256(key, id + "." + ts + "." + req.body));
        const auto hex = "sha256=" + pulse::auth::to_hex(pulse::auth::hmac_sha256(s, req.body));
        ok = ok && standard.find(v1) != std::string::npos && raw.find(hex) != std::string::npos;
      }
      (ok ? verified_ : refused_)[name].insert(id);
      res.status = ok ? 200 : 401;
      res.set_content(ok ? "ok" : "bad signature", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Subscriber() {
    server_.stop();
    thread_.join();
  }
  std::string url(const std::string& name) const {
    return fmt::format("http://127.0.0.1:{}/{}", port_, name);
  }
  void set_secrets(const std::string& name, std::vector<std::string> secrets) {
    std::lock_guard lock(mu_);
    secrets_[name] = std::move(secrets);
  }
  size_t verified(const std::string& name) {
    std::lock_guard lock(mu_);
    return verified_[name].size();
  }
  size_t refused() {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& [_, ids] : refused_) n += ids.size();
    return n;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::string>> secrets_;
  std::map<std::string, std::set<std::string>> verified_, refused_;
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// What must never be at rest: the secret as the API shows it, its base64 part, and the HMAC key
// it encodes (the raw bytes a careless encoder could write).
std::vector<std::string> forms_of(const std::string& secret) {
  return {secret, secret.substr(6), pulse::auth::base64_decode(secret.substr(6)).value_or("")};
}

// Where `text` holds one of the secrets' forms: "<what> holds <secret>", or empty.
std::vector<std::string> leaks(const std::string& what, const std::string& text,
                               const std::vector<std::string>& secrets) {
  std::vector<std::string> out;
  for (const auto& s : secrets)
    for (const auto& form : forms_of(s))
      if (text.find(form) != std::string::npos) out.push_back(what + " holds " + s);
  return out;
}

// Every raw file under `dir`, byte for byte.
std::vector<std::string> file_leaks(const fs::path& dir, const std::vector<std::string>& secrets,
                                    size_t& files) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    ++files;
    for (auto& l : leaks(e.path().string(), read_file(e.path()), secrets)) out.push_back(l);
  }
  return out;
}

// Every key and value of every column family of the RocksDB at `dir`, as RocksDB returns them
// (decompressed): compression cannot hide a secret from this.
using LeakFinder =
    std::function<std::vector<std::string>(const std::string& what, const std::string& text)>;
std::vector<std::string> rocksdb_leaks(const fs::path& dir, const LeakFinder& find, size_t& values);
// The secrets' forms (see forms_of) in every value of the RocksDB at `dir`.
std::vector<std::string> rocksdb_leaks(const fs::path& dir, const std::vector<std::string>& secrets,
                                       size_t& values) {
  return rocksdb_leaks(
      dir,
      [&](const std::string& what, const std::string& text) { return leaks(what, text, secrets); },
      values);
}

std::vector<std::string> rocksdb_leaks(const fs::path& dir, const LeakFinder& find,
                                       size_t& values) {
  std::vector<std::string> families;
  rocksdb::Options options;
  REQUIRE(rocksdb::DB::ListColumnFamilies(options, dir.string(), &families).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& f : families) descriptors.emplace_back(f, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  const auto st = rocksdb::DB::OpenForReadOnly(options, dir.string(), descriptors, &handles, &raw);
  REQUIRE_MESSAGE(st.ok(), dir.string(), ": ", st.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::vector<std::string> out;
  for (auto* h : handles) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), h));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++values;
      const auto where =
          fmt::format("{} [{}] {}", dir.string(), h->GetName(), it->key().ToString().substr(0, 80));
      for (auto& l : find(where, it->key().ToString() + it->value().ToString())) out.push_back(l);
    }
    db->DestroyColumnFamilyHandle(h);
  }
  return out;
}

// Directories 0700 and files 0600 everywhere under `dir` (links are not followed).
std::vector<std::string> loose_modes(const fs::path& dir) {
  std::vector<std::string> out;
  auto check = [&](const fs::path& p) {
    struct stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    if (S_ISLNK(st.st_mode)) return;
    const auto mode = st.st_mode & 07777;
    const auto want = S_ISDIR(st.st_mode) ? 0700 : 0600;
    if (mode != static_cast<mode_t>(want))
      out.push_back(fmt::format("{} is {:o}", p.string(), mode));
  };
  check(dir);
  for (const auto& e : fs::recursive_directory_iterator(dir)) check(e.path());
  return out;
}

std::string create(httplib::Client& c, Subscriber& sub, const std::string& name,
                   std::string& secret) {
  auto res = c.Post(
      "/api/webhooks",
      fmt::format(R"({{"url":"{}","events":["message.sent","campaign.started"]}})", sub.url(name)),
      "application/json");
  REQUIRE(res);
  REQUIRE_MESSAGE(res->status == 201, res->body);
  secret = pulse::testing::json_field(res->body, "secret");
  REQUIRE(secret.starts_with("whsec_"));
  return pulse::testing::json_field(res->body, "id");
}

void ping(httplib::Client& c, const std::string& hook) {
  auto res = c.Post(("/api/webhooks/" + hook + "/test").c_str(), "{}", "application/json");
  REQUIRE(res);
  REQUIRE_MESSAGE(res->status == 202, res->body);
}

}  // namespace

TEST_CASE("webhook secrets are sealed at rest: files, RocksDB values, events, dumps, output") {
  TempDir dir;
  const auto data = dir.path() / "data";
  Subscriber sub;
  std::vector<std::string> secrets;
  {
    ServerProcess server(data, {"--allow-private-webhooks"});
    Account a = server.signup();
    auto c = server.client(a);
    std::string first, second, rotated;
    const auto hook_a = create(*c, sub, "a", first);
    const auto hook_b = create(*c, sub, "b", second);
    sub.set_secrets("a", {first});
    auto res =
        c->Post(("/api/webhooks/" + hook_b + "/rotate-secret").c_str(), "{}", "application/json");
    REQUIRE(res);
    REQUIRE_MESSAGE(res->status == 200, res->body);
    rotated = pulse::testing::json_field(res->body, "secret");
    REQUIRE(rotated != second);
    sub.set_secrets("b", {rotated, second});  // during the overlap both sign
    secrets = {first, second, rotated};

    // Traffic: a campaign starts and its messages are sent; and a ping to each.
    auto sent = c->Post("/api/sms/send",
                        R"({"recipients":[{"phone":"+14155550101"},{"phone":"+14155550102"}],)"
                        R"("message":"Hello"})",
                        "application/json");
    REQUIRE(sent);
    REQUIRE_MESSAGE(sent->status == 201, sent->body);
    auto claim =
        server.gateway(a)->Post("/api/gateway/messages/claim", R"({"max":10})", "application/json");
    REQUIRE(claim);
    REQUIRE(claim->status == 200);
    std::string reports;
    for (size_t at = 0; (at = claim->body.find(R"("id":")", at)) != std::string::npos;) {
      at += 6;
      const auto id = claim->body.substr(at, claim->body.find('"', at) - at);
      if (!id.starts_with("msg_")) continue;
      reports += fmt::format(
          R"({}{{"messageId":"{}","status":"sent","at":"{}"}})", reports.empty() ? "" : ",", id,
          pulse::format_iso8601(
              std::chrono::time_point_cast<pulse::Millis>(std::chrono::system_clock::now())));
    }
    auto reported = server.gateway(a)->Post("/api/gateway/messages/status",
                                            R"({"reports":[)" + reports + "]}", "application/json");
    REQUIRE(reported);
    REQUIRE_MESSAGE(reported->status == 200, reported->body);
    ping(*c, hook_a);
    ping(*c, hook_b);
    // campaign.started + message.sent x2 + ping, to each endpoint, each signed right.
    CHECK(
        pulse::testing::eventually([&] { return sub.verified("a") == 4 && sub.verified("b") == 4; },
                                   std::chrono::seconds(20)));
    CHECK(sub.verified("a") == 4);
    CHECK(sub.verified("b") == 4);
    CHECK(sub.refused() == 0);

    // While it runs: the WAL and whatever was flushed.
    size_t files = 0;
    const auto live = file_leaks(data, secrets, files);
    CHECK_MESSAGE(live.empty(), live.front());
    CHECK(files > 10);
    CHECK(server.terminate() == 0);
    const auto out = server.output();
    CHECK(out.find("pulse: data key dk_") != std::string::npos);
    auto printed = leaks("the server's stdout", out, secrets);
    CHECK_MESSAGE(printed.empty(), printed.front());
  }
  const auto stderr_log =
      leaks("the server's stderr", read_file(data.string() + ".stderr.log"), secrets);
  CHECK_MESSAGE(stderr_log.empty(), stderr_log.front());

  // After a clean stop (memtables flushed or not): every raw file, then every value.
  size_t files = 0, values = 0;
  const auto at_rest = file_leaks(data, secrets, files);
  CHECK_MESSAGE(at_rest.empty(), at_rest.front());
  for (const char* store : {"log", "views", "state", "webhooks"}) {
    CAPTURE(store);
    REQUIRE(fs::exists(data / store));
    const auto found = rocksdb_leaks(data / store, secrets, values);
    CHECK_MESSAGE(found.empty(), found.front());
  }
  CHECK(values > 50);
  const auto modes = loose_modes(data);
  CHECK_MESSAGE(modes.empty(), modes.front());
  CHECK(fs::exists(data / "secrets" / "data-keys"));

  // The tools print what the log and the stores hold: sealed.
  auto [events_code, events] =
      pulse::testing::run_command({PULSE_BINARY, "events", "--data-dir", data.string(), "--type",
                                   "WebhookCreated,WebhookSecretRotated"});
  CHECK(events_code == 0);
  auto printed = leaks("pulse events", events, secrets);
  CHECK_MESSAGE(printed.empty(), printed.front());
  size_t sealed = 0;
  for (size_t at = 0; (at = events.find(R"("secret":{"keyId":"dk_)", at)) != std::string::npos;
       ++at)
    ++sealed;
  CHECK(sealed == 3);  // two created, one rotated
  for (const char* store : {"views", "state"}) {
    auto [dump_code, dump] = pulse::testing::run_command(
        {PULSE_BINARY, "dump", "--data-dir", data.string(), "--store", store});
    CHECK(dump_code == 0);
    auto dumped = leaks(fmt::format("pulse dump --store {}", store), dump, secrets);
    CHECK_MESSAGE(dumped.empty(), dumped.front());
  }
  // Sealing takes nothing from determinism: the rebuild is byte for byte the same.
  const auto replayed = pulse::testing::run_command(
      {PULSE_BINARY, "replay", "--data-dir", data.string(), "--verify"});
  const int replay_code = replayed.first;  // named: the MESSAGE macros capture it
  const std::string& replay = replayed.second;
  CHECK_MESSAGE(replay_code == 0, replay);
  CHECK(replay.find("identical") != std::string::npos);
}

TEST_CASE("a log written before sealing (a secret in clear) still delivers, signed") {
  TempDir dir;
  const auto data = dir.path() / "data";
  Subscriber sub;
  Account a;
  {
    ServerProcess server(data, {"--allow-private-webhooks"});
    a = server.signup({}, false);
    CHECK(server.terminate() == 0);
  }
  // A CreateWebhook v1, as a server before sealing appended it.
  const std::string clear = "whsec_Mq3DLyibZoTpMANdm2S+2Vz+3N3WboaU";
  const std::string hook = "wh_01m818nbctnyg66r";
  {
    auto log = pulse::log::open_embedded_log({data / "log", 0});
    REQUIRE(log.ok());
    const auto now = pulse::format_iso8601(
        std::chrono::time_point_cast<pulse::Millis>(std::chrono::system_clock::now()));
    const pulse::log::Record record{
        a.org_id,
        fmt::format(R"({{"type":"CreateWebhook","v":1,"id":"cmd_01m818nbctph1tqg","orgId":"{}",)"
                    R"("at":"{}","data":{{"webhookId":"{}","url":"{}","events":["message.sent"],)"
                    R"("description":"before sealing","secret":"{}"}}}})",
                    a.org_id, now, hook, sub.url("old"), clear)};
    REQUIRE((*log)->append(pulse::log::kCommandsTopic, std::span(&record, 1)).ok());
  }
  sub.set_secrets("old", {clear});
  ServerProcess server(data, {"--allow-private-webhooks"});
  auto c = server.client(a);
  REQUIRE(pulse::testing::eventually(
      [&] {
        auto r = c->Get(("/api/webhooks/" + hook).c_str());
        return r && r->status == 200;
      },
      std::chrono::seconds(10)));
  ping(*c, hook);
  CHECK(pulse::testing::eventually([&] { return sub.verified("old") == 1; },
                                   std::chrono::seconds(10)));
  CHECK(sub.refused() == 0);
  // Its rotation seals the new secret; the old one (in clear) still signs for the overlap.
  auto res =
      c->Post(("/api/webhooks/" + hook + "/rotate-secret").c_str(), "{}", "application/json");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  const auto fresh = pulse::testing::json_field(res->body, "secret");
  sub.set_secrets("old", {fresh, clear});
  ping(*c, hook);
  CHECK(pulse::testing::eventually([&] { return sub.verified("old") == 2; },
                                   std::chrono::seconds(10)));
  CHECK(sub.refused() == 0);
  auto [code, events] = pulse::testing::run_command(
      {PULSE_BINARY, "events", "--data-dir", data.string(), "--type", "WebhookSecretRotated"});
  CHECK(code == 0);
  CHECK(events.find(R"("secret":{"keyId":"dk_)") != std::string::npos);
  CHECK(events.find(fresh) == std::string::npos);

  // The search finds what is there (the clear secret of the old record, in the log and the
  // views, raw and through RocksDB) and nothing of the sealed one.
  CHECK(server.terminate() == 0);
  size_t files = 0, values = 0;
  CHECK_FALSE(file_leaks(data, {clear}, files).empty());
  CHECK(file_leaks(data, {fresh}, files).empty());
  CHECK_FALSE(rocksdb_leaks(data / "log", {clear}, values).empty());
  CHECK_FALSE(rocksdb_leaks(data / "views", {clear}, values).empty());
  for (const char* store : {"log", "views", "state", "webhooks"})
    CHECK(rocksdb_leaks(data / store, {fresh}, values).empty());
}

TEST_CASE("pulse admin rotate-data-key: the next start seals with a new key, old secrets open") {
  TempDir dir;
  const auto data = dir.path() / "data";
  Subscriber sub;
  Account a;
  std::string old_hook, old_secret;
  {
    ServerProcess server(data, {"--allow-private-webhooks"});
    a = server.signup({}, false);
    auto c = server.client(a);
    old_hook = create(*c, sub, "before", old_secret);
    CHECK(server.terminate() == 0);
  }
  const auto rotated = pulse::testing::run_command(
      {PULSE_BINARY, "admin", "rotate-data-key", "--data-dir", data.string()});
  const int code = rotated.first;  // named: the MESSAGE macros capture it
  const std::string& out = rotated.second;
  CHECK_MESSAGE(code == 0, out);
  CHECK(out.find("1 older key(s) kept") != std::string::npos);
  const auto keys = read_file(data / "secrets" / "data-keys");
  REQUIRE(std::count(keys.begin(), keys.end(), '\n') == 2);
  const auto fresh_id = keys.substr(0, keys.find(' '));
  const auto old_id = keys.substr(keys.find('\n') + 1, fresh_id.size());

  ServerProcess server(data, {"--allow-private-webhooks"});
  CHECK(server.output().find("pulse: data key " + fresh_id) != std::string::npos);
  auto c = server.client(a);
  std::string new_secret;
  const auto new_hook = create(*c, sub, "after", new_secret);
  sub.set_secrets("before", {old_secret});
  sub.set_secrets("after", {new_secret});
  ping(*c, old_hook);
  ping(*c, new_hook);
  CHECK(pulse::testing::eventually(
      [&] { return sub.verified("before") == 1 && sub.verified("after") == 1; },
      std::chrono::seconds(10)));
  CHECK(sub.refused() == 0);
  auto [events_code, events] = pulse::testing::run_command(
      {PULSE_BINARY, "events", "--data-dir", data.string(), "--type", "WebhookCreated"});
  CHECK(events_code == 0);
  CHECK(events.find(R"("keyId":")" + old_id) != std::string::npos);
  CHECK(events.find(R"("keyId":")" + fresh_id) != std::string::npos);
  const auto modes = loose_modes(data);
  CHECK_MESSAGE(modes.empty(), modes.front());
}

namespace {

// Where `text` holds one of the codes as an SMS or a request would carry it: "is 12345678",
// "12345678." or "\"12345678\"" (a bare 8-digit run may occur by chance in hashes and times).
std::vector<std::string> code_leaks(const std::string& what, const std::string& text,
                                    const std::vector<std::string>& codes) {
  std::vector<std::string> out;
  for (const auto& code : codes)
    for (const auto& form : {"is " + code, code + ".", "\"" + code + "\""})
      if (text.find(form) != std::string::npos) out.push_back(what + " holds " + form);
  return out;
}

std::vector<std::string> code_file_leaks(const fs::path& dir,
                                         const std::vector<std::string>& codes) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file())
      for (auto& l : code_leaks(e.path().string(), read_file(e.path()), codes)) out.push_back(l);
  return out;
}

// The code the phone was handed: the claim's clear body.
std::string claim_code(const ServerProcess& server, const Account& a) {
  auto claim =
      server.gateway(a)->Post("/api/gateway/messages/claim", R"({"max":10})", "application/json");
  REQUIRE(claim);
  REQUIRE_MESSAGE(claim->status == 200, claim->body);
  std::smatch m;
  REQUIRE_MESSAGE(std::regex_search(claim->body, m, std::regex(R"(code is ([0-9]+)\.)")),
                  claim->body);
  // The finder sees the code where it is in clear: in what the phone was handed.
  CHECK_FALSE(code_leaks("the claim", claim->body, {m[1].str()}).empty());
  return m[1].str();
}

std::string other_code(std::string code) {
  code[0] = code[0] == '9' ? '0' : static_cast<char>(code[0] + 1);
  return code;
}

}  // namespace

TEST_CASE(
    "verify: codes by SMS are checked once, fail after 5 wrong ones, resends are throttled, "
    "other organisations can't see a request, and no code is at rest in clear") {
  TempDir dir;
  const auto data = dir.path() / "data";
  Subscriber sub;
  std::vector<std::string> codes;
  simdjson::dom::parser p;
  {
    ServerProcess server(data, {"--allow-private-webhooks"});
    Account a = server.signup();
    auto c = server.client(a);
    auto hook = c->Post(
        "/api/webhooks",
        fmt::format(R"({{"url":"{}","events":["verify.approved","verify.failed"]}})", sub.url("v")),
        "application/json");
    REQUIRE(hook);
    REQUIRE_MESSAGE(hook->status == 201, hook->body);
    sub.set_secrets("v", {pulse::testing::json_field(hook->body, "secret")});
    auto post = [&](const char* path, const std::string& body) {
      auto r = c->Post(path, body, "application/json");
      REQUIRE(r);
      return r;
    };

    // A code: the API shows the request pending and the message masked; the phone gets it.
    auto started = post("/api/verify/start", R"({"to":"+14155550601","codeLength":8})");
    REQUIRE_MESSAGE(started->status == 201, started->body);
    auto doc = pulse::testing::parse(p, started->body);
    const std::string id{std::string_view(doc["requestId"])};
    CHECK(id.starts_with("vrf_"));
    CHECK(std::string_view(doc["status"]) == "pending");
    CHECK(std::string_view(doc["to"]) == "+14155550601");
    const auto code = claim_code(server, a);
    REQUIRE(code.size() == 8);
    codes.push_back(code);
    auto listed = c->Get("/api/messages?phone=%2B14155550601");
    REQUIRE(listed);
    CHECK(listed->body.find("Your code is ********. It expires in 5 minutes.") !=
          std::string::npos);
    CHECK(code_leaks("GET /api/messages", listed->body, codes).empty());

    // A second start at once: the number had a code less than 30 s ago.
    auto again = post("/api/verify/start", R"({"to":"+14155550601","codeLength":8})");
    CHECK(again->status == 429);
    const int retry = std::atoi(again->get_header_value("Retry-After").c_str());
    CHECK(retry >= 1);
    CHECK(retry <= 30);

    // A wrong code counts an attempt.
    auto wrong = post("/api/verify/check",
                      fmt::format(R"({{"requestId":"{}","code":"{}"}})", id, other_code(code)));
    REQUIRE_MESSAGE(wrong->status == 200, wrong->body);
    doc = pulse::testing::parse(p, wrong->body);
    CHECK_FALSE(bool(doc["valid"]));
    CHECK(int64_t(doc["attempts"]) == 1);
    CHECK(std::string_view(doc["status"]) == "pending");

    // Eight concurrent checks of the right code: exactly one is valid.
    std::atomic<int> valid{0}, answered{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i)
      threads.emplace_back([&] {
        auto own = server.client(a);
        auto r = own->Post("/api/verify/check",
                           fmt::format(R"({{"requestId":"{}","code":"{}"}})", id, code),
                           "application/json");
        if (!r || r->status != 200) return;
        ++answered;
        if (r->body.find(R"("valid":true)") != std::string::npos) ++valid;
      });
    for (auto& t : threads) t.join();
    CHECK(answered == 8);
    CHECK(valid == 1);
    auto shown = c->Get(("/api/verify/" + id).c_str());
    REQUIRE(shown);
    REQUIRE_MESSAGE(shown->status == 200, shown->body);
    CHECK(std::string_view(pulse::testing::parse(p, shown->body)["status"]) == "approved");

    // Another organisation: no such request.
    Account b = server.signup({}, false);
    auto other = server.client(b);
    auto foreign = other->Post("/api/verify/check",
                               fmt::format(R"({{"requestId":"{}","code":"{}"}})", id, code),
                               "application/json");
    REQUIRE(foreign);
    CHECK(foreign->status == 404);
    CHECK(other->Get(("/api/verify/" + id).c_str())->status == 404);

    // SendPulse's path and names; five wrong codes fail the request.
    auto sp = post("/v1/verify/start", R"({"to":"+14155550602","code_length":8,"expiry":120})");
    REQUIRE_MESSAGE(sp->status == 201, sp->body);
    const std::string id2{std::string_view(pulse::testing::parse(p, sp->body)["request_id"])};
    const auto code2 = claim_code(server, a);
    codes.push_back(code2);
    for (int i = 1; i <= 5; ++i) {
      auto r = post("/v1/verify/check",
                    fmt::format(R"({{"request_id":"{}","code":"{}"}})", id2, other_code(code2)));
      REQUIRE_MESSAGE(r->status == 200, r->body);
      doc = pulse::testing::parse(p, r->body);
      CHECK(int64_t(doc["attempts"]) == i);
      CHECK(std::string_view(doc["status"]) == (i < 5 ? "pending" : "failed"));
    }
    auto late =
        post("/v1/verify/check", fmt::format(R"({{"request_id":"{}","code":"{}"}})", id2, code2));
    doc = pulse::testing::parse(p, late->body);
    CHECK_FALSE(bool(doc["valid"]));
    CHECK(std::string_view(doc["status"]) == "failed");

    // Cancelled: its code no longer verifies.
    auto third = post("/api/verify/start", R"({"to":"+14155550603","codeLength":8,)"
                                           R"("template":"Pulse: {{code}} is your code."})");
    REQUIRE_MESSAGE(third->status == 201, third->body);
    const auto id3 = pulse::testing::json_field(third->body, "requestId");
    auto claim =
        server.gateway(a)->Post("/api/gateway/messages/claim", R"({"max":10})", "application/json");
    REQUIRE(claim);
    std::smatch m;
    REQUIRE_MESSAGE(std::regex_search(claim->body, m, std::regex(R"(Pulse: ([0-9]{8}) is)")),
                    claim->body);
    codes.push_back(m[1].str());
    auto cancelled = post("/api/verify/cancel", R"({"requestId":")" + id3 + R"("})");
    REQUIRE_MESSAGE(cancelled->status == 200, cancelled->body);
    auto after = post("/api/verify/check",
                      fmt::format(R"({{"requestId":"{}","code":"{}"}})", id3, m[1].str()));
    CHECK(after->body.find(R"("valid":false)") != std::string::npos);
    CHECK(after->body.find(R"("status":"cancelled")") != std::string::npos);

    // Bad input: 400s that say what is wrong.
    for (const char* bad :
         {R"({"to":"+14155550604","template":"Hello"})", R"({"to":"+14155550604","codeLength":3})",
          R"({"to":"+14155550604","expiry":59})", R"({"to":"not a number"})",
          R"({"to":"+14155550604","channel":"voice"})",
          R"({"to":"+14155550604","template":"{{code}} {{name}}"})", R"({"codeLength":6})"}) {
      CAPTURE(bad);
      auto r = post("/api/verify/start", bad);
      CHECK(r->status == 400);
      CHECK(r->body.find(R"("error":)") != std::string::npos);
    }
    CHECK(post("/api/verify/check", R"({"requestId":"vrf_01m80zvb19aaaaaa","code":"1"})")->status ==
          404);
    CHECK(post("/api/verify/check", R"({"requestId":"nope","code":"1"})")->status == 400);
    CHECK(post("/api/verify/check", R"({"requestId":")" + id + R"(","code":"12ab"})")->status ==
          400);

    // One approval and one failure, each delivered once and signed.
    CHECK(pulse::testing::eventually([&] { return sub.verified("v") == 2; },
                                     std::chrono::seconds(20)));
    CHECK(sub.refused() == 0);

    CHECK(server.terminate() == 0);
    const auto printed = code_leaks("the server's stdout", server.output(), codes);
    CHECK_MESSAGE(printed.empty(), printed.front());
  }
  const auto logged =
      code_leaks("the server's stderr", read_file(data.string() + ".stderr.log"), codes);
  CHECK_MESSAGE(logged.empty(), logged.front());
  const auto at_rest = code_file_leaks(data, codes);
  CHECK_MESSAGE(at_rest.empty(), at_rest.front());
  // Every value as RocksDB returns it (decompressed), and what the tools print.
  std::vector<std::string> found;
  size_t values = 0;
  for (const char* store : {"log", "views", "state", "webhooks"}) {
    for (auto& l : rocksdb_leaks(
             data / store,
             [&](const std::string&what, const std::string&text) {
               return code_leaks(what, text, codes);
             },
             values))
      found.push_back(l);
  }
  for (const char* store : {"views", "state"}) {
    auto [dump_code, dump] = pulse::testing::run_command(
        {PULSE_BINARY, "dump", "--data-dir", data.string(), "--store", store});
    CHECK(dump_code == 0);
    for (auto& l : code_leaks(fmt::format("pulse dump --store {}", store), dump, codes))
      found.push_back(l);
  }
  auto [events_code, events] =
      pulse::testing::run_command({PULSE_BINARY, "events", "--data-dir", data.string()});
  CHECK(events_code == 0);
  for (auto& l : code_leaks("pulse events", events, codes)) found.push_back(l);
  CHECK_MESSAGE(found.empty(), found.front());
  CHECK(values > 50);
  CHECK(events.find(R"("message":"Your code is ********. It expires in 5 minutes.")") !=
        std::string::npos);
  CHECK(events.find(R"("sealedMessage":{"keyId":"dk_)") != std::string::npos);
  const auto replayed = pulse::testing::run_command(
      {PULSE_BINARY, "replay", "--data-dir", data.string(), "--verify"});
  const int replay_code = replayed.first;
  CHECK_MESSAGE(replay_code == 0, replayed.second);
}
