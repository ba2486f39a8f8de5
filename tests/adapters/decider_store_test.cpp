// The decider's store: an organisation's state under s/<org> without its campaign queues, each
// queue under q/<org>/<campaign>, written when it changes; a state stored by an older build with
// its queues inline (v1) is read, and moved to that layout by its next write.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "adapters/codec/json_codec.h"
#include "adapters/log/embedded_log.h"
#include "adapters/runtime/decider_runner.h"
#include "adapters/store/kv_store.h"
#include "tests/support/decider_world.h"
#include "tests/support/must.h"
#include "tests/support/temp_dir.h"

namespace pulse::runtime {
namespace {

using pulse::testing::at;
using pulse::testing::DeciderWorld;
using pulse::testing::kOrg;
using pulse::testing::must;
using pulse::testing::TempDir;

CampaignId campaign(uint64_t n) {
  return CampaignId{make_id(id_prefix::campaign, pulse::testing::kT0, n)};
}

SendSms send(uint64_t n) {
  SendSms s;
  s.campaign_id = campaign(n);
  s.message = "Hello";
  s.recipients.push_back(Recipient{PhoneNumber{"+14155550100"}, "Ann", {}, {}});
  return s;
}

// What the store holds for kOrg: the state as stored and its queues' keys and values.
struct Stored {
  std::string state;  // s/<org> as written
  std::map<std::string, commands::CampaignQueue> queues;
  commands::DeciderState whole;  // the state with those queues in it
};

Stored stored(store::KvStore& kv) {
  Stored out;
  auto raw = kv.get("s/" + kOrg.value);
  REQUIRE(raw.ok());
  REQUIRE(raw->has_value());
  out.state = **raw;
  auto decoded = codec::decode<commands::DeciderState>(out.state);
  REQUIRE_MESSAGE(decoded.ok(), decoded.error().details);
  out.whole = std::move(decoded).value();
  const std::string prefix = "q/" + kOrg.value + "/";
  auto st = kv.scan(prefix, "", false, [&](std::string_view k, std::string_view v) {
    auto q = codec::decode<commands::CampaignQueue>(v);
    REQUIRE_MESSAGE(q.ok(), q.error().details);
    out.queues.emplace(std::string(k.substr(prefix.size())), *q);
    return true;
  });
  REQUIRE(st.ok());
  auto& whole = out.whole.org.queues;
  CHECK(whole.empty());  // stored apart, not inline
  for (const auto& [id, q] : out.queues) whole.put(id, q);
  return out;
}

// The state store, recording the keys each write names (what a decider's flush wrote).
class RecordingKv final : public store::KvStore {
 public:
  explicit RecordingKv(std::unique_ptr<store::KvStore> inner) : inner_(std::move(inner)) {}
  Result<std::optional<std::string>> get(std::string_view key) override { return inner_->get(key); }
  Status scan(std::string_view prefix, std::string_view start, bool reverse,
              const Visit& visit) override {
    return inner_->scan(prefix, start, reverse, visit);
  }
  Status write(const std::vector<store::WriteOp>& ops, bool sync) override {
    for (const auto& op : ops) written.insert(op.key);
    return inner_->write(ops, sync);
  }
  const std::filesystem::path& dir() const override { return inner_->dir(); }

  std::set<std::string> written;  // since the test last cleared it

 private:
  std::unique_ptr<store::KvStore> inner_;
};

// A decider over the embedded log's partition of kOrg, with the same commands decided by hand
// beside it (DeciderWorld) for the state it must have stored.
class Harness {
 public:
  Harness() {
    log_ = must(log::open_embedded_log(log::EmbeddedLogOptions{dir_.path() / "log", 1}));
    state_ = std::make_unique<RecordingKv>(must(store::KvStore::open(dir_.path() / "state")));
  }

  // Decides `c` through a decider started on the stored state (and stopped: it writes it).
  void decide(Command c, int64_t seconds) {
    const CommandEnvelope env{CommandId{make_id(id_prefix::command, at(seconds), ++issued_)}, kOrg,
                              at(seconds), c};
    const auto pos = must(log_->append(log::kCommandsTopic,
                                       std::vector<log::Record>{{kOrg.value, codec::encode(env)}}))
                         .front();
    Decisions decisions(1);
    Deadlines deadlines(1);
    DeciderRunner runner(*log_, *state_, world.config, {pos.partition}, decisions, deadlines);
    REQUIRE(runner.start().ok());
    REQUIRE(decisions.wait(pos.partition, pos.offset.value,
                           std::chrono::steady_clock::now() + std::chrono::seconds(10)));
    runner.stop();
    world.must(std::move(c), at(seconds));
  }

  RecordingKv& state() { return *state_; }
  DeciderWorld world;

 private:
  TempDir dir_;
  std::unique_ptr<log::Log> log_;
  std::unique_ptr<RecordingKv> state_;
  uint64_t issued_ = 0;
};

TEST_CASE("the decider stores each campaign queue under its own key, and reads v1 states") {
  Harness h;
  // An organisation stored by a build before this layout (v1, its one queue inline), with a phone
  // online to send from.
  auto& phone = h.world.state.org.devices[pulse::testing::device(1).value];
  phone.online = true;
  phone.sending = {0};
  h.world.must(send(1), at(0));
  REQUIRE(h.world.state.org.queues.size() == 1);
  auto v1 = codec::encode(h.world.state);
  const auto version = v1.find(R"("v":2)");
  REQUIRE(version != std::string::npos);
  v1.replace(version, 5, R"("v":1)");
  REQUIRE(h.state().write({{"s/" + kOrg.value, v1}}, false).ok());

  // Its next write moves the inline queue to its key, beside the new campaign's.
  h.decide(send(2), 1);
  auto s = stored(h.state());
  CHECK(s.state.find(R"("v":2)") != std::string::npos);
  CHECK(s.queues.size() == 2);
  CHECK(s.queues.count(campaign(1).value) == 1);
  CHECK(s.whole == h.world.state);

  // Written as they change: a cancelled campaign's key goes, a new one comes, and the queue
  // nothing changed is not written again.
  const auto key = [](uint64_t n) { return "q/" + kOrg.value + "/" + campaign(n).value; };
  h.state().written.clear();
  h.decide(ControlCampaign{campaign(1), "cancel"}, 2);
  CHECK(h.state().written.count(key(1)) == 1);
  CHECK(h.state().written.count(key(2)) == 0);
  h.state().written.clear();
  h.decide(send(3), 3);
  CHECK(h.state().written.count(key(3)) == 1);
  CHECK(h.state().written.count(key(1)) == 0);
  CHECK(h.state().written.count(key(2)) == 0);
  CHECK(h.state().written.count("s/" + kOrg.value) == 1);
  s = stored(h.state());
  CHECK(s.queues.count(campaign(1).value) == 0);
  CHECK(s.queues.count(campaign(2).value) == 1);
  CHECK(s.queues.count(campaign(3).value) == 1);
  CHECK(s.whole == h.world.state);
  CHECK(h.world.state.org.queues.size() == 2);
}

TEST_CASE("a decider state newer than the build is refused, not misread") {
  // As a build that reads only v1 meets a v2 state: it stops at the version instead of reading
  // an organisation without its campaigns.
  auto v3 = codec::encode(commands::DeciderState{});
  v3.replace(v3.find(R"("v":2)"), 5, R"("v":3)");
  auto refused = codec::decode<commands::DeciderState>(v3);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().details.find("up to v2") != std::string::npos);
}

}  // namespace
}  // namespace pulse::runtime
