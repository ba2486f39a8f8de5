#include "adapters/http/api_server.h"

#include <httplib.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include "adapters/http/json_views.h"
#include "adapters/http/routes.h"
#include "adapters/http/service_ports.h"
#include "adapters/runtime/logging.h"
#include "domain/ids.h"
#include "fmt/format.h"

namespace pulse::http {

namespace {
thread_local std::chrono::steady_clock::time_point request_start;

// Plain HTTP, or HTTPS over OpenSSL with modern settings: TLS 1.2+, ECDHE with AES-GCM or
// ChaCha20-Poly1305 (TLS 1.3 suites are OpenSSL's defaults, all AEAD), no compression or
// renegotiation. Invalid files leave the server invalid; bind() reports it.
std::unique_ptr<httplib::Server> make_server(const ServerOptions& o) {
  if (o.tls_cert.empty()) return std::make_unique<httplib::Server>();
  auto server = std::make_unique<httplib::SSLServer>(o.tls_cert.c_str(), o.tls_key.c_str());
  if (SSL_CTX* ctx = server->ssl_context()) {
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_cipher_list(ctx,
                            "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                            "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                            "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
    SSL_CTX_set_options(
        ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  }
  return server;
}
}  // namespace

struct ApiServer::Impl {
  App& app;
  ServerOptions options;
  std::unique_ptr<httplib::Server> owned;
  httplib::Server& server;
  int listen_fd = -1;
  RateLimiter rates;
  LoginGuard logins;
  std::atomic<int> held_polls{0};
  std::atomic<bool> stopping{false};
  ServicePorts ports;
  Context ctx;

  Impl(App& a, ServerOptions o)
      : app(a),
        options(std::move(o)),
        owned(make_server(options)),
        server(*owned),
        rates(a.clock()),
        logins(a.clock()),
        ports(a, options),
        ctx{app, options, rates, logins, held_polls, stopping, ports.deps()} {
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

  void routes() {
    server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
      reply(res, 200, R"({"status":"ok"})");
    });
    add_ops_routes(server, ctx);
    // A node without the api role (a decider) serves only /healthz, /readyz and /metrics.
    if (app.options().roles.api || app.options().read_only) {
      add_auth_routes(server, ctx);
      add_gateway_routes(server, ctx);
      add_sms_routes(server, ctx);
      add_contact_routes(server, ctx);
      add_campaign_routes(server, ctx);
      add_opt_out_routes(server, ctx);
      add_message_routes(server, ctx);
      add_stats_routes(server, ctx);
      add_webhook_routes(server, ctx);
      add_smsgate_routes(server, ctx);
      add_docs_routes(server, ctx);
      add_stream_routes(server, ctx);
      add_dashboard_routes(server, ctx);
    }

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
        [](const httplib::Request& req, httplib::Response& res, const std::exception_ptr& ep) {
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
    // Request counts and latencies per route (httplib runs a request's handlers and then its
    // logger on one thread: the start time waits in a thread_local).
    app.metrics().describe("pulse_http_requests_total", "HTTP requests by method, route, status.",
                           "counter");
    app.metrics().describe("pulse_http_request_duration_seconds",
                           "HTTP request latency by method and route (handler time).", "histogram");
    server.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - request_start;
      // Unrouted paths share one series, so scanners can't multiply them.
      const bool unrouted = res.status == 404 && res.body.starts_with(R"({"error":"Not found")");
      const std::string route = unrouted ? "unmatched" : runtime::route_of(req.path);
      app.metrics().add(
          "pulse_http_requests_total",
          {{"method", req.method}, {"route", route}, {"status", std::to_string(res.status)}});
      app.metrics().observe("pulse_http_request_duration_seconds",
                            {{"method", req.method}, {"route", route}}, took.count());
    });
    server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      request_start = std::chrono::steady_clock::now();
      std::string id =
          req.has_header("X-Request-Id") ? req.get_header_value("X-Request-Id") : std::string();
      if (id.empty() || id.size() > 128)
        id = make_id("req", std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now()),
                     ports.secrets().random64());
      res.set_header("X-Request-Id", id);
      // pulse serve --read-only has no log to append to: every write route refuses, alike.
      if (app.options().read_only && req.method != "GET" && req.method != "HEAD") {
        res.set_header("Allow", "GET, HEAD");
        reply(res, 405,
              error_body(Error{Errc::validation, "Read-only server",
                               "This server serves read models as of a past moment (pulse serve "
                               "--read-only); it accepts no writes."}));
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
  }
};

ApiServer::ApiServer(App& app, ServerOptions options)
    : impl_(std::make_unique<Impl>(app, std::move(options))) {}

ApiServer::~ApiServer() {
  stop();
}

Result<int> ApiServer::bind(const std::string& host, int port) {
  if (!impl_->server.is_valid())
    return Error{Errc::unavailable, "Cannot serve HTTPS",
                 "--tls-cert and --tls-key must be a readable PEM certificate and its key"};
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
  if (!impl_) return;
  // Held long polls return at once, so stopping doesn't wait out their waits.
  impl_->stopping = true;
  impl_->app.work_signal().notify();
  impl_->server.stop();
}

}  // namespace pulse::http
