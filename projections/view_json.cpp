#include "projections/view_json.h"

namespace pulse::projections {

void write_time_or_null(JsonWriter& w, std::string_view key, const std::optional<TimePoint>& t) {
  w.key(key);
  if (t)
    w.value(format_iso8601(*t));
  else
    w.null();
}

void write_message_fields(JsonWriter& w, const MessageView& m, MessageJson shape) {
  const bool resource = shape == MessageJson::resource;
  // A received message linked to no campaign has none.
  const auto campaign = [&] {
    w.key("campaignId");
    if (m.campaign_id.value.empty())
      w.null();
    else
      w.value(m.campaign_id.value);
  };
  w.field("id", m.id.value);
  if (!resource) campaign();
  w.field("contactPhone", m.phone).key("contactName");
  if (m.contact_name.empty())
    w.null();
  else
    w.value(m.contact_name);
  w.field("body", m.body).field("status", m.status);
  if (!resource) w.field("encoding", m.encoding).field("segments", m.segments);
  write_time_or_null(w, "sentAt", m.sent_at);
  write_time_or_null(w, "deliveredAt", m.delivered_at);
  w.field("error", m.error);
  if (resource) campaign();
  if (resource)
    w.field("encoding", m.encoding)
        .field("segments", m.segments)
        .field("deviceId", m.device_id)
        .field("simSlot", m.sim_slot)
        .field("attempts", m.attempts);
  // The recipient's country and number type, absent for messages queued before numbers were
  // classified. Only on the message resource: webhooks and streams keep their shape.
  if (resource && m.country) w.field("country", *m.country);
  if (resource && m.phone_type) w.field("phoneType", *m.phone_type);
  // Pulse's two-way fields, on the resource only: the message's direction and, for a received
  // one, the message it answers and the phone's time of receipt.
  if (resource) w.field("direction", m.inbound() ? "inbound" : "outbound");
  if (resource && m.inbound()) {
    w.field("replyTo", m.reply_to);
    write_time_or_null(w, "receivedAt", m.received_at);
  }
  w.field("createdAt", format_iso8601(m.created_at))
      .field("updatedAt", format_iso8601(m.updated_at));
}

void write_message(JsonWriter& w, const MessageView& m) {
  w.begin_object();
  write_message_fields(w, m, MessageJson::campaign_item);
  w.end_object();
}

void write_campaign_fields(JsonWriter& w, const CampaignView& c) {
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
      .field("waitingForDevice", c.waiting_for_device())
      .field("segments", c.segments);
  write_time_or_null(w, "startedAt", c.started_at);
  write_time_or_null(w, "completedAt", c.completed_at);
  w.field("createdAt", format_iso8601(c.created_at))
      .field("updatedAt", format_iso8601(c.updated_at));
}

std::string_view verification_status(const VerificationView& v, TimePoint now) {
  return verify::status_at(v.status, v.expires_at, now);
}

void write_verification_fields(JsonWriter& w, const VerificationView& v, std::string_view status) {
  w.field("requestId", v.id)
      .field("request_id", v.id)
      .field("to", v.to)
      .field("channel", "sms")
      .field("status", status)
      .field("codeLength", v.code_length)
      .field("attempts", v.attempts)
      .field("maxAttempts", verify::kMaxAttempts)
      .field("sends", v.sends)
      .field("expiresAt", format_iso8601(v.expires_at))
      .field("createdAt", format_iso8601(v.created_at))
      .field("updatedAt", format_iso8601(v.updated_at));
}

}  // namespace pulse::projections
