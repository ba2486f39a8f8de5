#include "adapters/cli/plans_config.h"

#include <doctest/doctest.h>

namespace pulse::cli {
namespace {

TEST_CASE("a --plans file overrides the limits it names, -1 or null meaning unlimited") {
  PlanTable plans;
  const auto pro_orgs = plans.pro.organizations;
  REQUIRE(apply_plan_overrides(R"({"free":{"monthlySms":500,"apiKeys":null},)"
                               R"("enterprise":{"sendPerMinute":-1}})",
                               plans)
              .ok());
  CHECK(plans.free.monthly_sms == 500);
  CHECK(plans.free.api_keys == kUnlimited);
  CHECK(plans.enterprise.send_per_minute == kUnlimited);
  CHECK(plans.pro.organizations == pro_orgs);
}

TEST_CASE("a --plans file with a mistake is refused with the field named") {
  auto details = [](std::string_view json) {
    PlanTable plans;
    auto st = apply_plan_overrides(json, plans);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message == "Invalid plans configuration");
    return st.error().details;
  };
  CHECK(details("{").starts_with("invalid JSON: "));
  CHECK(details("[]") == "the body must be a JSON object");
  CHECK(details(R"({"gold":{}})") ==
        "'gold' is not free, pro or enterprise with an object of limits");
  CHECK(details(R"({"pro":{"monthlySms":"many"}})") == "pro.monthlySms must be an integer");
  CHECK(details(R"({"pro":{"apiKeys":-2}})") == "pro.apiKeys must be -1 (unlimited) or more");
  CHECK(details(R"({"free":{"seats":3}})") ==
        "free.seats must be one of monthlySms, organizations, apiKeys, sendPerMinute");
}

}  // namespace
}  // namespace pulse::cli
