#include "adapters/runtime/roles.h"

#include <vector>

namespace pulse::runtime {

std::string Roles::to_string() const {
  std::string out;
  for (auto [on, name] :
       {std::pair{api, "api"}, std::pair{projector, "projector"}, std::pair{decider, "decider"},
        std::pair{ticker, "ticker"}, std::pair{dispatcher, "dispatcher"}}) {
    if (!on) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

Result<Roles> parse_roles(std::string_view csv) {
  Roles r{false, false, false, false, false};
  size_t start = 0;
  while (start <= csv.size()) {
    const auto end = std::min(csv.find(',', start), csv.size());
    const auto name = csv.substr(start, end - start);
    bool* flag = name == "api"          ? &r.api
                 : name == "projector"  ? &r.projector
                 : name == "decider"    ? &r.decider
                 : name == "ticker"     ? &r.ticker
                 : name == "dispatcher" ? &r.dispatcher
                                        : nullptr;
    if (!flag)
      return validation_error("Invalid --roles", "unknown role '" + std::string(name) +
                                                     "'; roles: api, projector, decider, "
                                                     "ticker, dispatcher");
    if (*flag) return validation_error("Invalid --roles", "'" + std::string(name) + "' twice");
    *flag = true;
    start = end + 1;
  }
  if (r.ticker && !r.decider)
    return validation_error("Invalid --roles",
                            "ticker needs decider: it ticks the partitions its decider owns");
  if (r.api) r.projector = true;         // an API node keeps its own read-model replica
  if (r.dispatcher) r.projector = true;  // the webhook outbox is part of the read models
  return r;
}

}  // namespace pulse::runtime
