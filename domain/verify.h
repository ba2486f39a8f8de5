#pragma once
// Phone verification: one-time codes sent by SMS (POST /api/verify/start) and checked
// (POST /api/verify/check). The code is drawn where randomness enters (the service layer) and
// enters the log only as a salted hash and inside the sealed body of the SMS that carries it;
// every view of that SMS shows it masked. One request per number is open at a time: a start for
// a number with an open request sends its SMS again (throttled), a check is decided in the
// organisation's partition so two concurrent checks of one code cannot both succeed.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/fields.h"
#include "domain/ids.h"
#include "domain/phone.h"
#include "domain/result.h"
#include "domain/sealed.h"
#include "domain/time.h"
#include "domain/type_list.h"

namespace pulse {

namespace verify {
inline constexpr std::string_view kIdPrefix = "vrf";
inline constexpr int32_t kMinCodeLength = 4;
inline constexpr int32_t kMaxCodeLength = 8;
inline constexpr int32_t kDefaultCodeLength = 6;
inline constexpr int64_t kMinExpirySeconds = 60;
inline constexpr int64_t kMaxExpirySeconds = 3600;
inline constexpr int64_t kDefaultExpirySeconds = 300;
inline constexpr int32_t kMaxAttempts = 5;  // wrong codes before the request fails
// Sends to one number (first sends and resends, over all its requests).
inline constexpr Millis kResendInterval{30'000};  // at most one per this
inline constexpr Millis kSendWindow{3600'000};    // and kMaxSendsPerWindow per this
inline constexpr int32_t kMaxSendsPerWindow = 5;
inline constexpr std::string_view kDefaultTemplate =
    "Your code is {{code}}. It expires in {{minutes}} minutes.";
inline constexpr char kMask = '*';

namespace status {
inline constexpr std::string_view pending = "pending";
inline constexpr std::string_view approved = "approved";
inline constexpr std::string_view expired = "expired";
inline constexpr std::string_view failed = "failed";  // too many wrong codes
inline constexpr std::string_view cancelled = "cancelled";
}  // namespace status

// Equal strings, compared in time that depends only on their lengths.
bool constant_time_equal(std::string_view a, std::string_view b);
// A request's status at `now`: a stored "pending" at or past its expiry is "expired" (which is
// never stored: the decider decides by its command's time, the API by its clock).
std::string_view status_at(std::string_view stored, TimePoint expires_at, TimePoint now);
// The 404 of a request id this organisation does not have.
Error not_found(std::string_view request_id);
}  // namespace verify

// POST /api/verify/start: a new request, or (when the number has an open one) its SMS again.
struct StartVerification {
  static constexpr std::string_view kType = "StartVerification";
  static constexpr int kVersion = 1;
  std::string request_id;  // "vrf_…": used when a new request opens
  CampaignId campaign_id;  // the send that carries the SMS
  PhoneNumber to;
  std::optional<std::string> country;  // the number's region and type, as classified
  std::optional<std::string> phone_type;
  int32_t code_length = verify::kDefaultCodeLength;
  int64_t expiry_seconds = verify::kDefaultExpirySeconds;
  std::string salt;            // random, hex
  std::string code_hash;       // SHA-256 (hex) of "pulse-verify:<salt>:<code>"
  std::string message;         // the SMS with the code masked: what every view shows
  SealedValue sealed_message;  // the SMS in clear, sealed (context: verify::body_context)
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("requestId", s.request_id), f("campaignId", s.campaign_id), f("to", s.to),
        f("country", s.country, field::omit_empty), f("phoneType", s.phone_type, field::omit_empty),
        f("codeLength", s.code_length), f("expirySeconds", s.expiry_seconds), f("salt", s.salt),
        f("codeHash", s.code_hash), f("message", s.message), f("sealedMessage", s.sealed_message);
  }
};

// POST /api/verify/check: the submitted code, hashed with the request's salt.
struct CheckVerification {
  static constexpr std::string_view kType = "CheckVerification";
  static constexpr int kVersion = 1;
  std::string request_id;
  std::string check_id;  // random: names the check that approved the request
  std::string code_hash;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("requestId", s.request_id), f("checkId", s.check_id), f("codeHash", s.code_hash);
  }
};

// POST /api/verify/cancel: an open request ends unused.
struct CancelVerification {
  static constexpr std::string_view kType = "CancelVerification";
  static constexpr int kVersion = 1;
  std::string request_id;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("requestId", s.request_id);
  }
};

// ---- events

struct VerificationStarted {
  static constexpr std::string_view kType = "VerificationStarted";
  static constexpr int kVersion = 1;
  std::string request_id;
  std::string to;  // E.164
  CampaignId campaign_id;
  int32_t code_length = 0;
  TimePoint expires_at;
  std::string salt;
  std::string code_hash;
  std::string message;  // masked
  SealedValue sealed_message;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("requestId", s.request_id), f("to", s.to), f("campaignId", s.campaign_id),
        f("codeLength", s.code_length), f("expiresAt", s.expires_at), f("salt", s.salt),
        f("codeHash", s.code_hash), f("message", s.message), f("sealedMessage", s.sealed_message);
  }
};

// The open request's SMS went out again (the same code), in a new send.
struct VerificationResent {
  static constexpr std::string_view kType = "VerificationResent";
  static constexpr int kVersion = 1;
  std::string request_id;
  CampaignId campaign_id;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("requestId", s.request_id), f("campaignId", s.campaign_id);
  }
};

// A code was checked against an open request: right (approved), or wrong (attempts counted;
// failed at verify::kMaxAttempts). Webhooks verify.approved and verify.failed.
struct VerificationChecked {
  static constexpr std::string_view kType = "VerificationChecked";
  static constexpr int kVersion = 1;
  std::string request_id;
  std::string check_id;
  bool valid = false;
  int32_t attempts = 0;  // checks so far, this one included
  std::string status;    // after the check: pending, approved or failed
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("requestId", s.request_id), f("checkId", s.check_id), f("valid", s.valid),
        f("attempts", s.attempts), f("status", s.status);
  }
};

struct VerificationCancelled {
  static constexpr std::string_view kType = "VerificationCancelled";
  static constexpr int kVersion = 1;
  std::string request_id;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("requestId", s.request_id);
  }
};

using VerifyCommands = Types<StartVerification, CheckVerification, CancelVerification>;
using VerifyEvents =
    Types<VerificationStarted, VerificationResent, VerificationChecked, VerificationCancelled>;

namespace verify {
// What a verification SMS's sealed body is bound to: it opens only for its organisation.
std::string body_context(const OrgId& org);
}  // namespace verify

}  // namespace pulse
