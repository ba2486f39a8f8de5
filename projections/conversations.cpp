#include "projections/conversations.h"

#include "domain/ids.h"
#include "domain/message_body.h"
#include "domain/overloaded.h"
#include "fmt/format.h"
#include "projections/messages.h"

namespace pulse::projections {
namespace {

// How many of the sender's newest messages a reply is matched against.
constexpr size_t kReplyCandidates = 20;

uint64_t mix(uint64_t x) {  // splitmix64's finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

void on_received(ReadModelTx& tx, const EventEnvelope& env, const SmsReceived& e) {
  const OrgId& org = env.org;
  const auto replied = replied_message(tx, org, e.from, e.device_id.value, e.sim_slot, env.at);
  MessageView m;
  m.id = inbound_message_id(env);
  m.phone = e.from;
  m.body = e.body;
  m.status = std::string(kReceived);
  m.direction = std::string(MessageView::kInbound);
  auto info = analyze_body(e.body);
  m.encoding = std::string(to_string(info ? info->encoding : SmsEncoding::ucs2));
  m.segments = info ? info->segments : 1;
  m.created_at = env.at;
  m.updated_at = env.at;
  m.device_id = e.device_id.value;
  m.sim_slot = e.sim_slot;
  m.received_at = e.received_at;
  if (replied) {
    m.campaign_id = replied->campaign_id;
    m.contact_name = replied->contact_name;
    m.reply_to = replied->id.value;
    auto x = campaign_extras(tx, org, replied->campaign_id);
    ++x.replies;
    tx.put(table::campaign_extras(org, x.id), x);
  }
  tx.put(table::message(org, m.id), m);
  index_message(tx, org, m.id, m.phone, "", kReceived);

  auto found = tx.get(table::conversation(org, e.from));
  ConversationView c;
  if (found) {
    c = std::move(*found);
    tx.erase(table::conversations_by_time(org).key(conversation_order_key(c)));
  } else {
    c.phone = e.from;
    c.created_at = env.at;
  }
  if (replied && !replied->contact_name.empty()) c.contact_name = replied->contact_name;
  c.last_received_at = env.at;
  ++c.received;
  ++c.unread;
  c.device_id = e.device_id.value;
  c.sim_slot = e.sim_slot;
  tx.put(table::conversation(org, c.phone), c);
  tx.put(table::conversations_by_time(org).key(conversation_order_key(c)), NoValue{});
}

}  // namespace

MessageId inbound_message_id(const EventEnvelope& env) {
  const auto& pos = env.source.command;
  const uint64_t entropy =
      mix((static_cast<uint64_t>(pos.partition.value) << 48) ^
          (static_cast<uint64_t>(pos.offset.value) << 8) ^ static_cast<uint64_t>(env.source.index));
  return MessageId{make_id(id_prefix::message, env.at, entropy)};
}

std::optional<MessageView> replied_message(ReadModelTx& tx, const OrgId& org, std::string_view from,
                                           std::string_view device, std::optional<int32_t> sim_slot,
                                           TimePoint at) {
  const auto index = table::messages_by_phone(org, from);
  ScanRange range;
  range.reverse = true;  // newest campaigns first (message ids start with their campaign's time)
  range.limit = kReplyCandidates;
  std::optional<MessageView> best;
  for (const auto& key : tx.keys(index, range)) {
    auto m = tx.get(table::message(org, MessageId{key.substr(index.bytes.size())}));
    if (!m || m->inbound() || !m->sent_at || m->device_id != device) continue;
    if (sim_slot && m->sim_slot && *sim_slot != *m->sim_slot) continue;
    if (*m->sent_at < at - kReplyWindow) continue;
    if (!best || *m->sent_at > *best->sent_at) best = std::move(*m);
  }
  return best;
}

std::string conversation_order_key(const ConversationView& c) {
  return fmt::format("{:013}/{}", to_unix_ms(c.last_received_at), c.phone);
}

bool apply_conversations(ReadModelTx& tx, const EventEnvelope& env) {
  return std::visit(
      Overloaded{
          [&](const SmsReceived& e) {
            on_received(tx, env, e);
            return true;
          },
          [&](const ConversationRead& e) {
            auto c = tx.get(table::conversation(env.org, e.phone));
            if (c && c->unread != 0) {
              c->unread = 0;
              tx.put(table::conversation(env.org, e.phone), *c);
            }
            return true;
          },
          [&](const NoneOf<Types<SmsReceived, ConversationRead>> auto&) { return false; },
      },
      env.body);
}

}  // namespace pulse::projections
