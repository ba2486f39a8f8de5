#pragma once
// Request bodies of the REST API and of the gateway protocol, read into plain structs. Parsed
// with simdjson; every problem is a validation error (400) whose details name the field.
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/gateway/protocol_json.h"
#include "adapters/service/verify.h"
#include "commands/contacts.h"
#include "commands/send_sms.h"
#include "domain/commands.h"
#include "domain/result.h"

namespace pulse::http {

// The body of a route that reads nothing from it (POST /api/devices/pairing, a campaign's
// pause, ...): empty is fine, anything else must be well-formed JSON (400 otherwise), as on the
// routes that read theirs.
Status check_unused_body(std::string_view body);

// An object of string fields: each of `required` must be a string, each of `optional` a string
// or absent/null; other fields are ignored.
Result<std::map<std::string, std::string>> decode_strings(
    std::string_view json, std::initializer_list<const char*> required,
    std::initializer_list<const char*> optional = {});
// An object whose `names` are integers or absent/null; other fields are ignored.
Result<std::map<std::string, std::optional<int64_t>>> decode_ints(
    std::string_view json, std::initializer_list<const char*> names);

// POST /api/verify/start: {to, channel?, codeLength?, expiry?, template?}; SendPulse's
// code_length is read as codeLength.
Result<service::VerifyStartInput> decode_verify_start(std::string_view json);
// POST /api/verify/check: {requestId, code} (or SendPulse's request_id); requestId only when
// `with_code` is false (POST /api/verify/cancel).
struct VerifyCheckBody {
  std::string request_id;
  std::string code;
};
Result<VerifyCheckBody> decode_verify_check(std::string_view json, bool with_code);

// POST /api/sms/send: {recipients: [{phone, name?}], message, deviceId?, scheduledAt?}
struct SendSmsBody {
  commands::SendSmsRequest request;
  std::optional<std::string> scheduled_at;  // absent, null or "": send now
  // A scheduledAt that is not a string: reported after the recipients are validated.
  std::optional<Error> scheduled_at_error;
};
Result<SendSmsBody> decode_send_sms_body(std::string_view json);
Result<commands::SendSmsRequest> decode_send_sms_request(std::string_view json);

// POST /api/contacts: {name, contacts?: [{phone, firstName?, lastName?, name?, email?, fields?}]}
struct ContactListRequest {
  std::string name;
  std::vector<commands::RawContact> contacts;
};
Result<ContactListRequest> decode_contact_list_request(std::string_view json);
// POST /api/contacts/{id}/contacts: {contacts: [...]}
Result<std::vector<commands::RawContact>> decode_contacts_request(std::string_view json);
// PATCH /api/contacts/{id}/contacts/{phone}: the fields to change (absent: unchanged).
struct ContactPatch {
  std::optional<std::string> first_name, last_name, name, email;
  std::optional<std::map<std::string, std::string>> fields;
};
Result<ContactPatch> decode_contact_patch(std::string_view json);
// POST /api/campaigns: {name, message, contactListId, scheduledAt?, missingVariables?}
struct CampaignRequest {
  std::string name;
  std::string message;
  std::string contact_list_id;
  std::optional<std::string> scheduled_at;
  MissingVariables missing_variables = MissingVariables::refuse;
};
Result<CampaignRequest> decode_campaign_request(std::string_view json);
// POST /api/webhooks and PATCH /api/webhooks/{id}: every field optional here (the service says
// which are required); wrong types are a 400.
struct WebhookRequest {
  std::optional<std::string> url;
  std::optional<std::vector<std::string>> events;
  std::optional<std::string> description;
  std::optional<bool> enabled;
};
Result<WebhookRequest> decode_webhook_request(std::string_view json);

// Gateway requests (adapters/gateway/PROTOCOL.md), the server's side of the messages that
// adapters/gateway/protocol_json.h writes for the phone.
struct DeviceRegistrationRequest {
  std::string pairing_token;
  gateway::DeviceProfile device;  // defaults filled in: a name, at least one SIM
};
Result<DeviceRegistrationRequest> decode_device_registration(std::string_view json,
                                                             const PhoneParser& phones);
struct HeartbeatRequest {
  std::optional<int32_t> battery;
  std::optional<int32_t> signal;
  std::string app_version;
};
Result<HeartbeatRequest> decode_heartbeat(std::string_view json);
struct DeviceUpdateRequest {
  std::optional<std::string> name;
  std::optional<std::vector<int32_t>> sending_slots;
};
Result<DeviceUpdateRequest> decode_device_update(std::string_view json);
// Each report needs its `at`: the time on the phone.
Result<std::vector<StatusReport>> decode_status_reports(std::string_view json);

}  // namespace pulse::http
