#include "adapters/service/accounts.h"

#include <algorithm>
#include <cctype>

#include "adapters/service/errors.h"
#include "domain/text.h"
#include "fmt/format.h"

namespace pulse::service {
namespace {

// Names of users, organisations and API keys: one line of at most kMaxNameLength bytes.
Status check_name(std::string_view field, std::string_view name) {
  if (name.size() > kMaxNameLength)
    return validation_error("Name too long",
                            fmt::format("use at most {} characters", kMaxNameLength));
  return check_text(field, name);
}

Status check_password(const std::string& password) {
  if (password.size() < 8 || password.size() > 256)
    return validation_error("Invalid password", "use 8 to 256 characters");
  return ok_status();
}

// A new key: the secret (shown once) and what the log keeps of it (hash and hint).
struct MintedKey {
  std::string secret;
  NewApiKey key;
};

MintedKey mint_key(const Deps& d, std::string name) {
  MintedKey m;
  m.secret = std::string(kApiKeyPrefix) + d.secrets.random_hex(16);
  const auto hex = std::string_view(m.secret).substr(kApiKeyPrefix.size());
  m.key = NewApiKey{
      ApiKeyId{make_id(id_prefix::api_key, d.clock.now(), d.secrets.random64())}, std::move(name),
      d.secrets.sha256_hex(m.secret),
      fmt::format("{}{}…{}", kApiKeyPrefix, hex.substr(0, 4), hex.substr(hex.size() - 4))};
  return m;
}

// A process manager's pass: appends the command of every item waiting at least `grace` (younger
// ones may still have their request running). A log that is down stops the pass (the next one
// retries); a refusal, which the decider has no reason for, does not hold back the items after
// it. Returns how many were appended.
template <class Item, class Append>
Result<int> finish_due(const Deps& d, const std::vector<Item>& items, Millis grace,
                       const Append& append) {
  const auto now = d.clock.now();
  int done = 0;
  std::optional<Error> failed;
  for (const auto& item : items) {
    if (item.since + grace > now) continue;
    auto st = append(item);
    if (st) {
      ++done;
      continue;
    }
    if (st.error().code == Errc::unavailable) return st.error();
    failed = st.error();
  }
  if (failed) return *failed;
  return done;
}

}  // namespace

Status finish_organization(const Deps& d, const OrgId& org, const CreateOrganization& cmd) {
  auto st = d.log.execute(org, cmd);
  // The process manager got there first, with the same command (it takes it from the log).
  if (!st && st.error().code == Errc::conflict) {
    auto found = d.reads.organization(org);
    if (found && *found && (*found)->owner == cmd.owner) return ok_status();
  }
  return st;
}

Result<int> finish_pending_organizations(const Deps& d, Millis grace) {
  auto pending = d.reads.pending_organizations();
  if (!pending) return pending.error();
  return finish_due(d, *pending, grace, [&](const projections::PendingOrganizationView& p) {
    return finish_organization(d, p.org, CreateOrganization{p.name, p.owner, p.first_key});
  });
}

Result<std::string> normalise_email(std::string email) {
  if (auto st = check_text("email", email); !st) return st.error();
  std::transform(email.begin(), email.end(), email.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto at = email.find('@');
  const bool ok = email.size() <= 254 && at != std::string::npos && at > 0 &&
                  at + 1 < email.size() && email.find('@', at + 1) == std::string::npos &&
                  email.find_first_of(" \t\r\n<>(),;:\"") == std::string::npos &&
                  email.find('.', at) != std::string::npos;
  if (!ok) return validation_error("Invalid email", "expected an address like ada@example.com");
  return email;
}

bool looks_like_api_key(std::string_view key) {
  return key.starts_with(kApiKeyPrefix) && key.size() == kApiKeyPrefix.size() + 32;
}

Result<SignedUp> sign_up(const Deps& d, const SignUp& in) {
  auto email = normalise_email(in.email);
  if (!email) return email.error();
  if (auto st = check_password(in.password); !st) return st.error();
  if (auto st = check_name("name", in.name); !st) return st.error();
  if (auto st = check_name("organizationName", in.organization_name); !st) return st.error();
  const auto now = d.clock.now();
  const UserId user{make_id(id_prefix::user, now, d.secrets.random64())};
  const OrgId org{make_id(id_prefix::org, now, d.secrets.random64())};
  // The user first (one decider per e-mail address: two racing sign-ups can't both pass), then
  // the organisation with its first API key. The first command carries both, so that the
  // process manager creates the organisation if this process dies in between.
  auto hashed = d.secrets.hash_password(in.password);
  if (!hashed) return hashed.error();
  auto minted = mint_key(d, "Default key");
  const auto org_name = default_organization_name(in.organization_name, in.name);
  if (auto st = d.log.execute(
          org, RegisterUser{user, *email, in.name, std::move(*hashed), org, org_name, minted.key});
      !st)
    return st.error();
  if (auto st = finish_organization(d, org, CreateOrganization{org_name, user, minted.key}); !st)
    return st.error();
  return SignedUp{user, org, std::move(minted.secret)};
}

Result<CreatedKey> create_api_key(const Deps& d, const OrgId& org, const std::string& actor,
                                  const std::string& name) {
  if (auto st = check_name("name", name); !st) return st.error();
  auto minted = mint_key(d, name.empty() ? "API key" : name);
  const auto id = minted.key.id;
  if (auto st = d.log.execute(org, CreateApiKey{minted.key, actor}); !st) return st.error();
  auto view = present_or(d.reads.api_key(org, id), not_found("API key not found"));
  if (!view) return view.error();
  return CreatedKey{std::move(minted.secret), std::move(view).value()};
}

Result<projections::ApiKeyView> revoke_api_key(const Deps& d, const OrgId& org,
                                               const std::string& id) {
  if (!is_valid_id(id_prefix::api_key, id)) return not_found("API key not found");
  if (auto st = d.log.execute(org, RevokeApiKey{ApiKeyId{id}}); !st) return st.error();
  return present_or(d.reads.api_key(org, ApiKeyId{id}), not_found("API key not found"));
}

Status may_create_organization(const std::optional<UserId>& user) {
  if (!user)
    return Error{Errc::forbidden, "Organizations are created by users",
                 "Log in with POST /api/auth/login to create one."};
  return ok_status();
}

Result<projections::OrganizationView> create_organization(const Deps& d,
                                                          const std::optional<UserId>& user,
                                                          Plan plan, const std::string& name) {
  if (auto st = may_create_organization(user); !st) return st.error();
  if (name.empty() || name.size() > kMaxNameLength)
    return validation_error("Invalid name", fmt::format("use 1 to {} characters", kMaxNameLength));
  if (auto st = check_text("name", name); !st) return st.error();
  auto found = d.reads.user(*user);
  if (!found) return found.error();
  if (!*found) return Error{Errc::unauthorized, "Invalid or expired token", ""};
  const OrgId org{make_id(id_prefix::org, d.clock.now(), d.secrets.random64())};
  const auto account = (*found)->plan;
  const auto allowance = d.plans[account.value_or(plan)].organizations;
  if (auto st = d.log.execute(org, ClaimOrganization{*user, (*found)->email, org, allowance, name});
      !st)
    return st.error();
  if (auto st = finish_organization(d, org, CreateOrganization{name, *user, {}}); !st)
    return st.error();
  // Organisations start on Free: one of a paying account takes its plan now (or, if this
  // request dies first, from the process manager).
  if (account && *account != Plan::free)
    if (auto st = d.log.execute(org, SetPlan{*account}); !st) return st.error();
  return present_or(d.reads.organization(org), not_found("Organization not found"));
}

Result<int> finish_pending_plans(const Deps& d, Millis grace) {
  auto pending = d.reads.pending_plans();
  if (!pending) return pending.error();
  return finish_due(d, *pending, grace, [&](const projections::PendingPlanView& p) {
    return d.log.execute(p.org, SetPlan{p.plan});
  });
}

Result<projections::OrganizationView> set_plan(const Deps& d, const OrgId& org,
                                               const std::string& plan) {
  auto p = plan_from_string(plan);
  if (!p) return validation_error("Invalid plan", "free, pro or enterprise");
  if (!is_valid_id(id_prefix::org, org.value)) return not_found("Organization not found");
  auto found = present_or(d.reads.organization(org), not_found("Organization not found"));
  if (!found) return found.error();
  auto owner = present_or(d.reads.user(found->owner), not_found("Owner not found"));
  if (!owner) return owner.error();
  if (auto st = d.log.execute(org, SetAccountPlan{owner->id, owner->email, *p}); !st)
    return st.error();
  // The account's organisations now wait for the plan (PendingPlanView): set them at once.
  if (auto done = finish_pending_plans(d, Millis{0}); !done) return done.error();
  return present_or(d.reads.organization(org), not_found("Organization not found"));
}

}  // namespace pulse::service
