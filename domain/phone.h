#pragma once
// Phone numbers: E.164 strings with the country and type they had when they entered Pulse.
// Parsing needs numbering-plan metadata, which lives in an adapter (adapters/phone, over
// libphonenumber) behind PhoneParser. The edge (service layer, request decoding, CSV import)
// classifies a number once and the command carries the result (E.164, region, type) into the
// log, like the time and the random ids, so deciders and projections never parse a number and
// replay stays byte for byte the same after a metadata upgrade.
#include <optional>
#include <string>
#include <string_view>

#include "domain/result.h"

namespace pulse {

struct PhoneNumber {
  std::string e164;  // "+14155552671"
  auto operator<=>(const PhoneNumber&) const = default;
};

// libphonenumber's number types. What a record stores is to_string() of one ("" when the
// record predates classification).
enum class PhoneType {
  mobile,
  fixed_line_or_mobile,  // the plan can't tell (the US, Canada, …): accepted as mobile
  fixed_line,
  toll_free,
  premium_rate,
  shared_cost,
  voip,
  personal_number,
  pager,
  uan,
  voicemail,
  unknown,
};
std::string_view to_string(PhoneType t);
std::optional<PhoneType> phone_type_from_string(std::string_view s);

// Whether a number of this type can receive an SMS. Accepted: mobile, fixed line or mobile,
// VoIP (app and cloud numbers commonly take SMS) and personal numbers (they forward to the
// subscriber's own phone). Refused: fixed lines, toll-free, premium-rate and shared-cost
// service numbers, UAN (company switchboards), pagers, voicemail and unknown types.
bool can_receive_sms(PhoneType t);

struct ParsedPhone {
  PhoneNumber number;  // E.164
  std::string region;  // ISO 3166-1 alpha-2 ("US", "GB"); "001" for non-geographic numbers
  PhoneType type = PhoneType::unknown;
};

// The phone-number capability, injected where outside bytes become numbers.
class PhoneParser {
 public:
  virtual ~PhoneParser() = default;
  // A valid number written internationally ("+" or "00" and a country code; spaces, dashes,
  // dots and parentheses are dropped, "+44 (0)20 …" loses its trunk 0), in E.164 with its
  // region and type. Rejections are validation errors "Invalid phone number" whose details say
  // why and quote the input. Never guesses a country.
  virtual Result<ParsedPhone> parse(std::string_view input) const = 0;
};

// A number an SMS can be sent to: parse() and can_receive_sms(), else a validation error
// "Invalid phone number" naming the type ("fixed_line numbers can't receive SMS: '…'").
Result<ParsedPhone> parse_recipient(const PhoneParser& phones, std::string_view input);

// The input echoed in an error's details, cut short (at a UTF-8 boundary) so an oversized
// value stays readable.
std::string quote_phone_input(std::string_view input);

}  // namespace pulse
