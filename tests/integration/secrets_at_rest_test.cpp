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
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "adapters/auth/crypto.h"
#include "adapters/log/embedded_log.h"
#include "domain/time.h"
#include "fmt/format.h"
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
std::vector<std::string> rocksdb_leaks(const fs::path& dir, const std::vector<std::string>& secrets,
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
      for (auto& l : leaks(where, it->key().ToString() + it->value().ToString(), secrets))
        out.push_back(l);
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
