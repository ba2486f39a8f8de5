#include "commands/contacts.h"

#include <algorithm>
#include <cctype>

#include "domain/csv.h"
#include "domain/overloaded.h"
#include "domain/phone.h"
#include "domain/text.h"
#include "fmt/format.h"

namespace pulse::commands {
namespace {

using Decision = Result<std::vector<Event>>;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view s) {
  const auto a = s.find_first_not_of(" \t");
  if (a == std::string_view::npos) return {};
  const auto b = s.find_last_not_of(" \t");
  return std::string(s.substr(a, b - a + 1));
}

bool plausible_email(std::string_view e) {
  const auto at = e.find('@');
  return at != std::string_view::npos && at > 0 && at == e.rfind('@') &&
         e.find('.', at) != std::string_view::npos && e.back() != '.' &&
         e.find_first_of(" \t,;<>") == std::string_view::npos;
}

Error list_not_found() {
  return Error{Errc::not_found, "Contact list not found",
               "It does not exist in this organization."};
}

const ContactImport* open_import(const OrgState& org, const std::string& id) {
  if (!org.imports) return nullptr;
  auto it = org.imports->find(id);
  return it == org.imports->end() ? nullptr : &it->second;
}

ContactImportDiscarded discarded(const std::string& id, const ContactImport& imp,
                                 std::string_view reason) {
  return ContactImportDiscarded{ContactListId{imp.list}, id, imp.chunks, imp.contacts,
                                std::string(reason)};
}

// A chunk is staged only in order, into the list its import opened with; the last one
// completes the import.
Decision decide_stage(const OrgState& org, const StageContactImport& c) {
  if (c.contacts.size() > kMaxContactsPerCommand)
    return validation_error("Too many contacts",
                            fmt::format("at most {} per chunk", kMaxContactsPerCommand));
  const auto* imp = open_import(org, c.import_id);
  if (c.chunk == 0 && imp)
    return Error{Errc::conflict, "Contact import already started", c.import_id};
  if (c.chunk != 0 && !imp)
    return Error{Errc::conflict, "Contact import is not open",
                 fmt::format("{} was discarded (no chunk for the import timeout, or its list was "
                             "deleted) or completed: nothing more can be staged; import the "
                             "file again",
                             c.import_id)};
  if (imp && imp->list != c.list_id.value)
    return Error{Errc::conflict, "Contact import is for another list", imp->list};
  if (imp && c.chunk != imp->chunks)
    return Error{Errc::conflict, "Chunks out of order",
                 fmt::format("expected chunk {} of {}", imp->chunks, c.import_id)};
  std::vector<Event> events{ContactsStaged{c.list_id, c.import_id, c.chunk, c.contacts}};
  if (c.final_chunk)
    events.push_back(ContactImportCompleted{
        c.list_id, c.import_id, c.chunk + 1,
        (imp ? imp->contacts : 0) + static_cast<int32_t>(c.contacts.size())});
  return events;
}

}  // namespace

Status check_list_name(std::string_view name) {
  if (trim(name).empty() || name.size() > kMaxContactField)
    return validation_error("Invalid list name", "name must be 1 to 200 characters");
  if (auto st = check_text("name", name); !st)
    return validation_error("Invalid list name", st.error().details);
  return ok_status();
}

Result<Contact> make_contact(const RawContact& raw, const PhoneParser& phones) {
  const std::string phone_text = trim(raw.phone);
  if (phone_text.empty()) return validation_error("Invalid contact", "phone is required");
  auto phone = parse_recipient(phones, phone_text);
  if (!phone) return validation_error("Invalid contact", phone.error().details);
  Contact c;
  c.phone = phone->number.e164;
  c.country = phone->region;
  c.phone_type = std::string(to_string(phone->type));
  const std::pair<const char*, const std::string*> texts[] = {{"firstName", &raw.first_name},
                                                              {"lastName", &raw.last_name},
                                                              {"name", &raw.name},
                                                              {"email", &raw.email}};
  for (const auto& [key, value] : texts) {
    if (value->size() > kMaxContactField)
      return validation_error("Invalid contact",
                              fmt::format("{} is longer than {} bytes", key, kMaxContactField));
    if (!valid_utf8(*value))
      return validation_error("Invalid contact", fmt::format("{} is not UTF-8", key));
  }
  c.first_name = trim(raw.first_name);
  c.last_name = trim(raw.last_name);
  c.name = trim(raw.name);
  c.email = trim(raw.email);
  for (const auto& [key, value] :
       {std::pair{"firstName", &c.first_name}, std::pair{"lastName", &c.last_name},
        std::pair{"name", &c.name}, std::pair{"email", &c.email}})
    if (auto st = check_text(key, *value); !st)
      return validation_error("Invalid contact", st.error().details);
  if (!c.email.empty() && !plausible_email(c.email))
    return validation_error("Invalid contact",
                            fmt::format("'{}' is not an email address", c.email));
  if (raw.fields.size() > 50) return validation_error("Invalid contact", "at most 50 extra fields");
  for (const auto& [k, v] : raw.fields) {
    if (k.empty() || k.size() > 64 || !valid_utf8(k))
      return validation_error("Invalid contact", "field names must be 1 to 64 characters");
    if (v.size() > kMaxContactField || !valid_utf8(v))
      return validation_error(
          "Invalid contact",
          fmt::format("field {} must be UTF-8 of at most {} bytes", k, kMaxContactField));
    // Field values may span lines (a quoted CSV field, a note), like the bodies they fill in.
    if (auto st = check_text("a field name", k); !st)
      return validation_error("Invalid contact", st.error().details);
    if (auto st = check_text(fmt::format("field {}", k), trim(v), TextKind::multi_line); !st)
      return validation_error("Invalid contact", st.error().details);
    c.extra[k] = trim(v);
  }
  return c;
}

Result<ImportPlan> plan_import(std::string_view csv, const PhoneParser& phones) {
  auto records = parse_csv(csv);
  if (!records) return records.error();
  if (records->empty())
    return validation_error("The file is empty", "expected a header line: phone,firstName,...");
  const auto& header = records->front();
  if (!header.error.empty() || !std::all_of(header.fields.begin(), header.fields.end(),
                                            [](const auto& f) { return valid_utf8(f); }))
    return validation_error("Invalid header line",
                            header.error.empty() ? "the header is not UTF-8" : header.error);
  enum Column { phone, first, last, name, email, extra };
  std::vector<Column> columns;
  std::vector<std::string> names;
  std::map<std::string, size_t> seen;
  for (const auto& raw : header.fields) {
    const auto h = trim(raw);
    const auto l = lower(h);
    Column col = extra;
    if (l == "phone" || l == "phonenumber" || l == "phone_number" || l == "mobile")
      col = phone;
    else if (l == "firstname" || l == "first_name" || l == "first name")
      col = first;
    else if (l == "lastname" || l == "last_name" || l == "last name")
      col = last;
    else if (l == "name")
      col = name;
    else if (l == "email")
      col = email;
    const auto key = col == extra ? h : std::to_string(static_cast<int>(col));
    if (h.empty())
      return validation_error("Invalid header line",
                              fmt::format("column {} has no name", columns.size() + 1));
    if (seen.count(key))
      return validation_error("Invalid header line", fmt::format("column '{}' appears twice", h));
    seen[key] = columns.size();
    columns.push_back(col);
    names.push_back(h);
  }
  if (std::find(columns.begin(), columns.end(), phone) == columns.end())
    return validation_error("No phone column",
                            "the header line must name a phone column: phone,firstName,...");

  ImportPlan plan;
  std::map<std::string, int64_t> first_row;  // E.164 -> row
  for (size_t r = 1; r < records->size(); ++r) {
    const auto& rec = (*records)[r];
    if (std::all_of(rec.fields.begin(), rec.fields.end(),
                    [](const auto& f) { return trim(f).empty(); }))
      continue;  // an empty row (",,,")
    RawContact raw;
    for (size_t i = 0; i < rec.fields.size() && i < columns.size(); ++i) {
      const auto& v = rec.fields[i];
      switch (columns[i]) {
        case phone:
          raw.phone = v;
          break;
        case first:
          raw.first_name = v;
          break;
        case last:
          raw.last_name = v;
          break;
        case name:
          raw.name = v;
          break;
        case email:
          raw.email = v;
          break;
        case extra:
          raw.fields[names[i]] = v;
          break;
      }
    }
    auto reject = [&](std::string why) {
      plan.rejected.push_back(
          ImportRejection{rec.line, sanitize_utf8(trim(raw.phone)), std::move(why)});
    };
    if (!rec.error.empty()) {
      reject(rec.error);
      continue;
    }
    if (!std::all_of(rec.fields.begin(), rec.fields.end(),
                     [](const auto& f) { return valid_utf8(f); })) {
      reject("invalid UTF-8");
      continue;
    }
    if (rec.fields.size() > columns.size()) {
      reject(fmt::format("{} columns, the header has {}", rec.fields.size(), columns.size()));
      continue;
    }
    auto contact = make_contact(raw, phones);
    if (!contact) {
      reject(contact.error().details);
      continue;
    }
    auto [it, fresh] = first_row.emplace(contact->phone, rec.line);
    if (!fresh) {
      reject(fmt::format("duplicate of row {}", it->second));
      continue;
    }
    plan.rows.push_back(rec.line);
    plan.contacts.push_back(std::move(contact).value());
  }
  return plan;
}

Decision decide_contacts(const OrgState& org, const CommandEnvelope& env) {
  if (!org.exists) return Error{Errc::not_found, "Organization not found", "It does not exist."};
  auto exists = [&](const ContactListId& id) {
    return org.contact_lists && org.contact_lists->count(id.value) > 0;
  };
  return std::visit(
      Overloaded{
          [&](const CreateContactList& c) -> Decision {
            if (exists(c.list_id))
              return Error{Errc::conflict, "Contact list already exists", c.list_id.value};
            std::vector<Event> events{ContactListCreated{c.list_id, c.name}};
            if (!c.contacts.empty())
              events.push_back(ContactsUpserted{c.list_id, "", c.contacts, false});
            return events;
          },
          [&](const UpsertContacts& c) -> Decision {
            if (!exists(c.list_id)) return list_not_found();
            return std::vector<Event>{
                ContactsUpserted{c.list_id, c.import_id, c.contacts, c.replace}};
          },
          [&](const RemoveContacts& c) -> Decision {
            if (!exists(c.list_id)) return list_not_found();
            return std::vector<Event>{ContactsRemoved{c.list_id, c.phones}};
          },
          [&](const DeleteContactList& c) -> Decision {
            if (!exists(c.list_id)) return list_not_found();
            // Its open imports end with it: their staged contacts have nowhere to go.
            std::vector<Event> events;
            if (org.imports)
              for (const auto& [id, imp] : *org.imports)
                if (imp.list == c.list_id.value)
                  events.push_back(discarded(id, imp, import_discard::list_deleted));
            events.push_back(ContactListDeleted{c.list_id});
            return events;
          },
          [&](const StageContactImport& c) -> Decision {
            if (!exists(c.list_id)) return list_not_found();
            return decide_stage(org, c);
          },
          // Unreachable: decide() routes only ContactCommands here.
          [&](const NoneOf<ContactCommands> auto&) -> Decision { return misrouted(env); },
      },
      env.body);
}

void evolve_contacts(OrgState& org, const Event& event, TimePoint at) {
  auto end_import = [&](const std::string& id) {
    if (!org.imports) return;
    org.imports->erase(id);
    if (org.imports->empty()) org.imports.reset();
  };
  std::visit(Overloaded{
                 [&](const ContactListCreated& e) {
                   if (!org.contact_lists) org.contact_lists.emplace();
                   org.contact_lists->insert(e.list_id.value);
                 },
                 [&](const ContactsUpserted&) {},
                 [&](const ContactsRemoved&) {},
                 [&](const ContactListDeleted& e) {
                   if (org.contact_lists) org.contact_lists->erase(e.list_id.value);
                 },
                 [&](const ContactsStaged& e) {
                   if (!org.imports) org.imports.emplace();
                   auto& imp = (*org.imports)[e.import_id];
                   imp.list = e.list_id.value;
                   imp.chunks = e.chunk + 1;
                   imp.contacts += static_cast<int32_t>(e.contacts.size());
                   imp.staged_at = at;
                 },
                 [&](const ContactImportCompleted& e) { end_import(e.import_id); },
                 [&](const ContactImportDiscarded& e) { end_import(e.import_id); },
                 // The other capabilities' events.
                 [&](const NoneOf<ContactEvents> auto&) {},
             },
             event);
}

std::vector<Event> abandoned_imports(const DeciderConfig& config, const OrgState& org,
                                     TimePoint at) {
  std::vector<Event> out;
  if (org.imports)
    for (const auto& [id, imp] : *org.imports)
      if (imp.staged_at + config.gateway.import_timeout <= at)
        out.push_back(discarded(id, imp, import_discard::abandoned));
  return out;
}

std::optional<TimePoint> next_import_timeout(const DeciderConfig& config, const OrgState& org) {
  std::optional<TimePoint> next;
  if (org.imports)
    for (const auto& [id, imp] : *org.imports)
      if (const auto due = imp.staged_at + config.gateway.import_timeout; !next || due < *next)
        next = due;
  return next;
}

}  // namespace pulse::commands
