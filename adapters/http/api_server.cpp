#include "adapters/http/api_server.h"

#include <httplib.h>

#include <sys/socket.h>

#include <atomic>
#include <charconv>
#include <random>

#include "adapters/codec/json_codec.h"
#include "adapters/http/json_views.h"
#include "adapters/runtime/logging.h"
#include "commands/send_sms.h"
#include "domain/ids.h"
#include "fmt/format.h"

namespace pulse::http {
namespace {

constexpr const char* kJson = "application/json";
constexpr size_t kDefaultMessagesLimit = 500;
constexpr size_t kMaxMessagesLimit = 1000;
constexpr size_t kDefaultListLimit = 50;
constexpr size_t kMaxListLimit = 200;

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

// ?limit=N within [1, max]; the default when absent.
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

}  // namespace

struct ApiServer::Impl {
  App& app;
  ServerOptions options;
  httplib::Server server;
  int listen_fd = -1;

  Impl(App& a, ServerOptions o) : app(a), options(o) {
    server.set_tcp_nodelay(true);
    server.set_keep_alive_max_count(100000);
    server.set_keep_alive_timeout(30);
    server.set_payload_max_length(16 << 20);
    const int threads = options.threads;
    server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    // httplib listens with a backlog of 5; remember the socket to raise it after bind.
    server.set_socket_options([this](int sock) {
      httplib::default_socket_options(sock);
      listen_fd = sock;
    });
    routes();
  }

  // Development only, until accounts and API keys land: the organisation comes from
  // X-Organization-Id, or is the development organisation.
  Result<OrgId> organization(const httplib::Request& req) {
    if (!req.has_header("X-Organization-Id")) return app.options().dev_org;
    auto id = req.get_header_value("X-Organization-Id");
    if (!is_valid_id(id_prefix::org, id))
      return validation_error("Invalid X-Organization-Id", "expected an id like org_01abc…");
    return OrgId{std::move(id)};
  }

  void routes() {
    server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
      reply(res, 200, R"({"status":"ok"})");
    });
    server.Post("/api/sms/send", [this](const httplib::Request& req, httplib::Response& res) {
      send_sms(req, res);
    });
    server.Get("/api/campaigns", [this](const httplib::Request& req, httplib::Response& res) {
      list_campaigns(req, res);
    });
    server.Get(
        R"(/api/campaigns/([^/]+))",
        [this](const httplib::Request& req, httplib::Response& res) { get_campaign(req, res); });

    server.set_error_handler(httplib::Server::HandlerWithResponse(
        [](const httplib::Request& req, httplib::Response& res) {
          if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
          Error e{res.status == 404 ? Errc::not_found : Errc::validation,
                  res.status == 404 ? "Not found" : "Bad request",
                  fmt::format("{} {}", req.method, req.path)};
          if (res.status == 413) e = validation_error("Request body too large", "at most 16 MiB");
          res.set_content(error_body(e), kJson);
          return httplib::Server::HandlerResponse::Handled;
        }));
    server.set_exception_handler(
        [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
          std::string what = "unknown";
          try {
            if (ep) std::rethrow_exception(ep);
          } catch (const std::exception& e) {
            what = e.what();
          } catch (...) {
          }
          runtime::log_line("http", "{} {} failed: {}", req.method, req.path, what);
          reply(res, 500,
                error_body(
                    Error{Errc::internal, "Internal error", "The request failed; it was logged."}));
        });
    server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
      std::string id =
          req.has_header("X-Request-Id") ? req.get_header_value("X-Request-Id") : std::string();
      if (id.empty() || id.size() > 128)
        id = make_id("req", std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now()),
                     random64());
      res.set_header("X-Request-Id", id);
      return httplib::Server::HandlerResponse::Unhandled;
    });
  }

  // Appends a command and waits until its outcome is projected (read-your-writes).
  // Returns the rejection when the decider refused it.
  Status execute(const CommandEnvelope& cmd) {
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

  void send_sms(const httplib::Request& req, httplib::Response& res) {
    auto org = organization(req);
    if (!org) return reply_error(res, org.error());
    auto parsed = codec::decode_send_sms_request(req.body);
    if (!parsed) return reply_error(res, parsed.error());
    const auto now = app.clock().now();
    auto cmd =
        commands::make_send_sms(*parsed, CampaignId{make_id(id_prefix::campaign, now, random64())});
    if (!cmd) return reply_error(res, cmd.error());
    const auto campaign_id = cmd->campaign_id.value;
    const auto recipients = cmd->recipients.size();
    CommandEnvelope env{CommandId{make_id(id_prefix::command, now, random64())}, *org, now,
                        std::move(cmd).value()};
    if (auto st = execute(env); !st) return reply_error(res, st.error());
    reply(res, 201, send_result_json(campaign_id, recipients));
  }

  void get_campaign(const httplib::Request& req, httplib::Response& res) {
    auto org = organization(req);
    if (!org) return reply_error(res, org.error());
    const std::string id = req.matches[1];
    if (!is_valid_id(id_prefix::campaign, id))
      return reply_error(res, not_found("Campaign not found"));
    auto limit = limit_param(req, "limit", kDefaultMessagesLimit, kMaxMessagesLimit);
    if (!limit) return reply_error(res, limit.error());
    std::optional<MessageId> after;
    if (req.has_param("messagesCursor")) {
      after = MessageId{req.get_param_value("messagesCursor")};
      if (!is_valid_id(id_prefix::message, after->value))
        return reply_error(res, validation_error("Invalid query parameter",
                                                 "messagesCursor must be a message id"));
    }
    auto campaign = app.models().campaign(*org, CampaignId{id});
    if (!campaign) return reply_error(res, campaign.error());
    if (!*campaign) return reply_error(res, not_found("Campaign not found"));
    auto messages = app.models().campaign_messages(*org, CampaignId{id}, *limit + 1, after);
    if (!messages) return reply_error(res, messages.error());
    std::optional<std::string> next;
    if (messages->size() > *limit) {
      messages->pop_back();
      next = messages->back().id.value;
    }
    reply(res, 200, campaign_json(**campaign, &*messages, next));
  }

  void list_campaigns(const httplib::Request& req, httplib::Response& res) {
    auto org = organization(req);
    if (!org) return reply_error(res, org.error());
    auto limit = limit_param(req, "limit", kDefaultListLimit, kMaxListLimit);
    if (!limit) return reply_error(res, limit.error());
    std::optional<CampaignId> before;
    if (req.has_param("cursor")) {
      before = CampaignId{req.get_param_value("cursor")};
      if (!is_valid_id(id_prefix::campaign, before->value))
        return reply_error(
            res, validation_error("Invalid query parameter", "cursor must be a campaign id"));
    }
    auto list = app.models().campaigns(*org, *limit + 1, before);
    if (!list) return reply_error(res, list.error());
    if (list->size() > *limit) {
      list->pop_back();
      res.set_header("X-Next-Cursor", list->back().id.value);
    }
    reply(res, 200, campaigns_json(*list));
  }
};

ApiServer::ApiServer(App& app, ServerOptions options)
    : impl_(std::make_unique<Impl>(app, options)) {}

ApiServer::~ApiServer() {
  stop();
}

Result<int> ApiServer::bind(const std::string& host, int port) {
  const int bound = port == 0 ? impl_->server.bind_to_any_port(host)
                              : (impl_->server.bind_to_port(host, port) ? port : -1);
  if (bound < 0)
    return Error{Errc::unavailable, "Cannot listen",
                 fmt::format("{}:{} is not available", host, port)};
  // A burst of new connections (load balancers, benchmarks) must queue, not be dropped.
  if (impl_->listen_fd >= 0) ::listen(impl_->listen_fd, 4096);
  return bound;
}

void ApiServer::run() {
  impl_->server.listen_after_bind();
}

void ApiServer::stop() {
  if (impl_) impl_->server.stop();
}

}  // namespace pulse::http
