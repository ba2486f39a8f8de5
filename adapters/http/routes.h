#pragma once
// Shared by the HTTP route files (internal to adapters/http): the context handlers run in and
// the helpers that map Results to responses. Each capability registers its routes in its own
// file through an add_*_routes function.
#include <httplib.h>

#include <cstdint>
#include <string>

#include "adapters/app.h"
#include "adapters/http/api_server.h"
#include "domain/commands.h"
#include "domain/result.h"

namespace pulse::http {

inline constexpr const char* kJson = "application/json";

struct Context {
  App& app;
  const ServerOptions& options;

  // The organisation a request acts for.
  Result<OrgId> organization(const httplib::Request& req) const;
  // Appends a command and waits until its outcome is projected (read-your-writes). Returns the
  // rejection when the decider refused it, 503 when it was not applied in time.
  Status execute(const CommandEnvelope& cmd) const;
};

uint64_t random64();
void reply(httplib::Response& res, int status, std::string body);
void reply_error(httplib::Response& res, const Error& e);
Error not_found(std::string what);
// ?name=N within [1, max]; the default when absent.
Result<size_t> limit_param(const httplib::Request& req, const char* name, size_t fallback,
                           size_t max);

void add_sms_routes(httplib::Server& server, const Context& ctx);

}  // namespace pulse::http
