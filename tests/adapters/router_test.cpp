#include "adapters/http/router.h"

#include <doctest/doctest.h>

namespace {

void none(const httplib::Request&, httplib::Response&) {}

}  // namespace

TEST_CASE("router: the methods a path takes, for 405's Allow") {
  httplib::Server server;
  pulse::http::Router router(server);
  router.Get("/api/campaigns", none).Post("/api/campaigns", none);
  router.Get(R"(/api/campaigns/([^/]+))", none);
  router.Post(R"(/api/campaigns/([^/]+)/pause)", none);
  router.Patch(R"(/api/webhooks/([^/]+))", none).Delete(R"(/api/webhooks/([^/]+))", none);
  router.Get(R"(/api/webhooks/([^/]+))", none);

  CHECK(router.allowed("/api/campaigns") == "GET, HEAD, POST");
  CHECK(router.allowed("/api/campaigns/cmp_1") == "GET, HEAD");
  CHECK(router.allowed("/api/campaigns/cmp_1/pause") == "POST");
  // In one order whatever the order of registration.
  CHECK(router.allowed("/api/webhooks/wh_1") == "GET, HEAD, PATCH, DELETE");
  // The whole path must match, as httplib routes it.
  CHECK(router.allowed("/api/campaigns/cmp_1/pause/x").empty());
  CHECK(router.allowed("/api/campaign").empty());
  CHECK(router.allowed("/nowhere").empty());
}
