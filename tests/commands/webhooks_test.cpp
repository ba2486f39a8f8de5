// The webhook endpoints' decider: existence, limits, rotation overlap, the dispatcher's disable.
#include <doctest/doctest.h>

#include "commands/decider.h"
#include "fmt/format.h"

using namespace pulse;
using namespace pulse::commands;

namespace {

const TimePoint kNow = from_unix_ms(1795329938000);
const OrgId kOrg{"org_01m80zvb19jvjvzb"};

CommandEnvelope env(Command c) {
  return CommandEnvelope{CommandId{make_id(id_prefix::command, kNow, 7)}, kOrg, kNow, std::move(c)};
}

Result<std::vector<Event>> run(DeciderState& state, Command c) {
  DeciderConfig config;
  auto r = decide(config, state, env(std::move(c)));
  if (r)
    for (const auto& e : *r) evolve(config, state, e, kNow);
  return r;
}

WebhookId wh(int i) {
  return WebhookId{make_id(id_prefix::webhook, kNow, static_cast<uint64_t>(i))};
}

const SealedValue kSealed{"dk_0123456789abcdef", "000102030405060708090a0b", "Y2lwaGVy"};

CreateWebhook create(int i) {
  return CreateWebhook{wh(i), "https://hooks.example.com/p", {"message.sent"}, "", kSealed};
}

DeciderState org() {
  DeciderState s;
  s.org.exists = true;
  return s;
}

}  // namespace

TEST_CASE("a webhook is created once, within the organisation's limit") {
  auto s = org();
  auto r = run(s, create(1));
  REQUIRE(r.ok());
  REQUIRE(r->size() == 1);
  const auto& e = std::get<WebhookCreated>(r->front());
  CHECK(e.secret == SecretValue{kSealed});  // the ciphertext, as the command sealed it
  CHECK(e.events == std::vector<std::string>{"message.sent"});
  REQUIRE(s.org.webhooks);
  CHECK(s.org.webhooks->at(wh(1).value).enabled);
  auto again = run(s, create(1));
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == Errc::conflict);
  for (int i = 2; i <= static_cast<int>(kMaxWebhooksPerOrg); ++i) REQUIRE(run(s, create(i)).ok());
  auto over = run(s, create(99));
  REQUIRE_FALSE(over.ok());
  CHECK(over.error().code == Errc::forbidden);
  REQUIRE(run(s, DeleteWebhook{wh(3)}).ok());
  CHECK(run(s, create(99)).ok());
}

TEST_CASE("an organisation that does not exist has no webhooks") {
  DeciderState s;
  auto r = run(s, create(1));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::not_found);
}

TEST_CASE("every command on an unknown webhook is a 404") {
  auto s = org();
  for (const Command& c :
       std::vector<Command>{UpdateWebhook{wh(1), "https://x.example", {}, {}, {}},
                            DeleteWebhook{wh(1)}, RotateWebhookSecret{wh(1), "s"},
                            PingWebhook{wh(1)}, RedeliverWebhook{wh(1), "dlv_1-1-0-0_x"},
                            ReplayWebhook{wh(1), kNow, kNow + Millis{1}}}) {
    auto r = run(s, c);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::not_found);
    CHECK(r.error().message == "Webhook not found");
  }
}

TEST_CASE("rotation keeps the old secret valid for 24 hours") {
  auto s = org();
  REQUIRE(run(s, create(1)).ok());
  auto r = run(s, RotateWebhookSecret{wh(1), "whsec_BBBB"});
  REQUIRE(r.ok());
  const auto& e = std::get<WebhookSecretRotated>(r->front());
  CHECK(e.previous_valid_until == kNow + Millis{24 * 3600'000});
}

TEST_CASE("the dispatcher's DisableWebhook is a no-op on an endpoint already off or gone") {
  auto s = org();
  REQUIRE(run(s, create(1)).ok());
  auto r = run(s, DisableWebhook{wh(1), "The endpoint answered 410 Gone."});
  REQUIRE(r.ok());
  REQUIRE(r->size() == 1);
  CHECK(std::get<WebhookDisabled>(r->front()).reason == "The endpoint answered 410 Gone.");
  CHECK_FALSE(s.org.webhooks->at(wh(1).value).enabled);
  auto twice = run(s, DisableWebhook{wh(1), "again"});
  REQUIRE(twice.ok());
  CHECK(twice->empty());
  auto gone = run(s, DisableWebhook{wh(7), "x"});
  REQUIRE(gone.ok());
  CHECK(gone->empty());
  // Enabling again through PATCH.
  REQUIRE(run(s, UpdateWebhook{wh(1), {}, {}, {}, true}).ok());
  CHECK(s.org.webhooks->at(wh(1).value).enabled);
}

TEST_CASE("a replay window must not be empty") {
  auto s = org();
  REQUIRE(run(s, create(1)).ok());
  auto r = run(s, ReplayWebhook{wh(1), kNow, kNow});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::validation);
  CHECK(run(s, ReplayWebhook{wh(1), kNow - Millis{1}, kNow}).ok());
}
