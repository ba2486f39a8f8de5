// The REST and gateway request bodies (adapters/http/request_json.h): every decoder on the same
// bytes. Properties: a registration has 1 to 8 SIMs on distinct slots 0..7 with E.164 or empty
// numbers; a heartbeat's figures are in range; status reports written by the phone side
// (gateway::reports_json) decode to the same reports.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/gateway/protocol_json.h"
#include "adapters/http/request_json.h"
#include "adapters/phone/phone_parser.h"
#include "domain/phone.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace http = pulse::http;

pulse::gateway::ReportStatus to_phone(pulse::ReportedStatus s) {
  switch (s) {
    case pulse::ReportedStatus::sent:
      return pulse::gateway::ReportStatus::sent;
    case pulse::ReportedStatus::delivered:
      return pulse::gateway::ReportStatus::delivered;
    case pulse::ReportedStatus::failed:
      return pulse::gateway::ReportStatus::failed;
  }
  return pulse::gateway::ReportStatus::sent;
}

void check_reports(const std::vector<pulse::StatusReport>& reports, std::string_view body) {
  std::vector<pulse::gateway::Report> phone;
  for (const auto& r : reports) {
    PULSE_FUZZ_CHECK(r.error.size() <= 500, body);
    phone.push_back({r.message_id.value, to_phone(r.status), r.error, r.at});
  }
  const std::string json = pulse::gateway::reports_json(phone);
  auto again = http::decode_status_reports(json);
  PULSE_FUZZ_CHECK(again && again->size() == reports.size(), json);
  for (size_t i = 0; i < reports.size(); ++i) {
    const auto &a = (*again)[i], &b = reports[i];
    PULSE_FUZZ_CHECK(a.message_id == b.message_id && a.status == b.status && a.at == b.at, json);
    if (b.status == pulse::ReportedStatus::failed) PULSE_FUZZ_CHECK(a.error == b.error, json);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  (void)http::check_unused_body(body);
  (void)http::decode_strings(body, {"name", "email"}, {"password"});
  (void)http::decode_ints(body, {"limit", "offset"});
  if (auto r = http::decode_send_sms_body(body))
    PULSE_FUZZ_CHECK(!r->scheduled_at || !r->scheduled_at->empty(), body);
  (void)http::decode_send_sms_request(body);
  (void)http::decode_contact_list_request(body);
  (void)http::decode_contacts_request(body);
  (void)http::decode_contact_patch(body);
  (void)http::decode_campaign_request(body);
  (void)http::decode_webhook_request(body);
  if (auto r = http::decode_device_registration(body, pulse::phone::default_parser())) {
    const auto& sims = r->device.sims;
    PULSE_FUZZ_CHECK(!sims.empty() && sims.size() <= 8 && !r->device.device_name.empty(), body);
    std::set<int> slots;
    for (const auto& s : sims) {
      PULSE_FUZZ_CHECK(s.slot >= 0 && s.slot <= 7 && slots.insert(s.slot).second, body);
      if (!s.phone_number.empty()) {
        auto p = pulse::phone::default_parser().parse(s.phone_number);
        PULSE_FUZZ_CHECK(p && p->number.e164 == s.phone_number, s.phone_number);
      }
    }
  }
  if (auto h = http::decode_heartbeat(body)) {
    PULSE_FUZZ_CHECK(!h->battery || (*h->battery >= 0 && *h->battery <= 100), body);
    PULSE_FUZZ_CHECK(!h->signal || (*h->signal >= 0 && *h->signal <= 4), body);
  }
  (void)http::decode_device_update(body);
  if (auto reports = http::decode_status_reports(body)) check_reports(*reports, body);
  return 0;
}
