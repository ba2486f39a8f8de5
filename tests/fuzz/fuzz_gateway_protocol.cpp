// The phone side of the gateway protocol (adapters/gateway/protocol_json.h): every answer the
// simulator parses from the server, and an error body. Properties: parsed values hold what the
// parsers promise (non-empty tokens and ids, valid lease times).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "adapters/gateway/protocol_json.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  namespace gw = pulse::gateway;
  if (auto t = gw::parse_token(body)) PULSE_FUZZ_CHECK(!t->empty(), body);
  if (auto t = gw::parse_pairing(body)) PULSE_FUZZ_CHECK(!t->empty(), body);
  if (auto r = gw::parse_registration(body)) PULSE_FUZZ_CHECK(!r->device_token.empty(), body);
  if (auto claim = gw::parse_claim(body))
    for (const auto& m : *claim) {
      PULSE_FUZZ_CHECK(!m.id.empty(), body);
      if (m.lease_expires_at) (void)pulse::format_iso8601(*m.lease_expires_at);
    }
  if (auto results = gw::parse_report_results(body))
    for (const auto& r : *results) (void)r.message_id.size();
  for (int status : {400, 401, 404, 429, 500, 503}) {
    auto e = gw::http_error(status, body);
    PULSE_FUZZ_CHECK(!e.message.empty(), body);
  }
  return 0;
}
