// JWT verification (adapters/auth/jwt.h) on arbitrary tokens, and on tokens whose header and
// claims are arbitrary bytes but whose signature is right, so the fuzzer gets past the MAC.
// Properties: a token verifies only with the key that signed it; verified claims, signed again,
// verify to the same claims; base64url_decode never yields more than 3 bytes per 4 characters.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "adapters/auth/crypto.h"
#include "adapters/auth/jwt.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using pulse::auth::JwtClaims;

constexpr std::string_view kKey = "fuzz-signing-key";
constexpr std::string_view kOtherKey = "fuzz-signing-kez";
const pulse::TimePoint kNow = pulse::from_unix_ms(1'775'000'000'000);

bool same(const JwtClaims& a, const JwtClaims& b) {
  return a.sub == b.sub && a.org_id == b.org_id && a.iat == b.iat && a.exp == b.exp &&
         a.jti == b.jti && a.typ == b.typ;
}

void check_token(std::string_view token) {
  auto claims = pulse::auth::verify_jwt(token, kKey, kNow);
  if (!claims) return;
  PULSE_FUZZ_CHECK(!pulse::auth::verify_jwt(token, kOtherKey, kNow), token);
  PULSE_FUZZ_CHECK(claims->exp > pulse::to_unix_ms(kNow) / 1000, token);
  const std::string again = pulse::auth::sign_jwt(*claims, kKey);
  auto reread = pulse::auth::verify_jwt(again, kKey, kNow);
  PULSE_FUZZ_CHECK(reread && same(*reread, *claims), again);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // As it comes: a bearer token from a request.
  check_token(input);
  if (auto raw = pulse::auth::base64url_decode(input))
    PULSE_FUZZ_CHECK(raw->size() <= input.size() / 4 * 3 + 2, input);

  // "header\npayload": both signed with the key.
  const size_t nl = input.find('\n');
  const std::string_view header = nl == std::string_view::npos ? "" : input.substr(0, nl);
  const std::string_view payload = nl == std::string_view::npos ? input : input.substr(nl + 1);
  std::string token =
      pulse::auth::base64url(header.empty() ? R"({"alg":"HS256","typ":"JWT"})" : header) + "." +
      pulse::auth::base64url(payload);
  token += "." + pulse::auth::base64url(pulse::auth::hmac_sha256(kKey, token));
  check_token(token);
  return 0;
}
