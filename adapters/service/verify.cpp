#include "adapters/service/verify.h"

#include <charconv>

#include "adapters/service/errors.h"
#include "domain/ids.h"
#include "domain/message_body.h"
#include "domain/template.h"
#include "domain/text.h"
#include "fmt/format.h"
#include "projections/view_json.h"

namespace pulse::service {
namespace {

constexpr size_t kMaxTemplateBytes = 640;

Result<projections::VerificationView> find(const Deps& d, const OrgId& org, const std::string& id) {
  if (!is_valid_id(verify::kIdPrefix, id))
    return validation_error("Invalid requestId",
                            "requestId is the vrf_… id /verify/start answered");
  auto v = d.reads.verification(org, id);
  if (!v) return v.error();
  if (!*v) return verify::not_found(id);
  return std::move(**v);
}

VerifyAnswer answer(const Deps& d, projections::VerificationView v, bool valid = false) {
  auto status = std::string(projections::verification_status(v, d.clock.now()));
  return VerifyAnswer{std::move(v), std::move(status), valid};
}

Result<int32_t> bounded(std::optional<int64_t> v, int64_t lo, int64_t hi, int64_t fallback,
                        std::string_view name) {
  const int64_t x = v.value_or(fallback);
  if (x < lo || x > hi)
    return validation_error(fmt::format("Invalid {}", name),
                            fmt::format("{} must be an integer from {} to {}", name, lo, hi));
  return static_cast<int32_t>(x);
}

}  // namespace

std::string verification_code_hash(Secrets& secrets, std::string_view salt, std::string_view code) {
  return secrets.sha256_hex(fmt::format("pulse-verify:{}:{}", salt, code));
}

std::string draw_verification_code(Secrets& secrets, int32_t length) {
  uint64_t limit = 1;
  for (int32_t i = 0; i < length; ++i) limit *= 10;
  // Rejection sampling: only the whole multiples of `limit` below 2^64 are uniform modulo it.
  const uint64_t usable = UINT64_MAX - UINT64_MAX % limit;
  for (;;) {
    const auto hex = secrets.random_hex(8);
    uint64_t x = 0;
    std::from_chars(hex.data(), hex.data() + hex.size(), x, 16);
    if (x < usable) return fmt::format("{:0{}}", x % limit, length);
  }
}

Result<VerifyAnswer> start_verification(const Deps& d, const OrgId& org,
                                        const VerifyStartInput& in) {
  if (in.channel && *in.channel != "sms")
    return validation_error(
        "Unsupported channel",
        fmt::format("channel '{}': only \"sms\" is available", in.channel->substr(0, 16)));
  auto phone = parse_recipient(d.phones, in.to);
  if (!phone) return validation_error(phone.error().message, "to: " + phone.error().details);
  auto length = bounded(in.code_length, verify::kMinCodeLength, verify::kMaxCodeLength,
                        verify::kDefaultCodeLength, "codeLength");
  if (!length) return length.error();
  auto expiry = bounded(in.expiry_seconds, verify::kMinExpirySeconds, verify::kMaxExpirySeconds,
                        verify::kDefaultExpirySeconds, "expiry");
  if (!expiry) return expiry.error();
  const std::string text = in.template_text.value_or(std::string(verify::kDefaultTemplate));
  if (text.size() > kMaxTemplateBytes)
    return validation_error("Template is too long",
                            fmt::format("template: at most {} bytes", kMaxTemplateBytes));
  if (auto st = check_text("template", text, TextKind::multi_line); !st) return st.error();
  auto tmpl = parse_template(text);
  if (!tmpl) return tmpl.error();
  if (auto st = check_variables(*tmpl, VariableNames{"code", "minutes"}, MissingVariables::refuse);
      !st)
    return st.error();
  const bool has_code = std::any_of(tmpl->parts.begin(), tmpl->parts.end(),
                                    [](const auto& p) { return p.is_var && p.text == "code"; });
  if (!has_code)
    return validation_error("Template has no {{code}}",
                            "The SMS must carry the code: put {{code}} where it goes.");

  const auto code = draw_verification_code(d.secrets, *length);
  const auto minutes = std::to_string((*expiry + 59) / 60);
  const auto clear = render(*tmpl, {{"code", code}, {"minutes", minutes}});
  auto masked = render(*tmpl, {{"code", std::string(static_cast<size_t>(*length), verify::kMask)},
                               {"minutes", minutes}});
  if (auto body = analyze_body(clear); !body)
    return validation_error(body.error().message, "template: " + body.error().details);
  auto sealed =
      d.sealer.seal(clear, verify::body_context(org), d.secrets.random_hex(kSealNonceBytes));
  if (!sealed) return sealed.error();

  const auto now = d.clock.now();
  StartVerification cmd;
  cmd.request_id = make_id(verify::kIdPrefix, now, d.secrets.random64());
  cmd.campaign_id = CampaignId{make_id(id_prefix::campaign, now, d.secrets.random64())};
  cmd.to = phone->number;
  cmd.country = phone->region;
  cmd.phone_type = std::string(to_string(phone->type));
  cmd.code_length = *length;
  cmd.expiry_seconds = *expiry;
  cmd.salt = d.secrets.random_hex(16);
  cmd.code_hash = verification_code_hash(d.secrets, cmd.salt, code);
  cmd.message = std::move(masked);
  cmd.sealed_message = std::move(sealed).value();
  const auto number = cmd.to.e164;
  if (auto st = d.log.execute(org, std::move(cmd)); !st) return st.error();
  // A new request, or the number's open one that this start sent again.
  auto latest = d.reads.latest_verification(org, number);
  if (!latest) return latest.error();
  if (!*latest) return Error{Errc::internal, "Verification not recorded", number};
  return answer(d, std::move(**latest));
}

Result<VerifyAnswer> check_verification(const Deps& d, const OrgId& org,
                                        const std::string& request_id, const std::string& code) {
  auto v = find(d, org, request_id);
  if (!v) return v.error();
  const bool digits =
      !code.empty() && code.size() <= 16 &&
      std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits) return validation_error("Invalid code", "code is the digits the SMS carried");
  // Closed or expired: answered from the view, no attempt counted.
  if (answer(d, *v).status != verify::status::pending) return answer(d, std::move(*v));
  CheckVerification cmd{request_id, d.secrets.random_hex(16),
                        verification_code_hash(d.secrets, v->salt, code)};
  const auto check_id = cmd.check_id;
  if (auto st = d.log.execute(org, std::move(cmd)); !st) return st.error();
  auto after = find(d, org, request_id);
  if (!after) return after.error();
  const bool valid = after->approved_by == check_id;
  return answer(d, std::move(*after), valid);
}

Result<VerifyAnswer> cancel_verification(const Deps& d, const OrgId& org,
                                         const std::string& request_id) {
  if (auto v = find(d, org, request_id); !v) return v.error();
  if (auto st = d.log.execute(org, CancelVerification{request_id}); !st) return st.error();
  auto after = find(d, org, request_id);
  if (!after) return after.error();
  return answer(d, std::move(*after));
}

Result<VerifyAnswer> get_verification(const Deps& d, const OrgId& org,
                                      const std::string& request_id) {
  auto v = find(d, org, request_id);
  if (!v) return v.error();
  return answer(d, std::move(*v));
}

}  // namespace pulse::service
