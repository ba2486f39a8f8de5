#pragma once
// Runs `pulse serve` as a child process on 127.0.0.1 port 0 for end-to-end tests, reads the
// port it prints, and offers an HTTP client to it. Owns the child and one reader thread.
#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "domain/json_writer.h"
#include "tests/support/temp_dir.h"

namespace pulse::testing {

// Starts `args` (args[0] is the program's path) with stdout and stderr on the given descriptors
// (-1: this process's) and the given environment (nullptr: this process's); returns its pid.
// Descriptors meant for the child should be close-on-exec: dup2 keeps only the copies.
inline pid_t spawn(const std::vector<std::string>& args, int out_fd, int err_fd,
                   char* const* envp = nullptr) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    if (out_fd >= 0) dup2(out_fd, 1);
    if (err_fd >= 0) dup2(err_fd, 2);
    execve(argv[0], argv.data(), envp ? envp : environ);
    _exit(127);
  }
  return pid;
}

// Runs a command to completion; returns its exit status and stdout.
inline std::pair<int, std::string> run_command(const std::vector<std::string>& args) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  const pid_t pid = spawn(args, fds[1], -1);
  close(fds[1]);
  std::string out;
  char buf[65536];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// A self-signed certificate for 127.0.0.1, made with the openssl command the README shows.
inline bool make_certificate(const std::filesystem::path& dir) {
  if (!std::filesystem::exists("/usr/bin/openssl")) return false;
  auto [code, out] = run_command({"/usr/bin/openssl",
                                  "req",
                                  "-x509",
                                  "-newkey",
                                  "ec",
                                  "-pkeyopt",
                                  "ec_paramgen_curve:prime256v1",
                                  "-nodes",
                                  "-days",
                                  "825",
                                  "-subj",
                                  "/CN=127.0.0.1",
                                  "-addext",
                                  "subjectAltName=IP:127.0.0.1",
                                  "-addext",
                                  "basicConstraints=critical,CA:TRUE",
                                  "-keyout",
                                  (dir / "key.pem").string(),
                                  "-out",
                                  (dir / "cert.pem").string()});
  return code == 0;
}

// A child process in the background (e.g. `pulse gateway-sim`), killed when this goes away.
class BackgroundProcess {
 public:
  explicit BackgroundProcess(const std::vector<std::string>& args,
                             const std::string& log_path = "/dev/null") {
    const int out = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    pid_ = spawn(args, out, out);
    if (out >= 0) ::close(out);
  }
  ~BackgroundProcess() { stop(SIGKILL); }
  // Signals the process and reaps it; returns its exit status (-1 when killed by a signal).
  int stop(int sig) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
};

// With PULSE_RECORD_DIR set, the end-to-end suites record what they see for the contract
// tests (tests/schema/validate.mjs): every HTTP exchange through ServerProcess::client() as
// one NDJSON line in http-<pid>.ndjson, and each server's event log (pulse events) in
// events-<pid>-<n>.ndjson when the ServerProcess goes away.
namespace recording {

inline std::optional<std::filesystem::path> dir() {
  const char* d = std::getenv("PULSE_RECORD_DIR");
  if (!d || !*d) return std::nullopt;
  std::filesystem::create_directories(d);
  return std::filesystem::path(d);
}

using pulse::append_json_string;  // RFC 8259 escaping, as the server writes it

inline void exchange(const httplib::Request& req, const httplib::Response& res) {
  static std::mutex mu;
  auto d = dir();
  if (!d) return;
  std::string line = "{\"method\":";
  append_json_string(line, req.method);
  line += ",\"path\":";
  append_json_string(line, req.path);
  line += ",\"requestBody\":";
  append_json_string(line, req.body);
  line += ",\"status\":" + std::to_string(res.status) + ",\"headers\":{";
  bool first = true;
  for (const auto& [k, v] : res.headers) {
    if (!first) line += ",";
    first = false;
    append_json_string(line, k);
    line += ":";
    append_json_string(line, v);
  }
  line += "},\"body\":";
  append_json_string(line, res.body);
  line += "}\n";
  std::lock_guard lock(mu);
  std::ofstream(*d / ("http-" + std::to_string(::getpid()) + ".ndjson"), std::ios::app) << line;
}

}  // namespace recording

// The operator token and JWT secret every test server runs with.
inline constexpr const char* kTestAdminToken = "test-admin-token-0123456789";
inline constexpr const char* kTestJwtSecret = "test-jwt-secret-0123456789abcdef0123456789";

// An account made through POST /api/auth/signup, with a token from POST /api/auth/token.
struct Account {
  std::string email;
  std::string api_key;
  std::string org_id;
  std::string user_id;
  std::string token;
  std::string device_id;     // a paired gateway (see ServerProcess::connect_device)
  std::string device_token;  // its credential on /api/gateway/*
};

inline std::string json_field(const std::string& body, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(body, m, std::regex("\"" + name + "\":\"([^\"]*)\"")))
    throw std::runtime_error("no " + name + " in " + body);
  return m[1].str();
}

class ServerProcess {
 public:
  // Unless `extra` has its own --plans, the server runs with the default plans but no request
  // rate limit, so suites can send quickly; the rate-limit tests pass their own plans.
  ServerProcess(std::filesystem::path data_dir, std::vector<std::string> extra = {})
      : data_dir_(std::move(data_dir)), extra_(extra) {
    std::vector<std::string> args = {PULSE_BINARY,  "serve",      "--listen",
                                     "127.0.0.1:0", "--data-dir", data_dir_.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    if (std::find(extra.begin(), extra.end(), "--plans") == extra.end()) {
      const auto plans = data_dir_.string() + ".plans.json";
      std::ofstream(plans) << R"({"free":{"sendPerMinute":-1},"pro":{"sendPerMinute":-1},)"
                           << R"("enterprise":{"sendPerMinute":-1}})";
      args.insert(args.end(), {"--plans", plans});
    }
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) {
      const std::string_view kv(*e);
      if (!kv.starts_with("PULSE_ADMIN_TOKEN=") && !kv.starts_with("PULSE_JWT_SECRET="))
        env_strings.emplace_back(kv);
    }
    env_strings.push_back(std::string("PULSE_ADMIN_TOKEN=") + kTestAdminToken);
    env_strings.push_back(std::string("PULSE_JWT_SECRET=") + kTestJwtSecret);
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    // The server's stderr goes to a file beside its data directory, for post-mortems.
    const std::string log_path = data_dir_.string() + ".stderr.log";
    const int err_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    pid_ = spawn(args, fds[1], err_fd, envp.data());
    close(fds[1]);
    if (err_fd >= 0) ::close(err_fd);
    out_fd_ = fds[0];
    reader_ = std::thread([this] {
      char buf[4096];
      for (ssize_t n; (n = read(out_fd_, buf, sizeof buf)) > 0;) {
        std::lock_guard lock(mu_);
        output_.append(buf, static_cast<size_t>(n));
        cv_.notify_all();
      }
      std::lock_guard lock(mu_);
      closed_ = true;
      cv_.notify_all();
    });
    static const std::regex listening(R"(listening on (https?)://127\.0\.0\.1:(\d+))");
    std::unique_lock lock(mu_);
    std::smatch m;
    const bool ok = cv_.wait_for(lock, std::chrono::seconds(60), [&] {
      return closed_ || std::regex_search(output_, m, listening);
    });
    if (!ok || closed_) {
      const auto out = output_;
      lock.unlock();
      kill9();
      throw std::runtime_error("pulse serve did not start: " + out);
    }
    scheme_ = m[1].str();
    port_ = std::stoi(m[2].str());
  }

  ~ServerProcess() {
    if (pid_ > 0) kill9();
    if (reader_.joinable()) reader_.join();
    if (out_fd_ >= 0) close(out_fd_);
    record_events();
  }

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // What the server printed on stdout so far.
  std::string output() {
    std::lock_guard lock(mu_);
    return output_;
  }
  std::string base_url() const { return scheme_ + "://127.0.0.1:" + std::to_string(port_); }

  // With --tls-cert the server speaks HTTPS; its test certificate is self-signed.
  std::unique_ptr<httplib::Client> client() const {
    auto c = std::make_unique<httplib::Client>(base_url());
    c->enable_server_certificate_verification(false);
    if (recording::dir()) c->set_logger(recording::exchange);
    c->set_connection_timeout(5);
    c->set_read_timeout(10);
    c->set_write_timeout(10);
    return c;
  }

  // A client acting with the account's token.
  std::unique_ptr<httplib::Client> client(const Account& a) const {
    auto c = client();
    c->set_bearer_token_auth(a.token);
    return c;
  }

  // Pairs a gateway for the account through the real routes (pairing token, register); the
  // registration counts as its first heartbeat, so it is online at once.
  void connect_device(Account& a, const std::string& phone = "+16505550101") const {
    auto c = client(a);
    auto pairing = c->Post("/api/devices/pairing", "{}", "application/json");
    if (!pairing || pairing->status != 201)
      throw std::runtime_error("pairing failed: " +
                               (pairing ? pairing->body : std::string("no answer")));
    auto reg = client()->Post(
        "/api/gateway/register",
        R"({"pairingToken":")" + json_field(pairing->body, "pairingToken") +
            R"(","deviceName":"Test phone","model":"Pixel 8","osVersion":"15","appVersion":"1.4.2",)"
            R"("sims":[{"slot":0,"phoneNumber":")" +
            phone + R"(","carrier":"Test Mobile"}]})",
        "application/json");
    if (!reg || reg->status != 201)
      throw std::runtime_error("register failed: " + (reg ? reg->body : std::string("no answer")));
    a.device_id = json_field(reg->body, "deviceId");
    a.device_token = json_field(reg->body, "deviceToken");
  }

  // A client acting as the account's gateway device.
  std::unique_ptr<httplib::Client> gateway(const Account& a) const {
    auto c = client();
    c->set_bearer_token_auth(a.device_token);
    c->set_read_timeout(40);
    return c;
  }

  // Signs up (a fresh address unless one is given), exchanges the API key for a token, and
  // (unless told not to) pairs an online gateway so that sends are accepted.
  Account signup(std::string email = {}, bool with_device = true) const {
    static std::atomic<int> n{0};
    if (email.empty())
      email = "user" + std::to_string(::getpid()) + "-" + std::to_string(n++) + "@example.com";
    auto c = client();
    const std::string body = R"({"email":")" + email + R"(","password":"correct horse battery"})";
    auto res = c->Post("/api/auth/signup", body, "application/json");
    // Password hashes run at the lowest CPU priority: on a machine busy with other work (a
    // parallel build) one may not finish in time. "Server busy" hashed nothing and registered
    // nobody, so a client retries after Retry-After, as the API documents.
    for (int attempt = 0; attempt < 30 && res && (res->status == 429 || res->status == 503) &&
                          res->body.find("Server busy") != std::string::npos;
         ++attempt) {
      std::this_thread::sleep_for(std::chrono::seconds(
          std::max(1, std::atoi(res->get_header_value("Retry-After").c_str()))));
      res = c->Post("/api/auth/signup", body, "application/json");
    }
    if (!res || res->status != 201)
      throw std::runtime_error("signup failed: " + (res ? res->body : std::string("no answer")));
    Account a{email,
              json_field(res->body, "apiKey"),
              json_field(res->body, "organizationId"),
              json_field(res->body, "userId"),
              "",
              "",
              ""};
    auto tok =
        c->Post("/api/auth/token", R"({"apiKey":")" + a.api_key + R"("})", "application/json");
    if (!tok || tok->status != 200)
      throw std::runtime_error("token failed: " + (tok ? tok->body : std::string("no answer")));
    a.token = json_field(tok->body, "token");
    if (with_device) connect_device(a);
    return a;
  }

  // The operator's plan change (pulse admin set-plan).
  void set_plan(const Account& a, const std::string& plan) const {
    auto c = client();
    c->set_bearer_token_auth(kTestAdminToken);
    auto res = c->Post(("/api/admin/organizations/" + a.org_id + "/plan").c_str(),
                       R"({"plan":")" + plan + R"("})", "application/json");
    if (!res || res->status != 200)
      throw std::runtime_error("set-plan failed: " + (res ? res->body : std::string("no answer")));
  }

  // SIGKILL: no chance to flush anything.
  void kill9() { stop(SIGKILL); }
  // SIGTERM: a clean shutdown; returns the exit status.
  int terminate() { return stop(SIGTERM); }

 private:
  // The event log this server wrote, for the contract tests (see `recording`).
  void record_events() const {
    auto d = recording::dir();
    if (!d) return;
    std::vector<std::string> args = {PULSE_BINARY, "events", "--data-dir", data_dir_.string()};
    for (size_t i = 0; i + 1 < extra_.size(); ++i)
      if (extra_[i] == "--kafka") {
        if (extra_[i + 1] == "mock") return;  // gone with the server
        args.insert(args.end(), {"--kafka", extra_[i + 1]});
      } else if (extra_[i] == "--partitions") {
        args.insert(args.end(), {"--partitions", extra_[i + 1]});
      }
    static std::atomic<int> n{0};
    auto [code, out] = run_command(args);
    std::ofstream(*d /
                  ("events-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + ".ndjson"))
        << out;
  }

  int stop(int sig) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::filesystem::path data_dir_;
  std::vector<std::string> extra_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string scheme_ = "http";
  int out_fd_ = -1;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string output_;
  bool closed_ = false;
};

}  // namespace pulse::testing
