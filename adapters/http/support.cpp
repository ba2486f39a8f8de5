#include <charconv>
#include <random>

#include "adapters/codec/json_codec.h"
#include "adapters/http/json_views.h"
#include "adapters/http/routes.h"
#include "domain/ids.h"
#include "fmt/format.h"

namespace pulse::http {

uint64_t random64() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

void reply(httplib::Response& res, int status, std::string body) {
  res.status = status;
  res.set_content(std::move(body), kJson);
}

void reply_error(httplib::Response& res, const Error& e) {
  reply(res, http_status(e.code), error_body(e));
  if (e.code == Errc::unavailable || e.code == Errc::rate_limited)
    res.set_header("Retry-After", "1");
}

Error not_found(std::string what) {
  return Error{Errc::not_found, std::move(what), "It does not exist in this organization."};
}

Result<size_t> limit_param(const httplib::Request& req, const char* name, size_t fallback,
                           size_t max) {
  if (!req.has_param(name)) return fallback;
  const auto s = req.get_param_value(name);
  size_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v < 1 || v > max)
    return validation_error("Invalid query parameter",
                            fmt::format("{} must be an integer from 1 to {}", name, max));
  return v;
}

// Development only, until accounts and API keys land: the organisation comes from
// X-Organization-Id, or is the development organisation.
Result<OrgId> Context::organization(const httplib::Request& req) const {
  if (!req.has_header("X-Organization-Id")) return app.options().dev_org;
  auto id = req.get_header_value("X-Organization-Id");
  if (!is_valid_id(id_prefix::org, id))
    return validation_error("Invalid X-Organization-Id", "expected an id like org_01abc…");
  return OrgId{std::move(id)};
}

Status Context::execute(const CommandEnvelope& cmd) const {
  const log::Record record{cmd.org.value, codec::encode_command(cmd)};
  auto appended = app.log().append(log::kCommandsTopic, std::span(&record, 1));
  if (!appended) return appended.error();
  const auto pos = appended->front();
  const auto deadline = std::chrono::steady_clock::now() + options.write_wait;
  if (!app.watermarks().wait_until(pos.partition, pos.offset.value, deadline))
    return Error{Errc::unavailable, "Request accepted but not yet applied",
                 fmt::format("command {} is queued; retry the read shortly", cmd.id.value)};
  auto outcome = app.models().outcome(cmd.org, cmd.id);
  if (!outcome) return outcome.error();
  if (*outcome) return Error{(*outcome)->code, (*outcome)->error, (*outcome)->details};
  return ok_status();
}

}  // namespace pulse::http
