#pragma once
// Accounts: sign-up (RegisterUser, then CreateOrganization with its first key), organisations
// and API keys. Secrets are hashed here, before anything reaches the log.
#include <optional>
#include <string>
#include <string_view>

#include "adapters/service/ports.h"

namespace pulse::service {

inline constexpr std::string_view kApiKeyPrefix = "pk_live_";
// Users', organisations' and API keys' names, in bytes.
inline constexpr size_t kMaxNameLength = 200;

// Lower-cases and checks an address like ada@example.com (one line: no control characters).
Result<std::string> normalise_email(std::string email);
// Whether `key` has the shape of an API key secret (pk_live_ and 32 hex digits).
bool looks_like_api_key(std::string_view key);

struct SignUp {
  std::string email;
  std::string password;
  std::string name;               // may be empty
  std::string organization_name;  // may be empty: named after the user
};
struct SignedUp {
  UserId user;
  OrgId org;
  std::string api_key;  // the first key's secret, shown once
};
Result<SignedUp> sign_up(const Deps& d, const SignUp& in);

struct CreatedKey {
  std::string secret;  // shown once
  projections::ApiKeyView view;
};
// `actor` is who creates it (a user or key id, as the log records it); an empty name is
// "API key". Names are one line of at most kMaxNameLength bytes.
Result<CreatedKey> create_api_key(const Deps& d, const OrgId& org, const std::string& actor,
                                  const std::string& name);
// Revokes and returns the key as it is now.
Result<projections::ApiKeyView> revoke_api_key(const Deps& d, const OrgId& org,
                                               const std::string& id);

// Only users create organisations (403 for an API key's caller).
Status may_create_organization(const std::optional<UserId>& user);
// A new organisation owned by `user` (API keys can't create one), within the organisation
// allowance of `plan`.
// A new organisation of the caller's account, within the account plan's allowance (`plan`, the
// caller's organisation's, counts for accounts whose plan was never set); it takes the account's
// plan.
Result<projections::OrganizationView> create_organization(const Deps& d,
                                                          const std::optional<UserId>& user,
                                                          Plan plan, const std::string& name);

// Appends an organisation's CreateOrganization; a conflict because the same owner's organisation
// exists already (the process manager created it) is success.
Status finish_organization(const Deps& d, const OrgId& org, const CreateOrganization& cmd);

// The process manager of sign-ups and organisation creations: appends the CreateOrganization of
// every organisation registered or claimed at least `grace` before now whose creation is not in
// the log (the process that took the request died in between). Returns how many it created.
Result<int> finish_pending_organizations(const Deps& d, Millis grace);

// The process manager of account plans: appends SetPlan to every organisation that has waited at
// least `grace` for its owner's account plan (the request that changed the account, or created
// the organisation, died before it). Returns how many it changed.
Result<int> finish_pending_plans(const Deps& d, Millis grace);

// The operator's plan change: the plan of the account that owns `org`, which every organisation
// of that account takes (as PulseSMS's plans belong to the account). Returns `org` as it is now.
Result<projections::OrganizationView> set_plan(const Deps& d, const OrgId& org,
                                               const std::string& plan);

}  // namespace pulse::service
