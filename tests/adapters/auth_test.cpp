// Crypto, JWTs and the HTTP layer's in-memory limits, with a fake clock (no sleeps).
#include <doctest/doctest.h>

#include "tests/support/fake_clock.h"

#include "adapters/auth/crypto.h"
#include "adapters/auth/jwt.h"
#include "adapters/http/limits.h"

using namespace pulse;

namespace {

using pulse::testing::FakeClock;

}  // namespace

TEST_CASE("SHA-256 and HMAC-SHA256 known answers") {
  CHECK(auth::sha256_hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231, test case 2.
  CHECK(auth::to_hex(auth::hmac_sha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("base64url round-trips and refuses other alphabets") {
  for (std::string s : std::initializer_list<std::string>{
           "", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\xff\xfe\x00", 3)}) {
    CAPTURE(s);
    auto back = auth::base64url_decode(auth::base64url(s));
    REQUIRE(back);
    CHECK(*back == s);
  }
  CHECK(auth::base64url("\xfb\xff") == "-_8");
  CHECK(auth::base64("foobar") == "Zm9vYmFy");
  CHECK_FALSE(auth::base64url_decode("+/8="));
  CHECK_FALSE(auth::base64url_decode("a"));
}

TEST_CASE("passwords: scrypt hashes are salted and verify only the right password") {
  const auto a = auth::hash_password("correct horse");
  const auto b = auth::hash_password("correct horse");
  CHECK(a != b);  // salted
  CHECK(a.starts_with("scrypt$15$8$1$"));
  CHECK(a.find("correct") == std::string::npos);
  CHECK(auth::verify_password("correct horse", a));
  CHECK(auth::verify_password("correct horse", b));
  CHECK_FALSE(auth::verify_password("correct horsE", a));
  CHECK_FALSE(auth::verify_password("", a));
  for (const char* bad : {"", "scrypt", "scrypt$15$8$1$x", "bcrypt$15$8$1$AAAA$AAAA",
                          "scrypt$40$8$1$AAAA$AAAA", "scrypt$x$8$1$AAAA$AAAA"})
    CHECK_FALSE(auth::verify_password("correct horse", bad));
}

TEST_CASE("JWT: signed, verified, expired, tampered") {
  const std::string secret = "0123456789abcdef0123456789abcdef";
  FakeClock clock;
  const int64_t now = to_unix_ms(clock.t) / 1000;
  const auth::JwtClaims claims{
      "key_01m80zvb19jvjvzb", "org_01m80zvb19jvjvzb", now, now + 86400, "a1b2c3", "key"};
  const auto token = auth::sign_jwt(claims, secret);
  CHECK(token.starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."));

  auto ok = auth::verify_jwt(token, secret, clock.now());
  REQUIRE(ok.ok());
  CHECK(ok->sub == claims.sub);
  CHECK(ok->org_id == claims.org_id);
  CHECK(ok->exp == claims.exp);
  CHECK(ok->typ == "key");

  clock.advance(Millis{86400 * 1000LL - 1000});
  CHECK(auth::verify_jwt(token, secret, clock.now()).ok());
  clock.advance(Millis{1000});
  auto expired = auth::verify_jwt(token, secret, clock.now());
  REQUIRE_FALSE(expired.ok());
  CHECK(expired.error().code == Errc::unauthorized);
  CHECK(expired.error().details == "The token has expired.");

  const auto fresh = from_unix_ms(now * 1000);
  CHECK_FALSE(auth::verify_jwt(token, "another secret of enough length!", fresh).ok());
  // Change one character of the payload: the signature no longer matches.
  std::string tampered = token;
  tampered[tampered.find('.') + 5] ^= 1;
  CHECK(auth::verify_jwt(tampered, secret, fresh).error().details ==
        "The token's signature does not match.");
  // alg "none" or a missing signature is never accepted.
  const auto dot = token.rfind('.');
  CHECK_FALSE(auth::verify_jwt(token.substr(0, dot + 1), secret, fresh).ok());
  const std::string none = auth::base64url(R"({"alg":"none","typ":"JWT"})") +
                           token.substr(token.find('.'), dot - token.find('.')) + ".";
  CHECK_FALSE(auth::verify_jwt(none, secret, fresh).ok());
  for (const char* junk : {"", "a", "a.b", "a.b.c", "a.b.c.d", "...."})
    CHECK_FALSE(auth::verify_jwt(junk, secret, fresh).ok());
}

TEST_CASE("rate limiter: a token bucket per key, refilled over the minute") {
  FakeClock clock;
  http::RateLimiter limiter(clock);
  for (int i = 0; i < 10; ++i) {
    auto d = limiter.take("org_a", 10);
    CHECK(d.allowed);
    CHECK(d.limit == 10);
    CHECK(d.remaining == 9 - i);
  }
  auto refused = limiter.take("org_a", 10);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.remaining == 0);
  CHECK(refused.retry_after == 6);  // one token every 6 s
  CHECK(refused.reset_seconds == 60);
  CHECK(limiter.take("org_b", 10).allowed);  // buckets are per key

  clock.advance(Millis{5999});
  CHECK_FALSE(limiter.take("org_a", 10).allowed);
  clock.advance(Millis{1});
  CHECK(limiter.take("org_a", 10).allowed);
  CHECK_FALSE(limiter.take("org_a", 10).allowed);

  clock.advance(Millis{10 * 60 * 1000});  // never more than the capacity
  for (int i = 0; i < 10; ++i) CHECK(limiter.take("org_a", 10).allowed);
  CHECK_FALSE(limiter.take("org_a", 10).allowed);

  auto unlimited = limiter.take("org_c", kUnlimited);
  CHECK(unlimited.allowed);
  CHECK(unlimited.limit == kUnlimited);
  CHECK_FALSE(limiter.take("org_d", 0).allowed);  // a limit of 0 allows nothing
}
