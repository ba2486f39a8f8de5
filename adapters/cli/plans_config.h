#pragma once
// The --plans file of `pulse serve`: limits per plan that override the built-in ones.
#include <string_view>

#include "domain/commands.h"
#include "domain/result.h"

namespace pulse::cli {

// {"free": {"monthlySms": 100, "organizations": 1, "apiKeys": 1, "sendPerMinute": 10},
// "pro": {…}, "enterprise": {…}}; -1 or null means unlimited; what a file leaves out keeps its
// default.
Status apply_plan_overrides(std::string_view json, PlanTable& plans);

}  // namespace pulse::cli
