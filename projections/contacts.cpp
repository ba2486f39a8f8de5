// The contact-list projector: lists with their counts, and contacts keyed by phone (an upsert
// of a known phone merges into it).
#include "projections/contacts.h"
#include "domain/overloaded.h"

namespace pulse::projections {
namespace {

void on_upserted(ReadModelTx& tx, const EventEnvelope& env, const ContactsUpserted& e) {
  auto list = tx.get(table::contact_list(env.org, e.list_id));
  if (!list) return;
  for (const auto& c : e.contacts) {
    auto existing = tx.get(table::contact(env.org, e.list_id, c.phone));
    if (existing) {
      existing->contact = e.replace ? c : merge_contact(std::move(existing->contact), c);
      existing->updated_at = env.at;
      tx.put(table::contact(env.org, e.list_id, existing->contact.phone), *existing);
    } else {
      tx.put(table::contact(env.org, e.list_id, c.phone), ContactView{c, env.at, env.at});
      ++list->contact_count;
    }
  }
  list->updated_at = env.at;
  tx.put(table::contact_list(env.org, list->id), *list);
}

void on_removed(ReadModelTx& tx, const EventEnvelope& env, const ContactsRemoved& e) {
  auto list = tx.get(table::contact_list(env.org, e.list_id));
  if (!list) return;
  for (const auto& phone : e.phones) {
    if (!tx.get(table::contact(env.org, e.list_id, phone))) continue;
    tx.erase(table::contact(env.org, e.list_id, phone));
    --list->contact_count;
  }
  list->updated_at = env.at;
  tx.put(table::contact_list(env.org, list->id), *list);
}

}  // namespace

bool apply_contacts(ReadModelTx& tx, const EventEnvelope& env) {
  return std::visit(Overloaded{
                        [&](const ContactListCreated& e) {
                          if (!tx.get(table::contact_list(env.org, e.list_id)))
                            tx.put(table::contact_list(env.org, e.list_id),
                                   ContactListView{e.list_id, e.name, 0, env.at, env.at});
                          return true;
                        },
                        [&](const ContactsUpserted& e) {
                          on_upserted(tx, env, e);
                          return true;
                        },
                        [&](const ContactsRemoved& e) {
                          on_removed(tx, env, e);
                          return true;
                        },
                        [&](const ContactListDeleted& e) {
                          tx.erase(table::contact_list(env.org, e.list_id));
                          tx.erase(table::contacts(env.org, e.list_id));
                          return true;
                        },
                        [&](const NoneOf<ContactEvents> auto&) { return false; },
                    },
                    env.body);
}

}  // namespace pulse::projections
