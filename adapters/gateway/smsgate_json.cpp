#include "adapters/gateway/smsgate_json.h"

#include <simdjson.h>

#include <algorithm>
#include <set>

#include "adapters/codec/thread_parser.h"
#include "domain/json_writer.h"
#include "domain/phone.h"
#include "fmt/format.h"

namespace pulse::gateway::smsgate {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

constexpr std::pair<State, std::string_view> kStates[] = {
    {State::pending, "Pending"},    {State::processed, "Processed"},
    {State::sent, "Sent"},          {State::delivered, "Delivered"},
    {State::failed, "Failed"},      {State::cancelling, "Cancelling"},
    {State::cancelled, "Cancelled"}};

// One parser per thread (codec/thread_parser.h): a document is decoded into structs before
// the next parse, and the HTTP layer trims what a large one left.
simdjson::dom::parser& parser() {
  return codec::thread_parser(codec::ParserSlot::smsgate);
}

Error invalid(std::string details) {
  return validation_error("Invalid request body", std::move(details));
}

// A string field: absent or null -> nullopt; another type -> error.
Result<std::optional<std::string>> opt_string(object o, const char* k, size_t max,
                                              const std::string& where) {
  element e;
  if (o[k].get(e) || e.is_null()) return std::optional<std::string>{};
  std::string_view v;
  if (e.get_string().get(v)) return invalid(fmt::format("{}{}: a string", where, k));
  if (v.size() > max) return invalid(fmt::format("{}{}: at most {} bytes", where, k, max));
  return std::optional<std::string>{std::string(v)};
}

Result<std::optional<int64_t>> opt_int(object o, const char* k, const std::string& where) {
  element e;
  if (o[k].get(e) || e.is_null()) return std::optional<int64_t>{};
  int64_t v = 0;
  if (e.get_int64().get(v)) return invalid(fmt::format("{}{}: an integer", where, k));
  return std::optional<int64_t>{v};
}

// A SIM's phone number in E.164, or none: the app redacts numbers to their last four digits
// ("********2671"), which are no number (a SIM's number is E.164 or empty everywhere in Pulse).
std::string sim_phone(const PhoneParser& phones, const std::string& raw) {
  if (auto p = phones.parse(raw)) return p->number.e164;
  return {};
}

Result<std::vector<SimCard>> decode_sims(element e, const PhoneParser& phones) {
  array a;
  if (e.get_array().get(a)) return invalid("simCards: an array");
  std::vector<SimCard> out;
  std::set<int32_t> slots;
  size_t i = 0;
  for (element item : a) {
    const auto where = fmt::format("simCards[{}].", i++);
    object o;
    if (item.get_object().get(o)) return invalid(where + ": an object");
    auto slot_index = opt_int(o, "slotIndex", where);
    if (!slot_index) return slot_index.error();
    auto sim_number = opt_int(o, "simNumber", where);
    if (!sim_number) return sim_number.error();
    auto phone = opt_string(o, "phoneNumber", 32, where);
    if (!phone) return phone.error();
    auto carrier = opt_string(o, "carrierName", 100, where);
    if (!carrier) return carrier.error();
    // simNumber is 1-based, checked before the subtraction (which overflows at INT64_MIN).
    int64_t slot = -1;
    if (!*sim_number)
      slot = slot_index->value_or(static_cast<int64_t>(out.size()));
    else if (**sim_number >= 1 && **sim_number <= 8)
      slot = **sim_number - 1;
    if (slot < 0 || slot > 7 || !slots.insert(static_cast<int32_t>(slot)).second)
      return validation_error("Invalid SIM", "simNumber is 1 to 8, each SIM once");
    out.push_back(SimCard{static_cast<int32_t>(slot), sim_phone(phones, phone->value_or("")),
                          carrier->value_or("")});
  }
  if (out.size() > 8) return validation_error("Too many SIMs", "at most 8");
  return out;
}

Result<object> root_object(std::string_view json) {
  element doc;
  if (parser().parse(json.data(), json.size()).get(doc))
    return validation_error("Malformed JSON", "The request body is not valid JSON.");
  object o;
  if (doc.get_object().get(o)) return invalid("a JSON object");
  return o;
}

void write_sim(JsonWriter& w, const SimCard& s) {
  w.begin_object().field("slotIndex", s.slot).field("simNumber", s.slot + 1);
  if (!s.phone_number.empty()) w.field("phoneNumber", s.phone_number);
  if (!s.carrier.empty()) w.field("carrierName", s.carrier);
  w.end_object();
}

}  // namespace

std::string_view to_string(State s) {
  for (const auto& [state, name] : kStates)
    if (state == s) return name;
  return "Pending";
}

std::optional<State> state_from(std::string_view s) {
  for (const auto& [state, name] : kStates)
    if (name == s) return state;
  return std::nullopt;
}

Result<RegisterRequest> decode_register(std::string_view json, const PhoneParser& phones) {
  auto o = root_object(json);
  if (!o) return o.error();
  RegisterRequest r;
  auto name = opt_string(*o, "name", 128, "");
  if (!name) return name.error();
  r.name = name->value_or("");
  if (r.name.empty()) r.name = "Android gateway";
  auto push = opt_string(*o, "pushToken", 256, "");
  if (!push) return push.error();
  r.push_token = *push;
  element sims;
  if (!(*o)["simCards"].get(sims) && !sims.is_null()) {
    auto s = decode_sims(sims, phones);
    if (!s) return s.error();
    r.sims = std::move(s).value();
  }
  if (r.sims.empty()) r.sims.push_back(SimCard{0, "", ""});
  return r;
}

Result<DevicePatch> decode_device_patch(std::string_view json, const PhoneParser& phones) {
  auto o = root_object(json);
  if (!o) return o.error();
  DevicePatch p;
  auto id = opt_string(*o, "id", 64, "");
  if (!id) return id.error();
  p.id = id->value_or("");
  auto push = opt_string(*o, "pushToken", 256, "");
  if (!push) return push.error();
  p.push_token = *push;
  element sims;
  if (!(*o)["simCards"].get(sims) && !sims.is_null()) {
    auto s = decode_sims(sims, phones);
    if (!s) return s.error();
    p.sims = std::move(s).value();
  }
  return p;
}

Result<std::vector<MessagePatch>> decode_message_patch(std::string_view json, size_t max_items,
                                                       size_t max_recipients) {
  element doc;
  if (parser().parse(json.data(), json.size()).get(doc))
    return validation_error("Malformed JSON", "The request body is not valid JSON.");
  array items;
  if (doc.get_array().get(items)) return invalid("an array of {id, state, recipients, states}");
  if (items.size() == 0 || items.size() > max_items)
    return validation_error("Invalid request body",
                            fmt::format("send 1 to {} messages", max_items));
  std::vector<MessagePatch> out;
  for (element item : items) {
    const auto where = fmt::format("[{}].", out.size());
    object o;
    if (item.get_object().get(o)) return invalid(where + ": an object");
    MessagePatch p;
    auto id = opt_string(o, "id", 64, where);
    if (!id) return id.error();
    if (!*id || (*id)->empty()) return invalid(where + "id: required");
    p.id = **id;
    auto state = opt_string(o, "state", 32, where);
    if (!state) return state.error();
    auto s = state_from(state->value_or(""));
    if (!s)
      return validation_error("Unknown state", fmt::format("{}state: Pending, Processed, Sent, "
                                                           "Delivered, Failed or Cancelled",
                                                           where));
    p.state = *s;
    array recipients;
    if (o["recipients"].get_array().get(recipients)) return invalid(where + "recipients: an array");
    if (recipients.size() == 0 || recipients.size() > max_recipients)
      return validation_error(
          "Too many recipients",
          fmt::format("{}recipients: 1 to {} per message", where, max_recipients));
    for (element re : recipients) {
      const auto rwhere = fmt::format("{}recipients[{}].", where, p.recipients.size());
      object ro;
      if (re.get_object().get(ro)) return invalid(rwhere + ": an object");
      RecipientState r;
      auto phone = opt_string(ro, "phoneNumber", 128, rwhere);
      if (!phone) return phone.error();
      r.phone_number = phone->value_or("");
      auto rs = opt_string(ro, "state", 32, rwhere);
      if (!rs) return rs.error();
      auto rstate = state_from(rs->value_or(""));
      if (!rstate) return validation_error("Unknown state", rwhere + "state");
      r.state = *rstate;
      auto err = opt_string(ro, "error", 1000, rwhere);
      if (!err) return err.error();
      r.error = *err;
      p.recipients.push_back(std::move(r));
    }
    element states;
    if (!o["states"].get(states) && !states.is_null()) {
      object so;
      if (states.get_object().get(so)) return invalid(where + "states: an object");
      for (auto [k, v] : so) {
        auto st = state_from(k);
        if (!st) return validation_error("Unknown state", fmt::format("{}states.{}", where, k));
        std::string_view t;
        std::optional<TimePoint> at;
        if (!v.get_string().get(t)) at = parse_iso8601(t);
        if (!at) return invalid(fmt::format("{}states.{}: an ISO 8601 time", where, k));
        p.states[*st] = *at;
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

std::string encode_message_patch(const std::vector<MessagePatch>& patches) {
  JsonWriter w;
  w.begin_array();
  for (const auto& p : patches) {
    w.begin_object().field("id", p.id).field("state", to_string(p.state));
    w.key("recipients").begin_array();
    for (const auto& r : p.recipients) {
      w.begin_object().field("phoneNumber", r.phone_number).field("state", to_string(r.state));
      if (r.error) w.field("error", *r.error);
      w.end_object();
    }
    w.end_array().key("states").begin_object();
    for (const auto& [s, at] : p.states) w.field(to_string(s), format_iso8601(at));
    w.end_object().end_object();
  }
  w.end_array();
  return w.take();
}

std::vector<StatusReport> to_reports(const MessagePatch& p, const MessageId& id,
                                     const std::string& phone, TimePoint now) {
  const RecipientState* r = nullptr;
  for (const auto& x : p.recipients)
    if (x.phone_number == phone) r = &x;
  if (!r) r = &p.recipients.front();
  const auto at = [&](State s) {
    auto it = p.states.find(s);
    return it == p.states.end() ? now : std::min(it->second, now);
  };
  std::vector<StatusReport> out;
  switch (r->state) {
    case State::pending:
    case State::processed:
    case State::cancelling:
      break;
    case State::sent:
      out.push_back(StatusReport{id, ReportedStatus::sent, "", at(State::sent)});
      break;
    case State::delivered:
      out.push_back(StatusReport{id, ReportedStatus::sent, "", at(State::sent)});
      out.push_back(StatusReport{id, ReportedStatus::delivered, "", at(State::delivered)});
      break;
    case State::failed:
      // The app fails a message it could not send before validUntil (the lease's end) with
      // "TTL expired": Pulse's lease has ended too, and the message is queued again.
      if (r->error == "TTL expired" && !p.states.count(State::sent)) break;
      if (p.states.count(State::sent))
        out.push_back(StatusReport{id, ReportedStatus::sent, "", at(State::sent)});
      out.push_back(StatusReport{id, ReportedStatus::failed,
                                 r->error && !r->error->empty() ? *r->error : "Failed",
                                 at(State::failed)});
      break;
    case State::cancelled:
      out.push_back(
          StatusReport{id, ReportedStatus::failed, "Cancelled on the phone", at(State::cancelled)});
      break;
  }
  return out;
}

std::string encode_messages(const std::vector<Message>& messages) {
  JsonWriter w;
  w.begin_array();
  for (const auto& m : messages) {
    // The reference's field order; "message" is the deprecated copy of textMessage.text.
    w.begin_object().field("id", m.id).field("message", m.text);
    w.key("textMessage").begin_object().field("text", m.text).end_object();
    w.key("phoneNumbers").begin_array();
    for (const auto& p : m.phone_numbers) w.value(p);
    w.end_array();
    if (m.sim_number) w.field("simNumber", *m.sim_number);
    w.field("withDeliveryReport", m.with_delivery_report);
    if (m.valid_until) w.field("validUntil", format_iso8601(*m.valid_until));
    w.field("state", to_string(m.state)).field("createdAt", format_iso8601(m.created_at));
    w.end_object();
  }
  w.end_array();
  return w.take();
}

Result<std::vector<Message>> decode_messages(std::string_view json) {
  element doc;
  if (parser().parse(json.data(), json.size()).get(doc))
    return validation_error("Malformed JSON", "messages");
  array a;
  if (doc.get_array().get(a)) return invalid("an array of messages");
  std::vector<Message> out;
  for (element e : a) {
    object o;
    if (e.get_object().get(o)) return invalid("a message object");
    Message m;
    std::string_view v;
    if (o["id"].get_string().get(v)) return invalid("id");
    m.id = std::string(v);
    if (!o["textMessage"]["text"].get_string().get(v) || !o["message"].get_string().get(v))
      m.text = std::string(v);
    array phones;
    if (o["phoneNumbers"].get_array().get(phones)) return invalid("phoneNumbers");
    for (element p : phones)
      if (!p.get_string().get(v)) m.phone_numbers.emplace_back(v);
    int64_t n = 0;
    if (!o["simNumber"].get_int64().get(n)) m.sim_number = static_cast<int32_t>(n);
    if (!o["validUntil"].get_string().get(v)) m.valid_until = parse_iso8601(v);
    if (!o["state"].get_string().get(v)) m.state = state_from(v).value_or(State::pending);
    out.push_back(std::move(m));
  }
  return out;
}

std::string encode_register_response(const RegisterResponse& r) {
  JsonWriter w;
  // No password: Pulse has no per-device user; its API uses organisation tokens.
  w.begin_object().field("id", r.id).field("token", r.token).field("login", r.login).end_object();
  return w.take();
}

Result<RegisterResponse> decode_register_response(std::string_view json) {
  auto o = root_object(json);
  if (!o) return o.error();
  RegisterResponse r;
  std::string_view v;
  if ((*o)["id"].get_string().get(v)) return invalid("id");
  r.id = std::string(v);
  if ((*o)["token"].get_string().get(v)) return invalid("token");
  r.token = std::string(v);
  if (!(*o)["login"].get_string().get(v)) r.login = std::string(v);
  return r;
}

std::string encode_register_request(const std::string& name, const std::vector<Sim>& sims) {
  JsonWriter w;
  w.begin_object().field("name", name).key("simCards").begin_array();
  for (const auto& s : sims) {
    w.begin_object().field("slotIndex", s.slot_index).field("simNumber", s.sim_number);
    if (!s.phone_number.empty()) w.field("phoneNumber", s.phone_number);
    if (!s.carrier_name.empty()) w.field("carrierName", s.carrier_name);
    w.end_object();
  }
  w.end_array().end_object();
  return w.take();
}

std::string encode_device(const std::optional<DeviceInfo>& device, const std::string& external_ip) {
  JsonWriter w;
  w.begin_object();
  if (device) {
    w.key("device")
        .begin_object()
        .field("id", device->id)
        .field("name", device->name)
        .field("createdAt", format_iso8601(device->created_at))
        .field("updatedAt", format_iso8601(device->updated_at))
        .field("lastSeen", format_iso8601(device->last_seen));
    w.key("simCards").begin_array();
    for (const auto& s : device->sims) write_sim(w, s);
    w.end_array().end_object();
  }
  w.field("externalIp", external_ip).end_object();
  return w.take();
}

std::string encode_settings(const Settings& s) {
  JsonWriter w;
  w.begin_object().key("messages").begin_object();
  if (s.send_interval_seconds)
    w.field("send_interval_min", *s.send_interval_seconds)
        .field("send_interval_max", *s.send_interval_seconds);
  if (s.daily_limit)
    w.field("limit_period", "PerDay").field("limit_value", *s.daily_limit);
  else
    w.field("limit_period", "Disabled");
  // Pulse names the SIM of every message (simNumber); the phone's own choice never applies.
  w.field("sim_selection_mode", "OSDefault").field("processing_order", "FIFO").end_object();
  w.key("ping").begin_object().field("interval_seconds", s.ping_seconds).end_object();
  if (!s.signing_key.empty())
    w.key("webhooks").begin_object().field("signing_key", s.signing_key).end_object();
  w.end_object();
  return w.take();
}

std::string encode_webhooks(const std::vector<Webhook>& hooks) {
  JsonWriter w;
  w.begin_array();
  for (const auto& h : hooks)
    w.begin_object().field("id", h.id).field("url", h.url).field("event", h.event).end_object();
  w.end_array();
  return w.take();
}

Result<ReceivedSms> decode_received(std::string_view json) {
  auto o = root_object(json);
  if (!o) return o.error();
  ReceivedSms r;
  auto event = opt_string(*o, "event", 64, "");
  if (!event) return event.error();
  r.event = event->value_or("");
  if (r.event != "sms:received") return r;
  object payload;
  if ((*o)["payload"].get_object().get(payload)) return invalid("payload: an object");
  auto sender = opt_string(payload, "sender", 64, "payload.");
  if (!sender) return sender.error();
  auto phone = opt_string(payload, "phoneNumber", 64, "payload.");
  if (!phone) return phone.error();
  r.sender = sender->value_or(phone->value_or(""));
  auto message = opt_string(payload, "message", 20000, "payload.");
  if (!message) return message.error();
  r.message = message->value_or("");
  auto at = opt_string(payload, "receivedAt", 64, "payload.");
  if (!at) return at.error();
  r.received_at = at->value_or("");
  auto sim = opt_int(payload, "simNumber", "payload.");
  if (!sim) return sim.error();
  r.sim_number = *sim;
  return r;
}

std::string signed_text(std::string_view body, std::string_view timestamp) {
  std::string out(body);
  out.append(timestamp);
  return out;
}

Result<std::string> parse_pairing_code(std::string_view body) {
  auto o = root_object(body);
  if (!o) return o.error();
  std::string_view v;
  if ((*o)["code"].get_string().get(v))
    return Error{Errc::internal, "No pairing code", "POST /api/devices/pairing answered no code"};
  return std::string(v);
}

std::string sse_event(std::string_view name) {
  return fmt::format("event: {}\ndata: null\n\n", name);
}

}  // namespace pulse::gateway::smsgate
