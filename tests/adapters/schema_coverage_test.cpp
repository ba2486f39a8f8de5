// Every command and event type this build writes has a JSON Schema for each of its versions in
// schemas/ (the contract analysts and integrators read). Adding a type or a version without
// its schema fails here; tests/schema/validate.mjs then checks real records against them.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "domain/commands.h"
#include "domain/events.h"

namespace {

namespace fs = std::filesystem;
const fs::path kSchemas = fs::path(PULSE_TEST_DATA_DIR) / ".." / ".." / "schemas";

// (type, version) of one record, every version up to the current one.
template <class T>
void add_versions(std::vector<std::pair<std::string, int>>& out) {
  for (int v = 1; v <= T::kVersion; ++v) out.emplace_back(std::string(T::kType), v);
}

// The same for every alternative of a variant. A function, not a lambda in the fold: clang 14
// (clang-tidy) crashes on the latter.
template <class Variant>
std::vector<std::pair<std::string, int>> versions() {
  std::vector<std::pair<std::string, int>> out;
  [&]<size_t... I>(std::index_sequence<I...>) {
    (add_versions<std::variant_alternative_t<I, Variant>>(out), ...);
  }
  (std::make_index_sequence<std::variant_size_v<Variant>>{});
  return out;
}

void check(const std::string& kind, const std::vector<std::pair<std::string, int>>& types) {
  for (const auto& entry : types) {
    const std::string& type = entry.first;  // named, not bound: CHECK_MESSAGE captures them
    const int v = entry.second;
    const auto file = kSchemas / kind / (type + ".v" + std::to_string(v) + ".json");
    CHECK_MESSAGE(fs::is_regular_file(file), "no schema for ", kind, " ", type, " v", v,
                  ": add schemas/", kind, "/", type, ".v", v, ".json (see schemas/README.md)");
  }
}

}  // namespace

TEST_CASE("every command type and version has a JSON Schema") {
  check("commands", versions<pulse::Command>());
}

TEST_CASE("every event type and version has a JSON Schema") {
  check("events", versions<pulse::Event>());
}
