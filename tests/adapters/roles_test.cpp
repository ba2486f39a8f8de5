// pulse serve --roles parsing.
#include <doctest/doctest.h>

#include "adapters/runtime/roles.h"

namespace pulse::runtime {

TEST_CASE("roles: subsets, api implies projector, ticker needs decider, typos refused") {
  auto all = parse_roles("api,projector,decider,ticker,dispatcher");
  REQUIRE(all.ok());
  CHECK(all->all());
  CHECK(Roles{}.all());
  auto api = parse_roles("api");
  REQUIRE(api.ok());
  CHECK(api->api);
  CHECK(api->projector);
  CHECK_FALSE(api->decider);
  CHECK(api->to_string() == "api,projector");
  auto decider = parse_roles("ticker,decider");
  REQUIRE(decider.ok());
  CHECK(decider->to_string() == "decider,ticker");
  CHECK_FALSE(parse_roles("ticker").ok());
  CHECK_FALSE(parse_roles("api,api").ok());
  CHECK_FALSE(parse_roles("api,deciders").ok());
  CHECK_FALSE(parse_roles("").ok());
}

}  // namespace pulse::runtime
