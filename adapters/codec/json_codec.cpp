#include "adapters/codec/json_codec.h"

#include <simdjson.h>

#include <charconv>
#include <map>
#include <optional>
#include <set>

#include "domain/json_writer.h"
#include "fmt/format.h"
#include "projections/view_json.h"

namespace pulse::codec {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

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
  w.end_array();
  // v2: present only when set.
  if (c.device_id) w.field("deviceId", c.device_id->value);
  if (c.idempotency_key) w.field("idempotencyKey", *c.idempotency_key);
  if (c.request_hash) w.field("requestHash", *c.request_hash);
  w.end_object();
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
  if (auto d = f.opt_str("deviceId")) c.device_id = DeviceId{*d};  // v2
  c.idempotency_key = f.opt_str("idempotencyKey");
  c.request_hash = f.opt_str("requestHash");
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
      .field("totalMessages", e.total_messages);
  projections::write_time_or_null(w, "expiresAt", e.expires_at);  // v2
  w.end_object();
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
  e.expires_at = f.opt_time("expiresAt");
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

// ---- records described by a field list (T::fields) -----------------------------------------
// Gateway commands and events (and their parts) list their fields once, in domain/; these
// write and read them recursively. Optional fields may be absent or null; every other field
// must be present with the right type.

template <class T>
concept Described = requires(T& t) {
  T::fields(t, [](const char*, auto&) {});
};
template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <class T>
struct IsVector : std::false_type {};
template <class T>
struct IsVector<std::vector<T>> : std::true_type {};
template <class T>
struct IsMap : std::false_type {};
template <class K, class V, class C>
struct IsMap<std::map<K, V, C>> : std::true_type {};
template <class T>
struct IsSet : std::false_type {};
template <class K, class C>
struct IsSet<std::set<K, C>> : std::true_type {};
template <class T>
struct IsCow : std::false_type {};
template <class T>
struct IsCow<commands::CopyOnWrite<T>> : std::true_type {};
template <class T>
struct IsId : std::false_type {};
template <class Tag>
struct IsId<Id<Tag>> : std::true_type {};

template <class T>
void write_value(JsonWriter& w, const T& v) {
  if constexpr (IsId<T>::value) {
    w.value(v.value);
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, bool> ||
                       std::is_same_v<T, int32_t> || std::is_same_v<T, int64_t>) {
    w.value(v);
  } else if constexpr (std::is_same_v<T, double>) {
    w.value(v);
  } else if constexpr (std::is_same_v<T, commands::Outcome>) {
    w.value(static_cast<int64_t>(v));
  } else if constexpr (std::is_same_v<T, Plan> || std::is_same_v<T, ReportedStatus>) {
    w.value(to_string(v));
  } else if constexpr (std::is_same_v<T, TimePoint>) {
    w.value(format_iso8601(v));
  } else if constexpr (IsCow<T>::value) {
    write_value(w, v.get());
  } else if constexpr (IsOptional<T>::value) {
    if (v)
      write_value(w, *v);
    else
      w.null();
  } else if constexpr (IsVector<T>::value || IsSet<T>::value) {
    w.begin_array();
    for (const auto& x : v) write_value(w, x);
    w.end_array();
  } else if constexpr (IsMap<T>::value) {
    // Keys in the map's order: strings as they are, integers in decimal.
    w.begin_object();
    for (const auto& [k, x] : v) {
      if constexpr (std::is_same_v<typename T::key_type, std::string>)
        w.key(k);
      else
        w.key(std::to_string(k));
      write_value(w, x);
    }
    w.end_object();
  } else {
    static_assert(Described<T>, "no JSON form for this type");
    w.begin_object();
    T::fields(v, [&](const char* k, const auto& x) {
      w.key(k);
      write_value(w, x);
    });
    w.end_object();
  }
}

template <class T>
void read_object(object o, T& out, const std::string& path, std::optional<Error>& err);

template <class T>
void read_value(element e, T& out, const std::string& path, std::optional<Error>& err) {
  if (err) return;
  auto fail = [&](std::string_view what) {
    err = corrupt(fmt::format("{} must be {}", path, what));
  };
  if constexpr (IsId<T>::value) {
    std::string_view s;
    if (e.get_string().get(s)) return fail("a string");
    out.value = s;
  } else if constexpr (std::is_same_v<T, std::string>) {
    std::string_view s;
    if (e.get_string().get(s)) return fail("a string");
    out = s;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (e.get_bool().get(out)) return fail("a boolean");
  } else if constexpr (std::is_same_v<T, int32_t>) {
    int64_t n = 0;
    if (e.get_int64().get(n) || n < INT32_MIN || n > INT32_MAX) return fail("a 32-bit integer");
    out = static_cast<int32_t>(n);
  } else if constexpr (std::is_same_v<T, int64_t>) {
    if (e.get_int64().get(out)) return fail("an integer");
  } else if constexpr (std::is_same_v<T, double>) {
    if (e.get_double().get(out)) return fail("a number");
  } else if constexpr (std::is_same_v<T, commands::Outcome>) {
    int64_t n = 0;
    if (e.get_int64().get(n) || n < 0 || n > 2) return fail("0, 1 or 2");
    out = static_cast<commands::Outcome>(n);
  } else if constexpr (std::is_same_v<T, Plan>) {
    std::string_view s;
    auto p = e.get_string().get(s) ? std::nullopt : plan_from_string(s);
    if (!p) return fail("free, pro or enterprise");
    out = *p;
  } else if constexpr (std::is_same_v<T, ReportedStatus>) {
    std::string_view s;
    if (e.get_string().get(s)) return fail("sent, delivered or failed");
    if (s == "sent")
      out = ReportedStatus::sent;
    else if (s == "delivered")
      out = ReportedStatus::delivered;
    else if (s == "failed")
      out = ReportedStatus::failed;
    else
      return fail("sent, delivered or failed");
  } else if constexpr (std::is_same_v<T, TimePoint>) {
    std::string_view s;
    std::optional<TimePoint> t;
    if (!e.get_string().get(s)) t = parse_iso8601(s);
    if (!t) return fail("an ISO 8601 time");
    out = *t;
  } else if constexpr (IsCow<T>::value) {
    // Null (or, see read_object, absent): empty.
    std::decay_t<decltype(out.get())> v{};
    if (!e.is_null()) read_value(e, v, path, err);
    if (!err) out.mut() = std::move(v);
  } else if constexpr (IsOptional<T>::value) {
    if (e.is_null()) {
      out.reset();
      return;
    }
    typename T::value_type v{};
    read_value(e, v, path, err);
    if (!err) out = std::move(v);
  } else if constexpr (IsVector<T>::value || IsSet<T>::value) {
    array a;
    if (e.get_array().get(a)) return fail("an array");
    out.clear();
    for (element x : a) {
      typename T::value_type v{};
      read_value(x, v, path + "[]", err);
      if (err) return;
      if constexpr (IsSet<T>::value)
        out.insert(std::move(v));
      else
        out.push_back(std::move(v));
    }
  } else if constexpr (IsMap<T>::value) {
    object o;
    if (e.get_object().get(o)) return fail("an object");
    out.clear();
    for (auto [k, x] : o) {
      typename T::key_type key{};
      if constexpr (std::is_same_v<typename T::key_type, std::string>) {
        key = std::string(k);
      } else {
        auto [p, ec] = std::from_chars(k.data(), k.data() + k.size(), key);
        if (ec != std::errc{} || p != k.data() + k.size())
          return fail("an object of numbered keys");
      }
      typename T::mapped_type v{};
      read_value(x, v, path + "." + std::string(k), err);
      if (err) return;
      out.emplace(std::move(key), std::move(v));
    }
  } else {
    static_assert(Described<T>, "no JSON form for this type");
    object o;
    if (e.get_object().get(o)) return fail("an object");
    read_object(o, out, path, err);
  }
}

template <class T>
void read_object(object o, T& out, const std::string& path, std::optional<Error>& err) {
  {
    T::fields(out, [&](const char* k, auto& x) {
      if (err) return;
      element child;
      if (o[k].get(child)) {
        using F = std::decay_t<decltype(x)>;
        if constexpr (IsOptional<F>::value) {
          x.reset();
        } else if constexpr (IsCow<F>::value) {
          x = F{};  // a field added later: empty in records written before it
        } else {
          err = corrupt(fmt::format("{}.{} must be present", path, k));
        }
        return;
      }
      read_value(child, x, path + "." + k, err);
    });
  }
}

template <Described T>
void write_data(JsonWriter& w, const T& x) {
  write_value(w, x);
}

template <Described T>
Result<T> read_data(std::type_identity<T>, object data) {
  T out{};
  std::optional<Error> err;
  read_object(data, out, std::string(T::kType) + ".data", err);
  if (err) return *err;
  return out;
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
      .field("sendingCount", v.sending_count)
      .field("sentCount", v.sent_count)
      .field("deliveredCount", v.delivered_count)
      .field("failedCount", v.failed_count)
      .field("segments", v.segments)
      .field("createdAt", format_iso8601(v.created_at))
      .field("updatedAt", format_iso8601(v.updated_at));
  projections::write_time_or_null(w, "startedAt", v.started_at);
  projections::write_time_or_null(w, "completedAt", v.completed_at);
  w.field("contactListId", v.contact_list_id)
      .field("contactListName", v.contact_list_name)
      .field("contactCount", v.contact_count);
  projections::write_time_or_null(w, "scheduledAt", v.scheduled_at);
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
  v.sending_count = static_cast<int32_t>(f.i64_or("sendingCount", 0));
  v.sent_count = f.i32("sentCount");
  v.delivered_count = f.i32("deliveredCount");
  v.failed_count = f.i32("failedCount");
  v.segments = f.i64("segments");
  v.created_at = f.time("createdAt");
  v.updated_at = f.time("updatedAt");
  v.started_at = f.opt_time("startedAt");
  v.completed_at = f.opt_time("completedAt");
  v.contact_list_id = f.str_or("contactListId", "");
  v.contact_list_name = f.str_or("contactListName", "");
  v.contact_count = static_cast<int32_t>(f.i64_or("contactCount", 0));
  v.scheduled_at = f.opt_time("scheduledAt");
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
  projections::write_time_or_null(w, "sentAt", v.sent_at);
  projections::write_time_or_null(w, "deliveredAt", v.delivered_at);
  w.field("error", v.error);
  w.field("deviceId", v.device_id);
  w.key("simSlot");
  if (v.sim_slot)
    w.value(*v.sim_slot);
  else
    w.null();
  w.field("attempts", v.attempts);
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
  v.device_id = f.opt_str("deviceId");
  if (f.has("simSlot")) v.sim_slot = f.i32("simSlot");
  v.attempts = static_cast<int32_t>(f.i64_or("attempts", 0));
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

template <class V>
std::string encode_view(const V& v) {
  JsonWriter w;
  begin_envelope(w, V::kType, V::kVersion);
  V::fields(v, [&](const char* k, const auto& x) {
    w.key(k);
    write_value(w, x);
  });
  w.end_object();
  return w.take();
}

template <class V>
Result<V> decode_view(std::string_view json) {
  auto obj = parse_object(json, Errc::internal, "Corrupt record");
  if (!obj) return obj.error();
  Fields f(*obj, std::string(V::kType), Errc::internal, "Corrupt record");
  if (auto e = check_stored<V>(f)) return *e;
  V v{};
  std::optional<Error> err;
  read_object(*obj, v, std::string(V::kType), err);
  if (err) return *err;
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
#define PULSE_VIEW_CODEC(View, decoder)                      \
  std::string encode(const projections::View& v) {           \
    return encode_view(v);                                   \
  }                                                          \
  Result<projections::View> decoder(std::string_view json) { \
    return decode_view<projections::View>(json);             \
  }
PULSE_VIEW_CODEC(DeviceView, decode_device)
PULSE_VIEW_CODEC(PairingView, decode_pairing)
PULSE_VIEW_CODEC(DeviceCredentialView, decode_credential)
PULSE_VIEW_CODEC(ReportRejectionsView, decode_rejections)
PULSE_VIEW_CODEC(ClaimView, decode_claim)
PULSE_VIEW_CODEC(QueueView, decode_queue)
PULSE_VIEW_CODEC(ContactListView, decode_contact_list)
PULSE_VIEW_CODEC(ContactView, decode_contact)
PULSE_VIEW_CODEC(OptOutView, decode_opt_out)
PULSE_VIEW_CODEC(TimelineEntry, decode_timeline_entry)
PULSE_VIEW_CODEC(DayStatsView, decode_day_stats)
PULSE_VIEW_CODEC(CampaignExtrasView, decode_campaign_extras)
PULSE_VIEW_CODEC(IdempotencyView, decode_idempotency)
#undef PULSE_VIEW_CODEC

std::string encode(const commands::DeciderState& s) {
  return encode_view(s);
}

Result<commands::DeciderState> decode_decider_state(std::string_view json) {
  return decode_view<commands::DeciderState>(json);
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

namespace {

struct RawSim {
  std::optional<int32_t> slot;
  std::optional<std::string> phone_number;
  std::optional<std::string> carrier;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("slot", s.slot), f("phoneNumber", s.phone_number), f("carrier", s.carrier);
  }
};

struct RawRegistration {
  std::string pairing_token;
  std::optional<std::string> name, model, os_version, app_version;
  std::optional<std::vector<RawSim>> sims;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("pairingToken", s.pairing_token), f("deviceName", s.name), f("model", s.model),
        f("osVersion", s.os_version), f("appVersion", s.app_version), f("sims", s.sims);
  }
};

struct RawHeartbeat {
  std::optional<int32_t> battery, signal;
  std::optional<std::string> app_version;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("battery", s.battery), f("signal", s.signal), f("appVersion", s.app_version);
  }
};

struct RawUpdate {
  std::optional<std::string> name;
  std::optional<std::vector<int32_t>> sending;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("deviceName", s.name), f("sendingSims", s.sending);
  }
};

struct RawReport {
  std::string message_id;
  std::string status;
  std::optional<std::string> error;
  std::string at;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("messageId", s.message_id), f("status", s.status), f("error", s.error), f("at", s.at);
  }
};

struct RawReports {
  std::vector<RawReport> reports;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("reports", s.reports);
  }
};

// A request body read with the record reader: its errors become the client's 400.
template <class T>
Result<T> read_request(std::string_view json) {
  auto obj = parse_object(json, Errc::validation, "Invalid request body");
  if (!obj) return obj.error();
  T out{};
  std::optional<Error> err;
  read_object(*obj, out, "body", err);
  if (err) return validation_error("Invalid request body", err->details);
  return out;
}

Status check_text(const std::optional<std::string>& s, std::string_view name, size_t max) {
  if (s && s->size() > max)
    return validation_error("Invalid request body", fmt::format("{} is longer than {}", name, max));
  return ok_status();
}

}  // namespace

Result<DeviceRegistrationRequest> decode_device_registration(std::string_view json) {
  auto raw = read_request<RawRegistration>(json);
  if (!raw) return raw.error();
  for (auto [v, n] :
       {std::pair{&raw->name, "deviceName"}, std::pair{&raw->model, "model"},
        std::pair{&raw->os_version, "osVersion"}, std::pair{&raw->app_version, "appVersion"}})
    if (auto st = check_text(*v, n, 200); !st) return st.error();
  DeviceRegistrationRequest r;
  r.pairing_token = raw->pairing_token;
  r.name = raw->name.value_or("Android gateway");
  if (r.name.empty()) r.name = "Android gateway";
  r.model = raw->model.value_or("");
  r.os_version = raw->os_version.value_or("");
  r.app_version = raw->app_version.value_or("");
  std::set<int32_t> slots;
  for (const auto& sim : raw->sims.value_or(std::vector<RawSim>{})) {
    SimCard card;
    card.slot = sim.slot.value_or(static_cast<int32_t>(r.sims.size()));
    if (card.slot < 0 || card.slot > 7 || !slots.insert(card.slot).second)
      return validation_error("Invalid SIM slot", "slots are 0 to 7, each once");
    if (sim.phone_number && !sim.phone_number->empty()) {
      auto phone = parse_phone(*sim.phone_number);
      if (!phone)
        return validation_error(
            phone.error().message,
            fmt::format("sims[{}].phoneNumber: {}", r.sims.size(), phone.error().details));
      card.phone_number = phone->e164;
    }
    if (auto st = check_text(sim.carrier, "carrier", 100); !st) return st.error();
    card.carrier = sim.carrier.value_or("");
    r.sims.push_back(card);
  }
  if (r.sims.empty()) r.sims.push_back(SimCard{0, "", ""});
  if (r.sims.size() > 8) return validation_error("Too many SIMs", "at most 8");
  return r;
}

Result<HeartbeatRequest> decode_heartbeat(std::string_view json) {
  auto raw = read_request<RawHeartbeat>(json);
  if (!raw) return raw.error();
  if (raw->battery && (*raw->battery < 0 || *raw->battery > 100))
    return validation_error("Invalid battery", "a percentage from 0 to 100");
  if (raw->signal && (*raw->signal < 0 || *raw->signal > 4))
    return validation_error("Invalid signal", "bars from 0 to 4");
  if (auto st = check_text(raw->app_version, "appVersion", 50); !st) return st.error();
  return HeartbeatRequest{raw->battery, raw->signal, raw->app_version.value_or("")};
}

Result<DeviceUpdateRequest> decode_device_update(std::string_view json) {
  auto raw = read_request<RawUpdate>(json);
  if (!raw) return raw.error();
  return DeviceUpdateRequest{raw->name, raw->sending};
}

Result<std::vector<StatusReport>> decode_status_reports(std::string_view json) {
  auto raw = read_request<RawReports>(json);
  if (!raw) return raw.error();
  std::vector<StatusReport> out;
  for (size_t i = 0; i < raw->reports.size(); ++i) {
    const auto& r = raw->reports[i];
    StatusReport report;
    report.message_id = MessageId{r.message_id};
    if (r.status == "sent")
      report.status = ReportedStatus::sent;
    else if (r.status == "delivered")
      report.status = ReportedStatus::delivered;
    else if (r.status == "failed")
      report.status = ReportedStatus::failed;
    else
      return validation_error(
          "Invalid status", fmt::format("reports[{}].status must be sent, delivered or failed", i));
    auto at = parse_iso8601(r.at);
    if (!at)
      return validation_error("Invalid time",
                              fmt::format("reports[{}].at must be an ISO 8601 time", i));
    report.at = *at;
    report.error = r.error.value_or("");
    if (report.error.size() > 500)
      return validation_error("Invalid error", fmt::format("reports[{}].error is too long", i));
    out.push_back(std::move(report));
  }
  return out;
}

Result<std::map<std::string, std::optional<int64_t>>> decode_ints(
    std::string_view json, std::initializer_list<const char*> names) {
  auto obj = parse_object(json, Errc::validation, "Invalid request body");
  if (!obj) return obj.error();
  Fields f(*obj, "", Errc::validation, "Invalid request body");
  std::map<std::string, std::optional<int64_t>> out;
  for (const char* k : names) out[k] = f.has(k) ? std::optional<int64_t>(f.i64(k)) : std::nullopt;
  if (f.failed()) return f.error();
  return out;
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
  if (auto d = f.opt_str("deviceId")) req.device_id = *d;
  if (f.failed()) return f.error();
  return req;
}

// ---- issue 5: contact lists and campaigns ----------------------------------------------------

namespace {

struct RawContactJson {
  std::optional<std::string> phone, first_name, last_name, name, email;
  std::optional<std::map<std::string, std::string>> fields;
  template <class Self, class F>
  static void fields_of(Self& s, F&& f) {
    f("phone", s.phone), f("firstName", s.first_name), f("lastName", s.last_name),
        f("name", s.name), f("email", s.email), f("fields", s.fields);
  }
};

commands::RawContact to_raw(const RawContactJson& j) {
  return commands::RawContact{
      j.phone.value_or(""),     j.first_name.value_or(""),
      j.last_name.value_or(""), j.name.value_or(""),
      j.email.value_or(""),     j.fields.value_or(std::map<std::string, std::string>{})};
}

struct RawContactEntry {
  RawContactJson c;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    RawContactJson::fields_of(s.c, f);
  }
};

struct RawContactList {
  std::string name;
  std::optional<std::vector<RawContactEntry>> contacts;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("name", s.name), f("contacts", s.contacts);
  }
};

struct RawContacts {
  std::vector<RawContactEntry> contacts;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("contacts", s.contacts);
  }
};

struct RawCampaign {
  std::string name;
  std::string message;
  std::string contact_list_id;
  std::optional<std::string> scheduled_at;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("name", s.name), f("message", s.message), f("contactListId", s.contact_list_id),
        f("scheduledAt", s.scheduled_at);
  }
};

}  // namespace

Result<ContactListRequest> decode_contact_list_request(std::string_view json) {
  auto raw = read_request<RawContactList>(json);
  if (!raw) return raw.error();
  ContactListRequest out;
  out.name = raw->name;
  if (raw->contacts)
    for (const auto& e : *raw->contacts) out.contacts.push_back(to_raw(e.c));
  return out;
}

Result<std::vector<commands::RawContact>> decode_contacts_request(std::string_view json) {
  auto raw = read_request<RawContacts>(json);
  if (!raw) return raw.error();
  std::vector<commands::RawContact> out;
  for (const auto& e : raw->contacts) out.push_back(to_raw(e.c));
  return out;
}

Result<ContactPatch> decode_contact_patch(std::string_view json) {
  auto raw = read_request<RawContactEntry>(json);
  if (!raw) return raw.error();
  return ContactPatch{raw->c.first_name, raw->c.last_name, raw->c.name, raw->c.email,
                      raw->c.fields};
}

Result<CampaignRequest> decode_campaign_request(std::string_view json) {
  auto raw = read_request<RawCampaign>(json);
  if (!raw) return raw.error();
  return CampaignRequest{raw->name, raw->message, raw->contact_list_id, raw->scheduled_at};
}

// ---- webhooks (issue 6) ----------------------------------------------------------------------

std::string encode(const projections::WebhookSet& v) {
  return encode_view(v);
}
Result<projections::WebhookSet> decode_webhook_set(std::string_view json) {
  return decode_view<projections::WebhookSet>(json);
}
std::string encode(const projections::OutboxRecord& v) {
  return encode_view(v);
}
Result<projections::OutboxRecord> decode_outbox(std::string_view json) {
  return decode_view<projections::OutboxRecord>(json);
}
std::string encode(const DeliveryState& v) {
  return encode_view(v);
}
Result<DeliveryState> decode_delivery(std::string_view json) {
  return decode_view<DeliveryState>(json);
}
std::string encode(const EndpointHealth& v) {
  return encode_view(v);
}
Result<EndpointHealth> decode_endpoint_health(std::string_view json) {
  return decode_view<EndpointHealth>(json);
}

namespace {
struct RawWebhook {
  std::optional<std::string> url, description;
  std::optional<std::vector<std::string>> events;
  std::optional<bool> enabled;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("url", s.url), f("events", s.events), f("description", s.description),
        f("enabled", s.enabled);
  }
};
}  // namespace

Result<WebhookRequest> decode_webhook_request(std::string_view json) {
  auto raw = read_request<RawWebhook>(json);
  if (!raw) return raw.error();
  return WebhookRequest{std::move(raw->url), std::move(raw->events), std::move(raw->description),
                        raw->enabled};
}

}  // namespace pulse::codec
