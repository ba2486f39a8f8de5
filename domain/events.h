#pragma once
// Events are facts, appended to pulse.events keyed by organisation by the decider of the
// command's partition. An event's id is derived from its source command's log position, so a
// decider that re-runs a command after a crash emits the same ids and projectors drop them.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "domain/commands.h"
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
  static constexpr int kVersion = 2;  // v2: expiresAt
  CampaignId id;
  std::string name;
  std::string source;   // "api" for /api/sms/send, "campaign" for /api/campaigns
  std::string message;  // the template as submitted
  int32_t total_messages = 0;
  std::optional<TimePoint> expires_at;  // messages not sent by then fail (v1: never)
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("campaignId", s.id), f("name", s.name), f("source", s.source), f("message", s.message),
        f("totalMessages", s.total_messages), f("expiresAt", s.expires_at);
  }
};

struct QueuedMessage {
  MessageId id;
  PhoneNumber phone;
  std::string contact_name;
  std::string body;  // rendered for this recipient
  SmsEncoding encoding = SmsEncoding::gsm7;
  int32_t segments = 1;
  std::optional<std::string> country;  // copied from the command (absent before v2)
  std::optional<std::string> phone_type;
  // The body in clear, sealed (v3): `body` then shows it masked (a verification code).
  std::optional<SealedValue> sealed_body;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("id", s.id), f("phone", s.phone), f("contactName", s.contact_name, field::defaulted),
        f("body", s.body), f("encoding", s.encoding), f("segments", s.segments),
        f("country", s.country, field::omit_empty), f("phoneType", s.phone_type, field::omit_empty),
        f("sealedBody", s.sealed_body, field::omit_empty);
  }
};

// Messages of one campaign, in chunks of at most kMaxMessagesPerEvent so no record grows past
// what a Kafka broker accepts by default.
struct MessagesQueued {
  static constexpr std::string_view kType = "MessagesQueued";
  static constexpr int kVersion = 3;  // v2: messages' country and phoneType; v3: sealedBody
  static constexpr size_t kMaxMessagesPerEvent = 500;
  CampaignId campaign_id;
  std::vector<QueuedMessage> messages;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("campaignId", s.campaign_id), f("messages", s.messages);
  }
};

// The decider refused a command (a consistent check failed). Recorded so that the HTTP node
// waiting for the command, on whichever process, learns the outcome from the event log.
struct CommandRejected {
  static constexpr std::string_view kType = "CommandRejected";
  static constexpr int kVersion = 3;  // v2: quota; v3: retryAfter
  std::string command_type;
  Errc code = Errc::validation;
  std::string error;
  std::string details;
  std::optional<QuotaState> quota;     // a monthly limit's numbers (code quota_exceeded)
  std::optional<int64_t> retry_after;  // seconds until a throttled request may be repeated
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("commandType", s.command_type), f("code", s.code), f("error", s.error),
        f("details", s.details, field::defaulted), f("quota", s.quota, field::omit_empty),
        f("retryAfter", s.retry_after, field::omit_empty);
  }
};

// The decider's mark that it decided a command that produced no events (the last such command
// of a batch). Only deciders in a consumer group (pulse serve --roles, with Kafka) append it:
// API nodes in other processes learn from the event log that their command was decided (the
// projector's watermark passes it), and a decider taking over a partition learns from the last
// event which command was decided last. Its id is the command's position, index 0.
struct CommandDecided {
  static constexpr std::string_view kType = "CommandDecided";
  static constexpr int kVersion = 1;
  template <class Self, class F>
  static void fields(Self&, F&&) {}
};

struct CampaignCompleted {
  static constexpr std::string_view kType = "CampaignCompleted";
  static constexpr int kVersion = 1;
  CampaignId campaign_id;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("campaignId", s.campaign_id);
  }
};

// Recipients of a campaign left out because they are on the opt-out list. Follows its
// CampaignCreated; the campaign's totalMessages counts only the others.
struct RecipientsSuppressed {
  static constexpr std::string_view kType = "RecipientsSuppressed";
  static constexpr int kVersion = 1;
  CampaignId campaign_id;
  std::vector<std::string> phones;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("campaignId", s.campaign_id), f("phones", s.phones);
  }
};

// Only this device may claim the campaign's messages (and only on this SIM, when one is named).
// Follows its CampaignCreated.
struct CampaignPinned {
  static constexpr std::string_view kType = "CampaignPinned";
  static constexpr int kVersion = 2;  // v2: simSlot
  CampaignId campaign_id;
  DeviceId device_id;
  std::optional<int32_t> sim_slot;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("campaignId", s.campaign_id), f("deviceId", s.device_id),
        f("simSlot", s.sim_slot, field::omit_empty);
  }
};

// A send with an Idempotency-Key was accepted: a later request with the key gets this answer
// until expires_at.
struct IdempotencyKeyRecorded {
  static constexpr std::string_view kType = "IdempotencyKeyRecorded";
  static constexpr int kVersion = 1;
  std::string key;
  std::string request_hash;
  CampaignId campaign_id;
  int32_t recipient_count = 0;
  TimePoint expires_at;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("key", s.key), f("requestHash", s.request_hash), f("campaignId", s.campaign_id),
        f("recipientCount", s.recipient_count), f("expiresAt", s.expires_at);
  }
};

// A send repeated an accepted one (same key, same request): nothing is sent again.
struct SendReplayed {
  static constexpr std::string_view kType = "SendReplayed";
  static constexpr int kVersion = 1;
  std::string key;
  CampaignId campaign_id;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("key", s.key), f("campaignId", s.campaign_id);
  }
};

// Sending (SendSms and what follows it), and the decider's own records.
using SendEvents =
    Types<CampaignCreated, MessagesQueued, CommandRejected, CampaignCompleted, CommandDecided,
          RecipientsSuppressed, CampaignPinned, IdempotencyKeyRecorded, SendReplayed>;

using Event =
    std::variant<CampaignCreated, MessagesQueued, CommandRejected,
                 // contact imports
                 ContactsStaged, ContactImportCompleted, ContactImportDiscarded,
                 // accounts
                 UserRegistered, OrganizationClaimed, OrganizationCreated, ApiKeyCreated,
                 ApiKeyRevoked, PlanChanged, AccountPlanChanged,
                 // gateways
                 PairingCreated, DeviceRegistered, DeviceUpdated, DeviceUnpaired, HeartbeatReceived,
                 DeviceConnected, DeviceDisconnected, MessagesClaimed, MessagesRequeued,
                 MessagesSent, MessagesDelivered, MessagesFailed, MessagesSettled, ReportsRejected,
                 CampaignStalled, CampaignUnstalled, CampaignCompleted, CommandDecided,
                 // contacts and campaigns
                 ContactListCreated, ContactsUpserted, ContactsRemoved, ContactListDeleted,
                 CampaignDrafted, CampaignScheduled, CampaignStarted, CampaignPaused,
                 CampaignResumed, CampaignCancelled, CampaignDiscarded,
                 // opt-outs and inbound SMS, send options
                 OptOutAdded, OptOutRemoved, SmsReceived, ConversationRead, RecipientsSuppressed,
                 CampaignPinned, IdempotencyKeyRecorded, SendReplayed,
                 // webhooks
                 WebhookCreated, WebhookUpdated, WebhookDeleted, WebhookSecretRotated,
                 WebhookPinged, WebhookDisabled, WebhookRedeliveryRequested, WebhookReplayRequested,
                 // phone verification
                 VerificationStarted, VerificationResent, VerificationChecked,
                 VerificationCancelled>;

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
