#pragma once
// The HTTP layer (cpp-httplib): thin handlers that parse, call one function and map its Result
// to a status and the documented error body. Owns the server's listening socket and its
// worker threads. No httplib header here.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "adapters/app.h"
#include "adapters/service/login_guard.h"
#include "domain/result.h"

namespace pulse::http {

// Worker threads for this machine: the held long polls plus 16 a core (at least 64, at most
// 1024). Only requests whose head has fully arrived reach a worker (adapters/http/front_door.h).
int default_worker_threads();
inline constexpr int kDefaultHeldPolls = 192;

struct ServerOptions {
  // How long a write waits for its command's outcome to be projected before a 503.
  std::chrono::milliseconds write_wait{2000};
  // Worker threads. Gateways hold requests open (long polls): at most `held_polls` of them are
  // held at once, the others are answered at once, so the rest of the API always has threads.
  int held_polls = kDefaultHeldPolls;
  int threads = default_worker_threads();
  // Connections held at once, in total (0: min(4096, RLIMIT_NOFILE / 4)) and per client
  // address (the trusted proxy is exempt); beyond them a new connection is closed at accept.
  int max_connections = 0;
  int max_connections_per_address = 64;
  // HTTPS (both PEM files, or neither): read once at start, never reloaded; TLS 1.2 and newer
  // with forward-secret AEAD ciphers only.
  std::string tls_cert;
  std::string tls_key;
  // The reverse proxy in front (--trusted-proxy): from a peer in this range the client is the
  // address the proxy appended to X-Forwarded-For; otherwise the header is never read.
  std::optional<service::AddressRange> trusted_proxy;
  // The base URL phones and links use to reach this server (scheme://host[:port], no path),
  // from configuration only: request headers (Host, X-Forwarded-*) are the caller's to choose.
  // Empty: derived by bind() from the listen address (https with tls_cert).
  std::string public_url;
  // Encoded answers of queries kept by read-model version (PageCache); 0: none kept.
  size_t page_cache_bytes = size_t{64} << 20;
};

class ApiServer {
 public:
  ApiServer(App& app, ServerOptions options = {});
  ~ApiServer();

  // Binds host:port (port 0: any free port) and returns the bound port. Without a configured
  // public URL, sets it from host and the bound port.
  Result<int> bind(const std::string& host, int port);
  const std::string& public_url() const;
  // Serves until stop(); blocks.
  void run();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pulse::http
