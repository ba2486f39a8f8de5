#pragma once
// Versioned JSON envelopes for everything persisted: log records ({type, v, id, orgId, at,
// data}) and read-model/decider values ({type, v, …}). Parsed with simdjson, written with
// JsonWriter. A record of an unknown type or of a newer version than this build knows is
// refused with a clear error, never misread. Fields are only ever appended, with defaults.
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commands/contacts.h"
#include "commands/decider.h"
#include "commands/send_sms.h"
#include "domain/commands.h"
#include "domain/events.h"
#include "domain/result.h"
#include "domain/webhooks.h"
#include "projections/read_model.h"

namespace pulse::codec {

std::string encode_command(const CommandEnvelope& c);
Result<CommandEnvelope> decode_command(std::string_view json);

std::string encode_event(const EventEnvelope& e);
Result<EventEnvelope> decode_event(std::string_view json);

std::string encode(const commands::DeciderState& s);
Result<commands::DeciderState> decode_decider_state(std::string_view json);

std::string encode(const projections::CampaignView& v);
Result<projections::CampaignView> decode_campaign(std::string_view json);
std::string encode(const projections::MessageView& v);
Result<projections::MessageView> decode_message(std::string_view json);
std::string encode(const projections::CommandOutcome& v);
Result<projections::CommandOutcome> decode_outcome(std::string_view json);

std::string encode(const projections::UserView& v);
Result<projections::UserView> decode_user(std::string_view json);
std::string encode(const projections::OrganizationView& v);
Result<projections::OrganizationView> decode_organization(std::string_view json);
std::string encode(const projections::MembershipView& v);
Result<projections::MembershipView> decode_membership(std::string_view json);
std::string encode(const projections::ApiKeyView& v);
std::string encode(const projections::DeviceView& v);
Result<projections::DeviceView> decode_device(std::string_view json);
std::string encode(const projections::PairingView& v);
Result<projections::PairingView> decode_pairing(std::string_view json);
std::string encode(const projections::DeviceCredentialView& v);
Result<projections::DeviceCredentialView> decode_credential(std::string_view json);
std::string encode(const projections::ReportRejectionsView& v);
Result<projections::ReportRejectionsView> decode_rejections(std::string_view json);
std::string encode(const projections::ClaimView& v);
Result<projections::ClaimView> decode_claim(std::string_view json);
std::string encode(const projections::QueueView& v);
Result<projections::QueueView> decode_queue(std::string_view json);
Result<projections::ApiKeyView> decode_api_key(std::string_view json);
std::string encode(const projections::ContactListView& v);
Result<projections::ContactListView> decode_contact_list(std::string_view json);
std::string encode(const projections::ContactView& v);
Result<projections::ContactView> decode_contact(std::string_view json);
// issue 5
std::string encode(const projections::OptOutView& v);
Result<projections::OptOutView> decode_opt_out(std::string_view json);
std::string encode(const projections::TimelineEntry& v);
Result<projections::TimelineEntry> decode_timeline_entry(std::string_view json);
std::string encode(const projections::DayStatsView& v);
Result<projections::DayStatsView> decode_day_stats(std::string_view json);
std::string encode(const projections::CampaignExtrasView& v);
Result<projections::CampaignExtrasView> decode_campaign_extras(std::string_view json);
std::string encode(const projections::IdempotencyView& v);
Result<projections::IdempotencyView> decode_idempotency(std::string_view json);

// Server configuration: {"free": {"monthlySms": 100, "organizations": 1, "apiKeys": 1,
// "sendPerMinute": 10}, "pro": {…}, "enterprise": {…}}; -1 or null means unlimited; what a
// file leaves out keeps its default.
Status apply_plan_overrides(std::string_view json, PlanTable& plans);

// Gateway requests (adapters/gateway/PROTOCOL.md).
struct DeviceRegistrationRequest {
  std::string pairing_token;
  std::string name;
  std::string model;
  std::string os_version;
  std::string app_version;
  std::vector<SimCard> sims;
};
Result<DeviceRegistrationRequest> decode_device_registration(std::string_view json);
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
// An object whose `names` are integers or absent/null; other fields are ignored.
Result<std::map<std::string, std::optional<int64_t>>> decode_ints(
    std::string_view json, std::initializer_list<const char*> names);

// Request bodies of the REST API.
// An object of string fields: each of `required` must be a string, each of `optional` a string
// or absent/null; other fields are ignored.
Result<std::map<std::string, std::string>> decode_strings(
    std::string_view json, std::initializer_list<const char*> required,
    std::initializer_list<const char*> optional = {});
Result<commands::SendSmsRequest> decode_send_sms_request(std::string_view json);

// ---- issue 5: contact lists and campaigns
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
// POST /api/campaigns: {name, message, contactListId, scheduledAt?}
struct CampaignRequest {
  std::string name;
  std::string message;
  std::string contact_list_id;
  std::optional<std::string> scheduled_at;
};
Result<CampaignRequest> decode_campaign_request(std::string_view json);
// ---- webhooks (issue 6) ----------------------------------------------------------------------
std::string encode(const projections::WebhookSet& v);
Result<projections::WebhookSet> decode_webhook_set(std::string_view json);
std::string encode(const projections::OutboxRecord& v);
Result<projections::OutboxRecord> decode_outbox(std::string_view json);
std::string encode(const DeliveryState& v);
Result<DeliveryState> decode_delivery(std::string_view json);
std::string encode(const EndpointHealth& v);
Result<EndpointHealth> decode_endpoint_health(std::string_view json);
// POST /api/webhooks and PATCH /api/webhooks/{id}: every field optional here (the route says
// which are required); wrong types are a 400.
struct WebhookRequest {
  std::optional<std::string> url;
  std::optional<std::vector<std::string>> events;
  std::optional<std::string> description;
  std::optional<bool> enabled;
};
Result<WebhookRequest> decode_webhook_request(std::string_view json);

}  // namespace pulse::codec
