#pragma once
// Contact lists: the commands and events that build them. A contact is keyed by its
// E.164 phone inside its list, so adding a number twice merges the two (the later non-empty
// fields win).
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/fields.h"
#include "domain/ids.h"
#include "domain/template.h"
#include "domain/type_list.h"

namespace pulse {

struct Contact {
  std::string phone;  // E.164, normalised by the HTTP layer
  std::string first_name;
  std::string last_name;
  std::string name;  // the full name as given; may be empty
  std::string email;
  std::map<std::string, std::string> extra;  // extra template fields (CSV columns): "fields"
  // The phone's region and type (domain/phone.h) as classified when it entered; absent in
  // records written before numbers were classified.
  std::optional<std::string> country;
  std::optional<std::string> phone_type;
  auto operator<=>(const Contact&) const = default;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("phone", s.phone), f("firstName", s.first_name), f("lastName", s.last_name),
        f("name", s.name), f("email", s.email), f("fields", s.extra),
        f("country", s.country, field::omit_empty), f("phoneType", s.phone_type, field::omit_empty);
  }
};

// Merges `update` into `base`: non-empty values of the update win; extra fields are merged.
Contact merge_contact(Contact base, const Contact& update);

// Template variables of a contact: its extra fields, then firstName, lastName, name (given, or
// first and last name), phone and email. firstName/lastName fall back to the words of name.
TemplateVars contact_vars(const Contact& c);

// POST /api/contacts: a new list, with its first contacts (at most kMaxContactsPerCommand).
struct CreateContactList {
  static constexpr std::string_view kType = "CreateContactList";
  static constexpr int kVersion = 2;  // v2: contacts' country and phoneType
  ContactListId list_id;
  std::string name;
  std::vector<Contact> contacts;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("listId", s.list_id), f("name", s.name), f("contacts", s.contacts);
  }
};

// Adds or updates contacts (by phone). A CSV import appends several, all with one import id.
struct UpsertContacts {
  static constexpr std::string_view kType = "UpsertContacts";
  static constexpr int kVersion = 2;  // v2: contacts' country and phoneType
  ContactListId list_id;
  std::string import_id;  // empty outside an import
  std::vector<Contact> contacts;
  bool replace =
      false;  // true: each contact replaces the one with its phone (PATCH); false: merges
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("listId", s.list_id), f("importId", s.import_id), f("contacts", s.contacts),
        f("replace", s.replace);
  }
};

struct RemoveContacts {
  static constexpr std::string_view kType = "RemoveContacts";
  static constexpr int kVersion = 1;
  ContactListId list_id;
  std::vector<std::string> phones;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("listId", s.list_id), f("phones", s.phones);
  }
};

struct DeleteContactList {
  static constexpr std::string_view kType = "DeleteContactList";
  static constexpr int kVersion = 1;
  ContactListId list_id;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("listId", s.list_id);
  }
};

struct ContactListCreated {
  static constexpr std::string_view kType = "ContactListCreated";
  static constexpr int kVersion = 1;
  ContactListId list_id;
  std::string name;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("listId", s.list_id), f("name", s.name);
  }
};

struct ContactsUpserted {
  static constexpr std::string_view kType = "ContactsUpserted";
  static constexpr int kVersion = 2;  // v2: contacts' country and phoneType
  ContactListId list_id;
  std::string import_id;
  std::vector<Contact> contacts;
  bool replace =
      false;  // true: each contact replaces the one with its phone (PATCH); false: merges
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("listId", s.list_id), f("importId", s.import_id), f("contacts", s.contacts),
        f("replace", s.replace);
  }
};

struct ContactsRemoved {
  static constexpr std::string_view kType = "ContactsRemoved";
  static constexpr int kVersion = 1;
  ContactListId list_id;
  std::vector<std::string> phones;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("listId", s.list_id), f("phones", s.phones);
  }
};

struct ContactListDeleted {
  static constexpr std::string_view kType = "ContactListDeleted";
  static constexpr int kVersion = 1;
  ContactListId list_id;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("listId", s.list_id);
  }
};

// ---- CSV imports larger than one command -------------------------------------------------
// One workflow: chunks are staged (invisible in the list, not counted) and the last one
// completes the import, which applies every staged contact at once. An import that stops
// making progress (its request died) is discarded by the decider's clock; deleting the list
// discards its open imports. So after any crash a file is in the list whole or not at all.

// Chunk `chunk` (0, 1, … in order) of import `import_id` into `list_id`. The first chunk opens
// the import; `final` marks the file's last chunk, whose events complete it.
struct StageContactImport {
  static constexpr std::string_view kType = "StageContactImport";
  static constexpr int kVersion = 1;
  ContactListId list_id;
  std::string import_id;
  int32_t chunk = 0;
  std::vector<Contact> contacts;
  bool final_chunk = false;  // "final"
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("listId", s.list_id), f("importId", s.import_id), f("chunk", s.chunk),
        f("contacts", s.contacts), f("final", s.final_chunk);
  }
};

// A chunk of an import, staged: not in the list until its ContactImportCompleted.
struct ContactsStaged {
  static constexpr std::string_view kType = "ContactsStaged";
  static constexpr int kVersion = 1;
  ContactListId list_id;
  std::string import_id;
  int32_t chunk = 0;
  std::vector<Contact> contacts;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("listId", s.list_id), f("importId", s.import_id), f("chunk", s.chunk),
        f("contacts", s.contacts);
  }
};

// Every contact staged by the import goes into the list (merged by phone, as upserts).
struct ContactImportCompleted {
  static constexpr std::string_view kType = "ContactImportCompleted";
  static constexpr int kVersion = 1;
  ContactListId list_id;
  std::string import_id;
  int32_t chunks = 0;
  int32_t contacts = 0;  // staged in all
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("listId", s.list_id), f("importId", s.import_id), f("chunks", s.chunks),
        f("contacts", s.contacts);
  }
};

// What the import staged is dropped; nothing of it reaches the list.
struct ContactImportDiscarded {
  static constexpr std::string_view kType = "ContactImportDiscarded";
  static constexpr int kVersion = 1;
  ContactListId list_id;
  std::string import_id;
  int32_t chunks = 0;  // staged before the discard
  int32_t contacts = 0;
  std::string reason;  // import_discard::abandoned | import_discard::list_deleted
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("listId", s.list_id), f("importId", s.import_id), f("chunks", s.chunks),
        f("contacts", s.contacts), f("reason", s.reason);
  }
};

namespace import_discard {
// No chunk came for the import timeout: the request staging it died.
inline constexpr std::string_view abandoned = "abandoned";
inline constexpr std::string_view list_deleted = "list_deleted";
}  // namespace import_discard

// Contacts per command/event, so that no record grows past what a Kafka broker accepts.
inline constexpr size_t kMaxContactsPerCommand = 500;

using ContactCommands =
    Types<CreateContactList, UpsertContacts, RemoveContacts, DeleteContactList, StageContactImport>;
using ContactEvents =
    Types<ContactListCreated, ContactsUpserted, ContactsRemoved, ContactListDeleted, ContactsStaged,
          ContactImportCompleted, ContactImportDiscarded>;

}  // namespace pulse
