#include "domain/sealed.h"

#include "domain/overloaded.h"

namespace pulse {

Result<std::string> reveal(const Sealer& sealer, const SecretValue& value,
                           std::string_view context) {
  return std::visit(
      Overloaded{[](const std::string& clear) -> Result<std::string> { return clear; },
                 [&](const SealedValue& sealed) -> Result<std::string> {
                   return sealer.open(sealed, context);
                 }},
      value);
}

}  // namespace pulse
