#pragma once
// PhoneParser over libphonenumber's numbering-plan metadata. Its headers stay in the .cpp; the
// library's PhoneNumberUtil is a process-wide, thread-safe singleton, so this holds nothing.
#include "domain/phone.h"

namespace pulse::phone {

class LibPhoneNumberParser final : public PhoneParser {
 public:
  Result<ParsedPhone> parse(std::string_view input) const override;
};

// One shared instance for the composition root, the tools and the tests.
const PhoneParser& default_parser();

}  // namespace pulse::phone
