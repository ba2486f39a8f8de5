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

// ---- gateways (issue 4) -------------------------------------------------------------------

struct PairingCreated {
  static constexpr std::string_view kType = "PairingCreated";
  static constexpr int kVersion = 1;
  std::string token_hash;
  TimePoint expires_at;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("tokenHash", s.token_hash), f("expiresAt", s.expires_at);
  }
};

struct DeviceRegistered {
  static constexpr std::string_view kType = "DeviceRegistered";
  static constexpr int kVersion = 1;
  DeviceId device_id;
  std::string pairing_hash;
  std::string credential_hash;
  std::string name;
  std::string model;
  std::string os_version;
  std::string app_version;
  std::vector<SimCard> sims;
  std::vector<int32_t> sending_slots;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("deviceId", s.device_id), f("pairingHash", s.pairing_hash),
        f("credentialHash", s.credential_hash), f("name", s.name), f("model", s.model),
        f("osVersion", s.os_version), f("appVersion", s.app_version), f("sims", s.sims),
        f("sendingSlots", s.sending_slots);
  }
};

struct DeviceUpdated {
  static constexpr std::string_view kType = "DeviceUpdated";
  static constexpr int kVersion = 1;
  DeviceId device_id;
  std::string name;  // empty: unchanged
  std::vector<int32_t> sending_slots;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("deviceId", s.device_id), f("name", s.name), f("sendingSlots", s.sending_slots);
  }
};

struct DeviceUnpaired {
  static constexpr std::string_view kType = "DeviceUnpaired";
  static constexpr int kVersion = 1;
  DeviceId device_id;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("deviceId", s.device_id);
  }
};

struct HeartbeatReceived {
  static constexpr std::string_view kType = "HeartbeatReceived";
  static constexpr int kVersion = 1;
  DeviceId device_id;
  std::optional<int32_t> battery;
  std::optional<int32_t> signal;
  std::string app_version;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("deviceId", s.device_id), f("battery", s.battery), f("signal", s.signal),
        f("appVersion", s.app_version);
  }
};

// Presence changes, decided on heartbeats and on the clock.
struct DeviceConnected {
  static constexpr std::string_view kType = "DeviceConnected";
  static constexpr int kVersion = 1;
  DeviceId device_id;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("deviceId", s.device_id);
  }
};

struct DeviceDisconnected {
  static constexpr std::string_view kType = "DeviceDisconnected";
  static constexpr int kVersion = 1;
  DeviceId device_id;
  std::string reason;  // "missed heartbeats" | "unpaired"
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("deviceId", s.device_id), f("reason", s.reason);
  }
};

struct ClaimedMessage {
  MessageId id;
  int32_t attempt = 1;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("id", s.id), f("attempt", s.attempt);
  }
};

// The device holds these messages (status "sending") until lease_until.
struct MessagesClaimed {
  static constexpr std::string_view kType = "MessagesClaimed";
  static constexpr int kVersion = 1;
  DeviceId device_id;
  int32_t sim_slot = 0;
  TimePoint lease_until;
  std::vector<ClaimedMessage> messages;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("deviceId", s.device_id), f("simSlot", s.sim_slot), f("leaseUntil", s.lease_until),
        f("messages", s.messages);
  }
};

// Back to "queued": the lease ended without an outcome, or the device went away.
struct MessagesRequeued {
  static constexpr std::string_view kType = "MessagesRequeued";
  static constexpr int kVersion = 1;
  std::vector<MessageId> ids;
  std::string reason;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("ids", s.ids), f("reason", s.reason);
  }
};

struct TimedMessage {
  MessageId id;
  TimePoint at;  // when the phone saw it
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("id", s.id), f("at", s.at);
  }
};

struct MessagesSent {
  static constexpr std::string_view kType = "MessagesSent";
  static constexpr int kVersion = 1;
  DeviceId device_id;
  std::vector<TimedMessage> messages;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("deviceId", s.device_id), f("messages", s.messages);
  }
};

struct MessagesDelivered {
  static constexpr std::string_view kType = "MessagesDelivered";
  static constexpr int kVersion = 1;
  DeviceId device_id;
  std::vector<TimedMessage> messages;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("deviceId", s.device_id), f("messages", s.messages);
  }
};

struct FailedMessage {
  MessageId id;
  TimePoint at;
  std::string error;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("id", s.id), f("at", s.at), f("error", s.error);
  }
};

struct MessagesFailed {
  static constexpr std::string_view kType = "MessagesFailed";
  static constexpr int kVersion = 1;
  std::string device_id;  // empty when no device was involved (expired, attempts used up)
  std::vector<FailedMessage> messages;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("deviceId", s.device_id), f("messages", s.messages);
  }
};

// Their delivery window closed: no later report changes them. A message still "sent" counts as
// finished from here on.
struct MessagesSettled {
  static constexpr std::string_view kType = "MessagesSettled";
  static constexpr int kVersion = 1;
  std::vector<MessageId> ids;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("ids", s.ids);
  }
};

// Reports of a ReportStatus command that were not accepted; `error` holds why.
struct ReportsRejected {
  static constexpr std::string_view kType = "ReportsRejected";
  static constexpr int kVersion = 1;
  DeviceId device_id;
  std::vector<FailedMessage> reports;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("deviceId", s.device_id), f("reports", s.reports);
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

// ---- opt-outs, inbound SMS, send options (issue 5) ------------------------------------------

struct OptOutAdded {
  static constexpr std::string_view kType = "OptOutAdded";
  static constexpr int kVersion = 1;
  std::string phone;
  std::string reason;
  std::string source;  // "api" | "reply" (a STOP reply reported by a gateway)
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("phone", s.phone), f("reason", s.reason), f("source", s.source);
  }
};

struct OptOutRemoved {
  static constexpr std::string_view kType = "OptOutRemoved";
  static constexpr int kVersion = 1;
  std::string phone;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("phone", s.phone);
  }
};

struct SmsReceived {
  static constexpr std::string_view kType = "SmsReceived";
  static constexpr int kVersion = 1;
  DeviceId device_id;
  std::string from;
  std::string body;
  TimePoint received_at;
  std::optional<int32_t> sim_slot;
  bool stop = false;  // an opt-out keyword (STOP, UNSUBSCRIBE, …)
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("deviceId", s.device_id), f("from", s.from), f("body", s.body),
        f("receivedAt", s.received_at), f("simSlot", s.sim_slot), f("stop", s.stop);
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

// Only this device may claim the campaign's messages. Follows its CampaignCreated.
struct CampaignPinned {
  static constexpr std::string_view kType = "CampaignPinned";
  static constexpr int kVersion = 1;
  CampaignId campaign_id;
  DeviceId device_id;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("campaignId", s.campaign_id), f("deviceId", s.device_id);
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

using Event = std::variant<
    CampaignCreated, MessagesQueued, CommandRejected, UserRegistered, OrganizationClaimed,
    OrganizationCreated, ApiKeyCreated, ApiKeyRevoked, PlanChanged, PairingCreated,
    DeviceRegistered, DeviceUpdated, DeviceUnpaired, HeartbeatReceived, DeviceConnected,
    DeviceDisconnected, MessagesClaimed, MessagesRequeued, MessagesSent, MessagesDelivered,
    MessagesFailed, MessagesSettled, ReportsRejected, CampaignCompleted,
    // issue 9: scale-out
    CommandDecided,
    // issue 5: contacts and campaigns
    ContactListCreated, ContactsUpserted, ContactsRemoved, ContactListDeleted, CampaignDrafted,
    CampaignScheduled, CampaignStarted, CampaignPaused, CampaignResumed, CampaignCancelled,
    // issue 5: opt-outs, inbound SMS, send options
    OptOutAdded, OptOutRemoved, SmsReceived, RecipientsSuppressed, CampaignPinned,
    IdempotencyKeyRecorded, SendReplayed,
    // issue 6: webhooks
    WebhookCreated, WebhookUpdated, WebhookDeleted, WebhookSecretRotated, WebhookPinged,
    WebhookDisabled, WebhookRedeliveryRequested, WebhookReplayRequested>;

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
