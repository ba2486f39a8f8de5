#pragma once
// The HTTP server's front door: accepts connections and holds each one in a single epoll loop
// until its whole request head has arrived, so slow and idle clients never occupy a worker
// thread; caps connections per client address and in total, refusing at accept rather than
// queueing. Runs its loop on the thread that calls run(); owns the worker threads and every
// accepted socket. Internal to adapters/http.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "adapters/service/login_guard.h"

typedef struct ssl_ctx_st SSL_CTX;
namespace httplib {
class Stream;
}

namespace pulse::http {

struct FrontDoorOptions {
  // Connections held at once (waiting, at a worker, or idle between requests); beyond it a new
  // one is closed at accept. 0: min(4096, RLIMIT_NOFILE / 4).
  int max_connections = 0;
  // Connections held at once from one client address. The trusted proxy is exempt: every
  // client behind it shares its address.
  int max_connections_per_address = 64;
  std::optional<service::AddressRange> trusted_proxy;
  int threads = 64;
  // A new connection's first byte, and its whole request head, must arrive within these.
  std::chrono::milliseconds first_byte{5000};
  std::chrono::milliseconds head{10000};
  // How long a connection may stay idle between requests; shorter under pressure (connections
  // or busy workers at three quarters of their caps).
  std::chrono::milliseconds keep_alive{30000};
  std::chrono::milliseconds keep_alive_under_pressure{2000};
  // After a response, how long the worker waits on the connection for the client's next request
  // before handing it back to the loop: a client that sends requests back to back keeps its
  // worker (no hop through the loop per request). Not under pressure; 0: never.
  std::chrono::milliseconds linger{50};
  // Once a worker has the connection: each read and write, and the request's body, which must
  // arrive at 1 KiB/s on average after the first `body_grace`.
  std::chrono::milliseconds read_timeout{5000};
  std::chrono::milliseconds write_timeout{5000};
  std::chrono::milliseconds body_grace{10000};
  // HTTPS: the TLS handshake happens in the loop too (the context is the caller's).
  SSL_CTX* tls = nullptr;
  // Told (on the loop thread) of each connection closed before a request: "total" or "address"
  // (refused at a cap), "waiting" (too slow to send a request or to finish a handshake).
  std::function<void(std::string_view why)> on_closed_early;
};

class FrontDoor {
 public:
  // Serves one request whose head is readable from `stream` (on a worker thread); `close` asks
  // for the response to close the connection. Returns whether the connection may carry another
  // request.
  using ServeRequest = std::function<bool(httplib::Stream& stream, bool close)>;

  FrontDoor(FrontDoorOptions options, ServeRequest serve);
  ~FrontDoor();

  // Accepts from `listen_fd` (bound and listening) and serves until stop(); blocks. Closes
  // every connection before it returns, after the workers have finished.
  void run(int listen_fd);
  // From any thread.
  void stop();

  // The caps in force (max_connections resolved).
  int max_connections() const;
  // Connections held now, and those of them at a worker.
  int open_connections() const;
  int busy_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Raises this process's soft limit of open descriptors to its hard limit; returns the limit.
int raise_descriptor_limit();

}  // namespace pulse::http
