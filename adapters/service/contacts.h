#pragma once
// Contact lists: create one (with its first contacts), add contacts, import a CSV file (whole
// or not at all), change or remove one contact, delete a list.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/service/ports.h"
#include "commands/contacts.h"

namespace pulse::service {

// The list `id` of `org`; 404 when it is malformed or unknown.
Result<projections::ContactListView> find_list(const Deps& d, const OrgId& org,
                                               const std::string& id);

// Returns the new list.
Result<projections::ContactListView> create_list(const Deps& d, const OrgId& org,
                                                 const std::string& name,
                                                 const std::vector<commands::RawContact>& contacts);
Status delete_list(const Deps& d, const OrgId& org, const ContactListId& list);

// What adding or importing did: phones new to the list, phones it had, rows refused.
struct ImportReport {
  int64_t imported = 0;
  int64_t updated = 0;
  std::vector<commands::ImportRejection> rejected;  // by row
  int32_t contact_count = 0;                        // the list's size afterwards
};
// 1 to kMaxContactsPerCommand contacts from a JSON body; each must be valid.
Result<ImportReport> add_contacts(const Deps& d, const OrgId& org, const ContactListId& list,
                                  const std::vector<commands::RawContact>& contacts);
// A CSV file: checked whole first (a malformed file imports nothing), then its good rows go in
// whole: one command up to kMaxContactsPerCommand rows, else an import workflow whose chunks
// are staged and applied at once by its last one (a crash or a failure midway leaves nothing).
Result<ImportReport> import_csv(const Deps& d, const OrgId& org, const ContactListId& list,
                                std::string_view csv);

// The contact of `list` whose phone is `raw_phone` (any accepted format), or 404.
Result<projections::ContactView> find_contact(const Deps& d, const OrgId& org,
                                              const ContactListId& list,
                                              std::string_view raw_phone);
struct ContactChanges {
  std::optional<std::string> first_name, last_name, name, email;
  std::optional<std::map<std::string, std::string>> fields;
};
// Applies `changes` to `contact` (as find_contact returned it); returns it as stored now.
Result<projections::ContactView> update_contact(const Deps& d, const OrgId& org,
                                                const ContactListId& list, const Contact& contact,
                                                const ContactChanges& changes);
Status remove_contact(const Deps& d, const OrgId& org, const ContactListId& list,
                      const std::string& phone);

}  // namespace pulse::service
