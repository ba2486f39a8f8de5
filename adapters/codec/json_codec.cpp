#include "adapters/codec/json_codec.h"

#include <simdjson.h>

#include <map>
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
  bool boolean(const char* k) {
    bool v = false;
    if (obj_[k].get_bool().get(v)) fail(k, "a boolean");
    return v;
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

Result<SendSms> read_data(std::type_identity<SendSms>, object data) {
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
  return c;
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

Result<CampaignCreated> read_data(std::type_identity<CampaignCreated>, object data) {
  Fields f(data, "CampaignCreated.data", Errc::internal, "Corrupt record");
  CampaignCreated e;
  e.id = CampaignId{f.str("campaignId")};
  e.name = f.str("name");
  e.source = f.str("source");
  e.message = f.str("message");
  e.total_messages = f.i32("totalMessages");
  if (f.failed()) return f.error();
  return e;
}

Result<MessagesQueued> read_data(std::type_identity<MessagesQueued>, object data) {
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
  return e;
}

Result<CommandRejected> read_data(std::type_identity<CommandRejected>, object data) {
  Fields f(data, "CommandRejected.data", Errc::internal, "Corrupt record");
  CommandRejected e;
  e.command_type = f.str("commandType");
  if (!errc_from_string(f.str("code"), e.code)) f.fail("code", "a known error code");
  e.error = f.str("error");
  e.details = f.str_or("details", "");
  if (f.failed()) return f.error();
  return e;
}

// ---- accounts --------------------------------------------------------------------------

Plan read_plan(Fields& f, const char* k) {
  const auto s = f.str(k);
  auto p = plan_from_string(s);
  if (!p && !f.failed()) f.fail(k, "free, pro or enterprise");
  return p.value_or(Plan::free);
}

void write_key(JsonWriter& w, const NewApiKey& k) {
  w.begin_object()
      .field("id", k.id.value)
      .field("name", k.name)
      .field("keyHash", k.key_hash)
      .field("hint", k.hint)
      .end_object();
}

NewApiKey read_key(Fields& f) {
  return NewApiKey{ApiKeyId{f.str("id")}, f.str_or("name", ""), f.str("keyHash"), f.str("hint")};
}

void write_data(JsonWriter& w, const RegisterUser& c) {
  w.begin_object()
      .field("userId", c.user_id.value)
      .field("email", c.email)
      .field("name", c.name)
      .field("passwordHash", c.password_hash)
      .field("defaultOrgId", c.default_org.value)
      .end_object();
}

Result<RegisterUser> read_data(std::type_identity<RegisterUser>, object data) {
  Fields f(data, "RegisterUser.data", Errc::internal, "Corrupt record");
  RegisterUser c{UserId{f.str("userId")}, f.str("email"), f.str_or("name", ""),
                 f.str("passwordHash"), OrgId{f.str("defaultOrgId")}};
  if (f.failed()) return f.error();
  return c;
}

void write_data(JsonWriter& w, const ClaimOrganization& c) {
  w.begin_object()
      .field("userId", c.user_id.value)
      .field("email", c.email)
      .field("newOrgId", c.new_org.value)
      .field("allowance", c.allowance)
      .end_object();
}

Result<ClaimOrganization> read_data(std::type_identity<ClaimOrganization>, object data) {
  Fields f(data, "ClaimOrganization.data", Errc::internal, "Corrupt record");
  ClaimOrganization c{UserId{f.str("userId")}, f.str("email"), OrgId{f.str("newOrgId")},
                      f.i64("allowance")};
  if (f.failed()) return f.error();
  return c;
}

void write_data(JsonWriter& w, const CreateOrganization& c) {
  w.begin_object().field("name", c.name).field("ownerUserId", c.owner.value);
  w.key("firstKey");
  if (c.first_key)
    write_key(w, *c.first_key);
  else
    w.null();
  w.end_object();
}

Result<CreateOrganization> read_data(std::type_identity<CreateOrganization>, object data) {
  Fields f(data, "CreateOrganization.data", Errc::internal, "Corrupt record");
  CreateOrganization c;
  c.name = f.str("name");
  c.owner = UserId{f.str("ownerUserId")};
  if (f.has("firstKey")) {
    Fields k(f.obj("firstKey"), "CreateOrganization.data.firstKey", Errc::internal,
             "Corrupt record");
    if (!f.failed()) c.first_key = read_key(k);
    f.take_error_from(k);
  }
  if (f.failed()) return f.error();
  return c;
}

void write_data(JsonWriter& w, const CreateApiKey& c) {
  w.begin_object().key("key");
  write_key(w, c.key);
  w.field("createdBy", c.created_by).end_object();
}

Result<CreateApiKey> read_data(std::type_identity<CreateApiKey>, object data) {
  Fields f(data, "CreateApiKey.data", Errc::internal, "Corrupt record");
  CreateApiKey c;
  auto key = f.obj("key");
  if (f.failed()) return f.error();
  Fields k(key, "CreateApiKey.data.key", Errc::internal, "Corrupt record");
  c.key = read_key(k);
  c.created_by = f.str("createdBy");
  f.take_error_from(k);
  if (f.failed()) return f.error();
  return c;
}

void write_data(JsonWriter& w, const RevokeApiKey& c) {
  w.begin_object().field("keyId", c.key_id.value).end_object();
}

Result<RevokeApiKey> read_data(std::type_identity<RevokeApiKey>, object data) {
  Fields f(data, "RevokeApiKey.data", Errc::internal, "Corrupt record");
  RevokeApiKey c{ApiKeyId{f.str("keyId")}};
  if (f.failed()) return f.error();
  return c;
}

void write_data(JsonWriter& w, const SetPlan& c) {
  w.begin_object().field("plan", to_string(c.plan)).end_object();
}

Result<SetPlan> read_data(std::type_identity<SetPlan>, object data) {
  Fields f(data, "SetPlan.data", Errc::internal, "Corrupt record");
  SetPlan c{read_plan(f, "plan")};
  if (f.failed()) return f.error();
  return c;
}

void write_data(JsonWriter& w, const UserRegistered& e) {
  w.begin_object()
      .field("userId", e.user_id.value)
      .field("email", e.email)
      .field("name", e.name)
      .field("passwordHash", e.password_hash)
      .field("defaultOrgId", e.default_org.value)
      .end_object();
}

Result<UserRegistered> read_data(std::type_identity<UserRegistered>, object data) {
  Fields f(data, "UserRegistered.data", Errc::internal, "Corrupt record");
  UserRegistered e{UserId{f.str("userId")}, f.str("email"), f.str_or("name", ""),
                   f.str("passwordHash"), OrgId{f.str("defaultOrgId")}};
  if (f.failed()) return f.error();
  return e;
}

void write_data(JsonWriter& w, const OrganizationClaimed& e) {
  w.begin_object()
      .field("userId", e.user_id.value)
      .field("email", e.email)
      .field("orgId", e.org.value)
      .end_object();
}

Result<OrganizationClaimed> read_data(std::type_identity<OrganizationClaimed>, object data) {
  Fields f(data, "OrganizationClaimed.data", Errc::internal, "Corrupt record");
  OrganizationClaimed e{UserId{f.str("userId")}, f.str("email"), OrgId{f.str("orgId")}};
  if (f.failed()) return f.error();
  return e;
}

void write_data(JsonWriter& w, const OrganizationCreated& e) {
  w.begin_object()
      .field("name", e.name)
      .field("ownerUserId", e.owner.value)
      .field("plan", to_string(e.plan))
      .end_object();
}

Result<OrganizationCreated> read_data(std::type_identity<OrganizationCreated>, object data) {
  Fields f(data, "OrganizationCreated.data", Errc::internal, "Corrupt record");
  OrganizationCreated e{f.str("name"), UserId{f.str("ownerUserId")}, read_plan(f, "plan")};
  if (f.failed()) return f.error();
  return e;
}

void write_data(JsonWriter& w, const ApiKeyCreated& e) {
  w.begin_object()
      .field("id", e.id.value)
      .field("name", e.name)
      .field("keyHash", e.key_hash)
      .field("hint", e.hint)
      .field("createdBy", e.created_by)
      .end_object();
}

Result<ApiKeyCreated> read_data(std::type_identity<ApiKeyCreated>, object data) {
  Fields f(data, "ApiKeyCreated.data", Errc::internal, "Corrupt record");
  ApiKeyCreated e{ApiKeyId{f.str("id")}, f.str_or("name", ""), f.str("keyHash"), f.str("hint"),
                  f.str("createdBy")};
  if (f.failed()) return f.error();
  return e;
}

void write_data(JsonWriter& w, const ApiKeyRevoked& e) {
  w.begin_object().field("id", e.id.value).end_object();
}

Result<ApiKeyRevoked> read_data(std::type_identity<ApiKeyRevoked>, object data) {
  Fields f(data, "ApiKeyRevoked.data", Errc::internal, "Corrupt record");
  ApiKeyRevoked e{ApiKeyId{f.str("id")}};
  if (f.failed()) return f.error();
  return e;
}

void write_data(JsonWriter& w, const PlanChanged& e) {
  w.begin_object().field("plan", to_string(e.plan)).end_object();
}

Result<PlanChanged> read_data(std::type_identity<PlanChanged>, object data) {
  Fields f(data, "PlanChanged.data", Errc::internal, "Corrupt record");
  PlanChanged e{read_plan(f, "plan")};
  if (f.failed()) return f.error();
  return e;
}

// Reads `data` as the alternative of V whose kType is `type`, refusing newer versions.
template <class V, size_t I = 0>
Result<V> read_alternative(std::string_view kind, std::string_view type, int64_t v, object data) {
  if constexpr (I == std::variant_size_v<V>) {
    return Error{Errc::internal, "Unknown record type", fmt::format("{} type '{}'", kind, type)};
  } else {
    using T = std::variant_alternative_t<I, V>;
    if (type != T::kType) return read_alternative<V, I + 1>(kind, type, v, data);
    if (auto e = check_version<T>(v)) return *e;
    auto r = read_data(std::type_identity<T>{}, data);
    if (!r) return r.error();
    return V{std::move(r).value()};
  }
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
  auto body = read_alternative<Command>("command", type, v, data);
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
  auto body = read_alternative<Event>("event", type, v, data);
  if (!body) return body.error();
  e.body = std::move(body).value();
  return e;
}

// ---- stored values ---------------------------------------------------------------------

std::string encode(const commands::DeciderState& s) {
  JsonWriter w;
  begin_envelope(w, s.kType, s.kVersion);
  const auto& o = s.org;
  w.key("org").begin_object().field("exists", o.exists).field("plan", to_string(o.plan));
  w.key("apiKeys").begin_array();
  for (const auto& k : o.api_keys) w.value(k);
  w.end_array();
  w.field("campaigns", o.campaigns)
      .field("messages", o.messages)
      .field("month", o.month)
      .field("monthMessages", o.month_messages)
      .end_object();
  const auto& u = s.user;
  w.key("user")
      .begin_object()
      .field("registered", u.registered)
      .field("userId", u.user_id)
      .field("organizations", u.organizations)
      .end_object();
  w.end_object();
  return w.take();
}

Result<commands::DeciderState> decode_decider_state(std::string_view json) {
  auto obj = parse_object(json, Errc::internal, "Corrupt record");
  if (!obj) return obj.error();
  Fields f(*obj, "DeciderState", Errc::internal, "Corrupt record");
  if (auto e = check_stored<commands::DeciderState>(f)) return *e;
  commands::DeciderState s;
  Fields o(f.obj("org"), "DeciderState.org", Errc::internal, "Corrupt record");
  if (f.failed()) return f.error();
  s.org.exists = o.boolean("exists");
  s.org.plan = read_plan(o, "plan");
  auto keys = o.arr("apiKeys");
  if (o.failed()) return o.error();
  for (element k : keys) {
    std::string_view id;
    if (k.get_string().get(id)) return corrupt("DeciderState.org.apiKeys[] must be strings");
    s.org.api_keys.emplace(id);
  }
  s.org.campaigns = o.i64("campaigns");
  s.org.messages = o.i64("messages");
  s.org.month = o.str("month");
  s.org.month_messages = o.i64("monthMessages");
  if (o.failed()) return o.error();
  Fields u(f.obj("user"), "DeciderState.user", Errc::internal, "Corrupt record");
  if (f.failed()) return f.error();
  s.user.registered = u.boolean("registered");
  s.user.user_id = u.str("userId");
  s.user.organizations = u.i64("organizations");
  if (u.failed()) return u.error();
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

// ---- views described by a field list (V::fields) ------------------------------------------

namespace {

template <class Tag>
void write_field(JsonWriter& w, const char* k, const Id<Tag>& v) {
  w.field(k, v.value);
}
void write_field(JsonWriter& w, const char* k, const std::string& v) {
  w.field(k, v);
}
void write_field(JsonWriter& w, const char* k, int64_t v) {
  w.field(k, v);
}
void write_field(JsonWriter& w, const char* k, int32_t v) {
  w.field(k, v);
}
void write_field(JsonWriter& w, const char* k, bool v) {
  w.field(k, v);
}
void write_field(JsonWriter& w, const char* k, Plan v) {
  w.field(k, to_string(v));
}
void write_field(JsonWriter& w, const char* k, TimePoint v) {
  w.field(k, format_iso8601(v));
}
void write_field(JsonWriter& w, const char* k, const std::optional<TimePoint>& v) {
  write_optional_time(w, k, v);
}
void write_field(JsonWriter& w, const char* k, const std::optional<std::string>& v) {
  w.field(k, v);
}

template <class Tag>
void read_field(Fields& f, const char* k, Id<Tag>& v) {
  v.value = f.str(k);
}
void read_field(Fields& f, const char* k, std::string& v) {
  v = f.str(k);
}
void read_field(Fields& f, const char* k, int64_t& v) {
  v = f.i64(k);
}
void read_field(Fields& f, const char* k, int32_t& v) {
  v = f.i32(k);
}
void read_field(Fields& f, const char* k, bool& v) {
  v = f.boolean(k);
}
void read_field(Fields& f, const char* k, Plan& v) {
  v = read_plan(f, k);
}
void read_field(Fields& f, const char* k, TimePoint& v) {
  v = f.time(k);
}
void read_field(Fields& f, const char* k, std::optional<TimePoint>& v) {
  v = f.opt_time(k);
}
void read_field(Fields& f, const char* k, std::optional<std::string>& v) {
  v = f.opt_str(k);
}

template <class V>
std::string encode_view(const V& v) {
  JsonWriter w;
  begin_envelope(w, V::kType, V::kVersion);
  V::fields(v, [&](const char* k, const auto& x) { write_field(w, k, x); });
  w.end_object();
  return w.take();
}

template <class V>
Result<V> decode_view(std::string_view json) {
  auto obj = parse_object(json, Errc::internal, "Corrupt record");
  if (!obj) return obj.error();
  Fields f(*obj, std::string(V::kType), Errc::internal, "Corrupt record");
  if (auto e = check_stored<V>(f)) return *e;
  V v;
  V::fields(v, [&](const char* k, auto& x) { read_field(f, k, x); });
  if (f.failed()) return f.error();
  return v;
}

}  // namespace

std::string encode(const projections::UserView& v) {
  return encode_view(v);
}
Result<projections::UserView> decode_user(std::string_view json) {
  return decode_view<projections::UserView>(json);
}
std::string encode(const projections::OrganizationView& v) {
  return encode_view(v);
}
Result<projections::OrganizationView> decode_organization(std::string_view json) {
  return decode_view<projections::OrganizationView>(json);
}
std::string encode(const projections::MembershipView& v) {
  return encode_view(v);
}
Result<projections::MembershipView> decode_membership(std::string_view json) {
  return decode_view<projections::MembershipView>(json);
}
std::string encode(const projections::ApiKeyView& v) {
  return encode_view(v);
}
Result<projections::ApiKeyView> decode_api_key(std::string_view json) {
  return decode_view<projections::ApiKeyView>(json);
}

// ---- requests --------------------------------------------------------------------------

Result<std::map<std::string, std::string>> decode_strings(
    std::string_view json, std::initializer_list<const char*> required,
    std::initializer_list<const char*> optional) {
  auto obj = parse_object(json, Errc::validation, "Invalid request body");
  if (!obj) return obj.error();
  Fields f(*obj, "", Errc::validation, "Invalid request body");
  std::map<std::string, std::string> out;
  for (const char* k : required) {
    if (!f.has(k))
      return validation_error("Invalid request body", fmt::format("{} is required", k));
    out[k] = f.str(k);
  }
  for (const char* k : optional)
    if (f.has(k)) out[k] = f.str(k);
  if (f.failed()) return f.error();
  return out;
}

Status apply_plan_overrides(std::string_view json, PlanTable& plans) {
  auto obj = parse_object(json, Errc::validation, "Invalid plans configuration");
  if (!obj) return obj.error();
  for (auto [name, value] : *obj) {
    auto plan = plan_from_string(name);
    object limits;
    if (!plan || value.get_object().get(limits))
      return validation_error("Invalid plans configuration",
                              fmt::format("'{}' is not free, pro or enterprise with an object of "
                                          "limits",
                                          name));
    Fields f(limits, std::string(name), Errc::validation, "Invalid plans configuration");
    auto& target = plans[*plan];
    for (auto [field, slot] :
         {std::pair{"monthlySms", &target.monthly_sms},
          std::pair{"organizations", &target.organizations}, std::pair{"apiKeys", &target.api_keys},
          std::pair{"sendPerMinute", &target.send_per_minute}}) {
      element e;
      if (limits[field].get(e)) continue;
      *slot = e.is_null() ? kUnlimited : f.i64(field);
      if (!f.failed() && *slot < kUnlimited) f.fail(field, "-1 (unlimited) or more");
    }
    for (auto [field, _] : limits)
      if (field != "monthlySms" && field != "organizations" && field != "apiKeys" &&
          field != "sendPerMinute")
        f.fail(field, "one of monthlySms, organizations, apiKeys, sendPerMinute");
    if (f.failed()) return f.error();
  }
  return ok_status();
}

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
