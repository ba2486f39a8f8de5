#pragma once
// What a webhook request carries and where it may go: secrets, the two signatures (Standard
// Webhooks, and the reference's X-Pulse-Signature over the raw body); the URL rules are in
// url.h. No OpenSSL header here.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.h"

namespace pulse::webhooks {

// "whsec_" + base64 of 24 random bytes.
std::string new_secret();
// The HMAC key of a secret: the base64-decoded part after "whsec_" (Standard Webhooks).
std::optional<std::string> secret_key(std::string_view secret);
// "v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>".
std::string standard_signature(std::string_view secret, std::string_view id, int64_t timestamp,
                               std::string_view body);
// "sha256=<hex HMAC-SHA256(secret as written, body)>".
std::string body_signature(std::string_view secret, std::string_view body);

}  // namespace pulse::webhooks
