#include "adapters/http/json_views.h"

#include "domain/json_writer.h"
#include "fmt/format.h"
#include "projections/view_json.h"

namespace pulse::http {
namespace {

void write_campaign(JsonWriter& w, const projections::CampaignView& c) {
  projections::write_campaign_fields(w, c);
  // The campaigns API's fields: its schedule, and the list it was sent to as it was then (null
  // for POST /api/sms/send).
  projections::write_time_or_null(w, "scheduledAt", c.scheduled_at);
  w.key("contactList");
  if (c.contact_list_id.empty()) {
    w.null();
  } else {
    w.begin_object()
        .field("id", c.contact_list_id)
        .field("name", c.contact_list_name)
        .field("contactCount", c.contact_count)
        .end_object();
  }
}

}  // namespace

int http_status(Errc code) {
  switch (code) {
    case Errc::validation:
      return 400;
    case Errc::unauthorized:
      return 401;
    case Errc::forbidden:
      return 403;
    case Errc::not_found:
      return 404;
    case Errc::conflict:
      return 409;
    case Errc::rate_limited:
    case Errc::quota_exceeded:
      return 429;
    case Errc::unavailable:
      return 503;
    case Errc::internal:
      return 500;
  }
  return 500;
}

std::string error_body(const Error& e) {
  JsonWriter w;
  w.begin_object().field("error", e.message).field("details", e.details);
  // The monthly limit's numbers, for clients that act on them (the shape stays error/details).
  if (e.quota)
    w.field("limit", e.quota->limit)
        .field("remaining", e.quota->remaining)
        .field("resetAt", format_iso8601(e.quota->reset_at));
  w.end_object();
  return w.take();
}

std::string campaign_json(const projections::CampaignView& c,
                          const std::vector<projections::MessageView>* messages,
                          const std::optional<std::string>& next_messages_cursor) {
  JsonWriter w;
  w.begin_object();
  write_campaign(w, c);
  if (messages) {
    w.key("messages").begin_array();
    for (const auto& m : *messages) projections::write_message(w, m);
    w.end_array();
    w.field("nextMessagesCursor", next_messages_cursor);
  }
  w.end_object();
  return w.take();
}

std::string campaigns_json(const std::vector<projections::CampaignView>& list) {
  JsonWriter w;
  w.begin_array();
  for (const auto& c : list) {
    w.begin_object();
    write_campaign(w, c);
    w.end_object();
  }
  w.end_array();
  return w.take();
}

std::string send_result_json(const std::string& campaign_id, size_t recipients) {
  JsonWriter w;
  w.begin_object()
      .field("campaignId", campaign_id)
      .field("recipientCount", static_cast<int64_t>(recipients))
      .field("message", fmt::format("Campaign created with {} recipients", recipients))
      .end_object();
  return w.take();
}

}  // namespace pulse::http
