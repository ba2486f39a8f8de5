#include "adapters/service/accounts.h"

#include <doctest/doctest.h>

#include "tests/service/fake_deps.h"

namespace pulse::service {
namespace {

using testing::kNow;
using testing::World;

TEST_CASE("sign-up registers the user, then creates its organisation with a first key") {
  World w;
  auto done = sign_up(w.deps, {"Ada@Example.com", "correct horse", "Ada", ""});
  REQUIRE_MESSAGE(done.ok(), done.error().details);
  REQUIRE(w.log.appended.size() == 2);
  const auto* user = w.log.appended[0].as<RegisterUser>();
  REQUIRE(user);
  CHECK(user->email == "ada@example.com");
  CHECK(user->password_hash == "hashed(correct horse)");
  CHECK(user->user_id.value == done->user.value);
  const auto* org = w.log.appended[1].as<CreateOrganization>();
  REQUIRE(org);
  CHECK(w.log.appended[1].org.value == done->org.value);
  CHECK(org->name == "Ada's organization");
  CHECK(org->first_key->name == "Default key");
  CHECK(done->api_key == "pk_live_" + std::string(32, 'a'));
  CHECK(org->first_key->key_hash == "sha256(" + done->api_key + ")");
  CHECK(org->first_key->hint == "pk_live_aaaa…aaaa");
  CHECK(looks_like_api_key(done->api_key));
}

TEST_CASE("sign-up names the organisation as asked, or generically") {
  World w;
  REQUIRE(sign_up(w.deps, {"a@b.io", "12345678", "", "Acme"}).ok());
  CHECK(w.log.appended[1].as<CreateOrganization>()->name == "Acme");
  World anonymous;
  REQUIRE(sign_up(anonymous.deps, {"a@b.io", "12345678", "", ""}).ok());
  CHECK(anonymous.log.appended[1].as<CreateOrganization>()->name == "My organization");
}

TEST_CASE("sign-up validates before appending, and stops when the user is refused") {
  World w;
  auto error_of = [&](const SignUp& in) {
    auto r = sign_up(w.deps, in);
    REQUIRE_FALSE(r.ok());
    return r.error();
  };
  CHECK(error_of({"ada", "12345678", "", ""}).message == "Invalid email");
  CHECK(error_of({"ada@example", "12345678", "", ""}).message == "Invalid email");
  CHECK(error_of({"a@b.io", "short", "", ""}).message == "Invalid password");
  CHECK(error_of({"a@b.io", "12345678", std::string(201, 'n'), ""}).message == "Name too long");
  CHECK(w.log.appended.empty());

  w.log.outcome = [](size_t, const Command&) -> Status {
    return Error{Errc::conflict, "Email already registered", ""};
  };
  CHECK(error_of({"a@b.io", "12345678", "", ""}).code == Errc::conflict);
  CHECK(w.log.appended.size() == 1);  // no organisation without its user
}

TEST_CASE("an API key is minted, recorded by its hash and returned once") {
  World w;
  const auto id = make_id(id_prefix::api_key, kNow, 1);
  projections::ApiKeyView view;
  view.id = ApiKeyId{id};
  view.name = "API key";
  w.reads.keys[id] = view;
  auto key = create_api_key(w.deps, w.org, "usr_1", "");
  REQUIRE(key.ok());
  CHECK(key->secret == "pk_live_" + std::string(32, 'a'));
  CHECK(key->view.id.value == id);
  const auto* cmd = w.log.appended.at(0).as<CreateApiKey>();
  REQUIRE(cmd);
  CHECK(cmd->key.name == "API key");
  CHECK(cmd->key.key_hash == "sha256(" + key->secret + ")");
  CHECK(cmd->created_by == "usr_1");

  auto revoked = revoke_api_key(w.deps, w.org, "not-a-key");
  REQUIRE_FALSE(revoked.ok());
  CHECK(revoked.error().code == Errc::not_found);
}

TEST_CASE("organisations are created by users within their plan's allowance") {
  World w;
  auto by_key = create_organization(w.deps, std::nullopt, Plan::free, "Acme");
  REQUIRE_FALSE(by_key.ok());
  CHECK(by_key.error().code == Errc::forbidden);
  const UserId ada{"usr_ada"};
  CHECK(create_organization(w.deps, ada, Plan::free, "").error().message == "Invalid name");
  CHECK(create_organization(w.deps, ada, Plan::free, "Acme").error().code == Errc::unauthorized);
  CHECK(w.log.appended.empty());

  w.reads.users[ada.value] =
      projections::UserView{ada, "ada@example.com", "Ada", "", OrgId{}, kNow};
  const auto org = make_id(id_prefix::org, kNow, 1);
  w.reads.organizations[org] =
      projections::OrganizationView{OrgId{org}, "Acme", Plan::pro, ada, kNow, kNow};
  auto created = create_organization(w.deps, ada, Plan::pro, "Acme");
  REQUIRE(created.ok());
  REQUIRE(w.log.appended.size() == 2);
  const auto* claim = w.log.appended[0].as<ClaimOrganization>();
  REQUIRE(claim);
  CHECK(claim->allowance == w.plans.pro.organizations);
  CHECK(w.log.appended[1].as<CreateOrganization>()->name == "Acme");
}

TEST_CASE("sign-up's first command carries the whole workflow, for the process manager") {
  World w;
  auto done = sign_up(w.deps, {"ada@example.com", "correct horse", "Ada", "Acme"});
  REQUIRE(done.ok());
  const auto* user = w.log.appended[0].as<RegisterUser>();
  const auto* org = w.log.appended[1].as<CreateOrganization>();
  CHECK(user->organization_name == "Acme");
  REQUIRE(user->first_key);
  CHECK(*user->first_key == *org->first_key);
}

TEST_CASE("sign-up succeeds when the process manager created its organisation first") {
  World w;
  // The organisation the process manager created, owned by the user sign-up registers.
  w.log.outcome = [&](size_t index, const Command& c) -> Status {
    if (index == 0) {
      const auto& r = std::get<RegisterUser>(c);
      projections::OrganizationView v;
      v.id = r.default_org;
      v.owner = r.user_id;
      w.reads.organizations[r.default_org.value] = v;
      return ok_status();
    }
    return Error{Errc::conflict, "Organization already exists", "Its id is taken."};
  };
  CHECK(sign_up(w.deps, {"ada@example.com", "correct horse", "Ada", ""}).ok());
  // Someone else's organisation under that id is still a conflict.
  World other;
  other.log.outcome = [&](size_t index, const Command&) -> Status {
    if (index == 0) return ok_status();
    return Error{Errc::conflict, "Organization already exists", "Its id is taken."};
  };
  CHECK_FALSE(sign_up(other.deps, {"ada@example.com", "correct horse", "Ada", ""}).ok());
}

TEST_CASE("the process manager creates pending organisations once their grace has passed") {
  World w;
  projections::PendingOrganizationView fresh{OrgId{"org_fresh"}, "Fresh", UserId{"usr_a"},
                                             std::nullopt, kNow - Millis{1000}};
  NewApiKey k{ApiKeyId{"key_1"}, "Default key", "hash", "pk_live_aaaa…aaaa"};
  projections::PendingOrganizationView stale{OrgId{"org_stale"}, "Stale", UserId{"usr_b"}, k,
                                             kNow - Millis{6000}};
  w.reads.pending = {fresh, stale};
  auto done = finish_pending_organizations(w.deps, Millis{5000});
  REQUIRE(done.ok());
  CHECK(*done == 1);
  REQUIRE(w.log.appended.size() == 1);
  CHECK(w.log.appended[0].org.value == "org_stale");
  const auto* c = w.log.appended[0].as<CreateOrganization>();
  REQUIRE(c);
  CHECK(c->name == "Stale");
  CHECK(c->owner.value == "usr_b");
  CHECK(c->first_key == k);
  // A refused one doesn't hold back the others; a log that is down stops the pass.
  w.log.appended.clear();
  w.log.outcome = [](size_t index, const Command&) -> Status {
    if (index == 0) return Error{Errc::forbidden, "Refused", ""};
    return ok_status();
  };
  projections::PendingOrganizationView later = stale;
  later.org = OrgId{"org_later"};
  w.reads.pending = {stale, later};
  CHECK_FALSE(finish_pending_organizations(w.deps, Millis{5000}).ok());
  CHECK(w.log.appended.size() == 2);
  // A log that is down: reported, tried again on the next pass.
  w.log.outcome = [](size_t, const Command&) -> Status {
    return Error{Errc::unavailable, "Log unavailable", ""};
  };
  CHECK_FALSE(finish_pending_organizations(w.deps, Millis{5000}).ok());
}

TEST_CASE("creating an organisation claims it with its name, then creates it") {
  World w;
  projections::UserView u;
  u.id = UserId{"usr_a"};
  u.email = "ada@example.com";
  w.reads.users["usr_a"] = u;
  auto created = create_organization(w.deps, UserId{"usr_a"}, Plan::pro, "Branch");
  (void)created;  // the fake reads have no organisation view to return
  REQUIRE(w.log.appended.size() == 2);
  CHECK(w.log.appended[0].as<ClaimOrganization>()->name == "Branch");
  CHECK(w.log.appended[1].as<CreateOrganization>()->name == "Branch");
}

}  // namespace
}  // namespace pulse::service

namespace pulse::service {
namespace {

TEST_CASE("the plans' process manager sets each waiting organisation's plan after the grace") {
  testing::World w;
  w.reads.plans_pending = {{OrgId{"org_a"}, Plan::pro, testing::kNow - Millis{5000}},
                           {OrgId{"org_b"}, Plan::enterprise, testing::kNow - Millis{100}}};
  auto done = finish_pending_plans(w.deps, Millis{1000});
  REQUIRE(done.ok());
  CHECK(*done == 1);
  const auto sets = w.log.all<SetPlan>();
  REQUIRE(sets.size() == 1);
  CHECK(w.log.appended[0].org.value == "org_a");
  CHECK(sets[0]->plan == Plan::pro);
  // A log that is down stops the pass; a refusal does not hold back the others.
  w.log.appended.clear();
  w.log.outcome = [](size_t i, const Command&) -> Status {
    if (i == 0) return Error{Errc::not_found, "Organization not found", ""};
    return ok_status();
  };
  auto partly = finish_pending_plans(w.deps, Millis{0});
  CHECK_FALSE(partly.ok());
  CHECK(w.log.all<SetPlan>().size() == 2);
}

}  // namespace
}  // namespace pulse::service
