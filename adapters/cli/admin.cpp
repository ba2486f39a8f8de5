// pulse admin: operator commands sent to a running server with the operator token
// (PULSE_ADMIN_TOKEN, the same on the server).
#include <httplib.h>

#include <cstdlib>

#include "adapters/cli/args.h"
#include "domain/plans.h"
#include "fmt/format.h"

namespace pulse::cli {
namespace {

constexpr const char* kAdminUsage = R"(usage: pulse admin <command> [--server URL]
  set-plan --org ORG_ID --plan free|pro|enterprise   change an organisation's plan
The operator token comes from PULSE_ADMIN_TOKEN; --server defaults to http://127.0.0.1:8080.
)";

int set_plan(const Args& args) {
  const auto org = args.get("--org");
  const auto plan = args.get("--plan");
  if (org.empty() || !plan_from_string(plan)) {
    fmt::print(stderr, "{}", kAdminUsage);
    return 2;
  }
  const char* token = std::getenv("PULSE_ADMIN_TOKEN");
  if (!token || !*token)
    return fail(validation_error("PULSE_ADMIN_TOKEN is not set", "the server's operator token"));
  httplib::Client client(args.get("--server", "http://127.0.0.1:8080"));
  client.set_bearer_token_auth(token);
  client.set_connection_timeout(5);
  client.set_read_timeout(10);
  auto res = client.Post(fmt::format("/api/admin/organizations/{}/plan", org).c_str(),
                         fmt::format(R"({{"plan":"{}"}})", plan), "application/json");
  if (!res)
    return fail(
        Error{Errc::unavailable, "Cannot reach the server", httplib::to_string(res.error())});
  if (res->status != 200) {
    fmt::print(stderr, "pulse admin: {} {}\n", res->status, res->body);
    return 1;
  }
  fmt::print("{}\n", res->body);
  return 0;
}

}  // namespace

int admin(int argc, char** argv) {
  if (argc < 3) {
    fmt::print(stderr, "{}", kAdminUsage);
    return 2;
  }
  const std::string sub = argv[2];
  auto args = parse_args(argc, argv, 3);
  if (!args) return 2;
  if (sub == "set-plan") return set_plan(*args);
  fmt::print(stderr, "pulse admin: unknown command '{}'\n{}", sub, kAdminUsage);
  return 2;
}

}  // namespace pulse::cli
