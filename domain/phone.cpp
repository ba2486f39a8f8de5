#include "domain/phone.h"

#include "fmt/format.h"

namespace pulse {

namespace {

constexpr std::pair<PhoneType, std::string_view> kTypeNames[] = {
    {PhoneType::mobile, "mobile"},
    {PhoneType::fixed_line_or_mobile, "fixed_line_or_mobile"},
    {PhoneType::fixed_line, "fixed_line"},
    {PhoneType::toll_free, "toll_free"},
    {PhoneType::premium_rate, "premium_rate"},
    {PhoneType::shared_cost, "shared_cost"},
    {PhoneType::voip, "voip"},
    {PhoneType::personal_number, "personal_number"},
    {PhoneType::pager, "pager"},
    {PhoneType::uan, "uan"},
    {PhoneType::voicemail, "voicemail"},
    {PhoneType::unknown, "unknown"},
};

}  // namespace

std::string_view to_string(PhoneType t) {
  for (const auto& [type, name] : kTypeNames)
    if (type == t) return name;
  return "unknown";
}

std::optional<PhoneType> phone_type_from_string(std::string_view s) {
  for (const auto& [type, name] : kTypeNames)
    if (name == s) return type;
  return std::nullopt;
}

bool can_receive_sms(PhoneType t) {
  switch (t) {
    case PhoneType::mobile:
    case PhoneType::fixed_line_or_mobile:
    case PhoneType::voip:
    case PhoneType::personal_number:
      return true;
    case PhoneType::fixed_line:
    case PhoneType::toll_free:
    case PhoneType::premium_rate:
    case PhoneType::shared_cost:
    case PhoneType::pager:
    case PhoneType::uan:
    case PhoneType::voicemail:
    case PhoneType::unknown:
      return false;
  }
  return false;
}

std::string quote_phone_input(std::string_view input) {
  constexpr size_t kMaxEcho = 64;
  if (input.size() <= kMaxEcho) return std::string(input);
  size_t n = kMaxEcho;
  while (n > 0 && (static_cast<unsigned char>(input[n]) & 0xC0) == 0x80) --n;
  return fmt::format("{}...", input.substr(0, n));
}

Result<ParsedPhone> parse_recipient(const PhoneParser& phones, std::string_view input) {
  auto phone = phones.parse(input);
  if (!phone) return phone.error();
  if (!can_receive_sms(phone->type))
    return validation_error("Invalid phone number",
                            fmt::format("{} numbers can't receive SMS: '{}'",
                                        to_string(phone->type), quote_phone_input(input)));
  return phone;
}

}  // namespace pulse
