#include "commands/decider.h"

#include <algorithm>

#include "commands/campaigns.h"
#include "commands/contacts.h"
#include "commands/gateway.h"
#include "commands/opt_outs.h"
#include "commands/send_sms.h"
#include "commands/verify.h"
#include "commands/webhooks.h"
#include "domain/message_body.h"
#include "domain/overloaded.h"
#include "domain/template.h"
#include "fmt/format.h"

namespace pulse::commands {
namespace {

using Decision = Result<std::vector<Event>>;

Error org_not_found() {
  return Error{Errc::not_found, "Organization not found", "It does not exist."};
}

std::string plural(int64_t n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

}  // namespace

Decision decide_send(const DeciderConfig& config, const OrgState& org, const CommandEnvelope& env,
                     const SendSms& cmd) {
  if (!org.exists) return org_not_found();
  // A repeated Idempotency-Key answers before anything else: the first send was accepted.
  if (auto replay = replay_send(org, cmd, env.at)) return std::move(*replay);
  if (cmd.device_id) {
    auto d = org.devices.find(cmd.device_id->value);
    if (d == org.devices.end())
      return Error{
          Errc::not_found, "Device not found",
          fmt::format("{} is not a paired device of this organization", cmd.device_id->value)};
    if (!d->second.online || d->second.sending.empty())
      return validation_error("Device offline",
                              fmt::format("{} is not online with a sending SIM; send without "
                                          "deviceId or wait for it to connect",
                                          cmd.device_id->value));
  }
  const bool online = std::any_of(org.devices.begin(), org.devices.end(), [](const auto& d) {
    return d.second.online && !d.second.sending.empty();
  });
  if (!online)
    return validation_error("No online devices. Connect at least one device to send SMS.",
                            "Check the Devices page in your dashboard.");
  const auto suppression = skip_opted_out(
      org, cmd.recipients, [](const Recipient& r) -> std::string_view { return r.phone.e164; });
  const auto n = static_cast<int64_t>(suppression.kept.size());
  const int64_t remaining = sms_remaining(config, org, env.at);
  if (remaining != kUnlimited && n > remaining)
    return monthly_limit_reached(config, org, env.at, n, "request");
  auto tmpl = parse_template(cmd.message);
  assert(tmpl.ok());  // make_send_sms validated it

  const auto requested = static_cast<int64_t>(cmd.recipients.size());
  std::vector<Event> events;
  events.push_back(CampaignCreated{
      cmd.campaign_id, fmt::format("SMS to {}", plural(requested, "recipient")), "api", cmd.message,
      static_cast<int32_t>(n), env.at + config.gateway.message_ttl});
  if (cmd.device_id) {
    // A SIM that does not send (receive-only, or switched off since) leaves the pin on the
    // device alone: another SIM of the same phone sends.
    const auto& sending = org.devices.at(cmd.device_id->value).sending;
    std::optional<int32_t> sim;
    if (cmd.sim_slot && std::find(sending.begin(), sending.end(), *cmd.sim_slot) != sending.end())
      sim = cmd.sim_slot;
    events.push_back(CampaignPinned{cmd.campaign_id, *cmd.device_id, sim});
  }
  if (!suppression.suppressed.empty())
    events.push_back(RecipientsSuppressed{cmd.campaign_id, suppression.suppressed});
  MessagesQueued chunk{cmd.campaign_id, {}};
  // Message indexes are contiguous over the recipients that are sent to.
  for (size_t i = 0; i < suppression.kept.size(); ++i) {
    const auto& r = cmd.recipients[suppression.kept[i]];
    std::string body = tmpl->has_variables() ? render(*tmpl, recipient_vars(r)) : cmd.message;
    auto info = analyze_body(body);
    if (!info) return info.error();
    chunk.messages.push_back(QueuedMessage{
        MessageId{derive_id(id_prefix::message, cmd.campaign_id.value, static_cast<uint32_t>(i))},
        r.phone, r.name, std::move(body), info->encoding, info->segments, r.country, r.phone_type,
        cmd.sealed_message});
    if (chunk.messages.size() == MessagesQueued::kMaxMessagesPerEvent) {
      events.push_back(std::move(chunk));
      chunk = MessagesQueued{cmd.campaign_id, {}};
    }
  }
  if (!chunk.messages.empty()) events.push_back(std::move(chunk));
  if (cmd.idempotency_key)
    events.push_back(IdempotencyKeyRecorded{*cmd.idempotency_key, cmd.request_hash.value_or(""),
                                            cmd.campaign_id, static_cast<int32_t>(requested),
                                            env.at + kIdempotencyTtl});
  // Every recipient suppressed: nothing to wait for.
  if (n == 0) events.push_back(CampaignCompleted{cmd.campaign_id});
  return events;
}

namespace {

Decision decide_register(const UserState& user, const RegisterUser& cmd) {
  if (user.registered)
    return Error{Errc::conflict, "Email already registered",
                 "Log in, or sign up with another address."};
  return std::vector<Event>{UserRegistered{cmd.user_id, cmd.email, cmd.name, cmd.password_hash,
                                           cmd.default_org, cmd.organization_name, cmd.first_key}};
}

Decision decide_claim(const UserState& user, const ClaimOrganization& cmd) {
  if (!user.registered || user.user_id != cmd.user_id.value)
    return Error{Errc::not_found, "User not found", "It does not exist."};
  if (cmd.allowance != kUnlimited && user.organizations >= cmd.allowance)
    return Error{Errc::forbidden, "Organization limit reached",
                 fmt::format("Your plan allows {}; upgrade to create more.",
                             plural(cmd.allowance, "organization"))};
  return std::vector<Event>{OrganizationClaimed{cmd.user_id, cmd.email, cmd.new_org, cmd.name}};
}

Decision decide_create_org(const OrgState& org, const CreateOrganization& cmd) {
  if (org.exists) return Error{Errc::conflict, "Organization already exists", "Its id is taken."};
  std::vector<Event> events{OrganizationCreated{cmd.name, cmd.owner, Plan::free}};
  if (cmd.first_key) {
    const auto& k = *cmd.first_key;
    events.push_back(ApiKeyCreated{k.id, k.name, k.key_hash, k.hint, cmd.owner.value});
  }
  return events;
}

Decision decide_create_key(const DeciderConfig& config, const OrgState& org,
                           const CreateApiKey& cmd) {
  if (!org.exists) return org_not_found();
  const int64_t limit = config.plans[org.plan].api_keys;
  if (!within(limit, static_cast<int64_t>(org.api_keys.size()) + 1))
    return Error{Errc::forbidden, "API key limit reached",
                 fmt::format("The {} plan allows {}; revoke one or upgrade your plan.",
                             to_string(org.plan), plural(limit, "active API key"))};
  const auto& k = cmd.key;
  return std::vector<Event>{ApiKeyCreated{k.id, k.name, k.key_hash, k.hint, cmd.created_by}};
}

Decision decide_revoke_key(const OrgState& org, const RevokeApiKey& cmd) {
  if (!org.exists || !org.api_keys.count(cmd.key_id.value))
    return Error{Errc::not_found, "API key not found", "It does not exist or is revoked."};
  return std::vector<Event>{ApiKeyRevoked{cmd.key_id}};
}

Decision decide_set_account_plan(const UserState& user, const SetAccountPlan& cmd) {
  if (!user.registered || user.user_id != cmd.user_id.value)
    return Error{Errc::not_found, "User not found", "It does not exist."};
  return std::vector<Event>{AccountPlanChanged{cmd.user_id, cmd.plan}};
}

Decision decide_set_plan(const OrgState& org, const SetPlan& cmd) {
  if (!org.exists) return org_not_found();
  return std::vector<Event>{PlanChanged{cmd.plan}};
}

}  // namespace

std::string utc_month(TimePoint t) {
  const auto ymd = std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(t));
  return fmt::format("{:04}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()));
}

int64_t sms_remaining(const DeciderConfig& config, const OrgState& org, TimePoint at) {
  const int64_t limit = config.plans[org.plan].monthly_sms;
  if (limit == kUnlimited) return kUnlimited;
  const int64_t used = org.month == utc_month(at) ? org.month_messages : 0;
  return std::max<int64_t>(0, limit - used);
}

Error monthly_limit_reached(const DeciderConfig& config, const OrgState& org, TimePoint at,
                            int64_t needed, std::string_view what) {
  const int64_t remaining = sms_remaining(config, org, at);
  const auto ymd = std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(at));
  const auto next =
      std::chrono::year_month_day(ymd.year() / ymd.month() / 1) + std::chrono::months{1};
  const QuotaState quota{config.plans[org.plan].monthly_sms, remaining,
                         std::chrono::time_point_cast<Millis>(std::chrono::sys_days(next))};
  return Error{Errc::quota_exceeded, "Monthly SMS limit reached",
               fmt::format("{} SMS remaining this month on the {} plan; this {} needs {}",
                           remaining, to_string(org.plan), what, needed),
               quota};
}

Error misrouted(const CommandEnvelope& cmd) {
  return Error{Errc::internal, "Command routed to the wrong capability",
               std::string(command_type(cmd.body))};
}

// One overload per command or per capability's list, and no fallback: a command that nobody
// routes fails to compile here.
Decision decide(const DeciderConfig& config, const DeciderState& state,
                const CommandEnvelope& cmd) {
  return std::visit(
      Overloaded{
          [&](const SendSms& c) { return decide_send(config, state.org, cmd, c); },
          [&](const RegisterUser& c) { return decide_register(state.user, c); },
          [&](const ClaimOrganization& c) { return decide_claim(state.user, c); },
          [&](const CreateOrganization& c) { return decide_create_org(state.org, c); },
          [&](const CreateApiKey& c) { return decide_create_key(config, state.org, c); },
          [&](const RevokeApiKey& c) { return decide_revoke_key(state.org, c); },
          [&](const SetPlan& c) { return decide_set_plan(state.org, c); },
          [&](const SetAccountPlan& c) { return decide_set_account_plan(state.user, c); },
          [&](const AddOptOut& c) { return decide_add_opt_out(state.org, c); },
          [&](const RemoveOptOut& c) { return decide_remove_opt_out(state.org, c); },
          [&](const ReceiveSms& c) { return decide_receive_sms(state.org, c); },
          [&](const MarkConversationRead& c) { return decide_mark_read(state.org, c); },
          [&](const OneOf<GatewayCommands> auto&) { return decide_gateway(config, state, cmd); },
          [&](const OneOf<ContactCommands> auto&) { return decide_contacts(state.org, cmd); },
          [&](const OneOf<CampaignCommands> auto&) { return decide_campaign(config, state, cmd); },
          [&](const OneOf<WebhookCommands> auto&) { return decide_webhooks(state.org, cmd); },
          [&](const OneOf<VerifyCommands> auto&) { return decide_verify(config, state.org, cmd); },
      },
      cmd.body);
}

void evolve(const DeciderConfig& config, DeciderState& state, const Event& event, TimePoint at) {
  evolve_gateway(config, state.org, event, at);
  evolve_contacts(state.org, event, at);
  evolve_campaigns(state.org, event, at);
  evolve_opt_outs(state.org, event, at);
  evolve_webhooks(state.org, event);
  evolve_verify(state.org, event, at);
  auto& org = state.org;
  auto& user = state.user;
  std::visit(Overloaded{
                 [&](const CampaignCreated&) { ++org.campaigns; },
                 [&](const MessagesQueued& e) {
                   const auto n = static_cast<int64_t>(e.messages.size());
                   const auto month = utc_month(at);
                   if (org.month != month) {
                     org.month = month;
                     org.month_messages = 0;
                   }
                   org.month_messages += n;
                   org.messages += n;
                 },
                 [&](const CommandRejected&) {},
                 [&](const UserRegistered& e) {
                   user.registered = true;
                   user.user_id = e.user_id.value;
                   user.organizations = 1;
                 },
                 [&](const OrganizationClaimed&) { ++user.organizations; },
                 [&](const OrganizationCreated& e) {
                   org.exists = true;
                   org.plan = e.plan;
                 },
                 [&](const ApiKeyCreated& e) { org.api_keys.insert(e.id.value); },
                 [&](const ApiKeyRevoked& e) { org.api_keys.erase(e.id.value); },
                 [&](const PlanChanged& e) { org.plan = e.plan; },
                 [&](const AccountPlanChanged&) {},
                 // Sending's other events: evolve_gateway and evolve_opt_outs above.
                 [&](const CampaignCompleted&) {},
                 [&](const CommandDecided&) {},
                 [&](const RecipientsSuppressed&) {},
                 [&](const CampaignPinned&) {},
                 [&](const IdempotencyKeyRecorded&) {},
                 [&](const SendReplayed&) {},
                 // The other capabilities' events: their evolve_* above.
                 [&](const NoneOf<SendEvents, AccountEvents> auto&) {},
             },
             event);
}

}  // namespace pulse::commands
