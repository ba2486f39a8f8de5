#include "domain/template.h"

#include <algorithm>
#include <cctype>

#include "fmt/format.h"

namespace pulse {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool is_alpha(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool is_valid_name(std::string_view name) {
  if (name.empty() || !(is_alpha(name.front()) || name.front() == '_')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return is_alpha(c) || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// 1-based position in characters (code points), as a person counting the text would see it.
size_t char_position(std::string_view text, size_t byte_offset) {
  size_t n = 1;
  for (size_t i = 0; i < byte_offset; ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++n;
  return n;
}

Error invalid(std::string details) {
  return validation_error("Invalid message template", std::move(details));
}

}  // namespace

bool Template::has_variables() const {
  return std::any_of(parts.begin(), parts.end(), [](const Part& p) { return p.is_var; });
}

Result<Template> parse_template(std::string_view text) {
  Template t;
  auto add_literal = [&t](std::string_view s) {
    if (s.empty()) return;
    if (!t.parts.empty() && !t.parts.back().is_var) {
      t.parts.back().text.append(s);
    } else {
      t.parts.push_back({false, std::string(s)});
    }
  };

  size_t pos = 0;
  while (pos < text.size()) {
    const size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) break;
    add_literal(text.substr(pos, open - pos));
    const size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return invalid(fmt::format("unclosed '{{{{' at character {}", char_position(text, open)));
    }
    const std::string_view raw = text.substr(open + 2, close - open - 2);
    const std::string_view name = trim(raw);
    if (name.empty()) {
      return invalid(fmt::format("empty variable name at character {}", char_position(text, open)));
    }
    if (!is_valid_name(name)) {
      return invalid(fmt::format("invalid variable name '{}' at character {}", name,
                                 char_position(text, open)));
    }
    t.parts.push_back({true, std::string(name)});
    pos = close + 2;
  }
  if (pos < text.size()) add_literal(text.substr(pos));
  return t;
}

Result<MissingVariables> parse_missing_variables(std::string_view s) {
  if (s == "error") return MissingVariables::refuse;
  if (s == "empty") return MissingVariables::empty;
  return validation_error("Invalid missingVariables",
                          "missingVariables must be \"error\" (the default: a template variable "
                          "that is not available is refused) or \"empty\" (it renders as "
                          "empty text)");
}

Status check_variables(const Template& t, const VariableNames& available,
                       MissingVariables missing) {
  if (missing == MissingVariables::empty) return ok_status();
  for (const auto& part : t.parts) {
    if (!part.is_var || available.contains(part.text)) continue;
    std::string names;
    for (const auto& n : available) names += (names.empty() ? "" : ", ") + n;
    // The available name it most likely means, when it differs only in case.
    std::string hint;
    for (const auto& n : available)
      if (n.size() == part.text.size() &&
          std::equal(n.begin(), n.end(), part.text.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) ==
                   std::tolower(static_cast<unsigned char>(b));
          }))
        hint = fmt::format(" (did you mean {{{{{}}}}}? names are case-sensitive)", n);
    return validation_error(
        "Unknown template variable",
        fmt::format("{{{{{}}}}} is not available{}; the variables are {}. Send "
                    "\"missingVariables\": \"empty\" to render unknown variables as empty "
                    "text.",
                    part.text, hint, names));
  }
  return ok_status();
}

std::string render(const Template& t, const TemplateVars& vars) {
  std::string out;
  for (const auto& part : t.parts) {
    if (!part.is_var) {
      out += part.text;
    } else if (auto it = vars.find(part.text); it != vars.end()) {
      out += it->second;
    }
  }
  return out;
}

}  // namespace pulse
