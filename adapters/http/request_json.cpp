#include "adapters/http/request_json.h"

#include <simdjson.h>

#include <set>

#include "adapters/codec/thread_parser.h"
#include "domain/text.h"
#include "fmt/format.h"

namespace pulse::http {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

constexpr const char* kInvalidBody = "Invalid request body";

// One parser per thread (codec/thread_parser.h): a document is decoded into structs before
// the next parse, and the HTTP layer trims what a large one left.
simdjson::dom::parser& parser() {
  return codec::thread_parser(codec::ParserSlot::requests);
}

// Parses a body that must be a JSON object.
Result<object> parse_object(std::string_view json) {
  element doc;
  if (auto err = parser().parse(json.data(), json.size()).get(doc))
    return validation_error(kInvalidBody,
                            fmt::format("invalid JSON: {}", simdjson::error_message(err)));
  object o;
  if (doc.get_object().get(o))
    return validation_error(kInvalidBody, "the body must be a JSON object");
  return o;
}

}  // namespace

Status check_unused_body(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return ok_status();
  element doc;
  if (auto err = parser().parse(body.data(), body.size()).get(doc))
    return validation_error(kInvalidBody,
                            fmt::format("invalid JSON: {}", simdjson::error_message(err)));
  return ok_status();
}

namespace {

// Reads fields of one JSON object, remembering the first problem. `where` names the object in
// error details ("recipients[3]").
class Fields {
 public:
  Fields(object obj, std::string where) : obj_(obj), where_(std::move(where)) {}

  std::string str(const char* k) {
    std::string_view v;
    if (obj_[k].get_string().get(v)) fail(k, "a string");
    return std::string(v);
  }
  std::string str_or(const char* k, std::string_view fallback) {
    return has(k) ? str(k) : std::string(fallback);
  }
  std::optional<std::string> opt_str(const char* k) {
    if (!has(k)) return std::nullopt;
    return str(k);
  }
  int64_t i64(const char* k) {
    int64_t v = 0;
    if (obj_[k].get_int64().get(v)) fail(k, "an integer");
    return v;
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
      error_ = validation_error(kInvalidBody, fmt::format("{}{}{} must be {}", where_,
                                                          where_.empty() ? "" : ".", k, what));
  }
  void fail_raw(std::string details) {
    if (!error_) error_ = validation_error(kInvalidBody, std::move(details));
  }
  bool failed() const { return error_.has_value(); }
  const Error& error() const { return *error_; }
  void take_error_from(const Fields& other) {
    if (!error_ && other.error_) error_ = other.error_;
  }

 private:
  object obj_;
  std::string where_;
  std::optional<Error> error_;
};

// ---- bodies described by a field list (T::fields) ------------------------------------------
// Optional fields may be absent or null; every other field must be present with its type.

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
template <class V, class C>
struct IsMap<std::map<std::string, V, C>> : std::true_type {};

template <class T>
void read_object(object o, T& out, const std::string& path, std::optional<std::string>& err);

template <class T>
void read_value(element e, T& out, const std::string& path, std::optional<std::string>& err) {
  if (err) return;
  auto fail = [&](std::string_view what) { err = fmt::format("{} must be {}", path, what); };
  if constexpr (std::is_same_v<T, std::string>) {
    std::string_view s;
    if (e.get_string().get(s)) return fail("a string");
    out = s;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (e.get_bool().get(out)) return fail("a boolean");
  } else if constexpr (std::is_same_v<T, int32_t>) {
    int64_t n = 0;
    if (e.get_int64().get(n) || n < INT32_MIN || n > INT32_MAX) return fail("a 32-bit integer");
    out = static_cast<int32_t>(n);
  } else if constexpr (IsOptional<T>::value) {
    if (e.is_null()) {
      out.reset();
      return;
    }
    typename T::value_type v{};
    read_value(e, v, path, err);
    if (!err) out = std::move(v);
  } else if constexpr (IsVector<T>::value) {
    array a;
    if (e.get_array().get(a)) return fail("an array");
    out.clear();
    for (element x : a) {
      typename T::value_type v{};
      read_value(x, v, path + "[]", err);
      if (err) return;
      out.push_back(std::move(v));
    }
  } else if constexpr (IsMap<T>::value) {
    object o;
    if (e.get_object().get(o)) return fail("an object");
    out.clear();
    for (auto [k, x] : o) {
      typename T::mapped_type v{};
      read_value(x, v, path + "." + std::string(k), err);
      if (err) return;
      out.emplace(std::string(k), std::move(v));
    }
  } else {
    object o;
    if (e.get_object().get(o)) return fail("an object");
    read_object(o, out, path, err);
  }
}

template <class T>
void read_object(object o, T& out, const std::string& path, std::optional<std::string>& err) {
  T::fields(out, [&](const char* k, auto& x) {
    if (err) return;
    element child;
    if (o[k].get(child)) {
      if constexpr (IsOptional<std::decay_t<decltype(x)>>::value)
        x.reset();
      else
        err = fmt::format("{}.{} must be present", path, k);
      return;
    }
    read_value(child, x, path + "." + k, err);
  });
}

// A body read through its field list: its errors become the client's 400.
template <class T>
Result<T> read_request(std::string_view json) {
  auto obj = parse_object(json);
  if (!obj) return obj.error();
  T out{};
  std::optional<std::string> err;
  read_object(*obj, out, "body", err);
  if (err) return validation_error(kInvalidBody, std::move(*err));
  return out;
}

// An optional one-line text field: at most `max` bytes, and the rule for text from outside.
Status check_text(const std::optional<std::string>& s, std::string_view name, size_t max) {
  if (!s) return ok_status();
  if (s->size() > max)
    return validation_error(kInvalidBody, fmt::format("{} is longer than {}", name, max));
  return pulse::check_text(name, *s);
}

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
  std::optional<std::string> missing_variables;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("name", s.name), f("message", s.message), f("contactListId", s.contact_list_id),
        f("scheduledAt", s.scheduled_at), f("missingVariables", s.missing_variables);
  }
};

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

Result<std::map<std::string, std::string>> decode_strings(
    std::string_view json, std::initializer_list<const char*> required,
    std::initializer_list<const char*> optional) {
  auto obj = parse_object(json);
  if (!obj) return obj.error();
  Fields f(*obj, "");
  std::map<std::string, std::string> out;
  for (const char* k : required) {
    if (!f.has(k)) return validation_error(kInvalidBody, fmt::format("{} is required", k));
    out[k] = f.str(k);
  }
  for (const char* k : optional)
    if (f.has(k)) out[k] = f.str(k);
  if (f.failed()) return f.error();
  return out;
}

Result<service::VerifyStartInput> decode_verify_start(std::string_view json) {
  auto obj = parse_object(json);
  if (!obj) return obj.error();
  Fields f(*obj, "");
  service::VerifyStartInput in;
  if (!f.has("to")) return validation_error(kInvalidBody, "to is required: the number to verify");
  in.to = f.str("to");
  in.channel = f.opt_str("channel");
  for (const char* k : {"codeLength", "code_length"})
    if (f.has(k)) in.code_length = f.i64(k);
  if (f.has("expiry")) in.expiry_seconds = f.i64("expiry");
  in.template_text = f.opt_str("template");
  if (f.failed()) return f.error();
  return in;
}

Result<VerifyCheckBody> decode_verify_check(std::string_view json, bool with_code) {
  auto obj = parse_object(json);
  if (!obj) return obj.error();
  Fields f(*obj, "");
  VerifyCheckBody out;
  for (const char* k : {"requestId", "request_id"})
    if (f.has(k)) out.request_id = f.str(k);
  if (out.request_id.empty() && !f.failed())
    return validation_error(kInvalidBody, "requestId is required: the vrf_… id of the request");
  if (with_code) {
    if (!f.has("code")) return validation_error(kInvalidBody, "code is required");
    out.code = f.str("code");
  }
  if (f.failed()) return f.error();
  return out;
}

Result<std::map<std::string, std::optional<int64_t>>> decode_ints(
    std::string_view json, std::initializer_list<const char*> names) {
  auto obj = parse_object(json);
  if (!obj) return obj.error();
  Fields f(*obj, "");
  std::map<std::string, std::optional<int64_t>> out;
  for (const char* k : names) out[k] = f.has(k) ? std::optional<int64_t>(f.i64(k)) : std::nullopt;
  if (f.failed()) return f.error();
  return out;
}

namespace {

// {recipients, message, deviceId?} of a parsed POST /api/sms/send body.
Result<commands::SendSmsRequest> read_send_sms(object body) {
  Fields f(body, "");
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
    Fields r(o, fmt::format("recipients[{}]", i));
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
  if (auto m = f.opt_str("missingVariables")) {
    auto missing = parse_missing_variables(*m);
    if (!missing) return missing.error();
    req.missing_variables = *missing;
  }
  if (f.failed()) return f.error();
  return req;
}

}  // namespace

Result<commands::SendSmsRequest> decode_send_sms_request(std::string_view json) {
  auto obj = parse_object(json);
  if (!obj) return obj.error();
  return read_send_sms(*obj);
}

Result<SendSmsBody> decode_send_sms_body(std::string_view json) {
  auto obj = parse_object(json);
  if (!obj) return obj.error();
  auto request = read_send_sms(*obj);
  if (!request) return request.error();
  SendSmsBody out{std::move(request).value(), std::nullopt, std::nullopt};
  Fields f(*obj, "");
  if (auto at = f.opt_str("scheduledAt"); f.failed())
    out.scheduled_at_error = f.error();
  else if (at && !at->empty())
    out.scheduled_at = std::move(at);
  return out;
}

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
  CampaignRequest out{raw->name, raw->message, raw->contact_list_id, raw->scheduled_at};
  if (raw->missing_variables) {
    auto missing = parse_missing_variables(*raw->missing_variables);
    if (!missing) return missing.error();
    out.missing_variables = *missing;
  }
  return out;
}

Result<WebhookRequest> decode_webhook_request(std::string_view json) {
  auto raw = read_request<RawWebhook>(json);
  if (!raw) return raw.error();
  return WebhookRequest{std::move(raw->url), std::move(raw->events), std::move(raw->description),
                        raw->enabled};
}

Result<DeviceRegistrationRequest> decode_device_registration(std::string_view json,
                                                             const PhoneParser& phones) {
  auto raw = read_request<RawRegistration>(json);
  if (!raw) return raw.error();
  for (auto [v, n] :
       {std::pair{&raw->name, "deviceName"}, std::pair{&raw->model, "model"},
        std::pair{&raw->os_version, "osVersion"}, std::pair{&raw->app_version, "appVersion"}})
    if (auto st = check_text(*v, n, 200); !st) return st.error();
  DeviceRegistrationRequest r;
  r.pairing_token = raw->pairing_token;
  auto& d = r.device;
  d.device_name = raw->name.value_or("Android gateway");
  if (d.device_name.empty()) d.device_name = "Android gateway";
  d.model = raw->model.value_or("");
  d.os_version = raw->os_version.value_or("");
  d.app_version = raw->app_version.value_or("");
  std::set<int> slots;
  for (const auto& sim : raw->sims.value_or(std::vector<RawSim>{})) {
    gateway::SimCard card;
    card.slot = sim.slot.value_or(static_cast<int32_t>(d.sims.size()));
    if (card.slot < 0 || card.slot > 7 || !slots.insert(card.slot).second)
      return validation_error("Invalid SIM slot", "slots are 0 to 7, each once");
    if (sim.phone_number && !sim.phone_number->empty()) {
      auto phone = phones.parse(*sim.phone_number);
      if (!phone)
        return validation_error(
            phone.error().message,
            fmt::format("sims[{}].phoneNumber: {}", d.sims.size(), phone.error().details));
      card.phone_number = phone->number.e164;
    }
    if (auto st = check_text(sim.carrier, "carrier", 100); !st) return st.error();
    card.carrier = sim.carrier.value_or("");
    d.sims.push_back(card);
  }
  if (d.sims.empty()) d.sims.push_back(gateway::SimCard{0, "", ""});
  if (d.sims.size() > 8) return validation_error("Too many SIMs", "at most 8");
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

}  // namespace pulse::http
