#include "projections/messages.h"

#include "domain/overloaded.h"
#include "fmt/format.h"

namespace pulse::projections {

std::string utc_day_of(TimePoint t) {
  const auto ymd = std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(t));
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

void apply_messages(ReadModelTx& tx, const EventEnvelope& env) {
  const OrgId& org = env.org;
  std::visit(Overloaded{
                 [&](const MessagesQueued& e) {
                   auto day = tx.day_stats(org, utc_day_of(env.at));
                   for (const auto& m : e.messages) {
                     tx.index_message(org, m.id, m.phone.e164, "", kQueued);
                     day.segments += m.segments;
                   }
                   day.queued += static_cast<int64_t>(e.messages.size());
                   tx.put_day_stats(org, day);
                 },
                 [&](const RecipientsSuppressed& e) {
                   auto x = tx.campaign_extras(org, e.campaign_id);
                   x.suppressed += static_cast<int32_t>(e.phones.size());
                   tx.put_campaign_extras(org, x);
                   auto day = tx.day_stats(org, utc_day_of(env.at));
                   day.suppressed += static_cast<int64_t>(e.phones.size());
                   tx.put_day_stats(org, day);
                 },
                 [&](const CampaignPinned& e) {
                   auto x = tx.campaign_extras(org, e.campaign_id);
                   x.device_id = e.device_id.value;
                   tx.put_campaign_extras(org, x);
                 },
                 [&](const OptOutAdded& e) {
                   if (tx.opt_out(org, e.phone)) return;  // the first entry stays
                   tx.put_opt_out(org, OptOutView{e.phone, e.reason, e.source, env.at});
                 },
                 [&](const OptOutRemoved& e) { tx.delete_opt_out(org, e.phone); },
                 [&](const IdempotencyKeyRecorded& e) {
                   tx.put_idempotency(org, IdempotencyView{e.key, e.request_hash, e.campaign_id,
                                                           e.recipient_count, e.expires_at});
                 },
                 [&](const SmsReceived&) {},
                 // Other capabilities' events, the ones above aside.
                 [&](const NoneOf<OptOutEvents> auto&) {},
             },
             env.body);
}

}  // namespace pulse::projections
