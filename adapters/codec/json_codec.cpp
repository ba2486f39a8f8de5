#include "adapters/codec/json_codec.h"

#include <simdjson.h>

#include <charconv>
#include <map>
#include <optional>
#include <set>
#include <variant>

#include "adapters/codec/thread_parser.h"
#include "domain/json_writer.h"
#include "fmt/format.h"

namespace pulse::codec {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// One parser per thread (codec/thread_parser.h): a document is decoded into structs before
// the next parse, and the HTTP layer trims what a large one left.
simdjson::dom::parser& parser() {
  return codec::thread_parser(codec::ParserSlot::records);
}

Error corrupt(std::string details) {
  return Error{Errc::internal, "Corrupt record", std::move(details)};
}

// Parses a JSON document that must be an object.
Result<object> parse_object(std::string_view json, Errc errc, std::string_view message) {
  element doc;
  if (auto err = parser().parse(json.data(), json.size()).get(doc))
    return Error{errc, std::string(message),
                 fmt::format("invalid JSON: {}", simdjson::error_message(err))};
  object o;
  if (doc.get_object().get(o))
    return Error{errc, std::string(message), "the body must be a JSON object"};
  return o;
}

// Checks an envelope's type/version against the struct T that will read it.
template <class T>
std::optional<Error> check_version(int64_t v) {
  if (v < 1 || v > T::kVersion)
    return Error{
        Errc::internal, "Unsupported record version",
        fmt::format("{} v{}: this build reads {} up to v{}", T::kType, v, T::kType, T::kVersion)};
  return std::nullopt;
}

void begin_envelope(JsonWriter& w, std::string_view type, int version) {
  w.begin_object().field("type", type).field("v", version);
}

// ---- records described by a field list (T::fields) -----------------------------------------
// Every command, event and stored value lists its fields once, beside its members; these write
// and read them recursively. Optional fields may be absent or null; a field marked
// field::defaulted may be absent or null and reads as its default; every other field must be
// present with the right type.

template <class T>
concept Described = requires(T& t) {
  T::fields(t, [](const char*, auto&, auto...) {});
};
// T is Tmpl<…> (std::optional, std::vector, std::map, std::set, CopyOnWrite, Id).
template <class T, template <class...> class Tmpl>
constexpr bool kIs = false;
template <template <class...> class Tmpl, class... A>
constexpr bool kIs<Tmpl<A...>, Tmpl> = true;

template <class Marker, class... Flags>
constexpr bool kHas = (std::is_same_v<Marker, Flags> || ...);

template <class T>
void write_fields(JsonWriter& w, const T& v);

template <class T>
void write_value(JsonWriter& w, const T& v) {
  if constexpr (kIs<T, Id>) {
    w.value(v.value);
  } else if constexpr (std::is_same_v<T, PhoneNumber>) {
    w.value(v.e164);
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, bool> ||
                       std::is_same_v<T, int32_t> || std::is_same_v<T, int64_t> ||
                       std::is_same_v<T, double>) {
    w.value(v);
  } else if constexpr (std::is_same_v<T, commands::Outcome>) {
    w.value(static_cast<int64_t>(v));
  } else if constexpr (std::is_same_v<T, Plan> || std::is_same_v<T, ReportedStatus> ||
                       std::is_same_v<T, Errc> || std::is_same_v<T, SmsEncoding>) {
    w.value(to_string(v));
  } else if constexpr (std::is_same_v<T, TimePoint>) {
    w.value(format_iso8601(v));
  } else if constexpr (kIs<T, commands::CopyOnWrite> ||
                       std::is_same_v<T, commands::CampaignQueues>) {
    write_value(w, v.get());
  } else if constexpr (kIs<T, std::variant>) {
    // A string or a described record (SecretValue): each as it is written alone.
    std::visit([&](const auto& x) { write_value(w, x); }, v);
  } else if constexpr (kIs<T, std::optional>) {
    if (v)
      write_value(w, *v);
    else
      w.null();
  } else if constexpr (kIs<T, std::vector> || kIs<T, std::set>) {
    w.begin_array();
    for (const auto& x : v) write_value(w, x);
    w.end_array();
  } else if constexpr (kIs<T, std::map>) {
    // Keys in the map's order: strings as they are, integers in decimal.
    w.begin_object();
    for (const auto& [k, x] : v) {
      if constexpr (std::is_same_v<typename T::key_type, std::string>)
        w.key(k);
      else
        w.key(std::to_string(k));
      write_value(w, x);
    }
    w.end_object();
  } else {
    static_assert(Described<T>, "no JSON form for this type");
    w.begin_object();
    write_fields(w, v);
    w.end_object();
  }
}

// The members of a described value, into an object the caller opened.
template <class T>
void write_fields(JsonWriter& w, const T& v) {
  T::fields(v, [&](const char* k, const auto& x, auto... flags) {
    if constexpr (kHas<field::OmitEmpty, decltype(flags)...>)
      if (!x) return;
    w.key(k);
    write_value(w, x);
  });
}

template <class T>
void read_object(object o, T& out, const std::string& path, std::optional<Error>& err);

// One of an enumeration's names (its to_string), or a failure.
template <class E, size_t N>
bool read_enum(std::string_view s, E& out, const E (&all)[N]) {
  for (E e : all)
    if (to_string(e) == s) {
      out = e;
      return true;
    }
  return false;
}

template <class T>
void read_value(element e, T& out, const std::string& path, std::optional<Error>& err) {
  if (err) return;
  auto fail = [&](std::string_view what) {
    err = corrupt(fmt::format("{} must be {}", path, what));
  };
  if constexpr (kIs<T, Id>) {
    std::string_view s;
    if (e.get_string().get(s)) return fail("a string");
    out.value = s;
  } else if constexpr (std::is_same_v<T, PhoneNumber>) {
    std::string_view s;
    if (e.get_string().get(s)) return fail("a string");
    out.e164 = s;
  } else if constexpr (std::is_same_v<T, std::string>) {
    std::string_view s;
    if (e.get_string().get(s)) return fail("a string");
    out = s;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (e.get_bool().get(out)) return fail("a boolean");
  } else if constexpr (std::is_same_v<T, int32_t>) {
    int64_t n = 0;
    if (e.get_int64().get(n)) return fail("an integer");
    if (n < INT32_MIN || n > INT32_MAX) return fail("a 32-bit integer");
    out = static_cast<int32_t>(n);
  } else if constexpr (std::is_same_v<T, int64_t>) {
    if (e.get_int64().get(out)) return fail("an integer");
  } else if constexpr (std::is_same_v<T, double>) {
    if (e.get_double().get(out)) return fail("a number");
  } else if constexpr (std::is_same_v<T, commands::Outcome>) {
    int64_t n = 0;
    if (e.get_int64().get(n) || n < 0 || n > 2) return fail("0, 1 or 2");
    out = static_cast<commands::Outcome>(n);
  } else if constexpr (std::is_same_v<T, Plan>) {
    std::string_view s;
    auto p = e.get_string().get(s) ? std::nullopt : plan_from_string(s);
    if (!p) return fail("free, pro or enterprise");
    out = *p;
  } else if constexpr (std::is_same_v<T, ReportedStatus>) {
    std::string_view s;
    if (e.get_string().get(s) ||
        !read_enum(s, out,
                   {ReportedStatus::sent, ReportedStatus::delivered, ReportedStatus::failed}))
      return fail("sent, delivered or failed");
  } else if constexpr (std::is_same_v<T, SmsEncoding>) {
    std::string_view s;
    if (e.get_string().get(s) || !read_enum(s, out, {SmsEncoding::gsm7, SmsEncoding::ucs2}))
      return fail("GSM-7 or UCS-2");
  } else if constexpr (std::is_same_v<T, Errc>) {
    std::string_view s;
    if (e.get_string().get(s) || !errc_from_string(s, out)) return fail("a known error code");
  } else if constexpr (std::is_same_v<T, TimePoint>) {
    std::string_view s;
    std::optional<TimePoint> t;
    if (!e.get_string().get(s)) t = parse_iso8601(s);
    if (!t) return fail("an ISO 8601 time");
    out = *t;
  } else if constexpr (std::is_same_v<T, commands::CampaignQueues>) {
    read_value(e, out.mut(), path, err);
  } else if constexpr (kIs<T, commands::CopyOnWrite>) {
    // Null (or, see read_object, absent): empty.
    std::decay_t<decltype(out.get())> v{};
    if (!e.is_null()) read_value(e, v, path, err);
    if (!err) out.mut() = std::move(v);
  } else if constexpr (kIs<T, std::variant>) {
    // std::variant<std::string, R>: a JSON string is the first, an object the record.
    static_assert(std::variant_size_v<T> == 2 &&
                      std::is_same_v<std::variant_alternative_t<0, T>, std::string> &&
                      Described<std::variant_alternative_t<1, T>>,
                  "a variant field is a string or a described record");
    if (e.is_string()) {
      std::string s;
      read_value(e, s, path, err);
      if (!err) out = std::move(s);
    } else if (e.is_object()) {
      std::variant_alternative_t<1, T> r{};
      read_value(e, r, path, err);
      if (!err) out = std::move(r);
    } else {
      return fail("a string or an object");
    }
  } else if constexpr (kIs<T, std::optional>) {
    if (e.is_null()) {
      out.reset();
      return;
    }
    typename T::value_type v{};
    read_value(e, v, path, err);
    if (!err)
      out = std::move(v);
    else if (err->details.starts_with(path + " must be "))
      err->details += " or null";
  } else if constexpr (kIs<T, std::vector> || kIs<T, std::set>) {
    array a;
    if (e.get_array().get(a)) return fail("an array");
    out.clear();
    for (element x : a) {
      typename T::value_type v{};
      read_value(x, v, path + "[]", err);
      if (err) return;
      if constexpr (kIs<T, std::set>)
        out.insert(std::move(v));
      else
        out.push_back(std::move(v));
    }
  } else if constexpr (kIs<T, std::map>) {
    object o;
    if (e.get_object().get(o)) return fail("an object");
    out.clear();
    for (auto [k, x] : o) {
      typename T::key_type key{};
      if constexpr (std::is_same_v<typename T::key_type, std::string>) {
        key = std::string(k);
      } else {
        auto [p, ec] = std::from_chars(k.data(), k.data() + k.size(), key);
        if (ec != std::errc{} || p != k.data() + k.size())
          return fail("an object of numbered keys");
      }
      typename T::mapped_type v{};
      read_value(x, v, path + "." + std::string(k), err);
      if (err) return;
      out.emplace(std::move(key), std::move(v));
    }
  } else {
    static_assert(Described<T>, "no JSON form for this type");
    object o;
    if (e.get_object().get(o)) return fail("an object");
    read_object(o, out, path, err);
  }
}

template <class T>
void read_object(object o, T& out, const std::string& path, std::optional<Error>& err) {
  T::fields(out, [&](const char* k, auto& x, auto... flags) {
    if (err) return;
    using F = std::decay_t<decltype(x)>;
    constexpr bool defaulted = kHas<field::Defaulted, decltype(flags)...>;
    element child;
    if (o[k].get(child) || (defaulted && child.is_null())) {
      if constexpr (defaulted) {
        // a field added later: its default in records written before it
      } else if constexpr (kIs<F, std::optional>) {
        x.reset();
      } else if constexpr (kIs<F, commands::CopyOnWrite>) {
        x = F{};  // a field added later: empty in records written before it
      } else {
        err = corrupt(fmt::format("{}.{} must be present", path, k));
      }
      return;
    }
    read_value(child, x, path + "." + k, err);
  });
}

template <Described T>
Result<T> read_data(std::type_identity<T>, object data) {
  T out{};
  std::optional<Error> err;
  read_object(data, out, std::string(T::kType) + ".data", err);
  if (err) return *err;
  return out;
}

// Reads `data` as the alternative of V whose kType is `type`, refusing newer versions.
template <class V, size_t I = 0>
Result<V> read_alternative(std::string_view kind, std::string_view type, int64_t v, object data) {
  if constexpr (I == std::variant_size_v<V>) {
    return Error{Errc::internal, "Unknown record type", fmt::format("{} type '{}'", kind, type)};
  } else {
    using T = std::variant_alternative_t<I, V>;
    if (type != T::kType) return read_alternative<V, I + 1>(kind, type, v, data);
    if (auto e = check_version<T>(v)) return *e;
    auto r = read_data(std::type_identity<T>{}, data);
    if (!r) return r.error();
    return V{std::move(r).value()};
  }
}

// The envelope's own fields, around a log record's data or a stored value's fields.
struct Head {
  std::string type;
  int64_t v = 0;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("type", s.type), f("v", s.v);
  }
};
struct CommandHead {
  Head head;
  CommandEnvelope env;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    Head::fields(s.head, f), f("id", s.env.id), f("orgId", s.env.org), f("at", s.env.at);
  }
};
struct EventHead {
  Head head;
  std::string id;
  EventEnvelope env;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    Head::fields(s.head, f), f("id", s.id), f("orgId", s.env.org), f("at", s.env.at),
        f("commandId", s.env.command_id), f("eventCount", s.env.event_count);
  }
};

// Reads the envelope H of a log record whose body is one of Variant, `kind` naming it.
template <class H, class Variant>
Result<H> read_record(std::string_view json, const char* kind, Variant& body) {
  auto obj = parse_object(json, Errc::internal, "Corrupt record");
  if (!obj) return obj.error();
  H h{};
  std::optional<Error> err;
  read_object(*obj, h, kind, err);
  object data;
  if (!err && (*obj)["data"].get_object().get(data))
    err = corrupt(fmt::format("{}.data must be an object", kind));
  if (err) return *err;
  auto b = read_alternative<Variant>(kind, h.head.type, h.head.v, data);
  if (!b) return b.error();
  body = std::move(b).value();
  return h;
}

template <class E>
std::string write_record(const E& env, const auto& write_head) {
  JsonWriter w;
  begin_envelope(w, std::visit([](const auto& x) { return x.kType; }, env.body),
                 std::visit([](const auto& x) { return x.kVersion; }, env.body));
  write_head(w);
  w.key("data");
  std::visit([&](const auto& x) { write_value(w, x); }, env.body);
  w.end_object();
  return w.take();
}

}  // namespace

// ---- log records -----------------------------------------------------------------------

template <>
std::string Codec<CommandEnvelope>::encode(const CommandEnvelope& c) {
  return write_record(c, [&](JsonWriter& w) {
    w.field("id", c.id.value).field("orgId", c.org.value).field("at", format_iso8601(c.at));
  });
}

template <>
Result<CommandEnvelope> Codec<CommandEnvelope>::decode(std::string_view json) {
  Command body;
  auto h = read_record<CommandHead>(json, "command", body);
  if (!h) return h.error();
  h->env.body = std::move(body);
  return std::move(h->env);
}

template <>
std::string Codec<EventEnvelope>::encode(const EventEnvelope& e) {
  return write_record(e, [&](JsonWriter& w) {
    w.field("id", event_id(e.source))
        .field("orgId", e.org.value)
        .field("at", format_iso8601(e.at))
        .field("commandId", e.command_id.value)
        .field("eventCount", e.event_count);
  });
}

template <>
Result<EventEnvelope> Codec<EventEnvelope>::decode(std::string_view json) {
  Event body;
  auto h = read_record<EventHead>(json, "event", body);
  if (!h) return h.error();
  auto source = parse_event_id(h->id);
  if (!source) return corrupt(fmt::format("event id '{}' is not evt_<p>-<o>-<i>", h->id));
  h->env.source = *source;
  h->env.body = std::move(body);
  return std::move(h->env);
}

// ---- stored values ---------------------------------------------------------------------

template <class V>
std::string Codec<V>::encode(const V& v) {
  JsonWriter w;
  begin_envelope(w, V::kType, V::kVersion);
  write_fields(w, v);
  w.end_object();
  return w.take();
}

template <class V>
Result<V> Codec<V>::decode(std::string_view json) {
  auto obj = parse_object(json, Errc::internal, "Corrupt record");
  if (!obj) return obj.error();
  const std::string where(V::kType);
  Head h;
  std::optional<Error> err;
  read_object(*obj, h, where, err);
  if (err) return *err;
  if (h.type != V::kType)
    return corrupt(fmt::format("expected a {} record, found '{}'", V::kType, h.type));
  if (auto e = check_version<V>(h.v)) return *e;
  V v{};
  read_object(*obj, v, where, err);
  if (err) return *err;
  return v;
}

// The stored value types: one line each compiles the codec for it.
template struct Codec<commands::DeciderState>;
template struct Codec<commands::CampaignQueue>;
template struct Codec<projections::CampaignView>;
template struct Codec<projections::MessageView>;
template struct Codec<projections::CommandOutcome>;
template struct Codec<projections::UserView>;
template struct Codec<projections::OrganizationView>;
template struct Codec<projections::MembershipView>;
template struct Codec<projections::ApiKeyView>;
template struct Codec<projections::DeviceView>;
template struct Codec<projections::PairingView>;
template struct Codec<projections::DeviceCredentialView>;
template struct Codec<projections::ReportRejectionsView>;
template struct Codec<projections::ClaimView>;
template struct Codec<projections::QueueView>;
template struct Codec<projections::ContactListView>;
template struct Codec<projections::ContactView>;
template struct Codec<projections::OptOutView>;
template struct Codec<projections::TimelineEntry>;
template struct Codec<projections::DayStatsView>;
template struct Codec<projections::CampaignExtrasView>;
template struct Codec<projections::IdempotencyView>;
template struct Codec<projections::WebhookSet>;
template struct Codec<projections::OutboxRecord>;
template struct Codec<projections::PendingOrganizationView>;
template struct Codec<projections::ConversationView>;
template struct Codec<projections::VerificationView>;
template struct Codec<projections::PendingPlanView>;
template struct Codec<DeliveryState>;
template struct Codec<EndpointHealth>;
template struct Codec<DeliveryChanges>;

}  // namespace pulse::codec
