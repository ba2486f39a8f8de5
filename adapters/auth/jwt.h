#pragma once
// HS256 JSON Web Tokens (RFC 7519) as the reference issues them: sub, orgId, iat, exp, jti,
// plus "typ" ("key" for tokens minted from an API key, "session" for a user's login).
#include <cstdint>
#include <string>
#include <string_view>

#include "domain/result.h"
#include "domain/time.h"

namespace pulse::auth {

struct JwtClaims {
  std::string sub;     // an API key id or a user id
  std::string org_id;  // the organisation the token acts for by default
  int64_t iat = 0;     // seconds since the epoch
  int64_t exp = 0;
  std::string jti;
  std::string typ;  // "key" | "session"
};

inline constexpr int64_t kTokenLifetimeSeconds = 86400;

std::string sign_jwt(const JwtClaims& claims, std::string_view secret);
// Checks the header (HS256 only), the signature (constant time) and the expiry against `now`.
Result<JwtClaims> verify_jwt(std::string_view token, std::string_view secret, TimePoint now);

}  // namespace pulse::auth
