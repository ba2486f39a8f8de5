#include "adapters/codec/json_codec.h"

#include <simdjson.h>

#include <optional>

#include "domain/json_writer.h"
#include "fmt/format.h"

namespace pulse::codec {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};

// One parser per thread: documents are decoded into structs before the next parse.
simdjson::dom::parser& parser() {
  thread_local simdjson::dom::parser p;
  return p;
}

// Reads fields of one JSON object, remembering the first problem. `where` names the object in
// error details ("SendSms.data", "recipients[3]").
class Fields {
 public:
  Fields(object obj, std::string where, Errc errc, std::string message)
      : obj_(obj), where_(std::move(where)), errc_(errc), message_(std::move(message)) {}

  std::string str(const char* k) {
    std::string_view v;
    if (obj_[k].get_string().get(v)) fail(k, "a string");
    return std::string(v);
  }
  std::string str_or(const char* k, std::string_view fallback) {
    element e;
    if (obj_[k].get(e) || e.is_null()) return std::string(fallback);
    return str(k);
  }
  std::optional<std::string> opt_str(const char* k) {
    element e;
    if (obj_[k].get(e) || e.is_null()) return std::nullopt;
    return str(k);
  }
  int64_t i64(const char* k) {
    int64_t v = 0;
    if (obj_[k].get_int64().get(v)) fail(k, "an integer");
    return v;
  }
  int64_t i64_or(const char* k, int64_t fallback) {
    element e;
    if (obj_[k].get(e) || e.is_null()) return fallback;
    return i64(k);
  }
  int32_t i32(const char* k) {
    const int64_t v = i64(k);
    if (v < INT32_MIN || v > INT32_MAX) fail(k, "a 32-bit integer");
    return static_cast<int32_t>(v);
  }
  TimePoint time(const char* k) {
    const auto s = str(k);
    if (failed()) return {};
    auto t = parse_iso8601(s);
    if (!t) fail(k, "an ISO 8601 time");
    return t.value_or(TimePoint{});
  }
  std::optional<TimePoint> opt_time(const char* k) {
    auto s = opt_str(k);
    if (!s) return std::nullopt;
    auto t = parse_iso8601(*s);
    if (!t) fail(k, "an ISO 8601 time or null");
    return t;
  }
  object obj(const char* k) {
    object o;
    if (obj_[k].get_object().get(o)) fail(k, "an object");
    return o;
  }
  array arr(const char* k) {
    array a;
    if (obj_[k].get_array().get(a)) fail(k, "an array");
    return a;
  }
  bool has(const char* k) {
    element e;
    return !obj_[k].get(e) && !e.is_null();
  }

  void fail(std::string_view k, std::string_view what) {
    if (!error_)
      error_ = Error{errc_, message_,
                     fmt::format("{}{}{} must be {}", where_, where_.empty() ? "" : ".", k, what)};
  }
  void fail_raw(std::string details) {
    if (!error_) error_ = Error{errc_, message_, std::move(details)};
  }
  bool failed() const { return error_.has_value(); }
  const Error& error() const { return *error_; }
  void take_error_from(const Fields& other) {
    if (!error_ && other.error_) error_ = other.error_;
  }

 private:
  object obj_;
  std::string where_;
  Errc errc_;
  std::string message_;
  std::optional<Error> error_;
};

Error corrupt(std::string details) {
  return Error{Errc::internal, "Corrupt record", std::move(details)};
}

// Parses a JSON document that must be an object.
Result<object> parse_object(std::string_view json, Errc errc, std::string_view message) {
  element doc;
  if (auto err = parser().parse(json.data(), json.size()).get(doc))
    return Error{errc, std::string(message),
                 fmt::format("invalid JSON: {}", simdjson::error_message(err))};
  object o;
  if (doc.get_object().get(o))
    return Error{errc, std::string(message), "the body must be a JSON object"};
  return o;
}

// Checks an envelope's type/version against the struct T that will read it.
template <class T>
std::optional<Error> check_version(int64_t v) {
  if (v < 1 || v > T::kVersion)
    return Error{
        Errc::internal, "Unsupported record version",
        fmt::format("{} v{}: this build reads {} up to v{}", T::kType, v, T::kType, T::kVersion)};
  return std::nullopt;
}

// A stored value's envelope: its type must be T's, its version one this build reads.
template <class T>
std::optional<Error> check_stored(Fields& f) {
  const auto type = f.str("type");
  const auto v = f.i64("v");
  if (f.failed()) return f.error();
  if (type != T::kType)
    return corrupt(fmt::format("expected a {} record, found '{}'", T::kType, type));
  return check_version<T>(v);
}

void begin_envelope(JsonWriter& w, std::string_view type, int version) {
  w.begin_object().field("type", type).field("v", version);
}

// ---- commands --------------------------------------------------------------------------

void write_data(JsonWriter& w, const SendSms& c) {
  w.begin_object().field("campaignId", c.campaign_id.value).field("message", c.message);
  w.key("recipients").begin_array();
  for (const auto& r : c.recipients)
    w.begin_object().field("phone", r.phone.e164).field("name", r.name).end_object();
  w.end_array().end_object();
}

Result<Command> read_send_sms(object data) {
  Fields f(data, "SendSms.data", Errc::internal, "Corrupt record");
  SendSms c;
  c.campaign_id = CampaignId{f.str("campaignId")};
  c.message = f.str("message");
  // A failed arr() is an empty dom::array, whose iteration reads through a null document.
  const array recipients = f.arr("recipients");
  if (f.failed()) return f.error();
  for (element e : recipients) {
    object o;
    if (e.get_object().get(o)) return corrupt("SendSms.data.recipients[] must be objects");
    Fields r(o, "SendSms.data.recipients[]", Errc::internal, "Corrupt record");
    c.recipients.push_back(Recipient{PhoneNumber{r.str("phone")}, r.str_or("name", "")});
    f.take_error_from(r);
  }
  if (f.failed()) return f.error();
  return Command{std::move(c)};
}

// ---- events ----------------------------------------------------------------------------

void write_data(JsonWriter& w, const CampaignCreated& e) {
  w.begin_object()
      .field("campaignId", e.id.value)
      .field("name", e.name)
      .field("source", e.source)
      .field("message", e.message)
      .field("totalMessages", e.total_messages)
      .end_object();
}

void write_data(JsonWriter& w, const MessagesQueued& e) {
  w.begin_object().field("campaignId", e.campaign_id.value);
  w.key("messages").begin_array();
  for (const auto& m : e.messages) {
    w.begin_object()
        .field("id", m.id.value)
        .field("phone", m.phone.e164)
        .field("contactName", m.contact_name)
        .field("body", m.body)
        .field("encoding", to_string(m.encoding))
        .field("segments", m.segments)
        .end_object();
  }
  w.end_array().end_object();
}

void write_data(JsonWriter& w, const CommandRejected& e) {
  w.begin_object()
      .field("commandType", e.command_type)
      .field("code", to_string(e.code))
      .field("error", e.error)
      .field("details", e.details)
      .end_object();
}

Result<Event> read_campaign_created(object data) {
  Fields f(data, "CampaignCreated.data", Errc::internal, "Corrupt record");
  CampaignCreated e;
  e.id = CampaignId{f.str("campaignId")};
  e.name = f.str("name");
  e.source = f.str("source");
  e.message = f.str("message");
  e.total_messages = f.i32("totalMessages");
  if (f.failed()) return f.error();
  return Event{std::move(e)};
}

Result<Event> read_messages_queued(object data) {
  Fields f(data, "MessagesQueued.data", Errc::internal, "Corrupt record");
  MessagesQueued e;
  e.campaign_id = CampaignId{f.str("campaignId")};
  const array messages = f.arr("messages");  // see read_send_sms
  if (f.failed()) return f.error();
  for (element el : messages) {
    object o;
    if (el.get_object().get(o)) return corrupt("MessagesQueued.data.messages[] must be objects");
    Fields m(o, "MessagesQueued.data.messages[]", Errc::internal, "Corrupt record");
    QueuedMessage q;
    q.id = MessageId{m.str("id")};
    q.phone = PhoneNumber{m.str("phone")};
    q.contact_name = m.str_or("contactName", "");
    q.body = m.str("body");
    const auto enc = m.str("encoding");
    if (enc == to_string(SmsEncoding::gsm7)) {
      q.encoding = SmsEncoding::gsm7;
    } else if (enc == to_string(SmsEncoding::ucs2)) {
      q.encoding = SmsEncoding::ucs2;
    } else {
      m.fail("encoding", "GSM-7 or UCS-2");
    }
    q.segments = m.i32("segments");
    f.take_error_from(m);
    e.messages.push_back(std::move(q));
  }
  if (f.failed()) return f.error();
  return Event{std::move(e)};
}

Result<Event> read_command_rejected(object data) {
  Fields f(data, "CommandRejected.data", Errc::internal, "Corrupt record");
  CommandRejected e;
  e.command_type = f.str("commandType");
  if (!errc_from_string(f.str("code"), e.code)) f.fail("code", "a known error code");
  e.error = f.str("error");
  e.details = f.str_or("details", "");
  if (f.failed()) return f.error();
  return Event{std::move(e)};
}

template <class T>
void write_optional_time(JsonWriter& w, std::string_view k, const std::optional<T>& t) {
  w.key(k);
  if (t)
    w.value(format_iso8601(*t));
  else
    w.null();
}

}  // namespace

std::string encode_command(const CommandEnvelope& c) {
  JsonWriter w;
  begin_envelope(w, command_type(c.body),
                 std::visit([](const auto& x) { return x.kVersion; }, c.body));
  w.field("id", c.id.value).field("orgId", c.org.value).field("at", format_iso8601(c.at));
  w.key("data");
  std::visit([&](const auto& x) { write_data(w, x); }, c.body);
  w.end_object();
  return w.take();
}

Result<CommandEnvelope> decode_command(std::string_view json) {
  auto obj = parse_object(json, Errc::internal, "Corrupt record");
  if (!obj) return obj.error();
  Fields f(*obj, "command", Errc::internal, "Corrupt record");
  const auto type = f.str("type");
  const auto v = f.i64("v");
  if (f.failed()) return f.error();
  CommandEnvelope c;
  c.id = CommandId{f.str("id")};
  c.org = OrgId{f.str("orgId")};
  c.at = f.time("at");
  auto data = f.obj("data");
  if (f.failed()) return f.error();
  Result<Command> body = corrupt("");
  if (type == SendSms::kType) {
    if (auto e = check_version<SendSms>(v)) return *e;
    body = read_send_sms(data);
  } else {
    return Error{Errc::internal, "Unknown record type", fmt::format("command type '{}'", type)};
  }
  if (!body) return body.error();
  c.body = std::move(body).value();
  return c;
}

std::string encode_event(const EventEnvelope& e) {
  JsonWriter w;
  begin_envelope(w, event_type(e.body),
                 std::visit([](const auto& x) { return x.kVersion; }, e.body));
  w.field("id", event_id(e.source))
      .field("orgId", e.org.value)
      .field("at", format_iso8601(e.at))
      .field("commandId", e.command_id.value)
      .field("eventCount", e.event_count);
  w.key("data");
  std::visit([&](const auto& x) { write_data(w, x); }, e.body);
  w.end_object();
  return w.take();
}

Result<EventEnvelope> decode_event(std::string_view json) {
  auto obj = parse_object(json, Errc::internal, "Corrupt record");
  if (!obj) return obj.error();
  Fields f(*obj, "event", Errc::internal, "Corrupt record");
  const auto type = f.str("type");
  const auto v = f.i64("v");
  if (f.failed()) return f.error();
  const auto id = f.str("id");
  EventEnvelope e;
  e.org = OrgId{f.str("orgId")};
  e.at = f.time("at");
  e.command_id = CommandId{f.str("commandId")};
  e.event_count = f.i32("eventCount");
  auto data = f.obj("data");
  if (f.failed()) return f.error();
  auto source = parse_event_id(id);
  if (!source) return corrupt(fmt::format("event id '{}' is not evt_<p>-<o>-<i>", id));
  e.source = *source;
  Result<Event> body = corrupt("");
  if (type == CampaignCreated::kType) {
    if (auto err = check_version<CampaignCreated>(v)) return *err;
    body = read_campaign_created(data);
  } else if (type == MessagesQueued::kType) {
    if (auto err = check_version<MessagesQueued>(v)) return *err;
    body = read_messages_queued(data);
  } else if (type == CommandRejected::kType) {
    if (auto err = check_version<CommandRejected>(v)) return *err;
    body = read_command_rejected(data);
  } else {
    return Error{Errc::internal, "Unknown record type", fmt::format("event type '{}'", type)};
  }
  if (!body) return body.error();
  e.body = std::move(body).value();
  return e;
}

// ---- stored values ---------------------------------------------------------------------

std::string encode(const commands::OrgState& s) {
  JsonWriter w;
  begin_envelope(w, s.kType, s.kVersion);
  w.field("campaigns", s.campaigns)
      .field("messages", s.messages)
      .field("month", s.month)
      .field("monthMessages", s.month_messages)
      .end_object();
  return w.take();
}

Result<commands::OrgState> decode_org_state(std::string_view json) {
  auto obj = parse_object(json, Errc::internal, "Corrupt record");
  if (!obj) return obj.error();
  Fields f(*obj, "OrgState", Errc::internal, "Corrupt record");
  if (auto e = check_stored<commands::OrgState>(f)) return *e;
  commands::OrgState s;
  s.campaigns = f.i64("campaigns");
  s.messages = f.i64("messages");
  s.month = f.str("month");
  s.month_messages = f.i64("monthMessages");
  if (f.failed()) return f.error();
  return s;
}

std::string encode(const projections::CampaignView& v) {
  JsonWriter w;
  begin_envelope(w, v.kType, v.kVersion);
  w.field("id", v.id.value)
      .field("name", v.name)
      .field("source", v.source)
      .field("message", v.message)
      .field("status", v.status)
      .field("totalMessages", v.total_messages)
      .field("queuedCount", v.queued_count)
      .field("sentCount", v.sent_count)
      .field("deliveredCount", v.delivered_count)
      .field("failedCount", v.failed_count)
      .field("segments", v.segments)
      .field("createdAt", format_iso8601(v.created_at))
      .field("updatedAt", format_iso8601(v.updated_at));
  write_optional_time(w, "startedAt", v.started_at);
  write_optional_time(w, "completedAt", v.completed_at);
  w.end_object();
  return w.take();
}

Result<projections::CampaignView> decode_campaign(std::string_view json) {
  auto obj = parse_object(json, Errc::internal, "Corrupt record");
  if (!obj) return obj.error();
  Fields f(*obj, "CampaignView", Errc::internal, "Corrupt record");
  if (auto e = check_stored<projections::CampaignView>(f)) return *e;
  projections::CampaignView v;
  v.id = CampaignId{f.str("id")};
  v.name = f.str("name");
  v.source = f.str("source");
  v.message = f.str("message");
  v.status = f.str("status");
  v.total_messages = f.i32("totalMessages");
  v.queued_count = f.i32("queuedCount");
  v.sent_count = f.i32("sentCount");
  v.delivered_count = f.i32("deliveredCount");
  v.failed_count = f.i32("failedCount");
  v.segments = f.i64("segments");
  v.created_at = f.time("createdAt");
  v.updated_at = f.time("updatedAt");
  v.started_at = f.opt_time("startedAt");
  v.completed_at = f.opt_time("completedAt");
  if (f.failed()) return f.error();
  return v;
}

std::string encode(const projections::MessageView& v) {
  JsonWriter w;
  begin_envelope(w, v.kType, v.kVersion);
  w.field("id", v.id.value)
      .field("campaignId", v.campaign_id.value)
      .field("phone", v.phone)
      .field("contactName", v.contact_name)
      .field("body", v.body)
      .field("status", v.status)
      .field("encoding", v.encoding)
      .field("segments", v.segments)
      .field("createdAt", format_iso8601(v.created_at))
      .field("updatedAt", format_iso8601(v.updated_at));
  write_optional_time(w, "sentAt", v.sent_at);
  write_optional_time(w, "deliveredAt", v.delivered_at);
  w.field("error", v.error);
  w.end_object();
  return w.take();
}

Result<projections::MessageView> decode_message(std::string_view json) {
  auto obj = parse_object(json, Errc::internal, "Corrupt record");
  if (!obj) return obj.error();
  Fields f(*obj, "MessageView", Errc::internal, "Corrupt record");
  if (auto e = check_stored<projections::MessageView>(f)) return *e;
  projections::MessageView v;
  v.id = MessageId{f.str("id")};
  v.campaign_id = CampaignId{f.str("campaignId")};
  v.phone = f.str("phone");
  v.contact_name = f.str_or("contactName", "");
  v.body = f.str("body");
  v.status = f.str("status");
  v.encoding = f.str("encoding");
  v.segments = f.i32("segments");
  v.created_at = f.time("createdAt");
  v.updated_at = f.time("updatedAt");
  v.sent_at = f.opt_time("sentAt");
  v.delivered_at = f.opt_time("deliveredAt");
  v.error = f.opt_str("error");
  if (f.failed()) return f.error();
  return v;
}

std::string encode(const projections::CommandOutcome& o) {
  JsonWriter w;
  begin_envelope(w, o.kType, o.kVersion);
  w.field("commandType", o.command_type)
      .field("code", to_string(o.code))
      .field("error", o.error)
      .field("details", o.details)
      .end_object();
  return w.take();
}

Result<projections::CommandOutcome> decode_outcome(std::string_view json) {
  auto obj = parse_object(json, Errc::internal, "Corrupt record");
  if (!obj) return obj.error();
  Fields f(*obj, "CommandOutcome", Errc::internal, "Corrupt record");
  if (auto e = check_stored<projections::CommandOutcome>(f)) return *e;
  projections::CommandOutcome o;
  o.command_type = f.str("commandType");
  if (!errc_from_string(f.str("code"), o.code)) f.fail("code", "a known error code");
  o.error = f.str("error");
  o.details = f.str_or("details", "");
  if (f.failed()) return f.error();
  return o;
}

// ---- requests --------------------------------------------------------------------------

Result<commands::SendSmsRequest> decode_send_sms_request(std::string_view json) {
  auto obj = parse_object(json, Errc::validation, "Invalid request body");
  if (!obj) return obj.error();
  Fields f(*obj, "", Errc::validation, "Invalid request body");
  commands::SendSmsRequest req;
  if (!f.has("recipients"))
    return validation_error("At least one recipient is required",
                            "recipients must be an array of 1 to 500 {phone, name}");
  if (!f.has("message"))
    return validation_error("Message body cannot be empty", "message is required");
  req.message = f.str("message");
  auto recipients = f.arr("recipients");
  if (f.failed()) return f.error();
  size_t i = 0;
  for (element e : recipients) {
    object o;
    if (e.get_object().get(o)) {
      f.fail_raw(fmt::format("recipients[{}] must be an object {{phone, name}}", i));
      break;
    }
    Fields r(o, fmt::format("recipients[{}]", i), Errc::validation, "Invalid request body");
    commands::RawRecipient raw;
    if (!r.has("phone")) {
      r.fail("phone", "a phone number in E.164 format");
    } else {
      raw.phone = r.str("phone");
    }
    raw.name = r.str_or("name", "");
    f.take_error_from(r);
    if (f.failed()) break;
    req.recipients.push_back(std::move(raw));
    ++i;
  }
  if (f.failed()) return f.error();
  return req;
}

}  // namespace pulse::codec
