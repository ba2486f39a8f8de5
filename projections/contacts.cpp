// The contact-list projector: lists with their counts, and contacts keyed by phone (an upsert
// of a known phone merges into it); a large CSV import's contacts staged apart until the import
// completes.
#include "projections/contacts.h"

#include <vector>

#include "domain/overloaded.h"

namespace pulse::projections {
namespace {

// Adds `contacts` to the list (merged into the ones with their phone, or replacing them).
void upsert(ReadModelTx& tx, const EventEnvelope& env, const ContactListId& list_id,
            const std::vector<Contact>& contacts, bool replace) {
  auto list = tx.get(table::contact_list(env.org, list_id));
  if (!list) return;
  for (const auto& c : contacts) {
    auto existing = tx.get(table::contact(env.org, list_id, c.phone));
    if (existing) {
      existing->contact = replace ? c : merge_contact(std::move(existing->contact), c);
      existing->updated_at = env.at;
      tx.put(table::contact(env.org, list_id, existing->contact.phone), *existing);
    } else {
      tx.put(table::contact(env.org, list_id, c.phone), ContactView{c, env.at, env.at});
      ++list->contact_count;
    }
  }
  list->updated_at = env.at;
  tx.put(table::contact_list(env.org, list->id), *list);
}

// Staged apart from the list, by phone (a file's rows have distinct phones; were one repeated,
// it merges as it would in the list).
void on_staged(ReadModelTx& tx, const EventEnvelope& env, const ContactsStaged& e) {
  for (const auto& c : e.contacts) {
    const auto key = table::staged_contact(env.org, e.import_id, c.phone);
    auto staged = tx.get(key);
    tx.put(key, staged ? ContactView{merge_contact(std::move(staged->contact), c),
                                     staged->created_at, env.at}
                       : ContactView{c, env.at, env.at});
  }
}

// The whole import at once: in the projector's one write batch with the event's position, the
// staged contacts go into the list and their staging keys go.
void on_import_completed(ReadModelTx& tx, const EventEnvelope& env,
                         const ContactImportCompleted& e) {
  const auto staged = table::staged_contacts(env.org, e.import_id);
  std::vector<Contact> contacts;
  for (auto& v : tx.scan(staged)) contacts.push_back(std::move(v.contact));
  upsert(tx, env, e.list_id, contacts, false);
  tx.erase(staged);
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
                          upsert(tx, env, e.list_id, e.contacts, e.replace);
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
                        [&](const ContactsStaged& e) {
                          on_staged(tx, env, e);
                          return true;
                        },
                        [&](const ContactImportCompleted& e) {
                          on_import_completed(tx, env, e);
                          return true;
                        },
                        [&](const ContactImportDiscarded& e) {
                          tx.erase(table::staged_contacts(env.org, e.import_id));
                          return true;
                        },
                        [&](const NoneOf<ContactEvents> auto&) { return false; },
                    },
                    env.body);
}

}  // namespace pulse::projections
