#include "adapters/gateway/simulator.h"

#include <httplib.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "adapters/gateway/smsgate_json.h"
#include "domain/json_writer.h"
#include "fmt/format.h"

namespace pulse::gateway {
namespace {

constexpr size_t kDeviceStackBytes = 256 * 1024;
constexpr int kSetupWorkers = 8;
constexpr int kSetupAttempts = 12;  // about 30 s of backoff: a server that is still starting
constexpr int kMaxRejectionsLogged = 5;
constexpr const char* kJson = "application/json";

// ---- options -----------------------------------------------------------------------------

const std::vector<std::string> kKnownOptions = {"--server",        "--api-key",
                                                "--devices",       "--fail-rate",
                                                "--send-delay-ms", "--delivery-delay-ms",
                                                "--delivery-rate", "--offline-after",
                                                "--silent-after",  "--batch",
                                                "--claim-wait",    "--heartbeat-seconds",
                                                "--seed",          "--duration",
                                                "--quiet",         "--reply-stop-rate",
                                                "--reply-rate",    "--reply-text",
                                                "--sims",          "--check-args",
                                                "--protocol",      "--code"};

std::optional<double> parse_double(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

Error bad_flag(std::string_view flag, std::string_view want, std::string_view got) {
  return validation_error(fmt::format("Invalid {}", flag), fmt::format("{}, got '{}'", want, got));
}

// A number flag in [lo, hi]; `fallback` when absent.
Result<double> number(const cmdline::Args& a, const char* flag, double fallback, double lo,
                      double hi, bool integer = false) {
  if (!a.values.count(flag)) return fallback;
  const auto s = a.get(flag);
  const auto v = parse_double(s);
  const auto want = integer ? fmt::format("an integer from {} to {}", lo, hi)
                            : fmt::format("a number from {} to {}", lo, hi);
  if (!v || *v < lo || *v > hi || (integer && *v != static_cast<double>(static_cast<int64_t>(*v))))
    return bad_flag(flag, want, s);
  return *v;
}

Millis seconds_to_ms(double s) {
  return Millis{std::llround(s * 1000.0)};
}

// ---- HTTP --------------------------------------------------------------------------------

std::unique_ptr<httplib::Client> make_client(const std::string& server) {
  auto c = std::make_unique<httplib::Client>(server);
  c->set_keep_alive(true);
  c->set_tcp_nodelay(true);
  c->set_connection_timeout(std::chrono::seconds(3));
  // The server holds a long poll for at most 25 s.
  c->set_read_timeout(std::chrono::seconds(45));
  c->set_write_timeout(std::chrono::seconds(10));
  // A test tool on a LAN or loopback: a self-signed certificate is accepted.
  c->enable_server_certificate_verification(false);
  return c;
}

struct Answer {
  enum class Verdict {
    ok,        // 2xx
    retry,     // connection error, 5xx, 408, 429: back off and try again
    unpaired,  // 401
    refused,   // any other 4xx, or an unreadable 2xx
    stopped,   // the fleet is stopping (the request was interrupted)
  };
  Verdict verdict = Verdict::ok;
  std::string body;
  Error error;
  Millis retry_after{0};
};

// One request; `authorization` is the whole header ("Bearer gw_…", "Code 12345678").
Answer send(httplib::Client& c, const char* method, const std::string& path,
            const std::string& body, const std::string& authorization,
            const std::atomic<bool>& stopping) {
  httplib::Headers headers;
  if (!authorization.empty()) headers.emplace("Authorization", authorization);
  const std::string_view m = method;
  auto res = m == "GET"     ? c.Get(path, headers)
             : m == "PATCH" ? c.Patch(path, headers, body, kJson)
                            : c.Post(path, headers, body, kJson);
  Answer a;
  if (!res) {
    a.verdict = stopping ? Answer::Verdict::stopped : Answer::Verdict::retry;
    a.error = Error{Errc::unavailable, fmt::format("{} {}", method, path),
                    fmt::format("{} (is the server running?)", httplib::to_string(res.error()))};
    return a;
  }
  const int status = res->status;
  a.body = std::move(res->body);
  if (status / 100 == 2) return a;
  a.error = http_error(status, a.body);
  a.error.message = fmt::format("{} {} → {}", method, path, a.error.message);
  if (status >= 500 || status == 408 || status == 429) {
    a.verdict = Answer::Verdict::retry;
    if (auto s = parse_double(res->get_header_value("Retry-After")); s && *s > 0)
      a.retry_after = seconds_to_ms(std::min(*s, 60.0));
  } else {
    a.verdict = status == 401 ? Answer::Verdict::unpaired : Answer::Verdict::refused;
  }
  return a;
}

Answer post(httplib::Client& c, const std::string& path, const std::string& body,
            const std::string& bearer, const std::atomic<bool>& stopping) {
  return send(c, "POST", path, body, bearer.empty() ? std::string() : "Bearer " + bearer, stopping);
}

std::string describe(const Error& e) {
  return e.details.empty() ? e.message : fmt::format("{}: {}", e.message, e.details);
}

// ---- devices -----------------------------------------------------------------------------

struct Device {
  int index = 0;
  DeviceProfile profile;
  Registration reg;
  std::unique_ptr<httplib::Client> client;
  std::optional<DeviceSchedule> schedule;
  std::optional<Backoff> backoff;
  int battery = 100;
  // A reply its recipient sends back to the phone (--reply-stop-rate, --reply-rate).
  struct Reply {
    std::string from;
    std::string body;
    int sim_slot = 0;
  };
  std::map<std::string, ClaimedMessage> recipients;  // by message id, while replies may come
  std::vector<Reply> replies;                        // to report
  std::atomic<bool> online{false};
  std::atomic<bool> done{false};
  bool thread_started = false;
  pthread_t thread{};
};

}  // namespace

struct Fleet::Impl {
  SimOptions options;
  const TimeSource& clock;
  std::vector<std::unique_ptr<Device>> devices;
  std::atomic<bool> stopping{false};
  std::atomic<bool> started{false};  // devices is complete and no longer changes
  std::atomic<int> running{0};

  // Guards the condition variables' waits, last_error, rejections_logged, setup_clients.
  mutable std::mutex mu;
  std::condition_variable wake;     // notified when a stop is requested
  std::condition_variable stopped;  // notified when a device thread ends
  std::string last_error;
  int rejections_logged = 0;
  std::vector<httplib::Client*> setup_clients;

  std::atomic<int> offline{0}, unpaired{0};
  std::atomic<int64_t> stop_replies{0};
  std::atomic<int64_t> replies{0};
  std::atomic<int64_t> claimed{0}, sent{0}, delivered{0}, failed{0}, rejected{0}, withheld{0},
      errors{0}, unreported{0};

  Impl(SimOptions o, const TimeSource& c) : options(std::move(o)), clock(c) {}

  // Sleeps for `d` unless a stop is requested; false when stopping.
  bool sleep_for(Millis d) {
    std::unique_lock lock(mu);
    return !wake.wait_for(lock, d, [&] { return stopping.load(); });
  }

  void note_error(const Error& e) {
    ++errors;
    std::lock_guard lock(mu);
    last_error = describe(e);
  }

  // A device's own news (unpaired, gone dark): printed even with --quiet.
  void say(std::string line) {
    fmt::print("gateway-sim: {}\n", line);
    std::fflush(stdout);
  }

  // ---- setup ----

  // While it lives, request_stop() interrupts `client`'s requests.
  struct Interruptible {
    Impl& fleet;
    httplib::Client& client;
    Interruptible(Impl& f, httplib::Client& c) : fleet(f), client(c) {
      std::lock_guard lock(fleet.mu);
      fleet.setup_clients.push_back(&client);
    }
    ~Interruptible() {
      std::lock_guard lock(fleet.mu);
      std::erase(fleet.setup_clients, &client);
    }
    Interruptible(const Interruptible&) = delete;
    Interruptible& operator=(const Interruptible&) = delete;
  };

  // Retries what a starting or restarting server answers; returns the last answer.
  Answer setup_call(httplib::Client& c, const std::string& path, const std::string& body,
                    const std::string& bearer, Backoff& backoff) {
    Answer a;
    for (int attempt = 0; attempt < kSetupAttempts; ++attempt) {
      a = post(c, path, body, bearer, stopping);
      if (a.verdict != Answer::Verdict::retry) return a;
      if (!sleep_for(std::max(backoff.next(), a.retry_after))) break;
    }
    if (stopping) a.verdict = Answer::Verdict::stopped;
    return a;
  }

  Result<std::unique_ptr<Device>> pair(httplib::Client& c, int index, const std::string& token) {
    auto d = std::make_unique<Device>();
    d->index = index;
    d->profile = device_profile(index, options.sims);
    Backoff backoff(backoff_seed(options.seed, index));
    auto refused = [&](const Answer& a, std::string_view step) -> Error {
      if (a.verdict == Answer::Verdict::stopped)
        return Error{Errc::unavailable, "Interrupted", "the simulator was stopped during setup"};
      return Error{a.error.code, fmt::format("Could not {} {}", step, d->profile.device_name),
                   describe(a.error)};
    };
    Answer pairing;
    if (!options.pairing_code) {
      pairing = setup_call(c, "/api/devices/pairing", "{}", token, backoff);
      if (pairing.verdict != Answer::Verdict::ok)
        return refused(pairing, "create a pairing token for");
    }
    if (options.protocol == SimProtocol::smsgate) {
      // The app's "Sign in with code": POST /mobile/v1/device, Authorization: Code <code>.
      auto code = options.pairing_code ? Result<std::string>(*options.pairing_code)
                                       : smsgate::parse_pairing_code(pairing.body);
      if (!code) return code.error();
      std::vector<smsgate::Sim> sims;
      for (const auto& s : d->profile.sims)
        sims.push_back(smsgate::Sim{s.slot, s.slot + 1, s.phone_number, s.carrier});
      Answer reg;
      for (int attempt = 0; attempt < kSetupAttempts; ++attempt) {
        reg = send(c, "POST", "/mobile/v1/device",
                   smsgate::encode_register_request(d->profile.device_name, sims), "Code " + *code,
                   stopping);
        if (reg.verdict != Answer::Verdict::retry || !sleep_for(backoff.next())) break;
      }
      if (reg.verdict != Answer::Verdict::ok) return refused(reg, "register");
      auto parsed = smsgate::decode_register_response(reg.body);
      if (!parsed) return parsed.error();
      d->reg = Registration{parsed->id, parsed->token, parsed->login, 30, 0};
      return d;
    }
    auto pairing_token = parse_pairing(pairing.body);
    if (!pairing_token) return pairing_token.error();
    auto reg = setup_call(c, "/api/gateway/register", registration_json(*pairing_token, d->profile),
                          {}, backoff);
    if (reg.verdict != Answer::Verdict::ok) return refused(reg, "register");
    auto parsed = parse_registration(reg.body);
    if (!parsed) return parsed.error();
    d->reg = std::move(parsed).value();
    return d;
  }

  Status setup() {
    auto c = make_client(options.server);
    if (!c->is_valid())
      return validation_error("Invalid --server", fmt::format("'{}'", options.server));
    Interruptible main_client(*this, *c);
    Backoff backoff(options.seed);
    Result<std::string> token = std::string();  // not needed to register with a code
    if (!options.pairing_code) {
      auto answer =
          setup_call(*c, "/api/auth/token", token_request_json(options.api_key), {}, backoff);
      if (answer.verdict != Answer::Verdict::ok)
        return Error{answer.error.code, "Could not exchange the API key for a token",
                     describe(answer.error)};
      token = parse_token(answer.body);
      if (!token) return token.error();
    }

    devices.resize(static_cast<size_t>(options.devices));
    std::atomic<int> next{0};
    std::optional<Error> first_error;
    auto worker = [&] {
      auto wc = make_client(options.server);
      Interruptible interruptible(*this, *wc);
      for (int i = next++; i < options.devices && !stopping; i = next++) {
        auto d = pair(*wc, i, *token);
        if (d) {
          devices[static_cast<size_t>(i)] = std::move(d).value();
          continue;
        }
        std::lock_guard lock(mu);
        if (!first_error) first_error = d.error();
        next = options.devices;  // the other workers stop too
      }
    };
    std::vector<std::thread> workers;
    for (int w = 0; w < std::min(kSetupWorkers, options.devices); ++w) workers.emplace_back(worker);
    for (auto& t : workers) t.join();
    if (first_error) return *first_error;
    if (stopping)
      return Error{Errc::unavailable, "Interrupted", "the simulator was stopped during setup"};
    return ok_status();
  }

  // ---- running ----

  void start() {
    const auto now = clock.now();
    for (auto& dp : devices) {
      auto& d = *dp;
      ScheduleConfig config;
      config.behaviour = options.behaviour;
      const int hb = options.heartbeat_seconds.value_or(
          d.reg.heartbeat_interval_seconds > 0 ? d.reg.heartbeat_interval_seconds : 30);
      config.heartbeat_interval = Millis{hb * 1000LL};
      config.batch = options.batch;
      config.claim_wait_seconds = options.claim_wait_seconds;
      if (options.offline_after) config.offline_at = now + *options.offline_after;
      if (options.silent_after) config.silent_at = now + *options.silent_after;
      d.schedule.emplace(config, now, outcome_seed(options.seed, d.index));
      d.backoff.emplace(backoff_seed(options.seed, d.index));
      d.battery = 100 - (d.index * 7) % 40;
      d.client = make_client(options.server);
    }
    if (!devices.empty()) {
      const auto& reg = devices.front()->reg;
      const auto round = options.behaviour.send_delay * options.batch * 3 / 2;
      if (reg.lease_seconds > 0 && round >= Millis{reg.lease_seconds * 1000LL})
        fmt::print(stderr,
                   "gateway-sim: warning: a batch of {} at --send-delay-ms {} can take {} ms, "
                   "longer than the server's {} s lease\n",
                   options.batch, options.behaviour.send_delay.count(), round.count(),
                   reg.lease_seconds);
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, kDeviceStackBytes);
    for (auto& dp : devices) {
      struct Start {
        Impl* fleet;
        Device* device;
      };
      auto* arg = new Start{this, dp.get()};
      ++running;
      const int rc = pthread_create(
          &dp->thread, &attr,
          [](void* p) -> void* {
            std::unique_ptr<Start> s(static_cast<Start*>(p));
            s->fleet->run(*s->device);
            return nullptr;
          },
          arg);
      if (rc != 0) {
        delete arg;
        --running;
        dp->done = true;
        note_error(Error{Errc::internal, "Could not start a device thread",
                         fmt::format("{}: {}", dp->profile.device_name, std::strerror(rc))});
        continue;
      }
      dp->thread_started = true;
    }
    pthread_attr_destroy(&attr);
    started = true;
  }

  void run(Device& d) {
    try {
      loop(d);
    } catch (const std::exception& e) {  // a bug, not a network problem: say so and stop
      note_error(Error{Errc::internal, fmt::format("{} crashed", d.profile.device_name), e.what()});
    }
    d.online = false;
    unreported += static_cast<int64_t>(d.schedule->pending_reports());
    {
      std::lock_guard lock(mu);
      d.done = true;
      --running;
    }
    stopped.notify_all();
  }

  // What every failed request does: count it, and back off, or stop the device (false).
  bool failed_request(Device& d, const Answer& a) {
    switch (a.verdict) {
      case Answer::Verdict::ok:
        return true;
      case Answer::Verdict::stopped:
        return false;
      case Answer::Verdict::unpaired:
        ++unpaired;
        say(fmt::format("{} ({}) was unpaired ({}): stopping it", d.profile.device_name,
                        d.reg.device_id, describe(a.error)));
        return false;
      case Answer::Verdict::retry:
      case Answer::Verdict::refused:
        d.online = false;
        note_error(a.error);
        return sleep_for(std::max(d.backoff->next(), a.retry_after));
    }
    return false;
  }

  Answer call(Device& d, const char* path, const std::string& body) {
    auto a = post(*d.client, path, body, d.reg.device_token, stopping);
    if (a.verdict == Answer::Verdict::ok) {
      d.backoff->reset();
      d.online = true;
    }
    return a;
  }

  // POSTs the due reports, at most 500 a request; what the server did not take back (a
  // connection error, a 5xx) goes back into the outbox and is retried after the backoff.
  bool report(Device& d, std::vector<Report> reports) {
    if (options.protocol == SimProtocol::smsgate) return report_smsgate(d, std::move(reports));
    for (size_t from = 0; from < reports.size(); from += kMaxReportsPerRequest) {
      const size_t n = std::min(kMaxReportsPerRequest, reports.size() - from);
      const std::span<const Report> chunk(reports.data() + from, n);
      auto a = call(d, "/api/gateway/messages/status", reports_json(chunk));
      if (a.verdict == Answer::Verdict::retry) {
        d.schedule->put_back(
            std::vector<Report>(reports.begin() + static_cast<ptrdiff_t>(from), reports.end()),
            clock.now());
        return failed_request(d, a);
      }
      if (a.verdict != Answer::Verdict::ok) return failed_request(d, a);  // dropped
      auto results = parse_report_results(a.body);
      if (!results || results->size() != n) {
        note_error(results ? Error{Errc::internal, "POST /api/gateway/messages/status",
                                   fmt::format("{} results for {} reports", results->size(), n)}
                           : results.error());
        continue;
      }
      for (size_t i = 0; i < n; ++i) count(d, chunk[i], (*results)[i]);
    }
    return send_replies(d);
  }

  // PATCH /mobile/v1/message as the app's SendStateWorker does (it answers 204, no results:
  // every report counts as accepted). The app reports no replies to the server.
  bool report_smsgate(Device& d, std::vector<Report> reports) {
    d.replies.clear();
    for (size_t from = 0; from < reports.size(); from += 100) {
      const size_t n = std::min<size_t>(100, reports.size() - from);
      std::vector<smsgate::MessagePatch> patches;
      for (size_t i = from; i < from + n; ++i) {
        const auto& r = reports[i];
        smsgate::MessagePatch p;
        p.id = r.message_id;
        p.state = r.status == ReportStatus::sent        ? smsgate::State::sent
                  : r.status == ReportStatus::delivered ? smsgate::State::delivered
                                                        : smsgate::State::failed;
        auto phone = d.recipients.find(r.message_id);
        smsgate::RecipientState rs{phone == d.recipients.end() ? "" : phone->second.phone, p.state,
                                   std::nullopt};
        if (r.status == ReportStatus::failed) rs.error = r.error;
        p.recipients.push_back(rs);
        p.states[p.state] = r.at;
        patches.push_back(std::move(p));
      }
      auto a =
          smsgate_call(d, "PATCH", "/mobile/v1/message", smsgate::encode_message_patch(patches));
      if (a.verdict == Answer::Verdict::retry) {
        d.schedule->put_back(
            std::vector<Report>(reports.begin() + static_cast<ptrdiff_t>(from), reports.end()),
            clock.now());
        return failed_request(d, a);
      }
      if (a.verdict != Answer::Verdict::ok) return failed_request(d, a);
      for (size_t i = from; i < from + n; ++i) {
        count(d, reports[i], ReportResult{reports[i].message_id, true, "", ""});
        if (reports[i].status != ReportStatus::sent) d.recipients.erase(reports[i].message_id);
      }
    }
    return true;
  }

  Answer smsgate_call(Device& d, const char* method, const std::string& path,
                      const std::string& body) {
    auto a = send(*d.client, method, path, body, "Bearer " + d.reg.device_token, stopping);
    if (a.verdict == Answer::Verdict::ok) {
      d.backoff->reset();
      d.online = true;
    }
    return a;
  }

  // A uniform draw in [0, 1) from the message id, the seed and a salt, so a run's replies don't
  // depend on timing.
  double draw(const std::string& message_id, uint64_t salt) const {
    uint64_t h = 1469598103934665603ULL ^ options.seed ^ salt;
    for (unsigned char c : message_id) h = (h ^ c) * 1099511628211ULL;
    h ^= h >> 29;
    return static_cast<double>(h >> 11) * 0x1.0p-53;
  }

  // What the recipient of `m` answers, if anything: STOP, or (otherwise) the reply text.
  std::optional<Device::Reply> reply_to(const ClaimedMessage& m) const {
    if (options.reply_stop_rate > 0 && draw(m.id, 0) < options.reply_stop_rate)
      return Device::Reply{m.phone, "STOP", m.sim_slot};
    if (options.reply_rate > 0 && draw(m.id, 0x5eed) < options.reply_rate)
      return Device::Reply{m.phone, options.reply_text, m.sim_slot};
    return std::nullopt;
  }

  bool replying() const { return options.reply_stop_rate > 0 || options.reply_rate > 0; }

  bool send_replies(Device& d) {
    while (!d.replies.empty()) {
      const auto& r = d.replies.back();
      JsonWriter w;
      w.begin_object()
          .field("from", r.from)
          .field("body", r.body)
          .field("simSlot", r.sim_slot)
          .field("receivedAt", format_iso8601(clock.now()))
          .end_object();
      const bool stop = r.body == "STOP";
      auto a = call(d, "/api/gateway/inbound", w.take());
      if (a.verdict == Answer::Verdict::retry) return failed_request(d, a);  // kept for later
      d.replies.pop_back();
      if (a.verdict != Answer::Verdict::ok) return failed_request(d, a);
      ++(stop ? stop_replies : replies);
    }
    return true;
  }

  void count(Device& d, const Report& r, const ReportResult& result) {
    if (!result.accepted) {
      ++rejected;
      std::lock_guard lock(mu);
      if (rejections_logged++ < kMaxRejectionsLogged && !options.quiet)
        fmt::print("gateway-sim: {}: report '{}' for {} not accepted (message is {}{}{})\n",
                   d.profile.device_name, to_string(r.status), r.message_id,
                   result.status.empty() ? "?" : result.status, result.error.empty() ? "" : ": ",
                   result.error);
      return;
    }
    switch (r.status) {
      case ReportStatus::sent:
        ++sent;
        break;
      case ReportStatus::delivered:
        ++delivered;
        if (auto it = d.recipients.find(r.message_id); it != d.recipients.end()) {
          if (auto reply = reply_to(it->second)) d.replies.push_back(std::move(*reply));
          d.recipients.erase(it);
        }
        break;
      case ReportStatus::failed:
        ++failed;
        break;
    }
  }

  void loop(Device& d) {
    auto& schedule = *d.schedule;
    const int signal = 1 + d.index % 4;
    while (!stopping) {
      const auto now = clock.now();
      const Step step = schedule.next(now);
      switch (step.kind) {
        case Step::Kind::go_offline:
          ++offline;
          say(
              fmt::format("{} ({}) went offline (--offline-after): no more heartbeats, claims "
                          "or reports; {} outcomes never reported",
                          d.profile.device_name, d.reg.device_id, schedule.pending_reports()));
          return;
        case Step::Kind::withhold:
          withheld += static_cast<int64_t>(schedule.take_due(now).size());
          break;
        case Step::Kind::report:
          if (!report(d, schedule.take_due(now))) return;
          break;
        case Step::Kind::heartbeat: {
          d.battery = d.battery <= 15 ? 100 : d.battery - 1;
          auto a = options.protocol == SimProtocol::smsgate
                       ? smsgate_call(d, "GET", "/mobile/v1/device", "")
                       : call(d, "/api/gateway/heartbeat",
                              heartbeat_json(d.battery, signal, d.profile.app_version));
          if (a.verdict == Answer::Verdict::ok || a.verdict == Answer::Verdict::refused)
            schedule.heartbeat_done(now);  // a refused heartbeat is not retried at once
          if (!failed_request(d, a)) return;
          break;
        }
        case Step::Kind::claim: {
          const auto asked_at = clock.now();
          if (options.protocol == SimProtocol::smsgate) {
            if (!claim_smsgate(d, step.wait_seconds, asked_at)) return;
            break;
          }
          auto a =
              call(d, "/api/gateway/messages/claim", claim_json(options.batch, step.wait_seconds));
          if (a.verdict != Answer::Verdict::ok) {
            if (!failed_request(d, a)) return;
            break;
          }
          auto messages = parse_claim(a.body);
          if (!messages) {
            note_error(messages.error());
            if (!sleep_for(d.backoff->next())) return;
            break;
          }
          claimed += static_cast<int64_t>(messages->size());
          if (replying())
            for (const auto& m : *messages) d.recipients[m.id] = m;
          schedule.claimed(*messages, asked_at, clock.now());
          break;
        }
        case Step::Kind::wait:
          if (!sleep_for(std::max(Millis{1}, step.until - clock.now()))) return;
          break;
      }
    }
  }

  // GET /mobile/v1/message answers at once: with nothing to do the phone polls again a
  // second later (the app's poll channel; it never long-polls).
  bool claim_smsgate(Device& d, int wait_seconds, TimePoint asked_at) {
    auto a = smsgate_call(d, "GET", "/mobile/v1/message?order=fifo", "");
    if (a.verdict != Answer::Verdict::ok) return failed_request(d, a);
    auto messages = smsgate::decode_messages(a.body);
    if (!messages) {
      note_error(messages.error());
      return sleep_for(d.backoff->next());
    }
    std::vector<ClaimedMessage> claimed_now;
    for (const auto& m : *messages) {
      claimed_now.push_back(ClaimedMessage{m.id,
                                           m.phone_numbers.empty() ? "" : m.phone_numbers.front(),
                                           m.text, m.sim_number.value_or(1) - 1, 1, m.valid_until});
      d.recipients[m.id] = claimed_now.back();
    }
    claimed += static_cast<int64_t>(claimed_now.size());
    d.schedule->claimed(claimed_now, asked_at, clock.now());
    if (claimed_now.empty() && wait_seconds > 0) return sleep_for(Millis{1000});
    return true;
  }

  void request_stop() {
    {
      std::lock_guard lock(mu);
      stopping = true;
      for (auto* c : setup_clients) c->stop();
    }
    wake.notify_all();
  }

  void join() {
    request_stop();
    // A device may be about to start a long poll when the stop arrives: interrupt its client
    // until every device has noticed.
    std::unique_lock lock(mu);
    while (running > 0) {
      for (auto& d : devices)
        if (d && d->thread_started && !d->done) d->client->stop();
      stopped.wait_for(lock, Millis{100}, [&] { return running == 0; });
    }
    lock.unlock();
    for (auto& d : devices)
      if (d && d->thread_started) {
        pthread_join(d->thread, nullptr);
        d->thread_started = false;
      }
  }
};

Result<SimOptions> parse_sim_options(const cmdline::Args& args) {
  for (const auto& [k, v] : args.values)
    if (std::find(kKnownOptions.begin(), kKnownOptions.end(), k) == kKnownOptions.end())
      return validation_error(fmt::format("Unknown option {}", k), "see `pulse help`");
  for (const auto& f : args.flags)
    if (std::find(kKnownOptions.begin(), kKnownOptions.end(), f) == kKnownOptions.end())
      return validation_error(fmt::format("Unknown option {}", f), "see `pulse help`");

  SimOptions o;
  if (args.values.count("--server")) o.server = args.get("--server");
  while (o.server.ends_with('/')) o.server.pop_back();
  const auto scheme_end = o.server.find("://");
  const auto scheme = o.server.substr(0, scheme_end == std::string::npos ? 0 : scheme_end);
  if ((scheme != "http" && scheme != "https") || o.server.size() == scheme_end + 3 ||
      o.server.find('/', scheme_end + 3) != std::string::npos)
    return bad_flag("--server", "http[s]://host[:port] without a path", o.server);
  if (args.values.count("--protocol")) {
    const auto p = args.get("--protocol");
    if (p != "pulse" && p != "smsgate") return bad_flag("--protocol", "pulse or smsgate", p);
    o.protocol = p == "smsgate" ? SimProtocol::smsgate : SimProtocol::pulse;
  }
  if (args.values.count("--code")) {
    const auto code = args.get("--code");
    const bool digits =
        !code.empty() && code.size() <= 16 &&
        std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) return bad_flag("--code", "the pairing code's digits", code);
    if (o.protocol != SimProtocol::smsgate)
      return validation_error("--code needs --protocol smsgate",
                              "a pairing code is what the SMSGate app is given");
    o.pairing_code = code;
  }
  o.api_key = args.get("--api-key");
  if (o.api_key.empty() && !o.pairing_code)
    return validation_error("Missing --api-key",
                            "an organisation's API key (pk_live_…), or --code with one phone");
  if (!args.values.count("--devices"))
    return validation_error("Missing --devices", "how many phones to simulate");

  auto devices = number(args, "--devices", 0, 1, kMaxDevices, true);
  auto fail_rate = number(args, "--fail-rate", 0.05, 0, 1);
  auto send_delay = number(args, "--send-delay-ms", 200, 0, 3'600'000, true);
  auto delivery_delay = number(args, "--delivery-delay-ms", 1000, 0, 3'600'000, true);
  auto delivery_rate = number(args, "--delivery-rate", 1.0, 0, 1);
  auto offline_after = number(args, "--offline-after", -1, 0, 1e7);
  auto silent_after = number(args, "--silent-after", -1, 0, 1e7);
  auto batch = number(args, "--batch", 10, 1, 500, true);
  auto claim_wait = number(args, "--claim-wait", 20, 0, kMaxClaimWaitSeconds, true);
  auto heartbeat = number(args, "--heartbeat-seconds", -1, 1, 3600, true);
  auto duration = number(args, "--duration", 0, 0, 1e7);
  auto reply_stop_rate = number(args, "--reply-stop-rate", 0, 0, 1);
  auto reply_rate = number(args, "--reply-rate", 0, 0, 1);
  auto sims = number(args, "--sims", 1, 1, 4, true);
  for (const auto* r : {&devices, &fail_rate, &send_delay, &delivery_delay, &delivery_rate,
                        &offline_after, &silent_after, &batch, &claim_wait, &heartbeat, &duration,
                        &reply_stop_rate, &reply_rate, &sims})
    if (!*r) return r->error();
  o.reply_stop_rate = *reply_stop_rate;
  o.reply_rate = *reply_rate;
  o.sims = static_cast<int>(*sims);
  if (args.values.count("--reply-text")) {
    o.reply_text = args.get("--reply-text");
    if (o.reply_text.empty() || o.reply_text.size() > 1000 ||
        o.reply_text.find('\0') != std::string::npos)
      return bad_flag("--reply-text", "1 to 1000 bytes of text", o.reply_text);
  }
  if (o.reply_rate > 0 && o.protocol == SimProtocol::smsgate)
    return validation_error("--reply-rate needs --protocol pulse",
                            "the SMSGate app reports no received SMS to Pulse");

  o.devices = static_cast<int>(*devices);
  if (o.pairing_code && o.devices != 1)
    return validation_error("--code pairs one phone", "use --devices 1 with --code");
  o.behaviour.fail_rate = *fail_rate;
  o.behaviour.send_delay = Millis{static_cast<int64_t>(*send_delay)};
  o.behaviour.delivery_delay = Millis{static_cast<int64_t>(*delivery_delay)};
  o.behaviour.delivery_rate = *delivery_rate;
  if (*offline_after >= 0) o.offline_after = seconds_to_ms(*offline_after);
  if (*silent_after >= 0) o.silent_after = seconds_to_ms(*silent_after);
  o.batch = static_cast<int>(*batch);
  o.claim_wait_seconds = static_cast<int>(*claim_wait);
  if (*heartbeat >= 0) o.heartbeat_seconds = static_cast<int>(*heartbeat);
  o.duration = seconds_to_ms(*duration);

  if (args.values.count("--seed")) {
    const auto s = args.get("--seed");
    uint64_t seed = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), seed);
    if (ec != std::errc{} || end != s.data() + s.size())
      return bad_flag("--seed", "an unsigned 64-bit integer", s);
    o.seed = seed;
  }
  // --quiet is valueless; until the argument parser knows it, "--quiet=true" works too.
  if (args.values.count("--quiet")) {
    const auto q = args.get("--quiet");
    if (q != "true" && q != "1" && q != "false" && q != "0")
      return bad_flag("--quiet", "no value (or true/false)", q);
    o.quiet = q == "true" || q == "1";
  } else {
    o.quiet = args.has("--quiet");
  }
  return o;
}

Fleet::Fleet(SimOptions options, const TimeSource& clock)
    : impl_(std::make_unique<Impl>(std::move(options), clock)) {}

Fleet::~Fleet() {
  join();
}

Status Fleet::setup() {
  return impl_->setup();
}

void Fleet::start() {
  impl_->start();
}

FleetStats Fleet::stats() const {
  const auto& m = *impl_;
  FleetStats s;
  if (m.started)
    for (const auto& d : m.devices) {
      ++s.devices;
      if (d->online && !d->done) ++s.online;
    }
  s.offline = m.offline;
  s.unpaired = m.unpaired;
  s.claimed = m.claimed;
  s.sent = m.sent;
  s.delivered = m.delivered;
  s.failed = m.failed;
  s.rejected = m.rejected;
  s.withheld = m.withheld;
  s.unreported = m.unreported;
  s.stop_replies = m.stop_replies;
  s.replies = m.replies;
  s.errors = m.errors;
  std::lock_guard lock(m.mu);
  s.last_error = m.last_error;
  return s;
}

bool Fleet::finished() const {
  return impl_->running == 0;
}

void Fleet::request_stop() {
  impl_->request_stop();
}

void Fleet::join() {
  impl_->join();
}

}  // namespace pulse::gateway
