#include "domain/contacts.h"

namespace pulse {
namespace {
std::string trim(std::string_view s) {
  const auto a = s.find_first_not_of(' ');
  if (a == std::string_view::npos) return {};
  const auto b = s.find_last_not_of(' ');
  return std::string(s.substr(a, b - a + 1));
}
}  // namespace

Contact merge_contact(Contact base, const Contact& update) {
  auto take = [](std::string& into, const std::string& from) {
    if (!from.empty()) into = from;
  };
  take(base.phone, update.phone);
  take(base.first_name, update.first_name);
  take(base.last_name, update.last_name);
  take(base.name, update.name);
  take(base.email, update.email);
  if (update.country) base.country = update.country;
  if (update.phone_type) base.phone_type = update.phone_type;
  for (const auto& [k, v] : update.extra)
    if (!v.empty()) base.extra[k] = v;
  return base;
}

TemplateVars contact_vars(const Contact& c) {
  TemplateVars vars;
  for (const auto& [k, v] : c.extra) vars[k] = v;
  std::string first = trim(c.first_name);
  std::string last = trim(c.last_name);
  std::string name = trim(c.name);
  if (!name.empty() && first.empty() && last.empty()) {
    const auto space = name.find(' ');
    first = name.substr(0, space);
    if (space != std::string::npos) last = trim(name.substr(space));
  }
  if (name.empty()) name = last.empty() ? first : first.empty() ? last : first + " " + last;
  vars["firstName"] = first;
  vars["lastName"] = last;
  vars["name"] = name;
  vars["phone"] = c.phone;
  vars["email"] = c.email;
  return vars;
}

}  // namespace pulse
