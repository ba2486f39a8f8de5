#include "adapters/cli/plans_config.h"

#include <simdjson.h>

#include "fmt/format.h"

namespace pulse::cli {

Status apply_plan_overrides(std::string_view json, PlanTable& plans) {
  constexpr const char* kInvalid = "Invalid plans configuration";
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(json.data(), json.size()).get(doc))
    return validation_error(kInvalid,
                            fmt::format("invalid JSON: {}", simdjson::error_message(err)));
  simdjson::dom::object obj;
  if (doc.get_object().get(obj))
    return validation_error(kInvalid, "the body must be a JSON object");
  for (auto [name, value] : obj) {
    auto plan = plan_from_string(name);
    simdjson::dom::object limits;
    if (!plan || value.get_object().get(limits))
      return validation_error(kInvalid, fmt::format("'{}' is not free, pro or enterprise with an "
                                                    "object of limits",
                                                    name));
    auto& target = plans[*plan];
    for (auto [field, slot] :
         {std::pair{"monthlySms", &target.monthly_sms},
          std::pair{"organizations", &target.organizations}, std::pair{"apiKeys", &target.api_keys},
          std::pair{"sendPerMinute", &target.send_per_minute}}) {
      simdjson::dom::element e;
      if (limits[field].get(e)) continue;
      int64_t n = kUnlimited;
      if (!e.is_null() && e.get_int64().get(n))
        return validation_error(kInvalid, fmt::format("{}.{} must be an integer", name, field));
      if (n < kUnlimited)
        return validation_error(kInvalid,
                                fmt::format("{}.{} must be -1 (unlimited) or more", name, field));
      *slot = n;
    }
    for (auto [field, _] : limits)
      if (field != "monthlySms" && field != "organizations" && field != "apiKeys" &&
          field != "sendPerMinute")
        return validation_error(
            kInvalid, fmt::format("{}.{} must be one of monthlySms, organizations, apiKeys, "
                                  "sendPerMinute",
                                  name, field));
  }
  return ok_status();
}

}  // namespace pulse::cli
