// The campaign lifecycle projector: draft -> scheduled -> running <-> paused -> completed, or
// cancelled. QueueView counts the queued messages of running campaigns only (the phones' long
// poll wakes for them), so every move in or out of "running" moves the campaign's queued count.
#include "domain/overloaded.h"
#include "projections/contacts.h"

namespace pulse::projections {
namespace {

void set_status(ReadModelTx& tx, const EventEnvelope& env, CampaignView& c,
                std::string_view status) {
  const bool was = c.status == "running";
  const bool is = status == "running";
  if (was != is && c.queued_count > 0) {
    auto q = tx.get(table::queue(env.org)).value_or(QueueView{});
    q.queued = std::max<int64_t>(0, q.queued + (is ? c.queued_count : -c.queued_count));
    tx.put(table::queue(env.org), q);
  }
  c.status = std::string(status);
  c.updated_at = env.at;
}

template <class E>
void transition(ReadModelTx& tx, const EventEnvelope& env, const E& e, std::string_view status) {
  auto c = tx.get(table::campaign(env.org, e.campaign_id));
  if (!c) return;
  set_status(tx, env, *c, status);
  if constexpr (std::is_same_v<E, CampaignStarted>) c->started_at = env.at;
  if constexpr (std::is_same_v<E, CampaignScheduled>) c->scheduled_at = e.scheduled_at;
  tx.put(table::campaign(env.org, c->id), *c);
}

}  // namespace

bool apply_campaigns(ReadModelTx& tx, const EventEnvelope& env) {
  return std::visit(Overloaded{
                        [&](const CampaignDrafted& e) {
                          if (tx.get(table::campaign(env.org, e.campaign_id)))
                            return true;  // the first one wins
                          CampaignView v;
                          v.id = e.campaign_id;
                          v.name = e.name;
                          v.source = e.source;
                          v.message = e.message;
                          v.status = "draft";
                          v.total_messages = e.total_messages;
                          v.created_at = env.at;
                          v.updated_at = env.at;
                          v.contact_list_id = e.contact_list_id;
                          v.contact_list_name = e.contact_list_name;
                          v.contact_count = e.contact_count;
                          v.scheduled_at = e.scheduled_at;
                          tx.put(table::campaign(env.org, v.id), v);
                          return true;
                        },
                        [&](const CampaignScheduled& e) {
                          transition(tx, env, e, "scheduled");
                          return true;
                        },
                        [&](const RecipientsSuppressed& e) {
                          // A draft's recipients on the opt-out list leave its total (a send's
                          // CampaignCreated counts only the others already). The counters of
                          // suppression are kept by apply_messages.
                          auto c = tx.get(table::campaign(env.org, e.campaign_id));
                          if (!c || c->status != "draft") return true;
                          c->total_messages -= static_cast<int32_t>(e.phones.size());
                          c->updated_at = env.at;
                          tx.put(table::campaign(env.org, c->id), *c);
                          return true;
                        },
                        [&](const CampaignStarted& e) {
                          transition(tx, env, e, "running");
                          return true;
                        },
                        [&](const CampaignPaused& e) {
                          transition(tx, env, e, "paused");
                          return true;
                        },
                        [&](const CampaignResumed& e) {
                          transition(tx, env, e, "running");
                          return true;
                        },
                        [&](const CampaignCancelled& e) {
                          transition(tx, env, e, "cancelled");
                          return true;
                        },
                        // Its counters: apply_messages.
                        [&](const CampaignDiscarded&) { return true; },
                        [&](const NoneOf<CampaignEvents> auto&) { return false; },
                    },
                    env.body);
}

}  // namespace pulse::projections
