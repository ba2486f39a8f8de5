// The accounts deciders: sign-up uniqueness, organisation allowances, API key limits, plans.
#include <doctest/doctest.h>

#include "commands/decider.h"

using namespace pulse;
using namespace pulse::commands;

namespace {

const TimePoint kNow = from_unix_ms(1795329938000);
const OrgId kOrg{"org_01m80zvb19jvjvzb"};
const UserId kUser{"usr_01m80zvb19aaaaaa"};

CommandEnvelope env(Command c, const OrgId& org = kOrg) {
  return CommandEnvelope{CommandId{make_id(id_prefix::command, kNow, 7)}, org, kNow, std::move(c)};
}

// Decides and, when accepted, evolves the state; returns the rejection or nothing.
std::optional<Error> run(const DeciderConfig& config, DeciderState& state, Command c) {
  auto r = decide(config, state, env(std::move(c)));
  if (!r) return r.error();
  for (const auto& e : *r) evolve(config, state, e, kNow);
  return std::nullopt;
}

NewApiKey key(int i) {
  return NewApiKey{ApiKeyId{make_id(id_prefix::api_key, kNow, static_cast<uint64_t>(i))}, "k",
                   std::string(64, 'a'), "pk_live_aaaa…aaaa"};
}

}  // namespace

TEST_CASE("an e-mail address registers once") {
  DeciderConfig config;
  DeciderState user;
  const RegisterUser reg{kUser, "ada@example.com", "Ada", "scrypt$15$8$1$x$y", kOrg};
  auto r = decide(config, user, env(reg));
  REQUIRE(r.ok());
  REQUIRE(r->size() == 1);
  const auto& e = std::get<UserRegistered>(r->front());
  CHECK(e.email == "ada@example.com");
  CHECK(e.password_hash == "scrypt$15$8$1$x$y");
  CHECK(e.default_org == kOrg);
  evolve(config, user, r->front(), kNow);
  CHECK(user.user.registered);
  CHECK(user.user.organizations == 1);

  auto again = decide(config, user, env(reg));
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == Errc::conflict);
  CHECK(again.error().message == "Email already registered");
}

TEST_CASE("the partition key of a user's commands is the e-mail, of the rest the organisation") {
  CHECK(partition_key(env(RegisterUser{kUser, "ada@example.com", "", "h", kOrg})) ==
        "user:ada@example.com");
  CHECK(partition_key(env(ClaimOrganization{kUser, "ada@example.com", kOrg, 1})) ==
        "user:ada@example.com");
  CHECK(partition_key(env(SetPlan{Plan::pro})) == kOrg.value);
}

TEST_CASE("organisation allowance: claimed against the user's count") {
  DeciderConfig config;
  DeciderState user;
  REQUIRE_FALSE(run(config, user, RegisterUser{kUser, "ada@example.com", "", "h", kOrg}));
  const OrgId second{"org_01m80zvb19bbbbbb"};
  // Free: 1 organisation, the default one.
  auto refused = run(config, user, ClaimOrganization{kUser, "ada@example.com", second, 1});
  REQUIRE(refused);
  CHECK(refused->code == Errc::forbidden);
  CHECK(refused->details == "Your plan allows 1 organization; upgrade to create more.");
  // Pro: 5.
  for (int i = 2; i <= 5; ++i)
    CHECK_FALSE(run(config, user, ClaimOrganization{kUser, "ada@example.com", second, 5}));
  CHECK(user.user.organizations == 5);
  CHECK(run(config, user, ClaimOrganization{kUser, "ada@example.com", second, 5}));
  CHECK_FALSE(run(config, user, ClaimOrganization{kUser, "ada@example.com", second, kUnlimited}));
  // Another user's id can't claim on this address.
  auto other = run(config, user,
                   ClaimOrganization{UserId{"usr_01m80zvb19cccccc"}, "ada@example.com", second, 9});
  REQUIRE(other);
  CHECK(other->code == Errc::not_found);
}

TEST_CASE("an organisation is created once, with its first key") {
  DeciderConfig config;
  DeciderState org;
  auto r = decide(config, org, env(CreateOrganization{"Acme", kUser, key(1)}));
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  CHECK(std::get<OrganizationCreated>((*r)[0]).plan == Plan::free);
  CHECK(std::get<ApiKeyCreated>((*r)[1]).id == key(1).id);
  for (const auto& e : *r) evolve(config, org, e, kNow);
  CHECK(org.org.exists);
  CHECK(org.org.api_keys.size() == 1);
  auto again = decide(config, org, env(CreateOrganization{"Acme", kUser, std::nullopt}));
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == Errc::conflict);
}

TEST_CASE("API keys: the plan's limit counts active keys; revoking frees a slot") {
  DeciderConfig config;
  DeciderState org;
  REQUIRE_FALSE(run(config, org, CreateOrganization{"Acme", kUser, key(1)}));
  auto refused = run(config, org, CreateApiKey{key(2), kUser.value});
  REQUIRE(refused);
  CHECK(refused->code == Errc::forbidden);
  CHECK(refused->details ==
        "The free plan allows 1 active API key; revoke one or upgrade your plan.");

  REQUIRE_FALSE(run(config, org, RevokeApiKey{key(1).id}));
  CHECK(org.org.api_keys.empty());
  CHECK_FALSE(run(config, org, CreateApiKey{key(2), kUser.value}));

  auto unknown = run(config, org, RevokeApiKey{key(1).id});  // already revoked
  REQUIRE(unknown);
  CHECK(unknown->code == Errc::not_found);

  REQUIRE_FALSE(run(config, org, SetPlan{Plan::pro}));
  CHECK(org.org.plan == Plan::pro);
  for (int i = 3; i < 20; ++i) CHECK_FALSE(run(config, org, CreateApiKey{key(i), kUser.value}));
  CHECK(org.org.api_keys.size() == 18);
}

TEST_CASE("commands for an organisation that doesn't exist are refused") {
  DeciderConfig config;
  DeciderState none;
  for (const Command& c : {Command{SetPlan{Plan::pro}}, Command{CreateApiKey{key(1), "x"}},
                           Command{RevokeApiKey{key(1).id}}}) {
    auto r = decide(config, none, env(c));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::not_found);
  }
}

TEST_CASE("the plan sets the monthly SMS limit") {
  DeciderConfig config;
  DeciderState org;
  org.org.exists = true;
  org.org.month = "2026-11";
  org.org.month_messages = 100;
  CHECK(sms_remaining(config, org.org, kNow) == 0);
  org.org.plan = Plan::pro;
  CHECK(sms_remaining(config, org.org, kNow) == kUnlimited);
  config.plans.pro.monthly_sms = 150;
  CHECK(sms_remaining(config, org.org, kNow) == 50);
}
