#pragma once
// Conversations: the numbers that wrote to the organisation, their unread counts, and replies
// that leave from the phone and SIM the contact last wrote to.
#include <optional>
#include <string>

#include "adapters/service/ports.h"
#include "adapters/service/sms.h"

namespace pulse::service {

// The conversation with `raw_phone` (parsed like the messages API's phone filter; a sender that
// is no phone number, a short code or a name, as the phone reported it), or 404.
Result<projections::ConversationView> find_conversation(const Deps& d, const OrgId& org,
                                                        const std::string& raw_phone);

// Marks its received messages read; the conversation as it is then.
Result<projections::ConversationView> mark_conversation_read(const Deps& d, const OrgId& org,
                                                             const std::string& raw_phone);

// Sends `message` to the conversation's phone from the device and SIM it last wrote to (another
// SIM of that device when that one does not send); as POST /api/sms/send would, plan and opt-outs
// included.
Result<SendResult> reply_to_conversation(const Deps& d, const OrgId& org,
                                         const std::string& raw_phone, std::string message,
                                         std::optional<std::string> idempotency_key);

}  // namespace pulse::service
