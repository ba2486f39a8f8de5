#pragma once
// Commands are requests, appended to pulse.commands keyed by organisation. Each carries the
// time at which the HTTP layer accepted it: deciders never read the wall clock.
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "domain/campaigns.h"
#include "domain/contacts.h"
#include "domain/ids.h"
#include "domain/phone.h"
#include "domain/plans.h"
#include "domain/time.h"
#include "domain/webhooks.h"

namespace pulse {

struct Recipient {
  PhoneNumber phone;
  std::string name;  // may be empty
};

// POST /api/sms/send: a campaign of 1..500 recipients. The HTTP layer has already validated
// every field and chosen the campaign id.
struct SendSms {
  static constexpr std::string_view kType = "SendSms";
  static constexpr int kVersion = 2;  // v2: deviceId, idempotencyKey, requestHash
  CampaignId campaign_id;
  std::vector<Recipient> recipients;
  std::string message;
  std::optional<DeviceId> device_id;           // only this device may send the messages
  std::optional<std::string> idempotency_key;  // the Idempotency-Key header
  std::optional<std::string> request_hash;     // SHA-256 of the validated request, with a key
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

// ---- gateways (issue 4) -------------------------------------------------------------------

struct SimCard {
  int32_t slot = 0;
  std::string phone_number;  // E.164, may be empty when the phone doesn't know it
  std::string carrier;
  auto operator<=>(const SimCard&) const = default;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("slot", s.slot), f("phoneNumber", s.phone_number), f("carrier", s.carrier);
  }
};

// A single-use pairing token (kept as a hash) for a phone to register with.
struct CreatePairing {
  static constexpr std::string_view kType = "CreatePairing";
  static constexpr int kVersion = 1;
  std::string token_hash;
  TimePoint expires_at;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("tokenHash", s.token_hash), f("expiresAt", s.expires_at);
  }
};

struct RegisterDevice {
  static constexpr std::string_view kType = "RegisterDevice";
  static constexpr int kVersion = 1;
  DeviceId device_id;
  std::string pairing_hash;
  std::string credential_hash;  // SHA-256 of the device token
  std::string name;
  std::string model;
  std::string os_version;
  std::string app_version;
  std::vector<SimCard> sims;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("deviceId", s.device_id), f("pairingHash", s.pairing_hash),
        f("credentialHash", s.credential_hash), f("name", s.name), f("model", s.model),
        f("osVersion", s.os_version), f("appVersion", s.app_version), f("sims", s.sims);
  }
};

// The organisation chooses the name and which SIM slots send.
struct UpdateDevice {
  static constexpr std::string_view kType = "UpdateDevice";
  static constexpr int kVersion = 1;
  DeviceId device_id;
  std::optional<std::string> name;
  std::optional<std::vector<int32_t>> sending_slots;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("deviceId", s.device_id), f("name", s.name), f("sendingSlots", s.sending_slots);
  }
};

struct UnpairDevice {
  static constexpr std::string_view kType = "UnpairDevice";
  static constexpr int kVersion = 1;
  DeviceId device_id;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("deviceId", s.device_id);
  }
};

struct DeviceHeartbeat {
  static constexpr std::string_view kType = "DeviceHeartbeat";
  static constexpr int kVersion = 1;
  DeviceId device_id;
  std::optional<int32_t> battery;  // percent
  std::optional<int32_t> signal;   // 0..4 bars
  std::string app_version;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("deviceId", s.device_id), f("battery", s.battery), f("signal", s.signal),
        f("appVersion", s.app_version);
  }
};

struct ClaimMessages {
  static constexpr std::string_view kType = "ClaimMessages";
  static constexpr int kVersion = 1;
  DeviceId device_id;
  int32_t max = 10;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("deviceId", s.device_id), f("max", s.max);
  }
};

enum class ReportedStatus { sent, delivered, failed };
std::string_view to_string(ReportedStatus s);

struct StatusReport {
  MessageId message_id;
  ReportedStatus status = ReportedStatus::sent;
  std::string error;
  TimePoint at;  // when the phone saw it
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("messageId", s.message_id), f("status", s.status), f("error", s.error), f("at", s.at);
  }
};

struct ReportStatus {
  static constexpr std::string_view kType = "ReportStatus";
  static constexpr int kVersion = 1;
  DeviceId device_id;
  std::vector<StatusReport> reports;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("deviceId", s.device_id), f("reports", s.reports);
  }
};

// Time passes: appended by the ticker for one partition when a deadline there is due
// (presence, leases, delivery windows, time to live). Keyed to land on that partition.
struct ClockTick {
  static constexpr std::string_view kType = "ClockTick";
  static constexpr int kVersion = 1;
  int32_t partition = 0;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("partition", s.partition);
  }
};

// ---- opt-outs and inbound SMS (issue 5) ----------------------------------------------------

// POST /api/opt-outs: suppress a number for the whole organisation.
struct AddOptOut {
  static constexpr std::string_view kType = "AddOptOut";
  static constexpr int kVersion = 1;
  std::string phone;  // E.164
  std::string reason;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("phone", s.phone), f("reason", s.reason);
  }
};

// DELETE /api/opt-outs/{phone}.
struct RemoveOptOut {
  static constexpr std::string_view kType = "RemoveOptOut";
  static constexpr int kVersion = 1;
  std::string phone;  // E.164
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("phone", s.phone);
  }
};

// A gateway reports an SMS its phone received (POST /api/gateway/inbound).
struct ReceiveSms {
  static constexpr std::string_view kType = "ReceiveSms";
  static constexpr int kVersion = 1;
  DeviceId device_id;
  std::string from;  // E.164 when it parsed as one, else as the phone reported it
  std::string body;
  TimePoint received_at;  // the phone's time
  std::optional<int32_t> sim_slot;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("deviceId", s.device_id), f("from", s.from), f("body", s.body),
        f("receivedAt", s.received_at), f("simSlot", s.sim_slot);
  }
};

using Command =
    std::variant<SendSms, RegisterUser, ClaimOrganization, CreateOrganization, CreateApiKey,
                 RevokeApiKey, SetPlan, CreatePairing, RegisterDevice, UpdateDevice, UnpairDevice,
                 DeviceHeartbeat, ClaimMessages, ReportStatus, ClockTick,
                 // issue 5: contacts and campaigns
                 CreateContactList, UpsertContacts, RemoveContacts, DeleteContactList,
                 DraftCampaign, QueueCampaignMessages, LaunchCampaign, ControlCampaign,
                 // issue 5: opt-outs and inbound SMS
                 AddOptOut, RemoveOptOut, ReceiveSms,
                 // webhooks (issue 6)
                 CreateWebhook, UpdateWebhook, DeleteWebhook, RotateWebhookSecret, PingWebhook,
                 DisableWebhook, RedeliverWebhook, ReplayWebhook>;

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
