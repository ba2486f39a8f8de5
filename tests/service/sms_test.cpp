#include "adapters/service/sms.h"

#include <doctest/doctest.h>

#include "tests/service/fake_deps.h"

namespace pulse::service {
namespace {

using testing::kNow;
using testing::World;

commands::SendSmsRequest two_recipients() {
  return {{{"+14155552671", "Ada"}, {"+447400123456", ""}}, "Hi {{firstName}}", std::nullopt};
}

TEST_CASE("an immediate send appends one SendSms and answers its campaign") {
  World w;
  auto sent = send_sms(w.deps, w.org, {two_recipients(), {}, {}, {}});
  REQUIRE_MESSAGE(sent.ok(), sent.error().details);
  REQUIRE(w.log.appended.size() == 1);
  const auto* cmd = w.log.appended[0].as<SendSms>();
  REQUIRE(cmd);
  CHECK(w.log.appended[0].org.value == w.org.value);
  CHECK(cmd->campaign_id.value == sent->campaign_id.value);
  CHECK(cmd->recipients.size() == 2);
  CHECK(cmd->recipients[0].phone.e164 == "+14155552671");
  CHECK(cmd->recipients[0].country == "US");
  CHECK(cmd->recipients[0].phone_type == "fixed_line_or_mobile");
  CHECK(cmd->recipients[1].country == "GB");
  CHECK(cmd->recipients[1].phone_type == "mobile");
  CHECK_FALSE(cmd->idempotency_key);
  CHECK(sent->recipients == 2);
  CHECK_FALSE(sent->replayed);
  CHECK(sent->campaign_id.value == make_id(id_prefix::campaign, kNow, 1));
}

TEST_CASE("validation errors append nothing") {
  World w;
  SUBCASE("no recipients") {
    auto r = send_sms(w.deps, w.org, {{{}, "x", std::nullopt}, {}, {}, {}});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::validation);
    CHECK(r.error().message == "At least one recipient is required");
  }
  SUBCASE("a bad phone is named before a scheduledAt that is not a string") {
    auto in = SendInput{{{{"12", ""}}, "x", std::nullopt}, {}, {}, {}};
    in.scheduled_at_invalid =
        validation_error("Invalid request body", "scheduledAt must be a string");
    auto r = send_sms(w.deps, w.org, in);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().details != "scheduledAt must be a string");
    in.request = two_recipients();
    r = send_sms(w.deps, w.org, in);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().details == "scheduledAt must be a string");
  }
  SUBCASE("scheduledAt with an Idempotency-Key or a deviceId") {
    auto r = send_sms(w.deps, w.org, {two_recipients(), "2026-04-02T10:00:00Z", {}, "k1"});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "scheduledAt cannot be combined with deviceId or Idempotency-Key");
  }
  SUBCASE("scheduledAt that is not a time, or in the past") {
    auto r = send_sms(w.deps, w.org, {two_recipients(), "tomorrow", {}, {}});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "Invalid scheduledAt");
    CHECK(r.error().details == "an ISO 8601 time such as 2026-04-05T09:00:00Z");
    r = send_sms(w.deps, w.org, {two_recipients(), "2026-03-01T10:00:00Z", {}, {}});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "Invalid scheduledAt");
  }
  CHECK(w.log.appended.empty());
}

TEST_CASE("the Idempotency-Key header is 1 to 255 visible ASCII characters") {
  CHECK(check_idempotency_key("0b8f6a1e-2b7c-4c1e-9d3f-1a2b3c4d5e6f").ok());
  CHECK(check_idempotency_key(std::string(255, 'k')).ok());
  for (const std::string& bad :
       {std::string(), std::string(256, 'k'), std::string("a b"), std::string("caf\xc3\xa9")}) {
    auto st = check_idempotency_key(bad);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message == "Invalid Idempotency-Key");
  }
}

TEST_CASE("an idempotent send records its key and hash, and replays the first answer") {
  World w;
  auto first = send_sms(w.deps, w.org, {two_recipients(), {}, {}, "k1"});
  REQUIRE(first.ok());
  const auto* cmd = w.log.appended.at(0).as<SendSms>();
  REQUIRE(cmd);
  CHECK(cmd->idempotency_key == "k1");
  CHECK(cmd->request_hash->starts_with("sha256({\"message\":\"Hi {{firstName}}\""));
  // Nothing recorded (the fake's projection is empty): this send's own answer.
  CHECK_FALSE(first->replayed);

  // The decider kept an earlier send's answer under the key, for the same request.
  w.reads.idempotency_keys["k1"] =
      projections::IdempotencyView{"k1", *cmd->request_hash, CampaignId{"cmp_first"}, 7, kNow};
  auto again = send_sms(w.deps, w.org, {two_recipients(), {}, {}, "k1"});
  REQUIRE(again.ok());
  CHECK(again->replayed);
  CHECK(again->campaign_id.value == "cmp_first");
  CHECK(again->recipients == 7);

  // The same key with another request: the decider's rejection is the answer.
  w.log.outcome = [](size_t, const Command&) -> Status {
    return Error{Errc::conflict, "Idempotency-Key reused", "with another request"};
  };
  auto other =
      send_sms(w.deps, w.org, {{{{"+14155552671", ""}}, "other", std::nullopt}, {}, {}, "k1"});
  REQUIRE_FALSE(other.ok());
  CHECK(other.error().code == Errc::conflict);
}

TEST_CASE("a scheduled send runs the campaign workflow: draft, messages, launch") {
  World w;
  auto sent = send_sms(w.deps, w.org, {two_recipients(), "2026-04-02T09:30:00Z", {}, {}});
  REQUIRE_MESSAGE(sent.ok(), sent.error().details);
  REQUIRE(w.log.appended.size() == 3);
  const auto* draft = w.log.appended[0].as<DraftCampaign>();
  REQUIRE(draft);
  CHECK(draft->campaign_id.value == sent->campaign_id.value);
  CHECK(draft->name == "SMS to 2 recipients");
  CHECK(draft->source == "api");
  CHECK(draft->contact_list_id.empty());
  CHECK(draft->contact_count == 0);
  CHECK(draft->total_messages == 2);
  CHECK(draft->scheduled_at == parse_iso8601("2026-04-02T09:30:00Z"));
  const auto* queued = w.log.appended[1].as<QueueCampaignMessages>();
  REQUIRE(queued);
  REQUIRE(queued->messages.size() == 2);
  CHECK(queued->messages[0].body == "Hi Ada");
  CHECK(queued->messages[1].phone == "+447400123456");
  // The classification travels with the scheduled messages too.
  CHECK(queued->messages[1].country == "GB");
  CHECK(queued->messages[1].phone_type == "mobile");
  CHECK(w.log.appended[2].as<LaunchCampaign>());
  CHECK(sent->recipients == 2);

  World one;
  auto single =
      send_sms(one.deps, one.org,
               {{{{"+14155552671", ""}}, "x", std::nullopt}, "2026-04-02T09:30:00Z", {}, {}});
  REQUIRE(single.ok());
  CHECK(one.log.appended[0].as<DraftCampaign>()->name == "SMS to 1 recipient");
}

}  // namespace
}  // namespace pulse::service
