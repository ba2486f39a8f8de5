#include "commands/decider.h"

#include <algorithm>

#include "commands/send_sms.h"
#include "domain/message_body.h"
#include "domain/template.h"
#include "fmt/format.h"

namespace pulse::commands {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};

int64_t month_count(const OrgState& s, TimePoint at) {
  return s.month == utc_month(at) ? s.month_messages : 0;
}

Result<std::vector<Event>> decide_send(const DeciderConfig& config, const OrgState& state,
                                       const CommandEnvelope& env, const SendSms& cmd) {
  const auto n = static_cast<int64_t>(cmd.recipients.size());
  if (config.monthly_sms_limit > 0) {
    const int64_t remaining =
        std::max<int64_t>(0, config.monthly_sms_limit - month_count(state, env.at));
    if (n > remaining)
      return Error{Errc::quota_exceeded, "Monthly SMS limit reached",
                   fmt::format("{} SMS remaining this month; this request needs {}", remaining, n)};
  }
  auto tmpl = parse_template(cmd.message);
  assert(tmpl.ok());  // make_send_sms validated it

  std::vector<Event> events;
  events.push_back(CampaignCreated{cmd.campaign_id,
                                   fmt::format("SMS to {} recipient{}", n, n == 1 ? "" : "s"),
                                   "api", cmd.message, static_cast<int32_t>(n)});
  MessagesQueued chunk{cmd.campaign_id, {}};
  for (size_t i = 0; i < cmd.recipients.size(); ++i) {
    const auto& r = cmd.recipients[i];
    std::string body = tmpl->has_variables() ? render(*tmpl, recipient_vars(r)) : cmd.message;
    auto info = analyze_body(body);
    if (!info) return info.error();
    chunk.messages.push_back(QueuedMessage{
        MessageId{derive_id(id_prefix::message, cmd.campaign_id.value, static_cast<uint32_t>(i))},
        r.phone, r.name, std::move(body), info->encoding, info->segments});
    if (chunk.messages.size() == MessagesQueued::kMaxMessagesPerEvent) {
      events.push_back(std::move(chunk));
      chunk = MessagesQueued{cmd.campaign_id, {}};
    }
  }
  if (!chunk.messages.empty()) events.push_back(std::move(chunk));
  return events;
}

}  // namespace

std::string utc_month(TimePoint t) {
  const auto ymd = std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(t));
  return fmt::format("{:04}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()));
}

Result<std::vector<Event>> decide(const DeciderConfig& config, const OrgState& state,
                                  const CommandEnvelope& cmd) {
  return std::visit(
      Overloaded{[&](const SendSms& c) { return decide_send(config, state, cmd, c); }}, cmd.body);
}

void evolve(OrgState& state, const Event& event, TimePoint at) {
  std::visit(Overloaded{
                 [&](const CampaignCreated&) { ++state.campaigns; },
                 [&](const MessagesQueued& e) {
                   const auto n = static_cast<int64_t>(e.messages.size());
                   const auto month = utc_month(at);
                   if (state.month != month) {
                     state.month = month;
                     state.month_messages = 0;
                   }
                   state.month_messages += n;
                   state.messages += n;
                 },
                 [&](const CommandRejected&) {},
             },
             event);
}

}  // namespace pulse::commands
