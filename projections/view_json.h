#pragma once
// The REST API's JSON of read-model resources, shared by the HTTP layer and the webhook
// payloads (a webhook shows its resource as the API does).
#include <optional>
#include <string_view>

#include "domain/json_writer.h"
#include "domain/time.h"
#include "projections/read_model.h"

namespace pulse::projections {

// "key": "<ISO 8601>" or "key": null.
void write_time_or_null(JsonWriter& w, std::string_view key, const std::optional<TimePoint>& t);
// A message's fields, inside an object the caller opened: as a campaign lists it
// (GET /api/campaigns/{id}, the reference's Step 5, and webhook payloads), or as
// GET /api/messages shows it (the reference's fields, then Pulse's).
enum class MessageJson { campaign_item, resource };
void write_message_fields(JsonWriter& w, const MessageView& m, MessageJson shape);
// A campaign item, as an object.
void write_message(JsonWriter& w, const MessageView& m);
// A campaign's fields as GET /api/campaigns/{id} starts them, inside an object the caller
// opened (and may add to).
void write_campaign_fields(JsonWriter& w, const CampaignView& c);

// A verification request's status at `now`: a pending one past its expiry is "expired".
std::string_view verification_status(const VerificationView& v, TimePoint now);
// A verification request as the verify API shows it (SendPulse's request_id beside requestId),
// inside an object the caller opened.
void write_verification_fields(JsonWriter& w, const VerificationView& v, std::string_view status);

}  // namespace pulse::projections
