// The phone parser (libphonenumber behind PhoneParser) on arbitrary text. Properties: a number
// that parses is E.164 ("+", at most 15 digits, the first not 0) with a region; its E.164 form
// parses to the same number, region and type; a recipient is exactly a number whose type can
// receive SMS; every rejection says why.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "adapters/phone/phone_parser.h"
#include "domain/phone.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto& phones = pulse::phone::default_parser();
  auto phone = phones.parse(input);
  auto recipient = pulse::parse_recipient(phones, input);
  if (!phone) {
    PULSE_FUZZ_CHECK(!phone.error().details.empty());
    PULSE_FUZZ_CHECK(!recipient);
    return 0;
  }
  const std::string& e164 = phone->number.e164;
  PULSE_FUZZ_CHECK(e164.size() >= 3 && e164.size() <= 16, e164);
  PULSE_FUZZ_CHECK(e164[0] == '+' && e164[1] >= '1' && e164[1] <= '9', e164);
  for (size_t i = 1; i < e164.size(); ++i) PULSE_FUZZ_CHECK(e164[i] >= '0' && e164[i] <= '9', e164);
  PULSE_FUZZ_CHECK(!phone->region.empty(), e164);
  PULSE_FUZZ_CHECK(recipient.ok() == pulse::can_receive_sms(phone->type), e164);
  auto again = phones.parse(e164);
  PULSE_FUZZ_CHECK(again && again->number == phone->number && again->region == phone->region &&
                       again->type == phone->type,
                   e164);
  return 0;
}
