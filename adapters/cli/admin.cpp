// pulse admin: operator commands sent to a running server with the operator token
// (PULSE_ADMIN_TOKEN, the same on the server), and rotate-data-key, which works on the data
// keys themselves (adapters/auth/sealer.h), not through a server.
#include <httplib.h>

#include <cstdlib>

#include "adapters/auth/crypto.h"
#include "adapters/auth/sealer.h"
#include "adapters/cli/args.h"
#include "domain/plans.h"
#include "fmt/format.h"

namespace pulse::cli {
namespace {

constexpr const char* kAdminUsage = R"(usage: pulse admin <command> [--server URL]
  set-plan --org ORG_ID --plan free|pro|enterprise   change the plan of the account that owns
                                                     ORG_ID (all its organisations take it)
  rotate-data-key [--data-dir DIR]   a new data key seals from the server's next start
The operator token comes from PULSE_ADMIN_TOKEN; --server defaults to http://127.0.0.1:8080.
rotate-data-key puts a new key first in DIR/secrets/data-keys (default pulse-data); the old keys
stay, since the log keeps what they sealed. A running server goes on sealing with the key it
started with until it restarts. With PULSE_DATA_KEY set it changes nothing: it prints a new key
and the PULSE_DATA_KEY to give every node (first add it last everywhere, then move it first).
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

// Not through the server: a key must reach every node that opens records before any node seals
// with it, and a node only learns its keys when it starts (PULSE_DATA_KEY, or its data
// directory's file). A server left running seals with its previous key, which stays readable.
int rotate_data_key(const Args& args) {
  if (const char* env = std::getenv("PULSE_DATA_KEY"); env && *env) {
    auto keys = auth::parse_data_keys(env);
    if (!keys) return fail(keys.error());
    const auto fresh = auth::new_data_key();
    const auto hex = auth::to_hex(fresh.bytes);
    fmt::print(
        "new data key {}\n"
        "1. on every node: PULSE_DATA_KEY={},{} and restart (the new key opens, the old seals)\n"
        "2. then on every node: PULSE_DATA_KEY={},{} and restart (the new key seals)\n",
        fresh.id, env, hex, hex, env);
    return 0;
  }
  const std::filesystem::path dir = args.get("--data-dir", "pulse-data");
  if (!std::filesystem::exists(dir))
    return fail(Error{Errc::not_found, "No data directory", dir.string()});
  auto fresh = auth::rotate_data_keys(dir);
  if (!fresh) return fail(fresh.error());
  auto keys = auth::load_data_keys(dir, false);
  if (!keys) return fail(keys.error());
  fmt::print("data key {} seals from the server's next start; {} older key(s) kept in {}\n",
             fresh->id, keys->size() - 1, auth::data_keys_path(dir).string());
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
  if (sub == "rotate-data-key") return rotate_data_key(*args);
  fmt::print(stderr, "pulse admin: unknown command '{}'\n{}", sub, kAdminUsage);
  return 2;
}

}  // namespace pulse::cli
