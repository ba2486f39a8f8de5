#include "adapters/service/webhooks.h"

#include <doctest/doctest.h>

#include "adapters/service/opt_outs.h"
#include "tests/service/fake_deps.h"

namespace pulse::service {
namespace {

using testing::kNow;
using testing::World;

const std::string kHook = make_id(id_prefix::webhook, kNow, 1);

void project_webhook(World& w, const std::string& id) {
  projections::WebhookView v;
  v.id = WebhookId{id};
  v.url = "https://example.com/hook";
  v.events = {"message.sent"};
  w.reads.webhook_set.webhooks.push_back(v);
}

TEST_CASE("creating a webhook checks its fields, then its URL, and returns the secret once") {
  World w;
  auto error_of = [&](const WebhookFields& in) {
    auto r = create_webhook(w.deps, w.org, in);
    REQUIRE_FALSE(r.ok());
    return r.error();
  };
  CHECK(error_of({{}, std::vector<std::string>{"message.sent"}, {}, {}}).details ==
        "url is required");
  CHECK(error_of({"https://a.example", {}, {}, {}}).details == "events is required");
  CHECK(error_of({"https://a.example", std::vector<std::string>{}, {}, {}}).message ==
        "Invalid events");
  CHECK(error_of({"https://a.example", std::vector<std::string>{"sms.eaten"}, {}, {}})
            .details.starts_with("unknown event 'sms.eaten' (one of: "));
  CHECK(error_of({"https://a.example",
                  std::vector<std::string>{"message.sent"},
                  std::string(501, 'd'),
                  {}})
            .message == "Invalid description");
  CHECK(w.urls.checked.empty());  // the fields first: no DNS lookup for a bad body
  w.urls.refused.insert("http://10.0.0.1/");
  CHECK(error_of({"http://10.0.0.1/", std::vector<std::string>{"message.sent"}, {}, {}}).message ==
        "Invalid url");
  CHECK(w.log.appended.empty());

  project_webhook(w, kHook);
  auto created =
      create_webhook(w.deps, w.org,
                     {"https://example.com/hook",
                      std::vector<std::string>{"message.sent", "message.sent", "message.failed"},
                      {},
                      {}});
  REQUIRE_MESSAGE(created.ok(), created.error().details);
  CHECK(created->secret == "whsec_1");
  CHECK(created->view.id.value == kHook);
  const auto* cmd = w.log.appended.at(0).as<CreateWebhook>();
  REQUIRE(cmd);
  // The command carries it sealed for this webhook, with a nonce from the injected randomness.
  const auto* sealed = std::get_if<SealedValue>(&cmd->secret);
  REQUIRE(sealed);
  CHECK(sealed->nonce == std::string(2 * kSealNonceBytes, 'a'));
  CHECK(sealed->ciphertext.find("whsec_1") == std::string::npos);
  CHECK(reveal(w.sealer, cmd->secret, webhook_secret_context(WebhookId{kHook})).value() ==
        "whsec_1");
  CHECK_FALSE(reveal(w.sealer, cmd->secret, webhook_secret_context(WebhookId{"wh_other"})).ok());
  CHECK(cmd->events == std::vector<std::string>{"message.sent", "message.failed"});  // deduped
}

TEST_CASE("update, rotate, ping and delete act on a webhook of the organisation") {
  World w;
  project_webhook(w, kHook);
  auto view = find_webhook(w.deps, w.org, kHook);
  REQUIRE(view.ok());
  auto updated = update_webhook(w.deps, w.org, *view, {{}, {}, "new", false});
  REQUIRE(updated.ok());
  const auto* update = w.log.appended.at(0).as<UpdateWebhook>();
  REQUIRE(update);
  CHECK(update->description == "new");
  CHECK(update->enabled == false);
  CHECK_FALSE(update->url);
  CHECK(w.urls.checked.empty());  // the URL did not change

  auto rotated = rotate_webhook_secret(w.deps, w.org, kHook);
  REQUIRE(rotated.ok());
  CHECK(rotated->secret == "whsec_1");
  const auto& rotated_cmd = *w.log.appended.at(1).as<RotateWebhookSecret>();
  CHECK(std::holds_alternative<SealedValue>(rotated_cmd.secret));
  CHECK(reveal(w.sealer, rotated_cmd.secret, webhook_secret_context(WebhookId{kHook})).value() ==
        "whsec_1");
  CHECK(ping_webhook(w.deps, w.org, kHook).ok());
  CHECK(w.log.appended.at(2).as<PingWebhook>());
  CHECK(delete_webhook(w.deps, w.org, kHook).ok());
  CHECK(w.log.appended.at(3).as<DeleteWebhook>());

  const auto other = make_id(id_prefix::webhook, kNow, 2);
  for (const auto& id : {other, std::string("wh_bad")}) {
    CHECK(ping_webhook(w.deps, w.org, id).error().message == "Webhook not found");
    CHECK(delete_webhook(w.deps, w.org, id).error().code == Errc::not_found);
  }
  CHECK(w.log.appended.size() == 4);
}

TEST_CASE("a replay needs a window that ends after it starts; until defaults to now") {
  World w;
  project_webhook(w, kHook);
  auto view = find_webhook(w.deps, w.org, kHook);
  REQUIRE(view.ok());
  auto bad = replay_webhook(w.deps, w.org, *view, "yesterday", "");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().details == "since and until must be ISO 8601 times");
  bad = replay_webhook(w.deps, w.org, *view, "2026-04-01T10:00:00Z", "2026-04-01T09:00:00Z");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message == "Invalid window");
  CHECK(w.log.appended.empty());

  auto window = replay_webhook(w.deps, w.org, *view, "2026-03-31T10:00:00Z", "");
  REQUIRE(window.ok());
  CHECK(window->until == kNow + Millis{1});
  const auto* cmd = w.log.appended.at(0).as<ReplayWebhook>();
  REQUIRE(cmd);
  CHECK(cmd->since == *parse_iso8601("2026-03-31T10:00:00Z"));
}

TEST_CASE("opt-outs take a phone in any accepted format and a bounded reason") {
  World w;
  w.reads.opt_outs["+14155552671"] = projections::OptOutView{"+14155552671", "STOP", "api", kNow};
  auto added = add_opt_out(w.deps, w.org, "+1 415 555 2671", "STOP");
  REQUIRE_MESSAGE(added.ok(), added.error().details);
  CHECK(added->phone == "+14155552671");
  const auto* cmd = w.log.appended.at(0).as<AddOptOut>();
  REQUIRE(cmd);
  CHECK(cmd->phone == "+14155552671");
  CHECK(cmd->reason == "STOP");

  auto bad = add_opt_out(w.deps, w.org, "12", "");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().details.starts_with("phone: "));
  bad = add_opt_out(w.deps, w.org, "+14155552671", std::string(501, 'r'));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message == "Reason is too long");
  CHECK(w.log.appended.size() == 1);

  auto removed = remove_opt_out(w.deps, w.org, "+1 (415) 555-2671");
  REQUIRE(removed.ok());
  CHECK(*removed == "+14155552671");
  CHECK(w.log.appended.at(1).as<RemoveOptOut>()->phone == "+14155552671");
}

}  // namespace
}  // namespace pulse::service
