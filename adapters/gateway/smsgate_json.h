#pragma once
// The JSON of the SMSGate Android app's device API (adapters/gateway/SMSGATE.md), both ways:
// what the server reads from the app and writes to it, and what `pulse gateway-sim --protocol
// smsgate` writes and reads as the app. Field names keep the app's exact casing.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/commands.h"
#include "domain/result.h"
#include "domain/time.h"

namespace pulse::gateway::smsgate {

// The app's processing states (me.capcom.smsgateway.domain.ProcessingState).
enum class State { pending, processed, sent, delivered, failed, cancelling, cancelled };
std::string_view to_string(State s);
std::optional<State> state_from(std::string_view s);

// A SIM as the app describes it: slotIndex (0-based physical slot), simNumber (1-based, the
// number messages select it by). Pulse keeps slot = simNumber - 1.
struct Sim {
  int32_t slot_index = 0;
  int32_t sim_number = 1;
  std::string phone_number;
  std::string carrier_name;
};

// POST /mobile/v1/device {name, pushToken, simCards}
struct RegisterRequest {
  std::string name;
  std::optional<std::string> push_token;
  std::vector<SimCard> sims;  // Pulse's SIMs, slot = simNumber - 1
};
Result<RegisterRequest> decode_register(std::string_view json, const PhoneParser& phones);

// PATCH /mobile/v1/device {id, pushToken, simCards}
struct DevicePatch {
  std::string id;
  std::optional<std::string> push_token;
  std::optional<std::vector<SimCard>> sims;
};
Result<DevicePatch> decode_device_patch(std::string_view json, const PhoneParser& phones);

struct RecipientState {
  std::string phone_number;
  State state = State::pending;
  std::optional<std::string> error;
};

// One entry of PATCH /mobile/v1/message.
struct MessagePatch {
  std::string id;
  State state = State::pending;
  std::vector<RecipientState> recipients;
  std::map<State, TimePoint> states;  // when each state was reached, on the phone's clock
};
// The whole array or an error (nothing half-read). At most `max_items` entries, each with 1 to
// `max_recipients` recipients.
Result<std::vector<MessagePatch>> decode_message_patch(std::string_view json, size_t max_items,
                                                       size_t max_recipients);
std::string encode_message_patch(const std::vector<MessagePatch>& patches);
// The Pulse reports one entry stands for (SMSGATE.md's table), for the message `id` to `phone`:
// the state of the recipient with that phone (else the first); times from `states`, `now` when
// missing or later than `now`.
std::vector<StatusReport> to_reports(const MessagePatch& p, const MessageId& id,
                                     const std::string& phone, TimePoint now);

// One message of GET /mobile/v1/message.
struct Message {
  std::string id;
  std::string text;
  std::vector<std::string> phone_numbers;
  std::optional<int32_t> sim_number;
  bool with_delivery_report = true;
  std::optional<TimePoint> valid_until;
  State state = State::pending;
  TimePoint created_at;
};
std::string encode_messages(const std::vector<Message>& messages);
Result<std::vector<Message>> decode_messages(std::string_view json);

struct RegisterResponse {
  std::string id;
  std::string token;
  std::string login;
};
std::string encode_register_response(const RegisterResponse& r);
Result<RegisterResponse> decode_register_response(std::string_view json);
// What the app sends: {name, pushToken?, simCards} (nulls left out, as Gson does).
std::string encode_register_request(const std::string& name, const std::vector<Sim>& sims);

// GET /mobile/v1/device: {device?: {id, name, createdAt, updatedAt, lastSeen, simCards},
// externalIp}
struct DeviceInfo {
  std::string id;
  std::string name;
  TimePoint created_at;
  TimePoint updated_at;
  TimePoint last_seen;
  std::vector<SimCard> sims;
};
std::string encode_device(const std::optional<DeviceInfo>& device, const std::string& external_ip);

// GET /mobile/v1/settings from Pulse's device options.
struct Settings {
  std::optional<int64_t> send_interval_seconds;  // none: not paced
  std::optional<int64_t> daily_limit;            // none: no cap
  int64_t ping_seconds = 30;
  std::string
      signing_key;  // the key the app signs its webhook requests with (webhooks.signing_key)
};
std::string encode_settings(const Settings& s);

// A webhook as GET /mobile/v1/webhooks lists it: the app sends `event` to `url`.
struct Webhook {
  std::string id;
  std::string url;
  std::string event;
};
std::string encode_webhooks(const std::vector<Webhook>& hooks);

// The app's "sms:received" webhook request: {id, webhookId, event, deviceId, payload: {message,
// receivedAt, messageId, sender, recipient?, simNumber?, phoneNumber}}.
struct ReceivedSms {
  std::string event;   // "sms:received" (other events are answered and ignored)
  std::string sender;  // payload.sender, else the older payload.phoneNumber
  std::string message;
  std::string received_at;            // as the phone wrote it (ISO 8601 with its offset), or empty
  std::optional<int64_t> sim_number;  // 1-based
};
Result<ReceivedSms> decode_received(std::string_view json);
// X-Signature of a webhook request: lower-case hex HMAC-SHA256(key, body + X-Timestamp).
// (Computed by the caller with adapters/auth; this names what the app signs.)
std::string signed_text(std::string_view body, std::string_view timestamp);

// POST /api/devices/pairing's "code" (what a user types into the app).
Result<std::string> parse_pairing_code(std::string_view body);

// The data of one server-sent event ("null" for the events Pulse sends).
std::string sse_event(std::string_view name);

}  // namespace pulse::gateway::smsgate
