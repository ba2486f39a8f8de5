#pragma once
// Inbound messages and conversations: every SMS a phone reports becomes a message (direction
// "inbound", status "received") in its sender's conversation, linked to the outbound message it
// most likely answers; the conversation counts what is unread and remembers the phone and SIM
// that replies leave from.
#include <optional>
#include <string_view>

#include "projections/read_model.h"

namespace pulse::projections {

// A reply answers the last message sent to its sender from the phone (and SIM, when both are
// known) that received it, sent at most this long before the reply arrived.
inline constexpr Millis kReplyWindow{72LL * 3600'000};

// The id of the message an SmsReceived event records: made from the event's time and position,
// so a rebuild makes the same one. 16 characters after "msg_", where a campaign's messages have
// 20: it names no campaign.
MessageId inbound_message_id(const EventEnvelope& env);

// The outbound message `from` most likely answers: see kReplyWindow.
std::optional<MessageView> replied_message(ReadModelTx& tx, const OrgId& org, std::string_view from,
                                           std::string_view device, std::optional<int32_t> sim_slot,
                                           TimePoint at);

// Applies SmsReceived and ConversationRead; true when the event was one of them.
bool apply_conversations(ReadModelTx& tx, const EventEnvelope& env);

// The conversations' order key: "<13-digit unix ms>/<phone>".
std::string conversation_order_key(const ConversationView& c);

}  // namespace pulse::projections
