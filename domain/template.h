#pragma once
// Message templates: "Hi {{firstName}}" rendered per recipient.
#include <map>
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

}  // namespace pulse
