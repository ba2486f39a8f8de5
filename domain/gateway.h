#pragma once
// Gateways (Android phones that send the SMS): pairing and registration, presence, messages
// handed out under a lease and their status reports, and the clock that moves deadlines.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/fields.h"
#include "domain/ids.h"
#include "domain/time.h"
#include "domain/type_list.h"

namespace pulse {

// ---- commands

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

// ---- events

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

using GatewayCommands = Types<CreatePairing, RegisterDevice, UpdateDevice, UnpairDevice,
                              DeviceHeartbeat, ClaimMessages, ReportStatus, ClockTick>;
// A running campaign has messages to send and no online device that may send them (every phone
// went offline, or the one it is pinned to did): they wait, and fail at their time to live.
struct CampaignStalled {
  static constexpr std::string_view kType = "CampaignStalled";
  static constexpr int kVersion = 1;
  CampaignId campaign_id;
  int32_t waiting = 0;  // messages not handed out yet (first sends and retries)
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("campaignId", s.campaign_id), f("waiting", s.waiting);
  }
};

// A stalled campaign has a device again (or nothing left to wait for: paused, expired).
struct CampaignUnstalled {
  static constexpr std::string_view kType = "CampaignUnstalled";
  static constexpr int kVersion = 1;
  CampaignId campaign_id;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("campaignId", s.campaign_id);
  }
};

using GatewayEvents = Types<PairingCreated, DeviceRegistered, DeviceUpdated, DeviceUnpaired,
                            HeartbeatReceived, DeviceConnected, DeviceDisconnected, MessagesClaimed,
                            MessagesRequeued, MessagesSent, MessagesDelivered, MessagesFailed,
                            MessagesSettled, ReportsRejected, CampaignStalled, CampaignUnstalled>;

}  // namespace pulse
