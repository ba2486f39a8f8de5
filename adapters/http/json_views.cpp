#include "adapters/http/json_views.h"

#include "domain/json_writer.h"
#include "fmt/format.h"

namespace pulse::http {
namespace {

void optional_time(JsonWriter& w, std::string_view k, const std::optional<TimePoint>& t) {
  w.key(k);
  if (t)
    w.value(format_iso8601(*t));
  else
    w.null();
}

void write_message(JsonWriter& w, const projections::MessageView& m) {
  w.begin_object()
      .field("id", m.id.value)
      .field("campaignId", m.campaign_id.value)
      .field("contactPhone", m.phone);
  w.key("contactName");
  if (m.contact_name.empty())
    w.null();
  else
    w.value(m.contact_name);
  w.field("body", m.body)
      .field("status", m.status)
      .field("encoding", m.encoding)
      .field("segments", m.segments);
  optional_time(w, "sentAt", m.sent_at);
  optional_time(w, "deliveredAt", m.delivered_at);
  w.field("error", m.error);
  w.field("createdAt", format_iso8601(m.created_at))
      .field("updatedAt", format_iso8601(m.updated_at))
      .end_object();
}

void write_campaign(JsonWriter& w, const projections::CampaignView& c) {
  w.field("id", c.id.value)
      .field("name", c.name)
      .field("status", c.status)
      .field("message", c.message)
      .field("source", c.source)
      .field("totalMessages", c.total_messages)
      .field("queuedCount", c.queued_count)
      .field("sendingCount", c.sending_count)
      .field("sentCount", c.sent_count)
      .field("deliveredCount", c.delivered_count)
      .field("failedCount", c.failed_count)
      .field("segments", c.segments);
  optional_time(w, "startedAt", c.started_at);
  optional_time(w, "completedAt", c.completed_at);
  w.field("createdAt", format_iso8601(c.created_at))
      .field("updatedAt", format_iso8601(c.updated_at));
  // Issue 5: the list the campaign was sent to, as it was then (null for POST /api/sms/send).
  optional_time(w, "scheduledAt", c.scheduled_at);
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
  w.begin_object().field("error", e.message).field("details", e.details).end_object();
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
    for (const auto& m : *messages) write_message(w, m);
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
