#pragma once
// Phone verification (domain/verify.h): the workflows behind POST /api/verify/start, /check and
// /cancel. Codes are drawn here from the cryptographic source, hashed with a random salt, and
// their SMS sealed under the data key before anything reaches the log.
#include <optional>
#include <string>

#include "adapters/service/ports.h"

namespace pulse::service {

struct VerifyStartInput {
  std::string to;
  std::optional<std::string> channel;  // "sms" only
  std::optional<int64_t> code_length;
  std::optional<int64_t> expiry_seconds;
  std::optional<std::string> template_text;  // may use {{code}} (required) and {{minutes}}
};

// A request as it is after the call, and its status at the time of the call.
struct VerifyAnswer {
  projections::VerificationView request;
  std::string status;
  bool valid = false;  // check: this check approved the request
};

// A new request, or the number's open one with its SMS sent again (the same code). 429 with
// Retry-After when the number had a code too recently or too often.
Result<VerifyAnswer> start_verification(const Deps& d, const OrgId& org,
                                        const VerifyStartInput& in);
// Checks `code`: valid once, for a pending request; 5 wrong codes fail it.
Result<VerifyAnswer> check_verification(const Deps& d, const OrgId& org,
                                        const std::string& request_id, const std::string& code);
Result<VerifyAnswer> cancel_verification(const Deps& d, const OrgId& org,
                                         const std::string& request_id);
Result<VerifyAnswer> get_verification(const Deps& d, const OrgId& org,
                                      const std::string& request_id);

// "pulse-verify:<salt>:<code>", hashed: what a request stores and a check compares.
std::string verification_code_hash(Secrets& secrets, std::string_view salt, std::string_view code);
// A code of `length` decimal digits, uniformly drawn from the cryptographic source.
std::string draw_verification_code(Secrets& secrets, int32_t length);

}  // namespace pulse::service
