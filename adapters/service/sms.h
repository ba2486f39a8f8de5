#pragma once
// POST /api/sms/send: an immediate send (one SendSms command, optionally idempotent) or a
// scheduled one (a campaign that the clock launches).
#include <optional>
#include <string>
#include <string_view>

#include "adapters/service/ports.h"
#include "commands/send_sms.h"

namespace pulse::service {

// The Idempotency-Key header: 1 to 255 visible ASCII characters.
Status check_idempotency_key(std::string_view key);

struct SendInput {
  commands::SendSmsRequest request;
  std::optional<std::string> scheduled_at;  // ISO 8601; absent: send now
  // A scheduledAt the body could not hold (not a string): reported once the recipients and the
  // message are valid, so a body with several problems names the same one as before.
  std::optional<Error> scheduled_at_invalid;
  std::optional<std::string> idempotency_key;  // checked with check_idempotency_key
};

struct SendResult {
  CampaignId campaign_id;
  size_t recipients = 0;
  // The answer of an earlier send with the same Idempotency-Key and request.
  bool replayed = false;
};

Result<SendResult> send_sms(const Deps& d, const OrgId& org, SendInput in);

}  // namespace pulse::service
