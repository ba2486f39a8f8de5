// The JSON Schemas in schemas/ and the records' field lists name the same fields: a field added
// to a record without its schema (or the reverse) fails here, so the contract can't drift.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "commands/decider.h"
#include "domain/commands.h"
#include "domain/events.h"
#include "fmt/format.h"

namespace pulse {
namespace {

namespace fs = std::filesystem;

const fs::path kSchemaDir = fs::path(PULSE_TEST_DATA_DIR) / ".." / ".." / "schemas";

// A record's field names, with the names of the records nested in each (vectors, optionals).
struct Shape {
  std::map<std::string, std::optional<Shape>> fields;
};

template <class T>
concept Described = requires(T& t) {
  T::fields(t, [](const char*, auto&, auto...) {});
};

template <class T>
std::optional<Shape> shape_of();

template <class T>
struct Unwrap {
  using type = T;
};
template <class T>
struct Unwrap<std::optional<T>> : Unwrap<T> {};
template <class T>
struct Unwrap<std::vector<T>> : Unwrap<T> {};

template <class T>
std::optional<Shape> shape_of() {
  using U = typename Unwrap<T>::type;
  if constexpr (Described<U>) {
    Shape s;
    U sample{};
    U::fields(sample, [&](const char* k, auto& x, auto...) {
      s.fields[k] = shape_of<std::decay_t<decltype(x)>>();
    });
    return s;
  } else {
    return std::nullopt;
  }
}

// The object schema a property describes: itself, its array items, or the first alternative
// of a oneOf/anyOf that is an object.
std::optional<simdjson::dom::object> object_schema(simdjson::dom::object p) {
  simdjson::dom::object props, items;
  if (!p["properties"].get_object().get(props)) return p;
  if (!p["items"].get_object().get(items)) return object_schema(items);
  for (const char* k : {"oneOf", "anyOf"}) {
    simdjson::dom::array alts;
    if (p[k].get_array().get(alts)) continue;
    for (auto alt : alts) {
      simdjson::dom::object o;
      if (alt.get_object().get(o)) continue;
      if (auto s = object_schema(o)) return s;
    }
  }
  return std::nullopt;
}

// The differences between a schema's properties and a record's fields, recursively where both
// nest one. `exact`: the record's current version (same names); else an older one (a subset:
// versions only append fields).
void compare(simdjson::dom::object schema, const Shape& record, const std::string& where,
             bool exact, std::vector<std::string>& out) {
  simdjson::dom::object props;
  if (schema["properties"].get_object().get(props)) {
    out.push_back(where + " has no properties");
    return;
  }
  std::set<std::string> in_schema;
  for (auto [k, v] : props) {
    const std::string name(k);
    in_schema.insert(name);
    auto it = record.fields.find(name);
    if (it == record.fields.end()) {
      out.push_back(fmt::format("{}.{} is in the schema, not the record", where, name));
      continue;
    }
    simdjson::dom::object p;
    if (!it->second || v.get_object().get(p)) continue;
    if (auto nested = object_schema(p))
      compare(*nested, *it->second, where + "." + name, exact, out);
  }
  if (exact)
    for (const auto& [name, _] : record.fields)
      if (!in_schema.count(name))
        out.push_back(fmt::format("{}.{} is in the record, not the schema", where, name));
}

struct RecordInfo {
  int version = 0;
  Shape shape;
};

template <class Variant>
std::map<std::string, RecordInfo> records() {
  std::map<std::string, RecordInfo> out;
  [&]<size_t... I>(std::index_sequence<I...>) {
    ((out[std::string(std::variant_alternative_t<I, Variant>::kType)] =
          RecordInfo{std::variant_alternative_t<I, Variant>::kVersion,
                     *shape_of<std::variant_alternative_t<I, Variant>>()}),
     ...);
  }
  (std::make_index_sequence<std::variant_size_v<Variant>>{});
  return out;
}

void check_folder(const std::string& folder, const std::map<std::string, RecordInfo>& known) {
  std::set<std::string> current_seen;
  simdjson::dom::parser parser;
  for (const auto& entry : fs::directory_iterator(kSchemaDir / folder)) {
    const auto stem = entry.path().stem().string();  // "CampaignCreated.v2"
    INFO(entry.path().string());
    const size_t dot = stem.rfind(".v");
    REQUIRE(dot != std::string::npos);
    const std::string type = stem.substr(0, dot);
    const int version = std::stoi(stem.substr(dot + 2));
    auto it = known.find(type);
    REQUIRE_MESSAGE(it != known.end(), "a schema of no record: ", type);
    REQUIRE(version <= it->second.version);
    simdjson::dom::element doc;
    REQUIRE(!parser.load(entry.path().string()).get(doc));
    simdjson::dom::object data;
    REQUIRE(!doc["properties"]["data"].get_object().get(data));
    const bool current = version == it->second.version;
    if (current) current_seen.insert(type);
    std::vector<std::string> diffs;
    compare(data, it->second.shape, stem + ".data", current, diffs);
    for (const auto& d : diffs) FAIL_CHECK(d);
  }
  for (const auto& entry : known) {  // named, not bound: clang 14 can't capture a binding
    const auto& type = entry.first;
    const auto& info = entry.second;
    CHECK_MESSAGE(current_seen.count(type) == 1, "no schema of ", folder, "/", type, ".v",
                  info.version, ".json");
  }
}

TEST_CASE("every command schema names exactly its record's fields") {
  check_folder("commands", records<Command>());
}

TEST_CASE("every event schema names exactly its record's fields") {
  check_folder("events", records<Event>());
}

TEST_CASE("the schema check sees a drift") {
  // A record with a field its schema lacks, and a schema field the record lacks.
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(!parser.parse(std::string_view(R"({"properties":{"a":{},"b":{}}})")).get(doc));
  simdjson::dom::object schema;
  REQUIRE(!doc.get_object().get(schema));
  Shape record;
  record.fields["a"];
  record.fields["c"];
  std::vector<std::string> diffs;
  compare(schema, record, "X", true, diffs);
  CHECK(diffs == std::vector<std::string>{"X.b is in the schema, not the record",
                                          "X.c is in the record, not the schema"});
  diffs.clear();
  compare(schema, record, "X", false, diffs);  // an older version may lack c
  CHECK(diffs == std::vector<std::string>{"X.b is in the schema, not the record"});
}

}  // namespace
}  // namespace pulse
