#include "adapters/service/conversations.h"

#include <utility>

#include "adapters/service/errors.h"
#include "fmt/format.h"

namespace pulse::service {

Result<projections::ConversationView> find_conversation(const Deps& d, const OrgId& org,
                                                        const std::string& raw_phone) {
  auto parsed = d.phones.parse(raw_phone);
  const std::string phone = parsed ? parsed->number.e164 : raw_phone;
  auto c = d.reads.conversation(org, phone);
  if (!c) return c.error();
  if (!*c)
    return Error{Errc::not_found, "Conversation not found",
                 fmt::format("{} has not written to this organization", phone)};
  return std::move(**c);
}

Result<projections::ConversationView> mark_conversation_read(const Deps& d, const OrgId& org,
                                                             const std::string& raw_phone) {
  auto c = find_conversation(d, org, raw_phone);
  if (!c) return c.error();
  if (auto st = d.log.execute(org, MarkConversationRead{c->phone}); !st) return st.error();
  // Read back (read-your-writes): a message received meanwhile counts as unread again.
  return find_conversation(d, org, c->phone);
}

Result<SendResult> reply_to_conversation(const Deps& d, const OrgId& org,
                                         const std::string& raw_phone, std::string message,
                                         std::optional<std::string> idempotency_key) {
  auto c = find_conversation(d, org, raw_phone);
  if (!c) return c.error();
  SendInput in;
  in.request.recipients = {commands::RawRecipient{c->phone, c->contact_name}};
  in.request.message = std::move(message);
  in.request.device_id = c->device_id;
  in.request.sim_slot = c->sim_slot;
  if (idempotency_key) {
    if (auto st = check_idempotency_key(*idempotency_key); !st) return st.error();
    in.idempotency_key = std::move(idempotency_key);
  }
  return send_sms(d, org, std::move(in));
}

}  // namespace pulse::service
