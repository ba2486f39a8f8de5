#pragma once
// Message templates: "Hi {{firstName}}" rendered per recipient.
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.h"

namespace pulse {

struct Template {
  // Alternating literal text and variable names: parts[i].is_var says which.
  struct Part {
    bool is_var = false;
    std::string text;  // literal text, or the trimmed variable name
  };
  std::vector<Part> parts;
  bool has_variables() const;
};

// "{{ name }}" with optional inner spaces; names are [A-Za-z_][A-Za-z0-9_.-]*.
// An unclosed "{{" or an empty/invalid name is a validation error with the position.
Result<Template> parse_template(std::string_view text);

// Variables a contact provides: firstName, lastName, name, phone, email and any custom field.
using TemplateVars = std::map<std::string, std::string, std::less<>>;
// A missing variable renders as the empty string.
std::string render(const Template& t, const TemplateVars& vars);

// What a request says of variables that its recipients or contacts don't provide
// ("missingVariables"): "error" (the default) refuses the template, "empty" renders them as
// empty text.
enum class MissingVariables { refuse, empty };
Result<MissingVariables> parse_missing_variables(std::string_view s);

// The variables a template may use. Names are case-sensitive: {{FIRSTNAME}} is not firstName.
using VariableNames = std::set<std::string, std::less<>>;
// A 400 that names the first variable of `t` not in `available`, and the available ones,
// unless `missing` is MissingVariables::empty.
Status check_variables(const Template& t, const VariableNames& available, MissingVariables missing);

}  // namespace pulse
