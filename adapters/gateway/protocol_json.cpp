#include "adapters/gateway/protocol_json.h"

#include <simdjson.h>

#include "adapters/codec/thread_parser.h"
#include "domain/json_writer.h"
#include "fmt/format.h"

namespace pulse::gateway {
namespace {

using simdjson::dom::element;

// One parser per thread (codec/thread_parser.h): a document is decoded into structs before
// the next parse, and the HTTP layer trims what a large one left.
simdjson::dom::parser& parser() {
  return codec::thread_parser(codec::ParserSlot::gateway);
}

Error malformed(std::string_view what, std::string_view body) {
  return Error{Errc::internal, fmt::format("Unexpected answer from the server to {}", what),
               std::string(body.substr(0, 300))};
}

Result<element> parse_object(std::string_view what, std::string_view body) {
  element root;
  if (parser().parse(body.data(), body.size()).get(root) || !root.is_object())
    return malformed(what, body);
  return root;
}

// A string field that must be there.
bool get_string(element obj, const char* key, std::string& out) {
  std::string_view v;
  if (obj[key].get_string().get(v)) return false;
  out = std::string(v);
  return true;
}

// An optional integer field: absent or null leaves `out` as it is.
bool get_optional_int(element obj, const char* key, int& out) {
  element v;
  if (obj[key].get(v) || v.is_null()) return true;
  int64_t n = 0;
  if (v.get_int64().get(n)) return false;
  out = static_cast<int>(n);
  return true;
}

}  // namespace

std::string_view to_string(ReportStatus s) {
  switch (s) {
    case ReportStatus::sent:
      return "sent";
    case ReportStatus::delivered:
      return "delivered";
    case ReportStatus::failed:
      return "failed";
  }
  return "sent";
}

std::string token_request_json(std::string_view api_key) {
  JsonWriter w;
  w.begin_object().field("apiKey", api_key).end_object();
  return w.take();
}

std::string registration_json(std::string_view pairing_token, const DeviceProfile& d) {
  JsonWriter w;
  w.begin_object()
      .field("pairingToken", pairing_token)
      .field("deviceName", d.device_name)
      .field("model", d.model)
      .field("osVersion", d.os_version)
      .field("appVersion", d.app_version);
  w.key("sims").begin_array();
  for (const auto& s : d.sims)
    w.begin_object()
        .field("slot", s.slot)
        .field("phoneNumber", s.phone_number)
        .field("carrier", s.carrier)
        .end_object();
  w.end_array().end_object();
  return w.take();
}

std::string heartbeat_json(int battery, int signal, std::string_view app_version) {
  JsonWriter w;
  w.begin_object()
      .field("battery", battery)
      .field("signal", signal)
      .field("appVersion", app_version)
      .end_object();
  return w.take();
}

std::string claim_json(int max, int wait_seconds) {
  JsonWriter w;
  w.begin_object().field("max", max).field("waitSeconds", wait_seconds).end_object();
  return w.take();
}

std::string reports_json(std::span<const Report> reports) {
  JsonWriter w;
  w.begin_object().key("reports").begin_array();
  for (const auto& r : reports) {
    w.begin_object().field("messageId", r.message_id).field("status", to_string(r.status));
    if (r.status == ReportStatus::failed) w.field("error", r.error);
    w.field("at", format_iso8601(r.at)).end_object();
  }
  w.end_array().end_object();
  return w.take();
}

Result<std::string> parse_token(std::string_view body) {
  auto root = parse_object("POST /api/auth/token", body);
  if (!root) return root.error();
  std::string token;
  if (!get_string(*root, "token", token) || token.empty())
    return malformed("POST /api/auth/token", body);
  return token;
}

Result<std::string> parse_pairing(std::string_view body) {
  auto root = parse_object("POST /api/devices/pairing", body);
  if (!root) return root.error();
  std::string token;
  if (!get_string(*root, "pairingToken", token) || token.empty())
    return malformed("POST /api/devices/pairing", body);
  return token;
}

Result<Registration> parse_registration(std::string_view body) {
  constexpr std::string_view what = "POST /api/gateway/register";
  auto root = parse_object(what, body);
  if (!root) return root.error();
  Registration r;
  if (!get_string(*root, "deviceId", r.device_id) ||
      !get_string(*root, "deviceToken", r.device_token) || r.device_token.empty() ||
      !get_optional_int(*root, "heartbeatIntervalSeconds", r.heartbeat_interval_seconds) ||
      !get_optional_int(*root, "leaseSeconds", r.lease_seconds))
    return malformed(what, body);
  get_string(*root, "organizationId", r.organization_id);  // informative only
  return r;
}

Result<std::vector<ClaimedMessage>> parse_claim(std::string_view body) {
  constexpr std::string_view what = "POST /api/gateway/messages/claim";
  auto root = parse_object(what, body);
  if (!root) return root.error();
  simdjson::dom::array messages;
  if ((*root)["messages"].get_array().get(messages)) return malformed(what, body);
  std::vector<ClaimedMessage> out;
  for (element m : messages) {
    ClaimedMessage c;
    if (!m.is_object() || !get_string(m, "id", c.id) || c.id.empty() ||
        !get_string(m, "phone", c.phone) || !get_optional_int(m, "simSlot", c.sim_slot) ||
        !get_optional_int(m, "attempt", c.attempt))
      return malformed(what, body);
    get_string(m, "body", c.body);
    if (std::string lease; get_string(m, "leaseExpiresAt", lease)) {
      c.lease_expires_at = parse_iso8601(lease);
      if (!c.lease_expires_at) return malformed(what, body);
    }
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<ReportResult>> parse_report_results(std::string_view body) {
  constexpr std::string_view what = "POST /api/gateway/messages/status";
  auto root = parse_object(what, body);
  if (!root) return root.error();
  simdjson::dom::array results;
  if ((*root)["results"].get_array().get(results)) return malformed(what, body);
  std::vector<ReportResult> out;
  for (element e : results) {
    ReportResult r;
    if (!e.is_object() || !get_string(e, "messageId", r.message_id) ||
        e["accepted"].get_bool().get(r.accepted))
      return malformed(what, body);
    get_string(e, "status", r.status);
    get_string(e, "error", r.error);
    out.push_back(std::move(r));
  }
  return out;
}

Error http_error(int status, std::string_view body) {
  Errc code = Errc::internal;
  switch (status) {
    case 400:
      code = Errc::validation;
      break;
    case 401:
      code = Errc::unauthorized;
      break;
    case 403:
      code = Errc::forbidden;
      break;
    case 404:
      code = Errc::not_found;
      break;
    case 409:
      code = Errc::conflict;
      break;
    case 429:
      code = Errc::rate_limited;
      break;
    case 503:
      code = Errc::unavailable;
      break;
    default:
      break;
  }
  element root;
  std::string message, details;
  if (!parser().parse(body.data(), body.size()).get(root) && root.is_object() &&
      get_string(root, "error", message)) {
    get_string(root, "details", details);
    return Error{code, fmt::format("HTTP {}: {}", status, message), details};
  }
  return Error{code, fmt::format("HTTP {}", status), std::string(body.substr(0, 300))};
}

}  // namespace pulse::gateway
