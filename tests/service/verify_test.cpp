#include "adapters/service/verify.h"

#include <doctest/doctest.h>

#include "tests/service/fake_deps.h"

namespace pulse::service {
namespace {

using testing::kNow;
using testing::World;

// The log "projects" a start as the projector would: a pending request for the number.
void project_starts(World& w) {
  w.log.outcome = [&w](size_t, const Command& c) -> Status {
    if (const auto* s = std::get_if<StartVerification>(&c)) {
      projections::VerificationView v;
      v.id = s->request_id;
      v.to = s->to.e164;
      v.status = "pending";
      v.code_length = s->code_length;
      v.salt = s->salt;
      v.expires_at = kNow + std::chrono::seconds(s->expiry_seconds);
      w.reads.verifications[v.id] = v;
    }
    return ok_status();
  };
}

TEST_CASE(
    "verify start: the code reaches the log only hashed with a salt and sealed; the "
    "message every view shows is masked") {
  World w;
  project_starts(w);
  auto r = start_verification(w.deps, w.org, {"+14155552671", "sms", 8, 600, std::nullopt});
  REQUIRE_MESSAGE(r.ok(), r.error().message, " ", r.error().details);
  CHECK(r->status == "pending");
  const auto starts = w.log.all<StartVerification>();
  REQUIRE(starts.size() == 1);
  const auto& s = *starts[0];
  CHECK(s.to.e164 == "+14155552671");
  CHECK(s.country == "US");
  CHECK(s.code_length == 8);
  CHECK(s.message == "Your code is ********. It expires in 10 minutes.");
  auto clear = w.sealer.open(s.sealed_message, "pulse/sms-body/org_test");
  REQUIRE(clear.ok());
  const std::string prefix = "Your code is ";
  REQUIRE(clear->starts_with(prefix));
  const auto code = clear->substr(prefix.size(), 8);
  CHECK(code.find_first_not_of("0123456789") == std::string::npos);
  CHECK(*clear == prefix + code + ". It expires in 10 minutes.");
  CHECK(s.code_hash == verification_code_hash(w.secrets, s.salt, code));
  CHECK(s.salt.size() == 32);
  // Another organisation's context does not open it.
  CHECK_FALSE(w.sealer.open(s.sealed_message, "pulse/sms-body/org_other").ok());
}

TEST_CASE("verify start: bad input is a 400 and appends nothing") {
  World w;
  const std::vector<VerifyStartInput> bad = {
      {"+14155552671", "voice", {}, {}, {}},
      {"+14155552671", {}, 3, {}, {}},
      {"+14155552671", {}, 9, {}, {}},
      {"+14155552671", {}, {}, 59, {}},
      {"+14155552671", {}, {}, 3601, {}},
      {"not a number", {}, {}, {}, {}},
      {"+14155552671", {}, {}, {}, std::string("Hello")},                // no {{code}}
      {"+14155552671", {}, {}, {}, std::string("{{code}} {{CODE}}")},    // unknown variable
      {"+14155552671", {}, {}, {}, std::string("{{code}} {{")},          // unclosed
      {"+14155552671", {}, {}, {}, std::string(700, 'x') + "{{code}}"},  // too long
  };
  for (const auto& in : bad) {
    CAPTURE(in.to);
    CAPTURE(in.template_text.value_or(""));
    auto r = start_verification(w.deps, w.org, in);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::validation);
  }
  CHECK(w.log.appended.empty());
}

TEST_CASE(
    "verify check: a pending request's check carries the code's salted hash; an expired "
    "or closed one is answered without a command") {
  World w;
  projections::VerificationView v;
  v.id = "vrf_01m80zvb19aaaaaa";
  v.to = "+14155552671";
  v.status = "pending";
  v.salt = "0123";
  v.expires_at = kNow + Millis{1};
  w.reads.verifications[v.id] = v;
  auto r = check_verification(w.deps, w.org, v.id, "123456");
  REQUIRE(r.ok());
  CHECK_FALSE(r->valid);  // nothing approved it (the fake log decides nothing)
  const auto checks = w.log.all<CheckVerification>();
  REQUIRE(checks.size() == 1);
  CHECK(checks[0]->code_hash == verification_code_hash(w.secrets, "0123", "123456"));
  // At its expiry: "expired", and no attempt is counted.
  w.reads.verifications[v.id].expires_at = kNow;
  auto expired = check_verification(w.deps, w.org, v.id, "123456");
  REQUIRE(expired.ok());
  CHECK(expired->status == "expired");
  CHECK(w.log.all<CheckVerification>().size() == 1);
  // Not a code, not an id, not this organisation's: 400, 400, 404.
  CHECK(check_verification(w.deps, w.org, v.id, "12a4").error().code == Errc::validation);
  CHECK(check_verification(w.deps, w.org, "nope", "1").error().code == Errc::validation);
  CHECK(check_verification(w.deps, w.org, "vrf_01m80zvb19bbbbbb", "1").error().code ==
        Errc::not_found);
}

TEST_CASE("verification codes are uniform digits of the asked length") {
  World w;
  for (int32_t n = 4; n <= 8; ++n) {
    const auto code = draw_verification_code(w.secrets, n);
    CHECK(code.size() == static_cast<size_t>(n));
    CHECK(code.find_first_not_of("0123456789") == std::string::npos);
  }
}

}  // namespace
}  // namespace pulse::service
