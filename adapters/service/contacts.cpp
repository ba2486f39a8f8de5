#include "adapters/service/contacts.h"

#include <algorithm>
#include <cassert>
#include <map>

#include "adapters/service/errors.h"
#include "adapters/service/opt_outs.h"
#include "fmt/format.h"

namespace pulse::service {
namespace {

// Contacts from a JSON body: each valid (else a 400 naming it), duplicates merged.
Result<std::vector<Contact>> valid_contacts(const std::vector<commands::RawContact>& raw,
                                            const PhoneParser& phones) {
  if (raw.size() > kMaxContactsPerCommand)
    return validation_error(
        "Too many contacts",
        fmt::format("at most {} per request; import a CSV file for more", kMaxContactsPerCommand));
  std::vector<Contact> out;
  std::map<std::string, size_t> at;
  for (size_t i = 0; i < raw.size(); ++i) {
    auto c = commands::make_contact(raw[i], phones);
    if (!c)
      return validation_error(c.error().message,
                              fmt::format("contacts[{}]: {}", i, c.error().details));
    auto [it, fresh] = at.emplace(c->phone, out.size());
    if (fresh)
      out.push_back(std::move(c).value());
    else
      out[it->second] = merge_contact(std::move(out[it->second]), *c);
  }
  return out;
}

// Counts the phones new to the list and the ones it has.
Result<ImportReport> count_known(const Deps& d, const OrgId& org, const ContactListId& list,
                                 const std::vector<Contact>& contacts) {
  ImportReport r;
  for (const auto& c : contacts) {
    auto known = d.reads.contact(org, list, c.phone);
    if (!known) return known.error();
    ++(*known ? r.updated : r.imported);
  }
  return r;
}

// At most kMaxContactsPerCommand contacts: one command, applied whole or not at all.
Result<ImportReport> upsert(const Deps& d, const OrgId& org, const ContactListId& list,
                            const std::vector<Contact>& contacts, const std::string& import_id) {
  assert(contacts.size() <= kMaxContactsPerCommand);
  auto r = count_known(d, org, list, contacts);
  if (!r) return r.error();
  if (contacts.empty()) return r;  // a file whose rows were all rejected
  if (auto st = d.log.execute(org, UpsertContacts{list, import_id, contacts, false}); !st)
    return st.error();
  return r;
}

// More contacts than one command holds: one import workflow. Its chunks are staged (nothing
// of them is in the list) and the last one completes it, so the list gets the whole file at
// once. When this request fails midway, or its process dies, no chunk follows and the
// decider's clock discards the import after the import timeout: nothing of the file is kept.
Result<ImportReport> stage_import(const Deps& d, const OrgId& org, const ContactListId& list,
                                  const std::vector<Contact>& contacts,
                                  const std::string& import_id) {
  auto r = count_known(d, org, list, contacts);
  if (!r) return r.error();
  int32_t chunk = 0;
  for (size_t k = 0; k < contacts.size(); k += kMaxContactsPerCommand, ++chunk) {
    const auto end = std::min(contacts.size(), k + kMaxContactsPerCommand);
    const bool last = end == contacts.size();
    StageContactImport cmd{list,
                           import_id,
                           chunk,
                           {contacts.begin() + static_cast<ptrdiff_t>(k),
                            contacts.begin() + static_cast<ptrdiff_t>(end)},
                           last};
    if (auto st = d.log.execute(org, std::move(cmd)); !st) {
      auto e = st.error();
      // The last chunk's own outcome is the import's (a 503 may still complete it).
      if (!last)
        e.details = fmt::format(
            "{} (import {} stopped after {} of {} contacts: nothing of the file is in the list, "
            "and what was staged is discarded)",
            e.details, import_id, k, contacts.size());
      return e;
    }
  }
  return r;
}

Status count_after(const Deps& d, const OrgId& org, const ContactListId& list, ImportReport& r) {
  auto after = find_list(d, org, list.value);
  if (!after) return after.error();
  r.contact_count = after->contact_count;
  return ok_status();
}

}  // namespace

Result<projections::ContactListView> find_list(const Deps& d, const OrgId& org,
                                               const std::string& id) {
  const Error missing = not_found("Contact list not found");
  if (!is_valid_id(id_prefix::contact_list, id)) return missing;
  return present_or(d.reads.contact_list(org, ContactListId{id}), missing);
}

Result<projections::ContactListView> create_list(const Deps& d, const OrgId& org,
                                                 const std::string& name,
                                                 const std::vector<commands::RawContact>& raw) {
  if (auto st = commands::check_list_name(name); !st) return st.error();
  auto contacts = valid_contacts(raw, d.phones);
  if (!contacts) return contacts.error();
  const ContactListId id{make_id(id_prefix::contact_list, d.clock.now(), d.secrets.random64())};
  if (auto st = d.log.execute(org, CreateContactList{id, name, std::move(contacts).value()}); !st)
    return st.error();
  return find_list(d, org, id.value);
}

Status delete_list(const Deps& d, const OrgId& org, const ContactListId& list) {
  return d.log.execute(org, DeleteContactList{list});
}

Result<ImportReport> add_contacts(const Deps& d, const OrgId& org, const ContactListId& list,
                                  const std::vector<commands::RawContact>& raw) {
  if (raw.empty()) return validation_error("No contacts", "contacts must have 1 to 500 entries");
  auto contacts = valid_contacts(raw, d.phones);
  if (!contacts) return contacts.error();
  auto report = upsert(d, org, list, *contacts, "");
  if (!report) return report.error();
  if (auto st = count_after(d, org, list, *report); !st) return st.error();
  return report;
}

Result<ImportReport> import_csv(const Deps& d, const OrgId& org, const ContactListId& list,
                                std::string_view csv) {
  auto plan = commands::plan_import(csv, d.phones);
  if (!plan) return plan.error();
  const auto import_id = make_id("imp", d.clock.now(), d.secrets.random64());
  auto report = plan->contacts.size() <= kMaxContactsPerCommand
                    ? upsert(d, org, list, plan->contacts, import_id)
                    : stage_import(d, org, list, plan->contacts, import_id);
  if (!report) return report.error();
  report->rejected = std::move(plan->rejected);
  std::sort(report->rejected.begin(), report->rejected.end(),
            [](const auto& a, const auto& b) { return a.row < b.row; });
  if (auto st = count_after(d, org, list, *report); !st) return st.error();
  return report;
}

Result<projections::ContactView> find_contact(const Deps& d, const OrgId& org,
                                              const ContactListId& list,
                                              std::string_view raw_phone) {
  const Error missing = not_found("Contact not found");
  auto phone = lookup_key(d.phones, raw_phone);
  if (!phone) return missing;
  return present_or(d.reads.contact(org, list, *phone), missing);
}

Result<projections::ContactView> update_contact(const Deps& d, const OrgId& org,
                                                const ContactListId& list, const Contact& old,
                                                const ContactChanges& changes) {
  commands::RawContact raw{old.phone,
                           changes.first_name.value_or(old.first_name),
                           changes.last_name.value_or(old.last_name),
                           changes.name.value_or(old.name),
                           changes.email.value_or(old.email),
                           changes.fields.value_or(old.extra)};
  auto contact = commands::make_contact(raw, d.phones);
  if (!contact) return contact.error();
  if (auto st = d.log.execute(org, UpsertContacts{list, "", {std::move(contact).value()}, true});
      !st)
    return st.error();
  return present_or(d.reads.contact(org, list, old.phone), not_found("Contact not found"));
}

Status remove_contact(const Deps& d, const OrgId& org, const ContactListId& list,
                      const std::string& phone) {
  return d.log.execute(org, RemoveContacts{list, {phone}});
}

}  // namespace pulse::service
