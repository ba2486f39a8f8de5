#pragma once
// Stateless validation of POST /api/sms/send: raw request fields -> a SendSms command, or the
// 400 the client gets. Consistent checks (quota, …) belong to the decider.
#include <optional>
#include <string>
#include <vector>

#include "domain/commands.h"
#include "domain/phone.h"
#include "domain/result.h"
#include "domain/template.h"

namespace pulse::commands {

inline constexpr size_t kMaxRecipients = 500;

struct RawRecipient {
  std::string phone;
  std::string name;
};

struct SendSmsRequest {
  std::vector<RawRecipient> recipients;
  std::string message;
  std::optional<std::string> device_id;  // only this gateway device may send it
  std::optional<int32_t> sim_slot;       // with device_id: from this SIM of it, while it sends
  MissingVariables missing_variables = MissingVariables::refuse;
};

// Recipients' phones are classified by `phones`; numbers that can't receive SMS are refused.
Result<SendSms> make_send_sms(const SendSmsRequest& request, CampaignId campaign_id,
                              const PhoneParser& phones);

// Template variables of a recipient of the send API: name, firstName (first word of name),
// lastName (the rest) and phone.
TemplateVars recipient_vars(const Recipient& r);

}  // namespace pulse::commands
