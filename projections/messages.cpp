#include "projections/messages.h"

#include "domain/overloaded.h"
#include "fmt/format.h"

namespace pulse::projections {

std::string utc_day_of(TimePoint t) {
  const auto ymd = std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(t));
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

DayStatsView day_stats(ReadModelTx& tx, const OrgId& org, std::string_view day) {
  if (auto v = tx.get(table::day_stats(org, day))) return *v;
  DayStatsView fresh;
  fresh.day = std::string(day);
  return fresh;
}

CampaignExtrasView campaign_extras(ReadModelTx& tx, const OrgId& org, const CampaignId& id) {
  if (auto v = tx.get(table::campaign_extras(org, id))) return *v;
  CampaignExtrasView fresh;
  fresh.id = id;
  return fresh;
}

void index_message(ReadModelTx& tx, const OrgId& org, const MessageId& id, std::string_view phone,
                   std::string_view old_status, std::string_view status) {
  if (old_status.empty()) {
    tx.put(table::messages_by_phone(org, phone).key(id.value), NoValue{});
  } else {
    tx.erase(table::messages_by_status(org, old_status).key(id.value));
  }
  tx.put(table::messages_by_status(org, status).key(id.value), NoValue{});
}

void apply_messages(ReadModelTx& tx, const EventEnvelope& env) {
  const OrgId& org = env.org;
  std::visit(
      Overloaded{
          [&](const MessagesQueued& e) {
            auto day = day_stats(tx, org, utc_day_of(env.at));
            for (const auto& m : e.messages) {
              index_message(tx, org, m.id, m.phone.e164, "", kQueued);
              day.segments += m.segments;
            }
            day.queued += static_cast<int64_t>(e.messages.size());
            tx.put(table::day_stats(org, day.day), day);
          },
          [&](const RecipientsSuppressed& e) {
            auto x = campaign_extras(tx, org, e.campaign_id);
            x.suppressed += static_cast<int32_t>(e.phones.size());
            tx.put(table::campaign_extras(org, x.id), x);
            auto day = day_stats(tx, org, utc_day_of(env.at));
            day.suppressed += static_cast<int64_t>(e.phones.size());
            tx.put(table::day_stats(org, day.day), day);
          },
          [&](const CampaignDiscarded& e) {
            // Its messages leave the day they were queued on (the campaign's) and the failures
            // its cancel just counted (today's).
            auto c = tx.get(table::campaign(org, e.campaign_id));
            if (!c || e.messages == 0) return;
            auto queued = day_stats(tx, org, utc_day_of(c->created_at));
            queued.queued -= e.messages;
            queued.segments -= c->segments;
            tx.put(table::day_stats(org, queued.day), queued);
            auto failed = day_stats(tx, org, utc_day_of(env.at));
            failed.failed -= e.messages;
            tx.put(table::day_stats(org, failed.day), failed);
          },
          [&](const CampaignPinned& e) {
            auto x = campaign_extras(tx, org, e.campaign_id);
            x.device_id = e.device_id.value;
            tx.put(table::campaign_extras(org, x.id), x);
          },
          [&](const OptOutAdded& e) {
            if (tx.get(table::opt_out(org, e.phone))) return;  // the first entry stays
            tx.put(table::opt_out(org, e.phone), OptOutView{e.phone, e.reason, e.source, env.at});
          },
          [&](const OptOutRemoved& e) { tx.erase(table::opt_out(org, e.phone)); },
          [&](const IdempotencyKeyRecorded& e) {
            tx.put(table::idempotency(org, e.key),
                   IdempotencyView{e.key, e.request_hash, e.campaign_id, e.recipient_count,
                                   e.expires_at});
          },
          // Inbound messages: apply_conversations.
          [&](const SmsReceived&) {},
          [&](const ConversationRead&) {},
          // Other capabilities' events, the ones above aside.
          [&](const NoneOf<OptOutEvents> auto&) {},
      },
      env.body);
}

}  // namespace pulse::projections
