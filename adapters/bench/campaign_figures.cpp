// Campaign figures: GET /api/campaigns/{id} latency on a running campaign of a
// 10,000-contact list, created through POST /api/campaigns. Its counts come from the projection;
// the messages page is read by a prefix scan, never by counting messages at request time.
#include "adapters/bench/figures.h"
#include "adapters/bench/harness.h"
#include "domain/contacts.h"
#include "domain/ids.h"
#include "fmt/format.h"

namespace pulse::bench {

std::vector<Row> campaign_get_10k(const Settings& s) {
  constexpr int kContacts = 10'000;
  constexpr int kClients = 1;  // one dashboard polling: latency, not throughput
  const std::string figure = "campaign_get_10k_p99";
  LoadOptions load;
  load.clients = kClients;
  load.warmup = std::chrono::milliseconds(s.quick ? 500 : 1500);
  load.duration = std::chrono::milliseconds(s.quick ? 3000 : 10000);

  auto server = PulseServer::start("campaign");
  if (!server) return {failed_row(figure, "ms", "< 10 ms", server.error().details)};
  auto& app = (*server)->app();
  const auto org = spread_orgs(1, app.log().partition_count()).front();
  if (auto st = provision(app, {org}); !st)
    return {failed_row(figure, "ms", "< 10 ms", st.error().details)};
  // The list, straight through the log (the HTTP API takes 500 contacts per request).
  const auto at = app.clock().now();
  const ContactListId list{make_id(id_prefix::contact_list, at, 42)};
  std::vector<CommandEnvelope> cmds;
  auto command = [&](Command body) {
    return CommandEnvelope{CommandId{make_id(id_prefix::command, at, cmds.size() + 1)}, org, at,
                           std::move(body)};
  };
  cmds.push_back(command(CreateContactList{list, "Bench list", {}}));
  for (int k = 0; k < kContacts; k += static_cast<int>(kMaxContactsPerCommand)) {
    UpsertContacts up{list, "imp_bench", {}, false};
    for (int i = k; i < std::min(kContacts, k + static_cast<int>(kMaxContactsPerCommand)); ++i)
      up.contacts.push_back(Contact{fmt::format("+1415{:07}", i),
                                    fmt::format("First{}", i),
                                    fmt::format("Last{}", i),
                                    "",
                                    "",
                                    {}});
    cmds.push_back(command(std::move(up)));
  }
  if (auto done = append_and_wait(app, cmds, std::chrono::seconds(120)); !done)
    return {failed_row(figure, "ms", "< 10 ms", done.error().details)};
  // The campaign through the real route; the bench's phone never claims, so it stays running.
  const auto created =
      http_once((*server)->port(),
                HttpCall{"POST", "/api/campaigns",
                         fmt::format(R"({{"name":"Bench","message":"{}","contactListId":"{}"}})",
                                     kTemplate, list.value),
                         org_headers(org), 201});
  const auto key = std::string(R"("id":")");
  const auto at_id = created.body.find(key);
  if (created.status != 201 || at_id == std::string::npos)
    return {failed_row(figure, "ms", "< 10 ms",
                       fmt::format("POST /api/campaigns answered {}: {}", created.status,
                                   created.body.substr(0, 200)))};
  const auto id = created.body.substr(
      at_id + key.size(), created.body.find('"', at_id + key.size()) - at_id - key.size());
  const HttpCall call{"GET", "/api/campaigns/" + id, {}, org_headers(org), 200};
  const auto first = http_once((*server)->port(), call);
  if (first.status != 200 ||
      first.body.find(fmt::format("\"totalMessages\":{}", kContacts)) == std::string::npos ||
      first.body.find(R"("status":"running")") == std::string::npos)
    return {
        failed_row(figure, "ms", "< 10 ms",
                   fmt::format("GET answered {}: {}", first.status, first.body.substr(0, 200)))};
  const auto pulse = run_load((*server)->port(), load, [&](int) { return HttpCall(call); });
  if (pulse.failed > 0 || pulse.ok == 0)
    return {failed_row(figure, "ms", "< 10 ms",
                       fmt::format("{} of {} requests failed: {}", pulse.failed,
                                   pulse.failed + pulse.ok, pulse.first_failure))};
  BareServer bare("GET", R"(/api/campaigns/([^/]+))", 200, first.body);
  const auto raw = run_load(bare.port(), load, [&](int) {
    return HttpCall{"GET", "/api/campaigns/cmp_bare", {}, {}, 200};
  });

  Row r50;
  r50.figure = "campaign_get_10k_p50";
  r50.value = percentile(pulse.latency_ms, 50);
  r50.unit = "ms";
  r50.baseline = percentile(raw.latency_ms, 50);
  r50.ratio = *r50.baseline > 0 ? *r50.value / *r50.baseline : 0;
  r50.target = "report";
  r50.note = fmt::format(
      "GET /api/campaigns/{{id}} of a running campaign on a {}-contact list (first page: 500 "
      "messages, {} KiB) from {} connections: {:.0f} req/s over {:.1f} s (bare handler {:.0f} "
      "req/s)",
      kContacts, first.body.size() / 1024, kClients, pulse.rate(), pulse.seconds, raw.rate());
  Row r99 = r50;
  r99.figure = figure;
  r99.value = percentile(pulse.latency_ms, 99);
  r99.baseline = percentile(raw.latency_ms, 99);
  r99.ratio = *r99.baseline > 0 ? *r99.value / *r99.baseline : 0;
  r99.target = "< 10 ms";
  r99.met = *r99.value < 10.0;
  r99.note.clear();
  return {r50, r99};
}

}  // namespace pulse::bench
