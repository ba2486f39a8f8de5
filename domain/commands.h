#pragma once
// Commands are requests, appended to pulse.commands keyed by organisation. Each carries the
// time at which the HTTP layer accepted it: deciders never read the wall clock.
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "domain/accounts.h"
#include "domain/campaigns.h"
#include "domain/contacts.h"
#include "domain/fields.h"
#include "domain/gateway.h"
#include "domain/ids.h"
#include "domain/opt_outs.h"
#include "domain/phone.h"
#include "domain/plans.h"
#include "domain/time.h"
#include "domain/type_list.h"
#include "domain/verify.h"
#include "domain/webhooks.h"

namespace pulse {

struct Recipient {
  PhoneNumber phone;
  std::string name;  // may be empty
  // The phone's region and type as the HTTP layer classified them (absent before v3).
  std::optional<std::string> country;
  std::optional<std::string> phone_type;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("phone", s.phone), f("name", s.name, field::defaulted),
        f("country", s.country, field::omit_empty), f("phoneType", s.phone_type, field::omit_empty);
  }
};

// POST /api/sms/send: a campaign of 1..500 recipients. The HTTP layer has already validated
// every field and chosen the campaign id.
struct SendSms {
  static constexpr std::string_view kType = "SendSms";
  static constexpr int kVersion = 5;  // v2: deviceId, idempotencyKey, requestHash; v3: country,
                                      // phoneType; v4: simSlot; v5: sealedMessage
  CampaignId campaign_id;
  std::vector<Recipient> recipients;
  std::string message;
  std::optional<DeviceId> device_id;           // only this device may send the messages
  std::optional<int32_t> sim_slot;             // and from this SIM of it, while that SIM sends (v4)
  std::optional<std::string> idempotency_key;  // the Idempotency-Key header
  std::optional<std::string> request_hash;     // SHA-256 of the validated request, with a key
  // The message in clear, sealed (v5): `message` then shows it masked (a verification code).
  std::optional<SealedValue> sealed_message;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("campaignId", s.campaign_id), f("message", s.message), f("recipients", s.recipients),
        f("deviceId", s.device_id, field::omit_empty), f("simSlot", s.sim_slot, field::omit_empty),
        f("idempotencyKey", s.idempotency_key, field::omit_empty),
        f("requestHash", s.request_hash, field::omit_empty),
        f("sealedMessage", s.sealed_message, field::omit_empty);
  }
};

// Each capability's commands in a row; a visitor routes each one (see commands/decider.cpp).
using SendCommands = Types<SendSms>;
using Command = std::variant<SendSms,
                             // accounts
                             RegisterUser, ClaimOrganization, CreateOrganization, CreateApiKey,
                             RevokeApiKey, SetPlan, SetAccountPlan,
                             // gateways
                             CreatePairing, RegisterDevice, UpdateDevice, UnpairDevice,
                             DeviceHeartbeat, ClaimMessages, ReportStatus, ClockTick,
                             // contacts and campaigns
                             CreateContactList, UpsertContacts, RemoveContacts, DeleteContactList,
                             DraftCampaign, QueueCampaignMessages, LaunchCampaign, ControlCampaign,
                             // opt-outs and inbound SMS
                             AddOptOut, RemoveOptOut, ReceiveSms, MarkConversationRead,
                             // webhooks
                             CreateWebhook, UpdateWebhook, DeleteWebhook, RotateWebhookSecret,
                             PingWebhook, DisableWebhook, RedeliverWebhook, ReplayWebhook,
                             // contact imports
                             StageContactImport,
                             // phone verification
                             StartVerification, CheckVerification, CancelVerification>;

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
