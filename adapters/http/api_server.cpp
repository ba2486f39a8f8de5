#include "adapters/http/api_server.h"

#include <httplib.h>
#include <malloc.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <thread>

#include "adapters/codec/thread_parser.h"
#include "adapters/http/front_door.h"
#include "adapters/http/json_views.h"
#include "adapters/http/routes.h"
#include "adapters/http/server_limits.h"
#include "adapters/http/service_ports.h"
#include "adapters/runtime/logging.h"
#include "adapters/runtime/metrics.h"
#include "adapters/runtime/worker.h"
#include "adapters/service/accounts.h"
#include "domain/ids.h"
#include "fmt/format.h"

namespace pulse::http {

namespace {
thread_local std::chrono::steady_clock::time_point request_start;

constexpr const char* kConnectionsHelp =
    "HTTP connections held now (state open), and those at a worker (busy).";

// A request refused before its body was read. cpp-httplib 0.11 can't close a connection from a
// handler, so the body is still read, into nothing, to keep the connection in step: the request
// is sent to kRefusedPath (a path with a space, which no request line can name), whose handler
// discards the body and answers with what was decided here (httplib runs a request's handlers
// on one thread: the decision waits in a thread_local).
constexpr const char* kRefusedPath = "/ refused";
struct Refusal {
  int status = 400;
  std::string body;
  std::string path;  // the request's own, restored for the logger
};
thread_local std::optional<Refusal> refusal;

// The methods whose body httplib reads (into a route's content reader or req.body).
bool reads_body(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

// The request's header block as the client sent it (httplib adds the addresses as headers).
size_t header_block_size(const httplib::Request& req) {
  size_t n = 0;
  for (const auto& [name, value] : req.headers) {
    if (name == "REMOTE_ADDR" || name == "REMOTE_PORT" || name == "LOCAL_ADDR" ||
        name == "LOCAL_PORT")
      continue;
    n += name.size() + value.size() + 4;  // ": " and CRLF
  }
  return n;
}

// What the limits of adapters/http/server_limits.h refuse, before the body is read.
std::optional<std::pair<int, Error>> screen(const httplib::Request& req) {
  if (header_block_size(req) > limits::kHeaderBlock)
    return std::pair{431, Error{Errc::validation, "Request headers too large",
                                fmt::format("the header lines together may have at most {} bytes",
                                            limits::kHeaderBlock)}};
  if (!reads_body(req.method)) return std::nullopt;
  // httplib 0.11 reads a chunked body whole, with no limit: only a declared length is taken.
  if (req.has_header("Transfer-Encoding"))
    return std::pair{411, Error{Errc::validation, "Content-Length required",
                                "send the body with a Content-Length (chunked transfer "
                                "encoding is not accepted)"}};
  const size_t limit = limits::body_limit(req.method, req.path);
  const auto length = req.get_header_value("Content-Length");
  if (!length.empty() &&
      (length.size() > 19 || length.find_first_not_of("0123456789") != std::string::npos ||
       std::stoull(length) > limit))
    return std::pair{413, Error{Errc::validation, "Request body too large",
                                fmt::format("this route takes a body of at most {} bytes", limit)}};
  return std::nullopt;
}

// httplib's server with its request processing reachable: the front door owns the sockets and
// hands each complete request head to process_request.
template <class Base>
class RoutedServer final : public Base {
 public:
  using Base::Base;
  bool serve(httplib::Stream& stream, bool close) {
    bool closed = false;
    return this->process_request(stream, close, closed, nullptr) && !closed;
  }
};

// Plain HTTP, or HTTPS over OpenSSL with modern settings: TLS 1.2+, ECDHE with AES-GCM or
// ChaCha20-Poly1305 (TLS 1.3 suites are OpenSSL's defaults, all AEAD), no compression or
// renegotiation. Invalid files leave the server invalid; bind() reports it. The server's
// routing, and its TLS context, are what the front door serves with.
std::pair<std::unique_ptr<httplib::Server>, FrontDoor::ServeRequest> make_server(
    const ServerOptions& o) {
  if (o.tls_cert.empty()) {
    auto server = std::make_unique<RoutedServer<httplib::Server>>();
    auto* s = server.get();
    return {std::move(server),
            [s](httplib::Stream& st, bool close) { return s->serve(st, close); }};
  }
  auto server =
      std::make_unique<RoutedServer<httplib::SSLServer>>(o.tls_cert.c_str(), o.tls_key.c_str());
  if (SSL_CTX* ctx = server->ssl_context()) {
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_cipher_list(ctx,
                            "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                            "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                            "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
    SSL_CTX_set_options(
        ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  }
  auto* s = server.get();
  return {std::move(server), [s](httplib::Stream& st, bool close) { return s->serve(st, close); }};
}

FrontDoorOptions front_door_options(const ServerOptions& o, httplib::Server& server,
                                    runtime::Metrics& metrics) {
  metrics.describe("pulse_http_connections_closed_early_total",
                   "Connections closed before a request: refused at the total or per-address "
                   "cap, or too slow to send a request head.",
                   "counter");
  FrontDoorOptions f;
  f.on_closed_early = [&metrics](std::string_view why) {
    metrics.add("pulse_http_connections_closed_early_total", {{"reason", std::string(why)}});
  };
  f.max_connections = o.max_connections;
  f.max_connections_per_address = o.max_connections_per_address;
  f.trusted_proxy = o.trusted_proxy;
  f.threads = o.threads;
  if (!o.tls_cert.empty()) f.tls = static_cast<httplib::SSLServer&>(server).ssl_context();
  return f;
}
}  // namespace

// How long a sign-up's own request has to create its organisation before the process manager
// does (it runs longer than a request waits for its writes).
constexpr Millis kWorkflowGrace{5000};

struct ApiServer::Impl {
  App& app;
  ServerOptions options;
  std::pair<std::unique_ptr<httplib::Server>, FrontDoor::ServeRequest> made;
  httplib::Server& server;
  FrontDoor front_door;
  int listen_fd = -1;
  RateLimiter rates;
  LoginGuard logins;
  std::atomic<int> held_polls{0};
  std::atomic<bool> stopping{false};
  ServicePorts ports;
  PageCache pages;
  Context ctx;
  Router router{server};  // every route of the API, for 405's Allow
  // The process manager of sign-ups and organisation creations (owns a thread).
  runtime::Worker workflows;

  Impl(App& a, ServerOptions o)
      : app(a),
        options(std::move(o)),
        made(make_server(options)),
        server(*made.first),
        front_door(front_door_options(options, server, a.metrics()), made.second),
        rates(a.clock()),
        logins(a.clock()),
        ports(a, options, logins),
        pages(options.page_cache_bytes),
        ctx{app, options, rates, logins, held_polls, stopping, ports.deps(), pages} {
    server.set_tcp_nodelay(true);
    // Announced in Keep-Alive; the front door closes idle connections (sooner under pressure).
    server.set_keep_alive_max_count(100000);
    server.set_keep_alive_timeout(30);
    // Per-route limits are applied before the body is read (screen()); this is httplib's own.
    server.set_payload_max_length(limits::kLargestBody);
    // httplib binds (and listens with a backlog of 5); remember the socket to raise the backlog
    // and hand it to the front door, which accepts and owns the connections.
    server.set_socket_options([this](int sock) {
      httplib::default_socket_options(sock);
      listen_fd = sock;
    });
    app.metrics().collect("pulse_http_connections", kConnectionsHelp, [this] {
      return std::vector<runtime::Metrics::Sample>{
          {{{"state", "open"}}, double(front_door.open_connections())},
          {{{"state", "busy"}}, double(front_door.busy_connections())}};
    });
    routes();
    if (app.options().roles.api && !app.options().read_only) start_workflows();
  }

  // Every API node runs it: two of them appending the same CreateOrganization is harmless (the
  // second is a conflict, which finish_organization takes as done).
  void start_workflows() {
    workflows.start([this] {
      auto done = service::finish_pending_organizations(ports.deps(), kWorkflowGrace);
      if (!done)
        runtime::log_line("workflows", "pending organisations: {} ({})", done.error().message,
                          done.error().details);
      else if (*done > 0)
        runtime::log_line("workflows", "created {} pending organisation(s)", *done);
      auto plans = service::finish_pending_plans(ports.deps(), kWorkflowGrace);
      if (!plans)
        runtime::log_line("workflows", "pending plans: {} ({})", plans.error().message,
                          plans.error().details);
      else if (*plans > 0)
        runtime::log_line("workflows", "set the account plan of {} organisation(s)", *plans);
      workflows.pause(std::chrono::seconds(1));
    });
  }

  // The gauge's collector reads the front door, which goes away with this.
  ~Impl() {
    app.metrics().collect("pulse_http_connections", kConnectionsHelp,
                          [] { return std::vector<runtime::Metrics::Sample>{}; });
  }

  void routes() {
    // A refused request's body is read into nothing (see kRefusedPath). A Content-Length over
    // httplib's own limit is skipped by httplib, which then fails the read: the answer is the
    // same.
    const auto refused = [](const httplib::Request& req, httplib::Response& res,
                            const httplib::ContentReader& read) {
      read([](const char*, size_t) { return true; });
      Refusal r = refusal ? std::move(*refusal) : Refusal{};
      refusal.reset();
      const_cast<httplib::Request&>(req).path = std::move(r.path);
      reply(res, r.status, r.body);
    };
    server.Post(kRefusedPath, refused);
    server.Put(kRefusedPath, refused);
    server.Patch(kRefusedPath, refused);
    server.Delete(kRefusedPath, refused);
    router.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
      reply(res, 200, R"({"status":"ok"})");
    });
    add_ops_routes(router, ctx);
    // A node without the api role (a decider) serves only /healthz, /readyz and /metrics.
    if (app.options().roles.api || app.options().read_only) {
      add_auth_routes(router, ctx);
      add_gateway_routes(router, ctx);
      add_sms_routes(router, ctx);
      add_contact_routes(router, ctx);
      add_campaign_routes(router, ctx);
      add_opt_out_routes(router, ctx);
      add_message_routes(router, ctx);
      add_conversation_routes(router, ctx);
      add_verify_routes(router, ctx);
      add_stats_routes(router, ctx);
      add_webhook_routes(router, ctx);
      add_smsgate_routes(router, ctx);
      add_docs_routes(router, ctx);
      add_stream_routes(router, ctx);
      add_dashboard_routes(router, ctx);
    }

    server.set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const httplib::Request& req, httplib::Response& res) {
          if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
          Error e{res.status == 404 ? Errc::not_found : Errc::validation,
                  res.status == 404 ? "Not found" : "Bad request",
                  fmt::format("{} {}", req.method, req.path)};
          // No route took the request: a known path asked with a method it does not take.
          if (res.status == 404)
            if (auto allow = router.allowed(req.path); !allow.empty()) {
              res.status = 405;
              res.set_header("Allow", allow);
              e = validation_error("Method not allowed", fmt::format("{} {}: this path takes {}",
                                                                     req.method, req.path, allow));
            }
          if (res.status == 413)
            e = validation_error("Request body too large",
                                 fmt::format("at most {} bytes", limits::kLargestBody));
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
      // What a large body left behind goes back to the system now, not at this thread's next
      // request: the parsers' buffers, and glibc's free memory (trimmed only then, as it
      // walks the heap).
      if (codec::trim_thread_parsers(limits::kParserKeep) || req.body.size() > limits::kParserKeep)
        ::malloc_trim(0);
    });
    server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      request_start = std::chrono::steady_clock::now();
      std::string id =
          req.has_header("X-Request-Id") ? req.get_header_value("X-Request-Id") : std::string();
      if (id.empty() || id.size() > 128)
        id = make_id("req", std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now()),
                     ports.secrets().random64());
      res.set_header("X-Request-Id", id);
      if (req.method == "PRI") {  // HTTP/2's preface: httplib would read its body unbounded
        reply(res, 400, error_body(validation_error("HTTP/2 is not served", "use HTTP/1.1")));
        return httplib::Server::HandlerResponse::Handled;
      }
      if (auto refused = screen(req)) {
        const auto body = error_body(refused->second);
        if (!reads_body(req.method)) {
          reply(res, refused->first, body);
          return httplib::Server::HandlerResponse::Handled;
        }
        // The request object is httplib's own, non-const: only its handler's view is const.
        auto& mutable_req = const_cast<httplib::Request&>(req);
        refusal = Refusal{refused->first, body, std::move(mutable_req.path)};
        mutable_req.path = kRefusedPath;
        return httplib::Server::HandlerResponse::Unhandled;
      }
      // Neither a length nor chunks: no body (RFC 9112), where httplib 0.11 would read until
      // the connection closes.
      if (reads_body(req.method) && !req.has_header("Content-Length"))
        const_cast<httplib::Request&>(req).set_header("Content-Length", "0");
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

int default_worker_threads() {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return kDefaultHeldPolls + std::clamp(16 * cores, 64, 1024);
}

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
  auto& url = impl_->options.public_url;
  if (url.empty()) {
    // A wildcard address names no host a phone could reach: the machine's name stands in.
    std::string name = host;
    if (host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]") {
      char buf[256] = {};
      name = ::gethostname(buf, sizeof buf - 1) == 0 && buf[0] ? buf : "localhost";
    } else if (host.find(':') != std::string::npos && !host.starts_with("[")) {
      name = "[" + host + "]";  // an IPv6 literal
    }
    url =
        fmt::format("{}://{}:{}", impl_->options.tls_cert.empty() ? "http" : "https", name, bound);
  }
  return bound;
}

const std::string& ApiServer::public_url() const {
  return impl_->options.public_url;
}

void ApiServer::run() {
  if (impl_->listen_fd >= 0) impl_->front_door.run(impl_->listen_fd);
}

void ApiServer::stop() {
  if (!impl_) return;
  // Held long polls return at once, so stopping doesn't wait out their waits.
  impl_->stopping = true;
  impl_->workflows.stop();
  impl_->app.work_signal().notify();
  impl_->front_door.stop();
}

}  // namespace pulse::http
