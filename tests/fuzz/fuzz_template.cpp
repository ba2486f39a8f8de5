// parse_template on arbitrary text. Properties: the parts alternate literal/variable (adjacent
// literals merged), every variable name is valid, the canonical text ("{{name}}") parses to the
// same parts, and rendering without variables leaves the literal text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "domain/template.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

std::string canonical(const pulse::Template& t) {
  std::string out;
  for (const auto& p : t.parts) out += p.is_var ? "{{" + p.text + "}}" : p.text;
  return out;
}

bool same(const pulse::Template& a, const pulse::Template& b) {
  if (a.parts.size() != b.parts.size()) return false;
  for (size_t i = 0; i < a.parts.size(); ++i)
    if (a.parts[i].is_var != b.parts[i].is_var || a.parts[i].text != b.parts[i].text) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto t = pulse::parse_template(input);
  if (!t) return 0;
  std::string literals;
  for (size_t i = 0; i < t->parts.size(); ++i) {
    const auto& p = t->parts[i];
    PULSE_FUZZ_CHECK(!p.text.empty(), input);
    if (i > 0) PULSE_FUZZ_CHECK(p.is_var || t->parts[i - 1].is_var, input);
    if (p.is_var) {
      PULSE_FUZZ_CHECK(p.text.find_first_of(" \t\r\n{}") == std::string::npos, p.text);
    } else {
      literals += p.text;
    }
  }
  const std::string text = canonical(*t);
  auto again = pulse::parse_template(text);
  PULSE_FUZZ_CHECK(again && same(*again, *t), text);
  PULSE_FUZZ_CHECK(pulse::render(*t, {}) == literals, input);
  pulse::TemplateVars vars;
  for (const auto& p : t->parts)
    if (p.is_var) vars[p.text] = "{{" + p.text + "}}";
  PULSE_FUZZ_CHECK(pulse::render(*t, vars) == text, text);
  return 0;
}
