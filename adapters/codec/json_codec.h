#pragma once
// Versioned JSON envelopes for everything persisted: log records ({type, v, id, orgId, at,
// data}) and read-model/decider values ({type, v, …}). Parsed with simdjson, written with
// JsonWriter. A record of an unknown type or of a newer version than this build knows is
// refused with a clear error, never misread. Fields are only ever appended, with defaults.
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

std::string encode(const commands::OrgState& s);
Result<commands::OrgState> decode_org_state(std::string_view json);

std::string encode(const projections::CampaignView& v);
Result<projections::CampaignView> decode_campaign(std::string_view json);
std::string encode(const projections::MessageView& v);
Result<projections::MessageView> decode_message(std::string_view json);
std::string encode(const projections::CommandOutcome& v);
Result<projections::CommandOutcome> decode_outcome(std::string_view json);

// Request bodies of the REST API.
Result<commands::SendSmsRequest> decode_send_sms_request(std::string_view json);

}  // namespace pulse::codec
