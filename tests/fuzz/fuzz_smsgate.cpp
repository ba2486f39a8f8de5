// The SMSGate app's device API (adapters/gateway/smsgate_json.h): what the server reads from
// the app (register, device patch, message states) and what the simulator reads from the
// server. Properties: SIMs are 1 to 8 with distinct slots 0..7 and E.164 or empty numbers;
// message patches and message lists survive encode -> decode unchanged (after the first
// decode); every decoded patch turns into reports without failing.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "adapters/gateway/smsgate_json.h"
#include "adapters/phone/phone_parser.h"
#include "domain/phone.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace sg = pulse::gateway::smsgate;

void check_sims(const std::vector<pulse::SimCard>& sims, std::string_view body) {
  PULSE_FUZZ_CHECK(sims.size() <= 8, body);
  std::set<int> slots;
  for (const auto& s : sims) {
    PULSE_FUZZ_CHECK(s.slot >= 0 && s.slot <= 7 && slots.insert(s.slot).second, body);
    if (!s.phone_number.empty()) {
      auto p = pulse::phone::default_parser().parse(s.phone_number);
      PULSE_FUZZ_CHECK(p && p->number.e164 == s.phone_number, s.phone_number);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  if (auto r = sg::decode_register(body, pulse::phone::default_parser())) {
    PULSE_FUZZ_CHECK(!r->name.empty() && !r->sims.empty(), body);
    check_sims(r->sims, body);
  }
  if (auto p = sg::decode_device_patch(body, pulse::phone::default_parser()); p && p->sims)
    check_sims(*p->sims, body);

  constexpr size_t kMaxItems = 100, kMaxRecipients = 10;
  if (auto patches = sg::decode_message_patch(body, kMaxItems, kMaxRecipients)) {
    PULSE_FUZZ_CHECK(!patches->empty() && patches->size() <= kMaxItems, body);
    const std::string once = sg::encode_message_patch(*patches);
    auto again = sg::decode_message_patch(once, kMaxItems, kMaxRecipients);
    PULSE_FUZZ_CHECK(again && sg::encode_message_patch(*again) == once, once);
    const auto now = pulse::from_unix_ms(1'775'000'000'000);
    for (const auto& p : *patches) {
      PULSE_FUZZ_CHECK(!p.recipients.empty() && p.recipients.size() <= kMaxRecipients, body);
      for (const auto& r : sg::to_reports(p, pulse::MessageId{p.id}, "+14155552671", now))
        PULSE_FUZZ_CHECK(r.at <= now, body);
    }
  }
  if (auto messages = sg::decode_messages(body)) {
    const std::string once = sg::encode_messages(*messages);
    auto again = sg::decode_messages(once);
    PULSE_FUZZ_CHECK(again && sg::encode_messages(*again) == once, once);
  }
  if (auto r = sg::decode_register_response(body)) {
    const std::string once = sg::encode_register_response(*r);
    auto again = sg::decode_register_response(once);
    PULSE_FUZZ_CHECK(again && sg::encode_register_response(*again) == once, once);
  }
  (void)sg::parse_pairing_code(body);
  return 0;
}
