#pragma once
// Versioned JSON envelopes for everything persisted: log records ({type, v, id, orgId, at,
// data}) and read-model/decider values ({type, v, …}). Parsed with simdjson, written with
// JsonWriter. A record of an unknown type or of a newer version than this build knows is
// refused with a clear error, never misread. Fields are only ever appended, with defaults.
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

#include "commands/decider.h"
#include "commands/send_sms.h"
#include "domain/commands.h"
#include "domain/events.h"
#include "domain/result.h"
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
Result<projections::ApiKeyView> decode_api_key(std::string_view json);

// Server configuration: {"free": {"monthlySms": 100, "organizations": 1, "apiKeys": 1,
// "sendPerMinute": 10}, "pro": {…}, "enterprise": {…}}; -1 or null means unlimited; what a
// file leaves out keeps its default.
Status apply_plan_overrides(std::string_view json, PlanTable& plans);

// Request bodies of the REST API.
// An object of string fields: each of `required` must be a string, each of `optional` a string
// or absent/null; other fields are ignored.
Result<std::map<std::string, std::string>> decode_strings(
    std::string_view json, std::initializer_list<const char*> required,
    std::initializer_list<const char*> optional = {});
Result<commands::SendSmsRequest> decode_send_sms_request(std::string_view json);

}  // namespace pulse::codec
