#pragma once
// Accounts: users, organisations, API keys and plans. Secrets never enter the log in clear:
// passwords arrive as a slow salted hash, API keys as a SHA-256 of the key plus a short hint.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/fields.h"
#include "domain/ids.h"
#include "domain/plans.h"
#include "domain/type_list.h"

namespace pulse {

// The name of a sign-up's organisation when the form left it empty.
inline std::string default_organization_name(std::string_view given, std::string_view user_name) {
  if (!given.empty()) return std::string(given);
  if (user_name.empty()) return "My organization";
  return std::string(user_name) + "'s organization";
}

// ---- commands

struct NewApiKey {
  ApiKeyId id;
  std::string name;
  std::string key_hash;  // hex SHA-256 of the key
  std::string hint;      // "pk_live_4f8a…1c3e"
  auto operator<=>(const NewApiKey&) const = default;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("id", s.id), f("name", s.name, field::defaulted), f("keyHash", s.key_hash), f("hint", s.hint);
  }
};

// Keyed by the e-mail address (see partition_key), so one decider sees every sign-up of an
// address and two racing sign-ups can't both pass.
// Sign-up is two commands on two partitions (this one, then the organisation's
// CreateOrganization). Since v2 this one carries the whole workflow: the organisation's name and
// first key, so that the process manager can finish it from the log alone after a crash.
struct RegisterUser {
  static constexpr std::string_view kType = "RegisterUser";
  static constexpr int kVersion = 2;  // v2: organizationName, firstKey
  UserId user_id;
  std::string email;  // lower-cased
  std::string name;
  std::string password_hash;  // "scrypt$N$r$p$salt$hash"
  OrgId default_org;          // created next by CreateOrganization
  std::string organization_name;
  std::optional<NewApiKey> first_key;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("userId", s.user_id), f("email", s.email), f("name", s.name, field::defaulted),
        f("passwordHash", s.password_hash), f("defaultOrgId", s.default_org),
        f("organizationName", s.organization_name, field::defaulted),
        f("firstKey", s.first_key, field::omit_empty);
  }
};

// A user claims one more organisation of their allowance (user aggregate, keyed by e-mail).
// Followed by the new organisation's CreateOrganization; since v2 it carries its name, so that
// the process manager can create it from the log alone after a crash.
struct ClaimOrganization {
  static constexpr std::string_view kType = "ClaimOrganization";
  static constexpr int kVersion = 2;  // v2: name
  UserId user_id;
  std::string email;
  OrgId new_org;
  int64_t allowance = kUnlimited;  // from the plan of the organisation the user acts in
  std::string name;                // of the new organisation
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("userId", s.user_id), f("email", s.email), f("newOrgId", s.new_org),
        f("allowance", s.allowance), f("name", s.name, field::defaulted);
  }
};

struct CreateOrganization {
  static constexpr std::string_view kType = "CreateOrganization";
  static constexpr int kVersion = 1;
  std::string name;
  UserId owner;
  std::optional<NewApiKey> first_key;  // the sign-up's key
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("name", s.name), f("ownerUserId", s.owner), f("firstKey", s.first_key);
  }
};

struct CreateApiKey {
  static constexpr std::string_view kType = "CreateApiKey";
  static constexpr int kVersion = 1;
  NewApiKey key;
  std::string created_by;  // a user or key id
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("key", s.key), f("createdBy", s.created_by);
  }
};

struct RevokeApiKey {
  static constexpr std::string_view kType = "RevokeApiKey";
  static constexpr int kVersion = 1;
  ApiKeyId key_id;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("keyId", s.key_id);
  }
};

// An operator's plan change (pulse admin set-plan).
struct SetPlan {
  static constexpr std::string_view kType = "SetPlan";
  static constexpr int kVersion = 1;
  Plan plan = Plan::free;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("plan", s.plan);
  }
};

// An operator's plan change for an account (pulse admin set-plan): the user's plan, which every
// organisation the user owns takes (SetPlan on each, by the service and the process manager).
struct SetAccountPlan {
  static constexpr std::string_view kType = "SetAccountPlan";
  static constexpr int kVersion = 1;
  UserId user_id;
  std::string email;  // the partition key
  Plan plan = Plan::free;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("userId", s.user_id), f("email", s.email), f("plan", s.plan);
  }
};

// ---- events

struct UserRegistered {
  static constexpr std::string_view kType = "UserRegistered";
  static constexpr int kVersion = 2;  // v2: organizationName, firstKey (see RegisterUser)
  UserId user_id;
  std::string email;
  std::string name;
  std::string password_hash;
  OrgId default_org;
  std::string organization_name;
  std::optional<NewApiKey> first_key;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("userId", s.user_id), f("email", s.email), f("name", s.name, field::defaulted),
        f("passwordHash", s.password_hash), f("defaultOrgId", s.default_org),
        f("organizationName", s.organization_name, field::defaulted),
        f("firstKey", s.first_key, field::omit_empty);
  }
};

struct OrganizationClaimed {
  static constexpr std::string_view kType = "OrganizationClaimed";
  static constexpr int kVersion = 2;  // v2: name (see ClaimOrganization)
  UserId user_id;
  std::string email;
  OrgId org;
  std::string name;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("userId", s.user_id), f("email", s.email), f("orgId", s.org),
        f("name", s.name, field::defaulted);
  }
};

struct OrganizationCreated {
  static constexpr std::string_view kType = "OrganizationCreated";
  static constexpr int kVersion = 1;
  std::string name;
  UserId owner;
  Plan plan = Plan::free;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("name", s.name), f("ownerUserId", s.owner), f("plan", s.plan);
  }
};

struct ApiKeyCreated {
  static constexpr std::string_view kType = "ApiKeyCreated";
  static constexpr int kVersion = 1;
  ApiKeyId id;
  std::string name;
  std::string key_hash;
  std::string hint;
  std::string created_by;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("id", s.id), f("name", s.name, field::defaulted), f("keyHash", s.key_hash), f("hint", s.hint),
        f("createdBy", s.created_by);
  }
};

struct ApiKeyRevoked {
  static constexpr std::string_view kType = "ApiKeyRevoked";
  static constexpr int kVersion = 1;
  ApiKeyId id;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("id", s.id);
  }
};

struct PlanChanged {
  static constexpr std::string_view kType = "PlanChanged";
  static constexpr int kVersion = 1;
  Plan plan = Plan::free;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("plan", s.plan);
  }
};

// The account's plan changed; its organisations follow (PlanChanged in each).
struct AccountPlanChanged {
  static constexpr std::string_view kType = "AccountPlanChanged";
  static constexpr int kVersion = 1;
  UserId user_id;
  Plan plan = Plan::free;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("userId", s.user_id), f("plan", s.plan);
  }
};

using AccountCommands = Types<RegisterUser, ClaimOrganization, CreateOrganization, CreateApiKey,
                              RevokeApiKey, SetPlan, SetAccountPlan>;
using AccountEvents = Types<UserRegistered, OrganizationClaimed, OrganizationCreated, ApiKeyCreated,
                            ApiKeyRevoked, PlanChanged, AccountPlanChanged>;

}  // namespace pulse
