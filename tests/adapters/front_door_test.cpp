// The HTTP front door with a stand-in for httplib's request processing, on loopback with short
// timeouts: first-byte and idle timeouts, and keep-alive closed under pressure.
#include "adapters/http/front_door.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// A front door on 127.0.0.1 (any port) whose requests are answered "ok"; it records whether
// each answer was asked to close its connection.
class Door {
 public:
  explicit Door(pulse::http::FrontDoorOptions options) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(listen_fd_, 64) == 0);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    door_ = std::make_unique<pulse::http::FrontDoor>(
        std::move(options), [this](httplib::Stream& s, bool close) {
          std::string head;
          char ch;
          while (!head.ends_with("\r\n\r\n") && s.read(&ch, 1) == 1) head += ch;
          {
            std::lock_guard lock(mu_);
            closes_.push_back(close);
          }
          const std::string response = std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n") +
                                       (close ? "Connection: close\r\n" : "") + "\r\nok";
          return s.write(response.data(), response.size()) > 0 && !close;
        });
    thread_ = std::thread([this] { door_->run(listen_fd_); });
  }
  ~Door() {
    door_->stop();
    thread_.join();
    ::close(listen_fd_);
  }

  int connect() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    return fd;
  }

  std::vector<bool> closes() {
    std::lock_guard lock(mu_);
    return closes_;
  }

 private:
  int listen_fd_ = -1;
  int port_ = 0;
  std::unique_ptr<pulse::http::FrontDoor> door_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<bool> closes_;
};

// What the server sent until it closed the connection, or until `wait` ran out (then nullopt).
std::optional<std::string> until_closed(int fd, std::chrono::milliseconds wait) {
  std::string got;
  const auto deadline = Clock::now() + wait;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      return std::nullopt;
    char buf[1024];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return got;
    got.append(buf, static_cast<size_t>(n));
  }
}

std::string request(int fd) {
  const std::string r = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE(::send(fd, r.data(), r.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(r.size()));
  std::string got;
  char buf[1024];
  while (!got.ends_with("ok")) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 2000) <= 0) break;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

}  // namespace

TEST_CASE("front door: a silent connection is closed after the first-byte timeout") {
  pulse::http::FrontDoorOptions o;
  o.threads = 2;
  o.first_byte = 300ms;
  Door door(o);
  const int silent = door.connect();
  const int client = door.connect();
  CHECK(request(client).starts_with("HTTP/1.1 200 OK"));
  const auto start = Clock::now();
  CHECK(until_closed(silent, 3000ms) == std::string());
  CHECK(Clock::now() - start < 2s);
  // The client that sent its request stays open (kept alive, 30 s by default).
  CHECK(request(client).ends_with("ok"));
  CHECK(door.closes() == std::vector<bool>{false, false});
  ::close(silent);
  ::close(client);
}

TEST_CASE("front door: under pressure, answers close their connections and idle ones go") {
  pulse::http::FrontDoorOptions o;
  o.threads = 4;
  o.max_connections = 8;
  o.first_byte = 10s;
  o.keep_alive_under_pressure = 300ms;
  Door door(o);
  const int kept = door.connect();
  CHECK(request(kept).ends_with("ok"));  // kept alive: no pressure yet
  // Six more connections: 7 of 8, beyond three quarters of the cap.
  std::vector<int> others;
  for (int i = 0; i < 6; ++i) others.push_back(door.connect());
  // The idle keep-alive connection is closed within the shorter idle timeout.
  CHECK(until_closed(kept, 3000ms) == std::string());
  // 6 held: the next request's answer closes its connection.
  const int last = door.connect();
  const auto answer = request(last);
  CHECK(answer.find("Connection: close") != std::string::npos);
  CHECK(until_closed(last, 2000ms).has_value());
  CHECK(door.closes() == std::vector<bool>{false, true});
  // Beyond the cap: closed at accept.
  std::vector<int> more;
  for (int i = 0; i < 3; ++i) more.push_back(door.connect());
  CHECK(until_closed(more.back(), 1000ms).has_value());
  for (int fd : others) ::close(fd);
  for (int fd : more) ::close(fd);
  ::close(kept);
  ::close(last);
}
