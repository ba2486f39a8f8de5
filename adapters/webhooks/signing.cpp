#include "adapters/webhooks/signing.h"

#include "adapters/auth/crypto.h"
#include "fmt/format.h"

namespace pulse::webhooks {
std::string new_secret() {
  std::string bytes;
  const auto hex = auth::random_hex(24);
  for (size_t i = 0; i < hex.size(); i += 2)
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return "whsec_" + auth::base64(bytes);
}

std::optional<std::string> secret_key(std::string_view secret) {
  if (!secret.starts_with("whsec_")) return std::nullopt;
  return auth::base64_decode(secret.substr(6));
}

std::string standard_signature(std::string_view secret, std::string_view id, int64_t timestamp,
                               std::string_view body) {
  const auto key = secret_key(secret).value_or(std::string(secret));
  std::string signed_content = fmt::format("{}.{}.", id, timestamp);
  signed_content.append(body);
  return "v1," + auth::base64(auth::hmac_sha256(key, signed_content));
}

std::string body_signature(std::string_view secret, std::string_view body) {
  return "sha256=" + auth::to_hex(auth::hmac_sha256(secret, body));
}

}  // namespace pulse::webhooks
