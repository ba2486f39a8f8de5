#include "adapters/service/sms.h"

#include <algorithm>

#include "adapters/service/campaigns.h"
#include "adapters/service/errors.h"
#include "commands/campaigns.h"
#include "domain/json_writer.h"
#include "fmt/format.h"

namespace pulse::service {
namespace {

// What makes two sends "the same request": the validated recipients, message and device.
std::string request_hash(Secrets& secrets, const SendSms& cmd) {
  JsonWriter w;
  w.begin_object().field("message", cmd.message).key("recipients").begin_array();
  for (const auto& r : cmd.recipients)
    w.begin_object().field("phone", r.phone.e164).field("name", r.name).end_object();
  w.end_array();
  if (cmd.device_id) w.field("deviceId", cmd.device_id->value);
  if (cmd.sim_slot) w.field("simSlot", *cmd.sim_slot);
  w.end_object();
  return secrets.sha256_hex(w.take());
}

// A scheduled send: a draft campaign of the recipients that the clock starts, like
// POST /api/campaigns's.
Result<SendResult> schedule(const Deps& d, const OrgId& org, const SendSms& cmd,
                            const std::string& at, TimePoint now, MissingVariables missing) {
  auto when = parse_schedule(at, now);
  if (!when) return when.error();
  std::vector<Contact> contacts;
  for (const auto& r : cmd.recipients)
    contacts.push_back(Contact{r.phone.e164, "", "", r.name, "", {}, r.country, r.phone_type});
  auto messages = commands::render_messages(cmd.message, contacts, missing);
  if (!messages) return messages.error();
  const auto n = static_cast<int32_t>(cmd.recipients.size());
  const DraftCampaign draft{.campaign_id = cmd.campaign_id,
                            .name = fmt::format("SMS to {} recipient{}", n, n == 1 ? "" : "s"),
                            .source = "api",
                            .message = cmd.message,
                            .contact_list_id = "",
                            .contact_list_name = "",
                            .contact_count = 0,
                            .total_messages = n,
                            .scheduled_at = *when};
  if (auto st = run_campaign(d, org, draft, *messages); !st) return st.error();
  return SendResult{cmd.campaign_id, cmd.recipients.size(), false};
}

}  // namespace

Status check_idempotency_key(std::string_view key) {
  const bool visible =
      std::all_of(key.begin(), key.end(), [](char c) { return c > 32 && c < 127; });
  if (key.empty() || key.size() > 255 || !visible)
    return validation_error("Invalid Idempotency-Key",
                            "1 to 255 visible ASCII characters, e.g. a UUID");
  return ok_status();
}

Result<SendResult> send_sms(const Deps& d, const OrgId& org, SendInput in) {
  const auto now = d.clock.now();
  auto cmd = commands::make_send_sms(
      in.request, CampaignId{make_id(id_prefix::campaign, now, d.secrets.random64())}, d.phones);
  if (!cmd) return cmd.error();
  if (in.scheduled_at_invalid) return *in.scheduled_at_invalid;
  if (in.scheduled_at) {
    if (in.idempotency_key || cmd->device_id)
      return validation_error("scheduledAt cannot be combined with deviceId or Idempotency-Key",
                              "Scheduled sends don't support them yet; send without one.");
    return schedule(d, org, *cmd, *in.scheduled_at, now, in.request.missing_variables);
  }
  const SendResult sent{cmd->campaign_id, cmd->recipients.size(), false};
  if (in.idempotency_key) {
    cmd->idempotency_key = *in.idempotency_key;
    cmd->request_hash = request_hash(d.secrets, *cmd);
  }
  const auto hash = cmd->request_hash;
  if (auto st = d.log.execute(org, std::move(cmd).value()); !st) return st.error();
  if (!in.idempotency_key) return sent;
  // The decider recorded the key with the send that was accepted first (this one or an earlier
  // one): answer what that one answered.
  auto first = d.reads.idempotency(org, *in.idempotency_key);
  if (!first) return first.error();
  if (*first && (*first)->request_hash == hash)
    return SendResult{(*first)->campaign_id, static_cast<size_t>((*first)->recipient_count),
                      (*first)->campaign_id.value != sent.campaign_id.value};
  return sent;
}

}  // namespace pulse::service
