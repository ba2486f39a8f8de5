#pragma once
// Runs `pulse serve` as a child process on 127.0.0.1 port 0 for end-to-end tests, reads the
// port it prints, and offers an HTTP client to it. Owns the child and one reader thread.
#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace pulse::testing {

// A fresh directory under the system temp dir, removed when this goes away.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("pulse-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs a command to completion; returns its exit status and stdout.
inline std::pair<int, std::string> run_command(const std::vector<std::string>& args) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe");
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[65536];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class ServerProcess {
 public:
  ServerProcess(std::filesystem::path data_dir, std::vector<std::string> extra = {})
      : data_dir_(std::move(data_dir)) {
    std::vector<std::string> args = {PULSE_BINARY,  "serve",      "--listen",
                                     "127.0.0.1:0", "--data-dir", data_dir_.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe");
    // The server's stderr goes to a file beside its data directory, for post-mortems.
    const std::string log_path = data_dir_.string() + ".stderr.log";
    const int err_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 1);
      if (err_fd >= 0) dup2(err_fd, 2);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
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
    static const std::regex listening(R"(listening on http://127\.0\.0\.1:(\d+))");
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
    port_ = std::stoi(m[1].str());
  }

  ~ServerProcess() {
    if (pid_ > 0) kill9();
    if (reader_.joinable()) reader_.join();
    if (out_fd_ >= 0) close(out_fd_);
  }

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::unique_ptr<httplib::Client> client() const {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
    c->set_connection_timeout(5);
    c->set_read_timeout(10);
    c->set_write_timeout(10);
    return c;
  }

  // SIGKILL: no chance to flush anything.
  void kill9() { stop(SIGKILL); }
  // SIGTERM: a clean shutdown; returns the exit status.
  int terminate() { return stop(SIGTERM); }

 private:
  int stop(int sig) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::filesystem::path data_dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  int out_fd_ = -1;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string output_;
  bool closed_ = false;
};

}  // namespace pulse::testing
