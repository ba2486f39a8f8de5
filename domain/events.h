#pragma once
// Events are facts, appended to pulse.events keyed by organisation by the decider of the
// command's partition. An event's id is derived from its source command's log position, so a
// decider that re-runs a command after a crash emits the same ids and projectors drop them.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "domain/ids.h"
#include "domain/log_position.h"
#include "domain/message_body.h"
#include "domain/phone.h"
#include "domain/plans.h"
#include "domain/result.h"
#include "domain/time.h"

namespace pulse {

struct CampaignCreated {
  static constexpr std::string_view kType = "CampaignCreated";
  static constexpr int kVersion = 1;
  CampaignId id;
  std::string name;
  std::string source;   // "api" for /api/sms/send, "campaign" for /api/campaigns
  std::string message;  // the template as submitted
  int32_t total_messages = 0;
};

struct QueuedMessage {
  MessageId id;
  PhoneNumber phone;
  std::string contact_name;
  std::string body;  // rendered for this recipient
  SmsEncoding encoding = SmsEncoding::gsm7;
  int32_t segments = 1;
};

// Messages of one campaign, in chunks of at most kMaxMessagesPerEvent so no record grows past
// what a Kafka broker accepts by default.
struct MessagesQueued {
  static constexpr std::string_view kType = "MessagesQueued";
  static constexpr int kVersion = 1;
  static constexpr size_t kMaxMessagesPerEvent = 500;
  CampaignId campaign_id;
  std::vector<QueuedMessage> messages;
};

// The decider refused a command (a consistent check failed). Recorded so that the HTTP node
// waiting for the command, on whichever process, learns the outcome from the event log.
struct CommandRejected {
  static constexpr std::string_view kType = "CommandRejected";
  static constexpr int kVersion = 1;
  std::string command_type;
  Errc code = Errc::validation;
  std::string error;
  std::string details;
};

// ---- accounts (issue 3) -----------------------------------------------------------------

struct UserRegistered {
  static constexpr std::string_view kType = "UserRegistered";
  static constexpr int kVersion = 1;
  UserId user_id;
  std::string email;
  std::string name;
  std::string password_hash;
  OrgId default_org;
};

struct OrganizationClaimed {
  static constexpr std::string_view kType = "OrganizationClaimed";
  static constexpr int kVersion = 1;
  UserId user_id;
  std::string email;
  OrgId org;
};

struct OrganizationCreated {
  static constexpr std::string_view kType = "OrganizationCreated";
  static constexpr int kVersion = 1;
  std::string name;
  UserId owner;
  Plan plan = Plan::free;
};

struct ApiKeyCreated {
  static constexpr std::string_view kType = "ApiKeyCreated";
  static constexpr int kVersion = 1;
  ApiKeyId id;
  std::string name;
  std::string key_hash;
  std::string hint;
  std::string created_by;
};

struct ApiKeyRevoked {
  static constexpr std::string_view kType = "ApiKeyRevoked";
  static constexpr int kVersion = 1;
  ApiKeyId id;
};

struct PlanChanged {
  static constexpr std::string_view kType = "PlanChanged";
  static constexpr int kVersion = 1;
  Plan plan = Plan::free;
};

using Event = std::variant<CampaignCreated, MessagesQueued, CommandRejected, UserRegistered,
                           OrganizationClaimed, OrganizationCreated, ApiKeyCreated, ApiKeyRevoked,
                           PlanChanged>;

// (command partition, command offset, index within the command's events).
struct EventSource {
  LogPosition command;
  int32_t index = 0;
  auto operator<=>(const EventSource&) const = default;
};
// "evt_<partition>-<offset>-<index>"
std::string event_id(const EventSource& s);
std::optional<EventSource> parse_event_id(std::string_view id);

struct EventEnvelope {
  EventSource source;
  CommandId command_id;
  OrgId org;
  TimePoint at;             // the source command's acceptance time
  int32_t event_count = 1;  // how many events the source command produced (source.index < it)
  Event body;
};

std::string_view event_type(const Event& e);

}  // namespace pulse
