// End to end against a real `pulse serve`: slow and idle connections (a client trickling its
// request head, or sending nothing) must not take the server's workers, and the connection caps
// per client address and in total refuse at once.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fmt/format.h"
#include "tests/integration/server_process.h"

using pulse::testing::ServerProcess;
using pulse::testing::TempDir;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// Thousands of sockets here and in the server (which inherits this limit).
void raise_descriptor_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

// A TCP connection to 127.0.0.1:port from `source` (any address of 127.0.0.0/8 is local, so
// one test can act as many clients); -1 if it could not connect.
int connect_from(const std::string& source, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &src.sin_addr);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Whether the server closed (or reset) the connection within `wait`; data it sent is skipped.
bool closed_within(int fd, std::chrono::milliseconds wait) {
  const auto deadline = Clock::now() + wait;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{fd, POLLIN | POLLRDHUP, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count()))) <= 0) return false;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return true;
  }
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads one response (head and a Content-Length body) from a raw connection; empty on error.
std::string read_response(int fd, std::string& pending, std::chrono::milliseconds wait) {
  const auto deadline = Clock::now() + wait;
  for (;;) {
    const auto head_end = pending.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      size_t length = 0;
      const auto at = pending.find("Content-Length: ");
      if (at != std::string::npos && at < head_end) length = std::stoul(pending.substr(at + 16));
      if (pending.size() >= head_end + 4 + length) {
        std::string response = pending.substr(0, head_end + 4 + length);
        pending.erase(0, head_end + 4 + length);
        return response;
      }
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return {};
    char buf[8192];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return {};
    pending.append(buf, static_cast<size_t>(n));
  }
}

// Slow clients (the request line, then one header line a second, never the blank line; over
// TLS, a handshake record's header, then one byte of it a second) and idle ones (connected,
// nothing sent), spread over 20 addresses; whatever the server closes is opened again, as an
// attacker would.
class Attack {
 public:
  Attack(int port, int slow, int idle, bool tls = false)
      : port_(port), tls_(tls), slow_(slow, -1), idle_(idle, -1) {
    thread_ = std::thread([this] { run(); });
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, 60s, [this] { return ready_; });
  }
  ~Attack() {
    stop_ = true;
    thread_.join();
    for (int fd : slow_)
      if (fd >= 0) ::close(fd);
    for (int fd : idle_)
      if (fd >= 0) ::close(fd);
  }
  int reopened() const { return reopened_; }
  int open() const { return open_; }

 private:
  std::string source(size_t i) const { return fmt::format("127.0.0.{}", 10 + i % 20); }

  void run() {
    for (int tick = 0; !stop_; ++tick) {
      int open = 0;
      for (size_t i = 0; i < slow_.size(); ++i) {
        int& fd = slow_[i];
        if (fd >= 0 && (closed_within(fd, 0ms) ||
                        !send_all(fd, tls_ ? std::string("\x01")
                                           : fmt::format("X-Trickle-{}: x\r\n", tick)))) {
          ::close(fd);
          fd = -1;
          ++reopened_;
        }
        if (fd < 0 && (fd = connect_from(source(i), port_)) >= 0 &&
            !send_all(fd, tls_ ? std::string_view("\x16\x03\x01\x02\x00", 5)
                               : std::string_view("GET /healthz HTTP/1.1\r\nHost: pulse\r\n"))) {
          ::close(fd);
          fd = -1;
        }
        open += fd >= 0;
      }
      for (size_t i = 0; i < idle_.size(); ++i) {
        int& fd = idle_[i];
        if (fd >= 0 && closed_within(fd, 0ms)) {
          ::close(fd);
          fd = -1;
          ++reopened_;
        }
        if (fd < 0) fd = connect_from(source(i + 7), port_);
        open += fd >= 0;
      }
      open_ = open;
      if (tick == 0) {
        std::lock_guard lock(mu_);
        ready_ = true;
        cv_.notify_all();
      }
      for (int i = 0; i < 10 && !stop_; ++i) std::this_thread::sleep_for(100ms);
    }
  }

  const int port_;
  const bool tls_;
  std::vector<int> slow_;
  std::vector<int> idle_;
  std::atomic<bool> stop_{false};
  std::atomic<int> reopened_{0};
  std::atomic<int> open_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool ready_ = false;
  std::thread thread_;
};

struct Probes {
  int sent = 0;
  int answered_in_time = 0;
  std::chrono::milliseconds slowest{0};

  void record(bool ok, Clock::duration took) {
    ++sent;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(took);
    slowest = std::max(slowest, ms);
    if (ok && took <= 1s) ++answered_in_time;
  }
};

// Probes /healthz and an authenticated API route for `how_long`, each on a new connection: new
// clients must get in, not only established ones.
std::pair<Probes, Probes> probe(const ServerProcess& server, const pulse::testing::Account& account,
                                std::chrono::seconds how_long) {
  Probes health, api;
  const auto end = Clock::now() + how_long;
  while (Clock::now() < end) {
    for (auto* probes : {&health, &api}) {
      auto c = server.client();
      c->set_connection_timeout(3);
      c->set_read_timeout(3);
      if (probes == &api) c->set_bearer_token_auth(account.token);
      const auto start = Clock::now();
      auto res = c->Get(probes == &health ? "/healthz" : "/api/campaigns?limit=1");
      probes->record(res && res->status == 200, Clock::now() - start);
    }
    std::this_thread::sleep_for(250ms);
  }
  MESSAGE("/healthz: " << health.answered_in_time << " of " << health.sent
                       << " answered within 1 s, slowest " << health.slowest.count() << " ms");
  MESSAGE("/api/campaigns: " << api.answered_in_time << " of " << api.sent
                             << " answered within 1 s, slowest " << api.slowest.count() << " ms");
  return {health, api};
}

}  // namespace

TEST_CASE("500 slow and 500 idle connections leave /healthz and the API answering within 1 s") {
  raise_descriptor_limit();
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  const auto account = server.signup({}, /*with_device=*/false);

  Attack attack(server.port(), 500, 500);
  MESSAGE("attack connections open: " << attack.open());
  const auto [health, api] = probe(server, account, 20s);
  MESSAGE("attack connections open at the end: "
          << attack.open() << ", reopened after the server closed them: " << attack.reopened());
  CHECK(health.sent >= 20);
  CHECK(health.answered_in_time == health.sent);
  CHECK(api.answered_in_time == api.sent);
}

TEST_CASE("over HTTPS, 300 trickled handshakes and 300 idle connections leave the API answering") {
  ::signal(SIGPIPE, SIG_IGN);
  raise_descriptor_limit();
  TempDir dir;
  if (!pulse::testing::make_certificate(dir.path())) {
    MESSAGE("no openssl command: skipped");
    return;
  }
  ServerProcess server(dir.path() / "data", {"--tls-cert", (dir.path() / "cert.pem").string(),
                                             "--tls-key", (dir.path() / "key.pem").string()});
  const auto account = server.signup({}, /*with_device=*/false);
  Attack attack(server.port(), 300, 300, /*tls=*/true);
  const auto [health, api] = probe(server, account, 12s);
  MESSAGE("attack connections reopened after the server closed them: " << attack.reopened());
  CHECK(attack.reopened() >= 600);  // none outlived the 5 s a handshake may take
  CHECK(health.sent >= 10);
  CHECK(health.answered_in_time == health.sent);
  CHECK(api.answered_in_time == api.sent);
}

TEST_CASE("connections beyond the cap per address, or in total, are closed at accept") {
  raise_descriptor_limit();
  TempDir dir;
  ServerProcess server(dir.path() / "data",
                       {"--max-connections", "24", "--max-connections-per-address", "8",
                        "--trusted-proxy", "127.0.0.7"});
  std::vector<int> held;
  for (int i = 0; i < 8; ++i) held.push_back(connect_from("127.0.0.5", server.port()));
  const int ninth = connect_from("127.0.0.5", server.port());
  // The trusted proxy carries many clients: it is exempt from the per-address cap.
  for (int i = 0; i < 12; ++i) held.push_back(connect_from("127.0.0.7", server.port()));
  for (int i = 0; i < 4; ++i) held.push_back(connect_from("127.0.0.8", server.port()));
  const int beyond_total = connect_from("127.0.0.9", server.port());
  REQUIRE(std::count(held.begin(), held.end(), -1) == 0);
  CHECK(closed_within(ninth, 1000ms));
  CHECK(closed_within(beyond_total, 1000ms));
  int still_open = 0;
  for (int fd : held) still_open += !closed_within(fd, 0ms);
  CHECK(still_open == 24);
  // Once they go, the address and the server take connections again.
  for (int fd : held) ::close(fd);
  ::close(ninth);
  ::close(beyond_total);
  bool served = false;
  for (const auto deadline = Clock::now() + 3s; !served && Clock::now() < deadline;) {
    const int fd = connect_from("127.0.0.5", server.port());
    std::string pending;
    served = fd >= 0 && send_all(fd, "GET /healthz HTTP/1.1\r\nHost: pulse\r\n\r\n") &&
             read_response(fd, pending, 1000ms).starts_with("HTTP/1.1 200");
    if (fd >= 0) ::close(fd);
  }
  CHECK(served);
  // The refusals are counted (the retries above may have added to them).
  auto metrics = server.client()->Get("/metrics");
  REQUIRE(metrics);
  const auto counted = [&](const std::string& reason) {
    std::smatch m;
    const std::regex re("pulse_http_connections_closed_early_total\\{reason=\"" + reason +
                        "\"\\} (\\d+)");
    return std::regex_search(metrics->body, m, re) ? std::stoi(m[1].str()) : 0;
  };
  CHECK(counted("address") >= 1);
  CHECK(counted("total") >= 1);
  CHECK(metrics->body.find(R"(pulse_http_connections{state="open"})") != std::string::npos);
}

TEST_CASE("keep-alive clients are served on one connection, pipelined or after a pause") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  const auto account = server.signup({}, /*with_device=*/false);
  const int fd = connect_from("127.0.0.1", server.port());
  REQUIRE(fd >= 0);
  const std::string health = "GET /healthz HTTP/1.1\r\nHost: pulse\r\n\r\n";
  const std::string api =
      "GET /api/campaigns?limit=1 HTTP/1.1\r\nHost: pulse\r\nAuthorization: "
      "Bearer " +
      account.token + "\r\n\r\n";
  std::string pending;
  for (int i = 0; i < 20; ++i) {
    REQUIRE(send_all(fd, i % 2 ? api : health));
    const auto response = read_response(fd, pending, 2000ms);
    REQUIRE_MESSAGE(response.starts_with("HTTP/1.1 200"), response);
  }
  // Three requests in one write: three answers, in order.
  REQUIRE(send_all(fd, health + api + health));
  for (int i = 0; i < 3; ++i) {
    const auto response = read_response(fd, pending, 2000ms);
    REQUIRE_MESSAGE(response.starts_with("HTTP/1.1 200"), response);
    CHECK((response.find(R"({"status":"ok"})") != std::string::npos) == (i != 1));
  }
  // Idle between requests (in the front door's loop, not on a worker): still open.
  std::this_thread::sleep_for(3s);
  REQUIRE(send_all(fd, api));
  CHECK(read_response(fd, pending, 2000ms).starts_with("HTTP/1.1 200"));
  ::close(fd);
  // httplib's own keep-alive client.
  auto c = server.client(account);
  c->set_keep_alive(true);
  int ok = 0;
  for (int i = 0; i < 50; ++i) {
    auto res = c->Get(i % 2 ? "/healthz" : "/api/campaigns?limit=1");
    ok += res && res->status == 200;
  }
  CHECK(ok == 50);
}

TEST_CASE("an idle connection, a trickled head and a trickled body are closed in bounded time") {
  TempDir dir;
  ServerProcess server(dir.path() / "data");
  const auto start = Clock::now();
  const int idle = connect_from("127.0.0.21", server.port());
  const int slow_head = connect_from("127.0.0.22", server.port());
  const int slow_body = connect_from("127.0.0.23", server.port());
  REQUIRE((idle >= 0 && slow_head >= 0 && slow_body >= 0));
  REQUIRE(send_all(slow_head, "GET /healthz HTTP/1.1\r\n"));
  REQUIRE(send_all(slow_body,
                   "POST /api/auth/token HTTP/1.1\r\nHost: pulse\r\n"
                   "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"));
  std::optional<Clock::duration> idle_closed, head_closed, body_closed;
  while (Clock::now() - start < 20s && !(idle_closed && head_closed && body_closed)) {
    std::this_thread::sleep_for(1s);
    if (!head_closed) send_all(slow_head, "X-Slow: 1\r\n");
    if (!body_closed) send_all(slow_body, "{");
    for (auto [fd, closed] : {std::pair{idle, &idle_closed}, std::pair{slow_head, &head_closed},
                              std::pair{slow_body, &body_closed}})
      if (!*closed && closed_within(fd, 0ms)) *closed = Clock::now() - start;
  }
  const auto seconds = [](const std::optional<Clock::duration>& d) {
    return d ? std::chrono::duration<double>(*d).count() : -1.0;
  };
  MESSAGE("closed after: idle " << seconds(idle_closed) << " s, trickled head "
                                << seconds(head_closed) << " s, trickled body "
                                << seconds(body_closed) << " s");
  CHECK((idle_closed && *idle_closed >= 4s && *idle_closed <= 7s));
  CHECK((head_closed && *head_closed >= 9s && *head_closed <= 12s));
  CHECK((body_closed && *body_closed >= 9s && *body_closed <= 13s));
  for (int fd : {idle, slow_head, slow_body}) ::close(fd);
}
