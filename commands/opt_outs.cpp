#include "commands/opt_outs.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>

#include "domain/overloaded.h"
#include "fmt/format.h"

namespace pulse::commands {

bool is_opted_out(const OrgState& org, std::string_view e164) {
  return org.opt_outs.get().count(std::string(e164)) > 0;
}

namespace {

// Whether the body is one of `keywords`, in any case, surrounding spaces ignored.
bool is_keyword(std::string_view body, std::initializer_list<std::string_view> keywords) {
  const auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!body.empty() && space(body.front())) body.remove_prefix(1);
  while (!body.empty() && space(body.back())) body.remove_suffix(1);
  if (body.size() > 16) return false;
  std::string upper(body);
  std::transform(upper.begin(), upper.end(), upper.begin(), [](char c) {
    return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  });
  return std::find(keywords.begin(), keywords.end(), upper) != keywords.end();
}

}  // namespace

bool is_stop_keyword(std::string_view body) {
  return is_keyword(body, {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"});
}

bool is_start_keyword(std::string_view body) {
  return is_keyword(body, {"START", "UNSTOP", "SUBSCRIBE"});
}

std::optional<Result<std::vector<Event>>> replay_send(const OrgState& org, const SendSms& cmd,
                                                      TimePoint at) {
  if (!cmd.idempotency_key) return std::nullopt;
  const auto& keys = org.idempotency.get();
  auto it = keys.find(*cmd.idempotency_key);
  if (it == keys.end() || it->second.expires_at <= at) return std::nullopt;
  if (it->second.request_hash != cmd.request_hash.value_or(""))
    return Result<std::vector<Event>>(
        Error{Errc::conflict, "Idempotency key reused",
              fmt::format("Idempotency-Key '{}' was used with a different request body (campaign "
                          "{}); use a new key for a new request",
                          *cmd.idempotency_key, it->second.campaign_id)});
  return Result<std::vector<Event>>(
      std::vector<Event>{SendReplayed{*cmd.idempotency_key, CampaignId{it->second.campaign_id}}});
}

Result<std::vector<Event>> decide_add_opt_out(const OrgState& org, const AddOptOut& cmd) {
  if (!org.exists) return Error{Errc::not_found, "Organization not found", "It does not exist."};
  if (is_opted_out(org, cmd.phone)) return std::vector<Event>{};  // already: the first one stays
  return std::vector<Event>{OptOutAdded{cmd.phone, cmd.reason, "api"}};
}

Result<std::vector<Event>> decide_remove_opt_out(const OrgState& org, const RemoveOptOut& cmd) {
  if (!org.exists) return Error{Errc::not_found, "Organization not found", "It does not exist."};
  if (!is_opted_out(org, cmd.phone))
    return Error{Errc::not_found, "Opt-out not found",
                 fmt::format("{} is not on the opt-out list", cmd.phone)};
  return std::vector<Event>{OptOutRemoved{cmd.phone}};
}

Result<std::vector<Event>> decide_receive_sms(const OrgState& org, const ReceiveSms& cmd) {
  if (!org.devices.count(cmd.device_id.value))
    return Error{Errc::unauthorized, "Device not paired",
                 "Pair the phone again from the dashboard."};
  const bool stop = is_stop_keyword(cmd.body);
  std::vector<Event> events{
      SmsReceived{cmd.device_id, cmd.from, cmd.body, cmd.received_at, cmd.sim_slot, stop}};
  // Only numbers that parsed as E.164 can be suppressed (sends only ever go to those).
  if (stop && cmd.from.starts_with('+') && !is_opted_out(org, cmd.from))
    events.push_back(OptOutAdded{cmd.from, "replied " + cmd.body.substr(0, 32), "reply"});
  // The person asks to hear from the organisation again: whoever put the number on the list
  // (a STOP, or the API), their own word now stands.
  if (is_start_keyword(cmd.body) && is_opted_out(org, cmd.from))
    events.push_back(OptOutRemoved{cmd.from});
  return events;
}

Result<std::vector<Event>> decide_mark_read(const OrgState& org, const MarkConversationRead& cmd) {
  if (!org.exists) return Error{Errc::not_found, "Organization not found", "It does not exist."};
  return std::vector<Event>{ConversationRead{cmd.phone}};
}

void evolve_opt_outs(OrgState& org, const Event& event, TimePoint at) {
  std::visit(Overloaded{
                 [&](const OptOutAdded& e) { org.opt_outs.mut().insert(e.phone); },
                 [&](const OptOutRemoved& e) {
                   if (org.opt_outs.get().count(e.phone)) org.opt_outs.mut().erase(e.phone);
                 },
                 [&](const CampaignPinned& e) {
                   auto* q = org.queues.edit(e.campaign_id.value);
                   if (!q) return;
                   q->device = e.device_id.value;
                   q->sim = e.sim_slot;
                 },
                 [&](const IdempotencyKeyRecorded& e) {
                   auto& keys = org.idempotency.mut();
                   // Expired keys go when a new one comes: the map holds about a day of keys.
                   std::erase_if(keys, [&](const auto& k) { return k.second.expires_at <= at; });
                   keys[e.key] = IdempotentSend{e.request_hash, e.campaign_id.value,
                                                e.recipient_count, e.expires_at};
                 },
                 [&](const SmsReceived&) {},
                 [&](const ConversationRead&) {},
                 [&](const NoneOf<OptOutEvents> auto&) {},
             },
             event);
}

}  // namespace pulse::commands
