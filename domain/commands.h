#pragma once
// Commands are requests, appended to pulse.commands keyed by organisation. Each carries the
// time at which the HTTP layer accepted it: deciders never read the wall clock.
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "domain/ids.h"
#include "domain/phone.h"
#include "domain/plans.h"
#include "domain/time.h"

namespace pulse {

struct Recipient {
  PhoneNumber phone;
  std::string name;  // may be empty
};

// POST /api/sms/send: a campaign of 1..500 recipients. The HTTP layer has already validated
// every field and chosen the campaign id.
struct SendSms {
  static constexpr std::string_view kType = "SendSms";
  static constexpr int kVersion = 1;
  CampaignId campaign_id;
  std::vector<Recipient> recipients;
  std::string message;
};

// ---- accounts (issue 3) -----------------------------------------------------------------
// Secrets never enter the log in clear: passwords arrive as a slow salted hash, API keys as a
// SHA-256 of the key plus a short hint for lists.

// Keyed by the e-mail address (see partition_key), so one decider sees every sign-up of an
// address and two racing sign-ups can't both pass.
struct RegisterUser {
  static constexpr std::string_view kType = "RegisterUser";
  static constexpr int kVersion = 1;
  UserId user_id;
  std::string email;  // lower-cased
  std::string name;
  std::string password_hash;  // "scrypt$N$r$p$salt$hash"
  OrgId default_org;          // created next by CreateOrganization
};

// A user claims one more organisation of their allowance (user aggregate, keyed by e-mail).
struct ClaimOrganization {
  static constexpr std::string_view kType = "ClaimOrganization";
  static constexpr int kVersion = 1;
  UserId user_id;
  std::string email;
  OrgId new_org;
  int64_t allowance = kUnlimited;  // from the plan of the organisation the user acts in
};

struct NewApiKey {
  ApiKeyId id;
  std::string name;
  std::string key_hash;  // hex SHA-256 of the key
  std::string hint;      // "pk_live_4f8a…1c3e"
};

struct CreateOrganization {
  static constexpr std::string_view kType = "CreateOrganization";
  static constexpr int kVersion = 1;
  std::string name;
  UserId owner;
  std::optional<NewApiKey> first_key;  // the sign-up's key
};

struct CreateApiKey {
  static constexpr std::string_view kType = "CreateApiKey";
  static constexpr int kVersion = 1;
  NewApiKey key;
  std::string created_by;  // a user or key id
};

struct RevokeApiKey {
  static constexpr std::string_view kType = "RevokeApiKey";
  static constexpr int kVersion = 1;
  ApiKeyId key_id;
};

// An operator's plan change (pulse admin set-plan).
struct SetPlan {
  static constexpr std::string_view kType = "SetPlan";
  static constexpr int kVersion = 1;
  Plan plan = Plan::free;
};

using Command = std::variant<SendSms, RegisterUser, ClaimOrganization, CreateOrganization,
                             CreateApiKey, RevokeApiKey, SetPlan>;

struct CommandEnvelope {
  CommandId id;
  OrgId org;  // the organisation acted for; empty for user commands
  TimePoint at;
  Command body;
};

// The log key of a command: its organisation, or "user:<email>" for a user's commands.
std::string partition_key(const CommandEnvelope& c);

std::string_view command_type(const Command& c);

}  // namespace pulse
