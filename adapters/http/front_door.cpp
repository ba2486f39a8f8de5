#include "adapters/http/front_door.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "adapters/runtime/logging.h"

namespace pulse::http {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A head that has not ended within this many bytes is refused (the request line and the
// header block of adapters/http/server_limits.h fit with room to spare).
constexpr size_t kHeadCap = 32 << 10;
constexpr size_t kChunk = 16 << 10;
constexpr uint64_t kListenTag = 1;
constexpr uint64_t kWakeTag = 2;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, 1 << 30));
}

// The address of a peer (an IPv4 client of a dual-stack socket as plain IPv4) and its port.
std::pair<std::string, int> address_of(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(ss);
    ::inet_ntop(AF_INET, &a.sin_addr, buf, sizeof buf);
    return {buf, ntohs(a.sin_port)};
  }
  if (ss.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(ss);
    if (IN6_IS_ADDR_V4MAPPED(&a.sin6_addr))
      ::inet_ntop(AF_INET, &a.sin6_addr.s6_addr[12], buf, sizeof buf);
    else
      ::inet_ntop(AF_INET6, &a.sin6_addr, buf, sizeof buf);
    return {buf, ntohs(a.sin6_port)};
  }
  return {"", 0};
}

// One accepted connection. The loop thread owns it except while a worker serves it.
struct Conn {
  int fd = -1;
  SSL* ssl = nullptr;
  bool handshaking = false;
  std::string peer;
  int peer_port = 0;
  bool capped = true;  // counted against its address's cap
  // Bytes received and not yet consumed by a request: [off, in.size()).
  std::string in;
  size_t off = 0;
  size_t scanned = 0;  // bytes of `in` searched for the head's end
  // Waiting: since when, and whether between requests (idle) or for a first request.
  Clock::time_point since;
  bool idle = false;
  bool at_worker = false;

  size_t buffered() const { return in.size() - off; }
  void compact() {
    in.erase(0, off);
    scanned -= std::min(scanned, off);
    off = 0;
  }
  // Whether a whole request head (up to its blank line) is buffered. A search that fails
  // remembers how far it looked, so a trickled head is not searched again from its start.
  bool head_buffered() {
    const size_t from = std::max(off, scanned >= 3 ? scanned - 3 : 0);
    if (in.find("\r\n\r\n", from) == std::string::npos) {
      scanned = in.size();
      return false;
    }
    scanned = off;
    return true;
  }
};

// Poll one descriptor for `events` up to `ms`; true when ready (errors count as ready: the
// next call reports them).
bool wait_for(int fd, short events, int ms) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int r = ::poll(&p, 1, ms);
    if (r < 0 && errno == EINTR) continue;
    return r > 0;
  }
}

// One non-blocking read from the connection (through its TLS session, if any), appended to `in`.
enum class ReadSome { data, again, closed, failed };
ReadSome read_some(Conn& c) {
  char buf[kChunk];
  for (;;) {
    if (c.ssl) {
      ERR_clear_error();  // SSL_get_error reads this thread's error queue
      const int r = SSL_read(c.ssl, buf, sizeof buf);
      if (r > 0) {
        c.in.append(buf, static_cast<size_t>(r));
        return ReadSome::data;
      }
      const int err = SSL_get_error(c.ssl, r);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return ReadSome::again;
      return ReadSome::failed;
    }
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n > 0) {
      c.in.append(buf, static_cast<size_t>(n));
      return ReadSome::data;
    }
    if (n == 0) return ReadSome::closed;  // the client half-closed
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadSome::again;
    return ReadSome::failed;
  }
}

// A connection as httplib reads and writes it on a worker: first the bytes the loop buffered,
// then the socket (or its TLS session), each call bounded by a timeout, and the request's bytes
// by a minimum average rate.
class ConnStream final : public httplib::Stream {
 public:
  ConnStream(Conn& c, const FrontDoorOptions& o) : c_(c), o_(o) {}

  void begin_request() {
    request_start_ = Clock::now();
    request_bytes_ = 0;
  }
  // Whether a read or write failed (timed out, too slow, reset): the connection is done with,
  // even if httplib still answered (a body it could not read leaves the stream out of step).
  bool failed() const { return failed_; }

  bool is_readable() const override {
    if (c_.buffered() > 0 || (c_.ssl && SSL_pending(c_.ssl) > 0)) return true;
    return wait_for(c_.fd, POLLIN, static_cast<int>(o_.read_timeout.count()));
  }

  bool is_writable() const override {
    pollfd p{c_.fd, POLLOUT, 0};
    const int r = ::poll(&p, 1, static_cast<int>(o_.write_timeout.count()));
    return r > 0 && (p.revents & POLLOUT) && !(p.revents & (POLLERR | POLLHUP));
  }

  ssize_t read(char* ptr, size_t size) override {
    if (size == 0) return 0;
    if (c_.buffered() > 0) {
      const size_t n = std::min(size, c_.buffered());
      std::memcpy(ptr, c_.in.data() + c_.off, n);
      c_.off += n;
      if (c_.off == c_.in.size()) {
        c_.in.clear();
        c_.off = c_.scanned = 0;
      }
      return static_cast<ssize_t>(n);
    }
    // Small reads (httplib reads a head byte by byte) go through a chunk; large ones directly.
    const bool direct = size >= kChunk;
    char chunk[kChunk];
    char* dst = direct ? ptr : chunk;
    const size_t want = direct ? size : kChunk;
    for (;;) {
      // 1 KiB/s on average once the grace is over: a body trickled slower ends the request.
      const auto deadline =
          request_start_ + o_.body_grace + milliseconds(request_bytes_ * 1000 / 1024);
      const int left = std::min(remaining_ms(deadline), static_cast<int>(o_.read_timeout.count()));
      ssize_t n;
      short wait = POLLIN;
      if (c_.ssl) {
        ERR_clear_error();  // SSL_get_error reads this thread's error queue
        const int r = SSL_read(c_.ssl, dst, static_cast<int>(std::min<size_t>(want, INT32_MAX)));
        if (r > 0) {
          n = r;
        } else {
          const int err = SSL_get_error(c_.ssl, r);
          if (err == SSL_ERROR_ZERO_RETURN) return 0;
          if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) return fail();
          if (err == SSL_ERROR_WANT_WRITE) wait = POLLOUT;
          n = -1;
          errno = EAGAIN;
        }
      } else {
        n = ::recv(c_.fd, dst, want, 0);
        if (n == 0) return 0;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return fail();
      }
      if (n > 0) {
        request_bytes_ += static_cast<size_t>(n);
        if (direct) return n;
        const size_t give = std::min(size, static_cast<size_t>(n));
        std::memcpy(ptr, chunk, give);
        if (static_cast<size_t>(n) > give) {
          c_.in.assign(chunk + give, static_cast<size_t>(n) - give);
          c_.off = c_.scanned = 0;
        }
        return static_cast<ssize_t>(give);
      }
      if (left <= 0 || !wait_for(c_.fd, wait, left)) return fail();
    }
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (size == 0) return 0;
    for (;;) {
      short wait = POLLOUT;
      if (c_.ssl) {
        ERR_clear_error();  // SSL_get_error reads this thread's error queue
        const int r = SSL_write(c_.ssl, ptr, static_cast<int>(std::min<size_t>(size, INT32_MAX)));
        if (r > 0) return r;
        const int err = SSL_get_error(c_.ssl, r);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) return fail();
        if (err == SSL_ERROR_WANT_READ) wait = POLLIN;
      } else {
        const ssize_t n = ::send(c_.fd, ptr, size, MSG_NOSIGNAL);
        if (n > 0) return n;
        if (n < 0 && errno == EINTR) continue;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return fail();
      }
      if (!wait_for(c_.fd, wait, static_cast<int>(o_.write_timeout.count()))) return fail();
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = c_.peer;
    port = c_.peer_port;
  }

  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(c_.fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
      std::tie(ip, port) = address_of(ss);
  }

  socket_t socket() const override { return c_.fd; }

 private:
  ssize_t fail() {
    failed_ = true;
    return -1;
  }

  Conn& c_;
  const FrontDoorOptions& o_;
  Clock::time_point request_start_ = Clock::now();
  size_t request_bytes_ = 0;
  bool failed_ = false;
};

}  // namespace

int raise_descriptor_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 1024;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
    ::getrlimit(RLIMIT_NOFILE, &lim);
  }
  return lim.rlim_cur == RLIM_INFINITY ? 1 << 20
                                       : static_cast<int>(std::min<rlim_t>(lim.rlim_cur, 1 << 20));
}

struct FrontDoor::Impl {
  FrontDoorOptions o;
  ServeRequest serve;
  int epoll_fd = -1;
  int wake_fd = -1;
  int listen_fd = -1;
  std::atomic<bool> stopping{false};

  // Loop thread only.
  std::unordered_map<Conn*, std::unique_ptr<Conn>> conns;
  std::unordered_map<std::string, int> per_address;
  bool accept_paused = false;
  int refused_total = 0, refused_address = 0, timed_out = 0;
  Clock::time_point last_report = Clock::now();

  // Connections handed back by workers: whether each may carry another request.
  std::mutex returned_mu;
  std::vector<std::pair<Conn*, bool>> returned;
  std::atomic<int> busy{0};
  std::atomic<int> open{0};  // conns.size(), for other threads
  std::unique_ptr<httplib::ThreadPool> pool;

  Impl(FrontDoorOptions options, ServeRequest s) : o(std::move(options)), serve(std::move(s)) {
    if (o.max_connections <= 0) o.max_connections = std::min(4096, raise_descriptor_limit() / 4);
    o.max_connections = std::max(o.max_connections, 1);
    o.threads = std::max(o.threads, 1);
    epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  }

  ~Impl() {
    if (epoll_fd >= 0) ::close(epoll_fd);
    if (wake_fd >= 0) ::close(wake_fd);
  }

  bool under_pressure() const {
    return conns.size() * 4 >= static_cast<size_t>(o.max_connections) * 3 ||
           busy.load() * 4 >= o.threads * 3;
  }

  void watch(Conn* c, uint32_t events, int op) {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = c;
    ::epoll_ctl(epoll_fd, op, c->fd, &ev);
  }

  void close_conn(Conn* c) {
    if (c->ssl) {
      if (!c->handshaking) SSL_shutdown(c->ssl);  // close_notify, best effort
      SSL_free(c->ssl);
    }
    ::close(c->fd);  // also leaves the epoll set
    if (c->capped) {
      auto it = per_address.find(c->peer);
      if (it != per_address.end() && --it->second <= 0) per_address.erase(it);
    }
    conns.erase(c);
    open = static_cast<int>(conns.size());
  }

  void accept_all() {
    for (;;) {
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          // Out of descriptors or memory: stop accepting until the next sweep rather than spin.
          epoll_event ev{};
          ev.data.u64 = kListenTag;
          ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, listen_fd, &ev);
          accept_paused = true;
        }
        return;
      }
      auto [peer, port] = address_of(ss);
      const bool capped = !(o.trusted_proxy && o.trusted_proxy->contains(peer));
      if (conns.size() >= static_cast<size_t>(o.max_connections)) {
        ::close(fd);
        ++refused_total;
        if (o.on_closed_early) o.on_closed_early("total");
        continue;
      }
      if (capped && per_address[peer] >= o.max_connections_per_address) {
        ::close(fd);
        ++refused_address;
        if (o.on_closed_early) o.on_closed_early("address");
        continue;
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto conn = std::make_unique<Conn>();
      Conn* c = conn.get();
      c->fd = fd;
      c->peer = std::move(peer);
      c->peer_port = port;
      c->capped = capped;
      c->since = Clock::now();
      if (capped) ++per_address[c->peer];
      if (o.tls) {
        c->ssl = SSL_new(o.tls);
        if (!c->ssl) {
          conns.emplace(c, std::move(conn));
          close_conn(c);
          continue;
        }
        SSL_set_fd(c->ssl, fd);
        SSL_set_accept_state(c->ssl);
        SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
        c->handshaking = true;
      }
      conns.emplace(c, std::move(conn));
      open = static_cast<int>(conns.size());
      watch(c, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_ADD);
    }
  }

  // The connection is readable (or was just handed back): read what there is, and hand it to a
  // worker once a whole head is buffered.
  void on_readable(Conn* c) {
    if (c->handshaking) {
      ERR_clear_error();  // SSL_get_error reads this thread's error queue
      const int r = SSL_do_handshake(c->ssl);
      if (r != 1) {
        const int err = SSL_get_error(c->ssl, r);
        if (err == SSL_ERROR_WANT_READ) return watch(c, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
        if (err == SSL_ERROR_WANT_WRITE) return watch(c, EPOLLOUT, EPOLL_CTL_MOD);
        return close_conn(c);
      }
      c->handshaking = false;
      watch(c, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
    }
    while (c->buffered() < kHeadCap) {
      const auto got = read_some(*c);
      if (got == ReadSome::again) break;
      // A client that half-closed after a whole request still gets it served.
      if (got == ReadSome::closed) return c->head_buffered() ? dispatch(c) : close_conn(c);
      if (got == ReadSome::failed) return close_conn(c);
      if (c->idle) {  // a next request begins: its head has the same time as a first one
        c->idle = false;
        c->since = Clock::now();
      }
    }
    if (c->head_buffered()) return dispatch(c);
    if (c->buffered() >= kHeadCap) {
      static constexpr std::string_view kTooLarge =
          "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n"
          "Content-Length: 0\r\n\r\n";
      if (!c->ssl) ::send(c->fd, kTooLarge.data(), kTooLarge.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      close_conn(c);
    }
  }

  void dispatch(Conn* c) {
    ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, nullptr);
    c->at_worker = true;
    const bool close = under_pressure();
    ++busy;
    pool->enqueue([this, c, close] { work(c, close); });
  }

  // On a worker: serves the buffered request, and any further ones the client already sent.
  void work(Conn* c, bool close) {
    ConnStream stream(*c, o);
    bool keep = true;
    for (int served = 0; keep && !stopping; ++served) {
      stream.begin_request();
      keep = serve(stream, close) && !close && !stream.failed();
      if (!keep || served >= 16) break;
      if (!c->head_buffered() && !(roomy() && next_head_within(*c, o.linger))) break;
    }
    {
      std::lock_guard lock(returned_mu);
      returned.emplace_back(c, keep && !stopping);
    }
    const uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd, &one, sizeof one);
  }

  // Room to spare (callable from any thread): far from both caps.
  bool roomy() const {
    return open.load() * 4 < o.max_connections * 3 && busy.load() * 4 < o.threads * 3;
  }

  // On a worker: reads what the client sends within `wait`; whether a whole request head is
  // buffered by then. Anything else (nothing, part of a head, the client closing) is left for
  // the loop, which reads on from there.
  static bool next_head_within(Conn& c, milliseconds wait) {
    const auto deadline = Clock::now() + wait;
    for (;;) {
      const bool pending = c.ssl && SSL_pending(c.ssl) > 0;
      const int left = remaining_ms(deadline);
      if (!pending && (left <= 0 || !wait_for(c.fd, POLLIN, left))) return false;
      const auto got = read_some(c);
      if (got == ReadSome::again) continue;
      if (got != ReadSome::data) return false;
      if (c.head_buffered()) return true;
      if (c.buffered() >= kHeadCap) return false;
    }
  }

  void take_returned() {
    uint64_t count;
    [[maybe_unused]] auto r = ::read(wake_fd, &count, sizeof count);
    std::vector<std::pair<Conn*, bool>> batch;
    {
      std::lock_guard lock(returned_mu);
      batch.swap(returned);
    }
    for (auto [c, keep] : batch) {
      --busy;
      c->at_worker = false;
      if (!keep || stopping) {
        close_conn(c);
        continue;
      }
      c->compact();
      c->idle = c->buffered() == 0;
      c->since = Clock::now();
      watch(c, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_ADD);
      on_readable(c);  // bytes already buffered, or held inside the TLS session
    }
  }

  // Closes the connections that waited too long: for a first byte, a whole head, a TLS
  // handshake, or (idle between requests) for a next request.
  void sweep() {
    const auto now = Clock::now();
    const auto idle_limit = under_pressure() ? o.keep_alive_under_pressure : o.keep_alive;
    std::vector<Conn*> expired;
    for (auto& [c, _] : conns) {
      if (c->at_worker) continue;
      const auto waited = now - c->since;
      const bool late = c->idle                                ? waited > idle_limit
                        : c->handshaking || c->buffered() == 0 ? waited > o.first_byte
                                                               : waited > o.head;
      if (late) expired.push_back(c);
    }
    for (Conn* c : expired) {
      close_conn(c);
      if (o.on_closed_early) o.on_closed_early("waiting");
    }
    timed_out += static_cast<int>(expired.size());
    if (accept_paused) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = kListenTag;
      ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, listen_fd, &ev);
      accept_paused = false;
    }
    if (now - last_report >= std::chrono::seconds(10) && (refused_total || refused_address)) {
      runtime::log_line("http",
                        "refused {} connections at the cap of {} and {} at the cap of {} per "
                        "address; {} open, {} closed waiting in the last 10 s",
                        refused_total, o.max_connections, refused_address,
                        o.max_connections_per_address, conns.size(), timed_out);
      refused_total = refused_address = timed_out = 0;
      last_report = now;
    }
  }

  void run() {
    ::fcntl(listen_fd, F_SETFL, ::fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kListenTag;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &ev);
    ev.data.u64 = kWakeTag;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &ev);
    pool = std::make_unique<httplib::ThreadPool>(static_cast<size_t>(o.threads));
    std::vector<epoll_event> events(256);
    auto last_sweep = Clock::now();
    while (!stopping) {
      const int n = ::epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), 250);
      for (int i = 0; i < n && !stopping; ++i) {
        const auto tag = events[static_cast<size_t>(i)].data.u64;
        if (tag == kListenTag) {
          accept_all();
        } else if (tag == kWakeTag) {
          take_returned();
        } else {
          auto* c = static_cast<Conn*>(events[static_cast<size_t>(i)].data.ptr);
          if (conns.contains(c) && !c->at_worker) on_readable(c);
        }
      }
      if (Clock::now() - last_sweep >= milliseconds(250)) {
        sweep();
        last_sweep = Clock::now();
      }
    }
    ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, listen_fd, nullptr);
    pool->shutdown();  // the workers finish their requests
    take_returned();
    std::vector<Conn*> all;
    for (auto& [c, _] : conns) all.push_back(c);
    for (Conn* c : all) close_conn(c);
  }
};

FrontDoor::FrontDoor(FrontDoorOptions options, ServeRequest serve)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(serve))) {}

FrontDoor::~FrontDoor() = default;

void FrontDoor::run(int listen_fd) {
  impl_->listen_fd = listen_fd;
  impl_->run();
}

void FrontDoor::stop() {
  impl_->stopping = true;
  const uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(impl_->wake_fd, &one, sizeof one);
}

int FrontDoor::max_connections() const {
  return impl_->o.max_connections;
}

int FrontDoor::open_connections() const {
  return impl_->open.load();
}

int FrontDoor::busy_connections() const {
  return impl_->busy.load();
}

}  // namespace pulse::http
