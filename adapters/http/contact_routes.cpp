// Contact lists (issue 5): create, list, show with contacts (cursor-paginated by phone), add,
// update and remove contacts, delete a list, and CSV import.
#include "adapters/codec/json_codec.h"
#include "adapters/http/routes.h"
#include "commands/contacts.h"
#include "domain/csv.h"
#include "domain/ids.h"
#include "domain/json_writer.h"
#include "domain/phone.h"
#include "fmt/format.h"

namespace pulse::http {
namespace {

using Req = httplib::Request;
using Res = httplib::Response;

constexpr size_t kDefaultListsLimit = 50;
constexpr size_t kMaxListsLimit = 200;
constexpr size_t kDefaultContactsLimit = 100;
constexpr size_t kMaxContactsLimit = 1000;

void write_list(JsonWriter& w, const projections::ContactListView& l) {
  w.field("id", l.id.value)
      .field("name", l.name)
      .field("contactCount", l.contact_count)
      .field("createdAt", format_iso8601(l.created_at))
      .field("updatedAt", format_iso8601(l.updated_at));
}

std::string list_json(const projections::ContactListView& l) {
  JsonWriter w;
  w.begin_object();
  write_list(w, l);
  w.end_object();
  return w.take();
}

void nullable(JsonWriter& w, std::string_view k, const std::string& v) {
  w.key(k);
  if (v.empty())
    w.null();
  else
    w.value(v);
}

void write_contact(JsonWriter& w, const projections::ContactView& v) {
  const auto& c = v.contact;
  w.begin_object().field("phone", c.phone);
  nullable(w, "firstName", c.first_name);
  nullable(w, "lastName", c.last_name);
  nullable(w, "name", c.name);
  nullable(w, "email", c.email);
  w.key("fields").begin_object();
  for (const auto& [k, x] : c.extra) w.field(k, x);
  w.end_object();
  w.field("createdAt", format_iso8601(v.created_at))
      .field("updatedAt", format_iso8601(v.updated_at))
      .end_object();
}

std::string contact_json(const projections::ContactView& v) {
  JsonWriter w;
  write_contact(w, v);
  return w.take();
}

struct Report {
  int64_t imported = 0;
  int64_t updated = 0;
  std::vector<commands::ImportRejection> rejected;
};

std::string report_json(const Report& r, int32_t contact_count) {
  JsonWriter w;
  w.begin_object()
      .field("imported", r.imported)
      .field("updated", r.updated)
      .key("rejected")
      .begin_array();
  for (const auto& x : r.rejected)
    w.begin_object()
        .field("row", x.row)
        .field("phone", x.phone)
        .field("error", x.error)
        .end_object();
  w.end_array().field("contactCount", contact_count).end_object();
  return w.take();
}

Error list_not_found() {
  return not_found("Contact list not found");
}

// The caller's list named in the path, or 404.
Result<projections::ContactListView> list_of(const Context& ctx, const OrgId& org,
                                             const std::string& id) {
  if (!is_valid_id(id_prefix::contact_list, id)) return list_not_found();
  auto list = ctx.app.models().contact_list(org, ContactListId{id});
  if (!list) return list.error();
  if (!*list) return list_not_found();
  return **list;
}

// Contacts from a JSON body: each valid (else a 400 naming it), duplicates merged.
Result<std::vector<Contact>> valid_contacts(const std::vector<commands::RawContact>& raw) {
  if (raw.size() > kMaxContactsPerCommand)
    return validation_error(
        "Too many contacts",
        fmt::format("at most {} per request; import a CSV file for more", kMaxContactsPerCommand));
  std::vector<Contact> out;
  std::map<std::string, size_t> at;
  for (size_t i = 0; i < raw.size(); ++i) {
    auto c = commands::make_contact(raw[i]);
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

// Appends `contacts` to the list in commands of at most 500, counting new and known phones.
Result<Report> upsert(const Context& ctx, const OrgId& org, const ContactListId& list,
                      const std::vector<Contact>& contacts, const std::string& import_id) {
  Report r;
  for (const auto& c : contacts) {
    auto known = ctx.app.models().contact(org, list, c.phone);
    if (!known) return known.error();
    ++(*known ? r.updated : r.imported);
  }
  for (size_t k = 0; k < contacts.size(); k += kMaxContactsPerCommand) {
    const auto end = std::min(contacts.size(), k + kMaxContactsPerCommand);
    UpsertContacts cmd{list,
                       import_id,
                       {contacts.begin() + static_cast<ptrdiff_t>(k),
                        contacts.begin() + static_cast<ptrdiff_t>(end)},
                       false};
    if (auto st = ctx.execute(ctx.envelope(org, std::move(cmd))); !st) return st.error();
  }
  return r;
}

void create_list(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto body = codec::decode_contact_list_request(req.body);
  if (!body) return reply_error(res, body.error());
  if (auto st = commands::check_list_name(body->name); !st) return reply_error(res, st.error());
  auto contacts = valid_contacts(body->contacts);
  if (!contacts) return reply_error(res, contacts.error());
  const ContactListId id{make_id(id_prefix::contact_list, ctx.app.clock().now(), random64())};
  auto st = ctx.execute(
      ctx.envelope(caller->org, CreateContactList{id, body->name, std::move(contacts).value()}));
  if (!st) return reply_error(res, st.error());
  auto list = list_of(ctx, caller->org, id.value);
  if (!list) return reply_error(res, list.error());
  reply(res, 201, list_json(*list));
}

void list_lists(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto limit = limit_param(req, "limit", kDefaultListsLimit, kMaxListsLimit);
  if (!limit) return reply_error(res, limit.error());
  std::optional<ContactListId> after;
  if (req.has_param("cursor")) {
    after = ContactListId{req.get_param_value("cursor")};
    if (!is_valid_id(id_prefix::contact_list, after->value))
      return reply_error(
          res, validation_error("Invalid query parameter", "cursor must be a contact list id"));
  }
  auto lists = ctx.app.models().contact_lists(caller->org, *limit + 1, after);
  if (!lists) return reply_error(res, lists.error());
  if (lists->size() > *limit) {
    lists->pop_back();
    res.set_header("X-Next-Cursor", lists->back().id.value);
  }
  JsonWriter w;
  w.begin_array();
  for (const auto& l : *lists) {
    w.begin_object();
    write_list(w, l);
    w.end_object();
  }
  w.end_array();
  reply(res, 200, w.take());
}

void get_list(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto list = list_of(ctx, caller->org, req.matches[1]);
  if (!list) return reply_error(res, list.error());
  auto limit = limit_param(req, "limit", kDefaultContactsLimit, kMaxContactsLimit);
  if (!limit) return reply_error(res, limit.error());
  std::optional<std::string> after;
  if (req.has_param("cursor")) {
    // An unencoded "+" in a query string arrives as a space.
    auto raw = req.get_param_value("cursor");
    if (raw.starts_with(' ')) raw[0] = '+';
    auto phone = parse_phone(raw);
    if (!phone)
      return reply_error(
          res, validation_error("Invalid query parameter", "cursor must be a contact's phone"));
    after = phone->e164;
  }
  auto contacts = ctx.app.models().contacts(caller->org, list->id, *limit + 1, after);
  if (!contacts) return reply_error(res, contacts.error());
  std::optional<std::string> next;
  if (contacts->size() > *limit) {
    contacts->pop_back();
    next = contacts->back().contact.phone;
    res.set_header("X-Next-Cursor", *next);
  }
  JsonWriter w;
  w.begin_object();
  write_list(w, *list);
  w.key("contacts").begin_array();
  for (const auto& c : *contacts) write_contact(w, c);
  w.end_array();
  w.field("nextCursor", next);
  w.end_object();
  reply(res, 200, w.take());
}

void delete_list(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto list = list_of(ctx, caller->org, req.matches[1]);
  if (!list) return reply_error(res, list.error());
  if (auto st = ctx.execute(ctx.envelope(caller->org, DeleteContactList{list->id})); !st)
    return reply_error(res, st.error());
  JsonWriter w;
  w.begin_object().field("id", list->id.value).field("deleted", true).end_object();
  reply(res, 200, w.take());
}

void add_contacts(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto list = list_of(ctx, caller->org, req.matches[1]);
  if (!list) return reply_error(res, list.error());
  auto body = codec::decode_contacts_request(req.body);
  if (!body) return reply_error(res, body.error());
  if (body->empty())
    return reply_error(res, validation_error("No contacts", "contacts must have 1 to 500 entries"));
  auto contacts = valid_contacts(*body);
  if (!contacts) return reply_error(res, contacts.error());
  auto report = upsert(ctx, caller->org, list->id, *contacts, "");
  if (!report) return reply_error(res, report.error());
  auto after = list_of(ctx, caller->org, list->id.value);
  if (!after) return reply_error(res, after.error());
  reply(res, 200, report_json(*report, after->contact_count));
}

// The contact named in the path: its list and normalised phone, or 404.
Result<std::pair<projections::ContactListView, projections::ContactView>> contact_of(
    const Context& ctx, const OrgId& org, const Req& req) {
  auto list = list_of(ctx, org, req.matches[1]);
  if (!list) return list.error();
  const Error missing = not_found("Contact not found");
  auto phone = parse_phone(std::string(req.matches[2]));
  if (!phone) return missing;
  auto c = ctx.app.models().contact(org, list->id, phone->e164);
  if (!c) return c.error();
  if (!*c) return missing;
  return std::pair{*list, **c};
}

void update_contact(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto found = contact_of(ctx, caller->org, req);
  if (!found) return reply_error(res, found.error());
  auto patch = codec::decode_contact_patch(req.body);
  if (!patch) return reply_error(res, patch.error());
  const auto& old = found->second.contact;
  commands::RawContact raw{old.phone,
                           patch->first_name.value_or(old.first_name),
                           patch->last_name.value_or(old.last_name),
                           patch->name.value_or(old.name),
                           patch->email.value_or(old.email),
                           patch->fields.value_or(old.extra)};
  auto contact = commands::make_contact(raw);
  if (!contact) return reply_error(res, contact.error());
  const auto& list = found->first.id;
  auto st = ctx.execute(
      ctx.envelope(caller->org, UpsertContacts{list, "", {std::move(contact).value()}, true}));
  if (!st) return reply_error(res, st.error());
  auto now = ctx.app.models().contact(caller->org, list, old.phone);
  if (!now) return reply_error(res, now.error());
  if (!*now) return reply_error(res, not_found("Contact not found"));
  reply(res, 200, contact_json(**now));
}

void remove_contact(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto found = contact_of(ctx, caller->org, req);
  if (!found) return reply_error(res, found.error());
  const auto& phone = found->second.contact.phone;
  auto st = ctx.execute(ctx.envelope(caller->org, RemoveContacts{found->first.id, {phone}}));
  if (!st) return reply_error(res, st.error());
  JsonWriter w;
  w.begin_object().field("phone", phone).field("deleted", true).end_object();
  reply(res, 200, w.take());
}

// The whole file is checked before anything is appended, so a malformed file imports nothing;
// the good rows then go in commands of 500 contacts that share one import id.
void import_csv(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto list = list_of(ctx, caller->org, req.matches[1]);
  if (!list) return reply_error(res, list.error());
  const auto type = req.get_header_value("Content-Type");
  if (!type.starts_with("text/csv") && !type.starts_with("application/csv"))
    return reply_error(res, validation_error("Content-Type must be text/csv",
                                             "send the file as the request body, text/csv"));
  auto plan = commands::plan_import(req.body);
  if (!plan) return reply_error(res, plan.error());
  const auto now = ctx.app.clock().now();
  auto report = upsert(ctx, caller->org, list->id, plan->contacts, make_id("imp", now, random64()));
  if (!report) return reply_error(res, report.error());
  report->rejected = std::move(plan->rejected);
  std::sort(report->rejected.begin(), report->rejected.end(),
            [](const auto& a, const auto& b) { return a.row < b.row; });
  auto after = list_of(ctx, caller->org, list->id.value);
  if (!after) return reply_error(res, after.error());
  reply(res, 200, report_json(*report, after->contact_count));
}

template <void (*Handler)(const Context&, const Req&, Res&)>
auto bind(const Context& ctx) {
  return [&ctx](const Req& req, Res& res) { Handler(ctx, req, res); };
}

}  // namespace

void add_contact_routes(httplib::Server& server, const Context& ctx) {
  server.Post("/api/contacts", bind<create_list>(ctx));
  server.Get("/api/contacts", bind<list_lists>(ctx));
  server.Get(R"(/api/contacts/([^/]+))", bind<get_list>(ctx));
  server.Delete(R"(/api/contacts/([^/]+))", bind<delete_list>(ctx));
  server.Post(R"(/api/contacts/([^/]+)/contacts)", bind<add_contacts>(ctx));
  server.Patch(R"(/api/contacts/([^/]+)/contacts/([^/]+))", bind<update_contact>(ctx));
  server.Delete(R"(/api/contacts/([^/]+)/contacts/([^/]+))", bind<remove_contact>(ctx));
  server.Post(R"(/api/contacts/([^/]+)/import)", bind<import_csv>(ctx));
}

}  // namespace pulse::http
