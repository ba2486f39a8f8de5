// Growth figures: what a query, a send, memory and disk cost as one organisation's data grows.
// The organisation's messages are appended straight to the log in campaigns of 10,000 (as the
// query figure does) and projected; at each step (100,000, 1,000,000 and 10,000,000 messages;
// --quick: 10,000 and 100,000) one client measures each query and a 1-recipient send with the
// page cache off, so every answer is read from the read models. A figure's baseline is the
// same measurement at the first step: the ratio is how much it grew.
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <sstream>

#include "adapters/bench/figures.h"
#include "adapters/bench/harness.h"
#include "domain/time.h"
#include "fmt/format.h"

namespace pulse::bench {
namespace {

constexpr int kPerCampaign = 10'000;
// A figure at the last step may be at most this many times its value at the first.
constexpr double kMaxGrowth = 1.5;
constexpr int kCampaignsPerAppend = 20;

std::string growth_target() {
  return fmt::format("<= {}", kMaxGrowth);
}

struct Probe {
  std::string figure;  // growth_<name>_p99
  std::string what;    // for the note
};

struct Step {
  int64_t messages = 0;
  std::map<std::string, double> p99;  // by figure
  double rss_mib = 0;
  std::map<std::string, uintmax_t> disk;  // bytes by data-directory entry (log, views, ...)
  uintmax_t disk_total = 0;
  double settled_s = 0;  // waited for background work before measuring
};

std::map<std::string, uintmax_t> disk_usage(const std::filesystem::path& dir) {
  std::map<std::string, uintmax_t> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const auto size = it->file_size(ec);
    if (ec) continue;
    const auto top = std::filesystem::relative(it->path(), dir, ec).begin()->string();
    out[top] += size;
  }
  return out;
}

// CPU seconds this process has used (user + system), from /proc/self/stat.
double cpu_seconds() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  const auto close = line.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return 0;
  std::istringstream fields(line.substr(close + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;  // state .. cmajflt
  double utime = 0, stime = 0;
  fields >> utime >> stime;
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Waits until the store's background work (flushes and compactions of what was just loaded)
// has settled: a second in which this process used under a tenth of a core, at most `bound`.
// The figures are the cost at a size, not while a bulk load is being digested. Returns the
// seconds waited.
double settle(std::chrono::seconds bound) {
  const auto t0 = Clock::now();
  while (Clock::now() - t0 < bound) {
    const double before = cpu_seconds();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    if (cpu_seconds() - before < 0.1) break;
  }
  return seconds_since(t0);
}

}  // namespace

std::vector<Row> growth(const Settings& s) {
  const std::vector<int64_t> steps = s.quick ? std::vector<int64_t>{10'000, 100'000}
                                             : std::vector<int64_t>{100'000, 1'000'000, 10'000'000};
  LoadOptions load;
  load.clients = 1;
  load.warmup = std::chrono::milliseconds(200);
  load.duration = std::chrono::milliseconds(s.quick ? 1000 : 3000);

  auto server = PulseServer::start("growth", {}, {}, /*page_cache=*/false);
  if (!server)
    return {failed_row("growth_campaign_get_p99", "ms", growth_target(), server.error().details)};
  auto& app = (*server)->app();
  const auto org = spread_orgs(1, app.log().partition_count()).front();
  if (auto st = provision(app, {org}); !st)
    return {failed_row("growth_campaign_get_p99", "ms", growth_target(), st.error().details)};
  const auto headers = org_headers(org);

  std::vector<std::string> campaigns;
  int64_t stored = 0;
  std::vector<Step> done;
  const auto phone = recipient_phone(0, 0);  // in every campaign
  for (const auto target : steps) {
    const auto step_started = app.clock().now();
    while (stored < target) {
      std::vector<CommandEnvelope> cmds;
      for (int i = 0; i < kCampaignsPerAppend && stored < target; ++i) {
        cmds.push_back(send_command(org, kPerCampaign, app.clock().now(),
                                    static_cast<int>(campaigns.size() % 8) * kPerCampaign));
        campaigns.push_back(std::get<SendSms>(cmds.back().body).campaign_id.value);
        stored += kPerCampaign;
      }
      if (auto appended = append_and_wait(app, cmds, std::chrono::seconds(900)); !appended)
        return {failed_row("growth_campaign_get_p99", "ms", growth_target(),
                           fmt::format("at {} messages: {}", stored, appended.error().details))};
    }
    const double settled = settle(std::chrono::seconds(s.quick ? 20 : 120));
    const auto now = app.clock().now();
    // Queries: campaigns in turn (each a first page of 500), and GET /api/messages (50 a page)
    // with each filter; then 1-recipient sends.
    std::atomic<size_t> turn{0};
    const auto window =
        fmt::format("from={}&to={}", format_iso8601(step_started), format_iso8601(now));
    // The same GET every time.
    auto get = [&headers](std::string path) {
      return [&headers, path = std::move(path)](int) {
        return HttpCall{"GET", path, {}, headers, 200};
      };
    };
    const std::vector<std::pair<Probe, std::function<HttpCall(int)>>> probes = {
        {{"growth_campaign_get_p99", "GET /api/campaigns/{id}, the campaigns in turn"},
         [&](int) {
           const auto& id = campaigns[turn++ % campaigns.size()];
           return HttpCall{"GET", "/api/campaigns/" + id, {}, headers, 200};
         }},
        {{"growth_messages_p99", "GET /api/messages"}, get("/api/messages")},
        {{"growth_messages_status_p99", "?status=queued"}, get("/api/messages?status=queued")},
        {{"growth_messages_campaign_p99", "?campaignId= (the campaigns in turn)"},
         [&](int) {
           const auto& id = campaigns[turn++ % campaigns.size()];
           return HttpCall{"GET", "/api/messages?campaignId=" + id, {}, headers, 200};
         }},
        {{"growth_messages_phone_p99", "?phone= (a number in every campaign)"},
         get("/api/messages?phone=%2B" + phone.substr(1))},
        {{"growth_messages_time_p99", "?from=&to= (the step's messages)"},
         get("/api/messages?" + window)},
        {{"growth_messages_direction_p99", "?direction=outbound"},
         get("/api/messages?direction=outbound")},
        {{"growth_send_p99", "POST /api/sms/send, 1 recipient"},
         [&](int) {
           return HttpCall{"POST", "/api/sms/send", send_body(1, 99), headers, 201};
         }},
    };
    Step step;
    step.messages = stored;
    step.settled_s = settled;
    for (const auto& [probe, call] : probes) {
      auto result = run_load((*server)->port(), load, call);
      if (result.failed > 0 || result.ok == 0)
        return {failed_row(probe.figure, "ms", growth_target(),
                           fmt::format("at {} messages, {} of {} failed: {}", stored, result.failed,
                                       result.failed + result.ok, result.first_failure))};
      step.p99[probe.figure] = percentile(result.latency_ms, 99);
    }
    step.rss_mib = current_rss_mib().value_or(0);
    step.disk = disk_usage((*server)->data_dir());
    for (const auto& [dir, bytes] : step.disk) step.disk_total += bytes;
    done.push_back(std::move(step));
    std::fprintf(stderr, "pulse bench: growth: %lld messages measured\n",
                 static_cast<long long>(stored));
  }

  const auto& first = done.front();
  const auto& last = done.back();
  std::vector<Row> rows;
  for (const auto& [figure, p99] : last.p99) {
    Row r;
    r.figure = figure;
    r.value = p99;
    r.unit = "ms";
    r.baseline = first.p99.at(figure);
    r.ratio = *r.baseline > 0 ? p99 / *r.baseline : 0;
    r.target = growth_target();
    r.met = *r.ratio <= kMaxGrowth;
    rows.push_back(std::move(r));
  }
  // Memory: after the last step against after the one before it (10M against 1M).
  const auto& before = done.size() > 1 ? done[done.size() - 2] : first;
  Row rss;
  rss.figure = "growth_rss";
  rss.value = last.rss_mib;
  rss.unit = "MiB";
  rss.baseline = before.rss_mib;
  rss.ratio = before.rss_mib > 0 ? last.rss_mib / before.rss_mib : 0;
  rss.target = growth_target();
  rss.met = *rss.ratio <= kMaxGrowth;
  rows.push_back(rss);
  Row disk;
  disk.figure = "growth_disk_per_message";
  disk.value = static_cast<double>(last.disk_total) / static_cast<double>(last.messages);
  disk.unit = "bytes/msg";
  disk.baseline = static_cast<double>(first.disk_total) / static_cast<double>(first.messages);
  disk.ratio = *disk.value / *disk.baseline;
  disk.target = "report";
  rows.push_back(disk);

  std::string note = fmt::format(
      "one organisation, campaigns of {} appended to the log and projected; queries from 1 "
      "client, page cache off; baseline = the first step, ratio = growth; RSS is this "
      "process's (VmRSS) after the step, its ratio against the step before the last",
      kPerCampaign);
  for (const auto& step : done) {
    note += fmt::format("\n    {:>10} messages:", step.messages);
    for (const auto& [figure, p99] : step.p99)
      note += fmt::format(" {} {:.2f}", figure.substr(7, figure.size() - 11), p99);
    note += fmt::format(" ms (after {:.0f} s settling); RSS {:.0f} MiB; disk {:.0f} bytes/msg (",
                        step.settled_s, step.rss_mib,
                        static_cast<double>(step.disk_total) / static_cast<double>(step.messages));
    bool comma = false;
    for (const auto& [dir, bytes] : step.disk) {
      note += fmt::format("{}{} {:.0f}", comma ? ", " : "", dir,
                          static_cast<double>(bytes) / static_cast<double>(step.messages));
      comma = true;
    }
    note += ")";
  }
  rows.front().note = std::move(note);
  return rows;
}

}  // namespace pulse::bench
