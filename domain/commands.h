#pragma once
// Commands are requests, appended to pulse.commands keyed by organisation. Each carries the
// time at which the HTTP layer accepted it: deciders never read the wall clock.
#include <string>
#include <variant>
#include <vector>

#include "domain/ids.h"
#include "domain/phone.h"
#include "domain/time.h"

namespace pulse {

struct Recipient {
  PhoneNumber phone;
  std::string name;  // may be empty
};

// POST /api/sms/send: a campaign of 1..500 recipients. The HTTP layer has already validated
// every field and chosen the campaign id.
struct SendSms {
  static constexpr std::string_view kType = "SendSms";
  static constexpr int kVersion = 1;
  CampaignId campaign_id;
  std::vector<Recipient> recipients;
  std::string message;
};

using Command = std::variant<SendSms>;

struct CommandEnvelope {
  CommandId id;
  OrgId org;
  TimePoint at;
  Command body;
};

std::string_view command_type(const Command& c);

}  // namespace pulse
