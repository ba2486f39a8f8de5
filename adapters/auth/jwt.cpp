#include "adapters/auth/jwt.h"

#include <simdjson.h>

#include "adapters/auth/crypto.h"
#include "domain/json_writer.h"

namespace pulse::auth {
namespace {

constexpr std::string_view kHeader = R"({"alg":"HS256","typ":"JWT"})";

Error invalid(std::string details) {
  return Error{Errc::unauthorized, "Invalid or expired token", std::move(details)};
}

}  // namespace

std::string sign_jwt(const JwtClaims& c, std::string_view secret) {
  JsonWriter w;
  w.begin_object()
      .field("sub", c.sub)
      .field("orgId", c.org_id)
      .field("iat", c.iat)
      .field("exp", c.exp)
      .field("jti", c.jti)
      .field("typ", c.typ)
      .end_object();
  std::string signing_input = base64url(kHeader) + "." + base64url(w.str());
  const std::string sig = base64url(hmac_sha256(secret, signing_input));
  return signing_input + "." + sig;
}

Result<JwtClaims> verify_jwt(std::string_view token, std::string_view secret, TimePoint now) {
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return invalid("The token is not a JWT.");
  const auto signing_input = token.substr(0, dot2);
  const auto expected = base64url(hmac_sha256(secret, signing_input));
  if (!constant_time_equal(expected, token.substr(dot2 + 1)))
    return invalid("The token's signature does not match.");
  auto header = base64url_decode(token.substr(0, dot1));
  auto payload = base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!header || !payload) return invalid("The token is not base64url.");

  simdjson::dom::parser parser;
  simdjson::dom::element h;
  std::string_view alg;
  if (parser.parse(*header).get(h) || h["alg"].get_string().get(alg) || alg != "HS256")
    return invalid("Only HS256 tokens are accepted.");
  simdjson::dom::element p;
  if (parser.parse(*payload).get(p)) return invalid("The token's claims are not JSON.");
  JwtClaims c;
  std::string_view sub, org, jti, typ;
  if (p["sub"].get_string().get(sub) || p["orgId"].get_string().get(org) ||
      p["iat"].get_int64().get(c.iat) || p["exp"].get_int64().get(c.exp) ||
      p["jti"].get_string().get(jti) || p["typ"].get_string().get(typ))
    return invalid("The token lacks a claim.");
  c.sub = sub;
  c.org_id = org;
  c.jti = jti;
  c.typ = typ;
  if (to_unix_ms(now) / 1000 >= c.exp) return invalid("The token has expired.");
  return c;
}

}  // namespace pulse::auth
