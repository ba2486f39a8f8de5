#pragma once
// The REST API's JSON shapes, wire-compatible with the PulseSMS reference.
#include <optional>
#include <string>
#include <vector>

#include "domain/result.h"
#include "projections/read_model.h"

namespace pulse::http {

int http_status(Errc code);
// {"error": "...", "details": "..."}
std::string error_body(const Error& e);

// The campaign with reference field names; `messages` only when given.
std::string campaign_json(const projections::CampaignView& c,
                          const std::vector<projections::MessageView>* messages = nullptr,
                          const std::optional<std::string>& next_messages_cursor = std::nullopt);
std::string campaigns_json(const std::vector<projections::CampaignView>& list);
// POST /api/sms/send's answer.
std::string send_result_json(const std::string& campaign_id, size_t recipients);

}  // namespace pulse::http
