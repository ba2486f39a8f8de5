// Contact lists: create, list, show with contacts (cursor-paginated by phone), add,
// update and remove contacts, delete a list, and CSV import.
#include "adapters/http/request_json.h"
#include "adapters/http/routes.h"
#include "adapters/service/contacts.h"
#include "adapters/service/opt_outs.h"
#include "domain/ids.h"
#include "domain/json_writer.h"

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
  // Absent for contacts stored before numbers were classified.
  if (c.country) w.field("country", *c.country);
  if (c.phone_type) w.field("phoneType", *c.phone_type);
  w.field("createdAt", format_iso8601(v.created_at))
      .field("updatedAt", format_iso8601(v.updated_at))
      .end_object();
}

std::string contact_json(const projections::ContactView& v) {
  JsonWriter w;
  write_contact(w, v);
  return w.take();
}

std::string report_json(const service::ImportReport& r) {
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
  w.end_array().field("contactCount", r.contact_count).end_object();
  return w.take();
}

// The caller's list named in the path, or 404.
Result<projections::ContactListView> list_of(const Context& ctx, const OrgId& org,
                                             const std::string& id) {
  return service::find_list(ctx.service, org, id);
}

void create_list(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto body = decode_contact_list_request(req.body);
  if (!body) return reply_error(res, body.error());
  auto list = service::create_list(ctx.service, caller->org, body->name, body->contacts);
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
    auto phone = service::lookup_key(ctx.service.phones, raw);
    if (!phone)
      return reply_error(
          res, validation_error("Invalid query parameter", "cursor must be a contact's phone"));
    after = *phone;
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
  if (auto st = service::delete_list(ctx.service, caller->org, list->id); !st)
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
  auto body = decode_contacts_request(req.body);
  if (!body) return reply_error(res, body.error());
  auto report = service::add_contacts(ctx.service, caller->org, list->id, *body);
  if (!report) return reply_error(res, report.error());
  reply(res, 200, report_json(*report));
}

// The contact named in the path: its list and the contact, or 404.
Result<std::pair<projections::ContactListView, projections::ContactView>> contact_of(
    const Context& ctx, const OrgId& org, const Req& req) {
  auto list = list_of(ctx, org, req.matches[1]);
  if (!list) return list.error();
  auto c = service::find_contact(ctx.service, org, list->id, std::string(req.matches[2]));
  if (!c) return c.error();
  return std::pair{*list, *c};
}

void update_contact(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto found = contact_of(ctx, caller->org, req);
  if (!found) return reply_error(res, found.error());
  auto patch = decode_contact_patch(req.body);
  if (!patch) return reply_error(res, patch.error());
  auto now = service::update_contact(
      ctx.service, caller->org, found->first.id, found->second.contact,
      {patch->first_name, patch->last_name, patch->name, patch->email, patch->fields});
  if (!now) return reply_error(res, now.error());
  reply(res, 200, contact_json(*now));
}

void remove_contact(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto found = contact_of(ctx, caller->org, req);
  if (!found) return reply_error(res, found.error());
  const auto& phone = found->second.contact.phone;
  if (auto st = service::remove_contact(ctx.service, caller->org, found->first.id, phone); !st)
    return reply_error(res, st.error());
  JsonWriter w;
  w.begin_object().field("phone", phone).field("deleted", true).end_object();
  reply(res, 200, w.take());
}

void import_csv(const Context& ctx, const Req& req, Res& res) {
  auto caller = ctx.authenticate(req);
  if (!caller) return reply_error(res, caller.error());
  auto list = list_of(ctx, caller->org, req.matches[1]);
  if (!list) return reply_error(res, list.error());
  const auto type = req.get_header_value("Content-Type");
  if (!type.starts_with("text/csv") && !type.starts_with("application/csv"))
    return reply_error(res, validation_error("Content-Type must be text/csv",
                                             "send the file as the request body, text/csv"));
  auto report = service::import_csv(ctx.service, caller->org, list->id, req.body);
  if (!report) return reply_error(res, report.error());
  reply(res, 200, report_json(*report));
}

}  // namespace

void add_contact_routes(Router& server, const Context& ctx) {
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
