#include "adapters/webhooks/dispatcher.h"

#include <ctime>

#include <httplib.h>

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "adapters/codec/json_codec.h"
#include "adapters/codec/value_codec.h"
#include "adapters/runtime/logging.h"
#include "adapters/runtime/read_models.h"
#include "adapters/runtime/worker.h"
#include "adapters/webhooks/delivery_replica.h"
#include "adapters/webhooks/signing.h"
#include "adapters/webhooks/url.h"
#include "domain/ids.h"
#include "fmt/format.h"

namespace pulse::webhooks {
namespace {

constexpr size_t kHandoverBatch = 512;
constexpr size_t kExcerpt = 512;
constexpr const char* kCaBundle = "/etc/ssl/certs/ca-certificates.crt";

// The endpoint of a delivery id: its webhook id body follows the last '_'.
std::string endpoint_of(std::string_view delivery) {
  return std::string(delivery.substr(delivery.rfind('_') + 1));
}

}  // namespace

// Retry-After (RFC 9110): delay-seconds, or an HTTP-date ("Sun, 06 Nov 1994 08:49:37 GMT")
// taken relative to `now`.
std::optional<Millis> parse_retry_after(const std::string& v, TimePoint now) {
  if (v.empty()) return std::nullopt;
  int64_t s = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), s);
  if (ec == std::errc{} && p == v.data() + v.size()) {
    if (s < 0) return std::nullopt;
    return Millis{s * 1000};
  }
  std::tm tm{};
  const char* end = ::strptime(v.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  const auto at = from_unix_ms(static_cast<int64_t>(::timegm(&tm)) * 1000);
  return at > now ? std::chrono::duration_cast<Millis>(at - now) : Millis{0};
}

struct Dispatcher::Impl {
  log::Log* log;
  store::KvStore& views;
  DeliveryStore store;
  int32_t partitions;
  const TimeSource& clock;
  DispatcherOptions options;
  std::function<bool()> ready;
  runtime::Signal signal;
  runtime::Worker scheduler;
  std::atomic<bool> initialized{false};

  std::mutex store_mu;  // every read-modify-write of a delivery
  // Under store_mu: in-flight deliveries that handover changed meanwhile (a worker re-reads
  // those; the others it wrote last itself), and each endpoint's health as last written.
  std::set<std::string> changed_in_flight;
  std::map<std::string, EndpointHealth> health_mem;

  // The due index (q/…) mirrored in memory: loaded once, then changed only with the writes
  // this process makes (it is the only writer), so passes never iterate RocksDB's tombstones
  // of the keys it keeps deleting.
  using DueSet = std::set<std::pair<int64_t, std::string>>;  // (due unix ms, delivery id)
  struct DueChange {
    bool add = false;
    int64_t ms = 0;
    std::string id;
    int32_t partition = 0;  // of the delivery's organisation
  };
  std::mutex due_mu;
  std::map<std::string, DueSet> due_mem;              // by endpoint
  std::map<std::string, int32_t> endpoint_partition;  // under due_mu: each endpoint's partition
  RandomSource& random;                               // retry jitter and command ids
  const Sealer& sealer;                               // opens the endpoints' secrets, to sign

  std::mutex jobs_mu;
  std::condition_variable jobs_cv;
  std::deque<std::string> jobs;
  std::set<std::string> in_flight;
  std::map<std::string, int> per_endpoint;
  bool stopping = false;
  std::vector<std::thread> workers;

  // ---- the partitions this dispatcher owns ------------------------------------------------
  // Alone: all of them, active once initialized. In a group: those the group assigned, each
  // with its writer of pulse.webhook-deliveries (opening it fenced the previous owner's), active
  // once this node's copy of the store holds every change the previous owners made.
  DeliveryReplica* replica;
  struct Owned {
    std::shared_ptr<log::PartitionWriter> writer;
    std::shared_ptr<std::mutex> write_mu;  // one append at a time; taken to give the partition up
    int64_t restore_through = -1;          // the partition's last record when it was assigned
    bool active = false;
  };
  mutable std::mutex own_mu;
  std::map<int32_t, Owned> owned;
  runtime::Worker membership;
  std::unique_ptr<log::Reader> group_reader;

  Impl(log::Log* l, store::KvStore& v, store::KvStore& s, int32_t p, const TimeSource& c,
       RandomSource& rnd, const Sealer& sl, DispatcherOptions o, std::function<bool()> r,
       DeliveryReplica* rep)
      : log(l),
        views(v),
        store(s),
        partitions(p),
        clock(c),
        options(std::move(o)),
        ready(std::move(r)),
        random(rnd),
        sealer(sl),
        replica(rep) {}

  bool grouped() const { return !options.group.empty(); }

  int32_t partition_of(const OrgId& org) const {
    return log ? log->partition_for(org.value).value : 0;
  }

  bool active(int32_t p) const {
    if (!grouped()) return initialized;
    std::lock_guard lock(own_mu);
    auto it = owned.find(p);
    return it != owned.end() && it->second.active;
  }

  // Makes `ops` (changes of deliveries of partition p) durable. In a group, through the
  // partition's writer; Errc::conflict when this dispatcher no longer owns p.
  Status persist(int32_t p, const std::vector<store::WriteOp>& ops) {
    if (!grouped()) return store.kv().write(ops);
    std::shared_ptr<log::PartitionWriter> writer;
    std::shared_ptr<std::mutex> write_mu;
    {
      std::lock_guard lock(own_mu);
      auto it = owned.find(p);
      if (it == owned.end() || !it->second.writer)
        return Error{Errc::conflict, "Outbox partition moved",
                     fmt::format("partition {} is delivered by another dispatcher now", p)};
      writer = it->second.writer;
      write_mu = it->second.write_mu;
    }
    DeliveryChanges changes;
    changes.writes.reserve(ops.size());
    for (const auto& op : ops) changes.writes.push_back({op.key, op.value});
    const log::Record record{"", codec::encode(changes)};
    std::lock_guard lock(*write_mu);
    auto at = writer->append(std::span(&record, 1));
    if (!at) {
      // Fenced, or the outcome is unknown: the writer is done for. The partition is taken up
      // again (a new writer, and the store caught up with whatever was appended).
      std::lock_guard own_lock(own_mu);
      if (auto it = owned.find(p); it != owned.end() && it->second.writer == writer) {
        it->second.writer.reset();
        it->second.active = false;
      }
      return at.error();
    }
    return replica->apply_own(Partition{p}, at->front().offset, ops);
  }

  // ---- the outbox, taken over ------------------------------------------------------------

  // The newest outbox key of partition p ("" when it has none).
  Result<std::string> outbox_end(int32_t p) {
    projections::ScanRange newest;
    newest.reverse = true;
    newest.limit = 1;
    auto page = projections::scan_page(
        views, codec::value_codec(), projections::table::outbox(Partition{p}), newest,
        [](std::string_view, const projections::OutboxRecord&) { return true; });
    if (!page) return page.error();
    return page->last_key;
  }

  Status place_cursors() {
    std::vector<store::WriteOp> ops;
    for (int32_t p = 0; p < partitions; ++p) {
      auto end = outbox_end(p);
      if (!end) return end.error();
      if (!end->empty()) ops.push_back({keys::cursor(p), *end});
    }
    ops.push_back({std::string(keys::kInit), std::string("1")});
    return store.kv().write(ops, true);
  }

  Status init() {
    // The read models first: after views/ was deleted, the endpoints are back only once the
    // projector has caught up, and a delivery must not find its endpoint "deleted" meanwhile.
    while (!scheduler.stopping() && !ready()) {
    }
    if (grouped()) {
      // Cursors and due deliveries come per partition, as the group assigns them.
      initialized = true;
      return ok_status();
    }
    auto init = store.kv().get(keys::kInit);
    if (!init) return init.error();
    if (!*init)
      if (auto st = place_cursors(); !st) return st;
    if (auto st = load_due(); !st) return st;
    initialized = true;
    return ok_status();
  }

  // Applies a state change and keeps the due index in step, in one write; `mem` collects the
  // same changes for the in-memory mirror, applied once the write succeeded (commit_due).
  void stage(std::vector<store::WriteOp>& ops, std::vector<DueChange>& mem,
             const std::optional<DeliveryState>& before, const DeliveryState& after) const {
    const int32_t p = partition_of(after.org);
    if (before && before->next_at && before->status == "pending") {
      ops.push_back({keys::due(*before->next_at, before->id), std::nullopt});
      mem.push_back({false, to_unix_ms(*before->next_at), before->id, p});
    }
    if (after.status == "pending" && after.next_at) {
      ops.push_back({keys::due(*after.next_at, after.id), std::string()});
      mem.push_back({true, to_unix_ms(*after.next_at), after.id, p});
    }
    ops.push_back({keys::delivery(after.id), codec::encode(after)});
  }

  void commit_due(const std::vector<DueChange>& mem) {
    std::lock_guard lock(due_mu);
    for (const auto& c : mem) {
      const auto endpoint = endpoint_of(c.id);
      endpoint_partition[endpoint] = c.partition;
      // A partition given up meanwhile keeps nothing here: its next owner has it.
      if (c.add && grouped() && !active(c.partition)) continue;
      auto& set = due_mem[endpoint];
      if (c.add)
        set.emplace(c.ms, c.id);
      else
        set.erase({c.ms, c.id});
    }
  }

  // ---- partitions taken and given up (a group) --------------------------------------------

  // The group's assignment (on the membership thread): a writer per partition, which fences the
  // previous owner's, and where its records end; active later, in activate().
  // A partition's writer (opening it fences the previous one's), and the offset of the
  // partition's last record then: the copy of the store must pass it before delivering.
  struct OpenedWriter {
    std::shared_ptr<log::PartitionWriter> writer;
    int64_t restore_through = -1;
  };
  Result<OpenedWriter> open_writer(Partition p) {
    auto writer = log->partition_writer(log::kDeliveriesTopic, p);
    if (!writer) return writer.error();
    auto last = log->last_record(log::kDeliveriesTopic, p);
    if (!last) return last.error();
    return OpenedWriter{std::move(writer).value(), *last ? (*last)->offset.value : -1};
  }

  Result<std::vector<log::Assignment>> take(const std::vector<Partition>& ps) {
    std::vector<log::Assignment> from;
    for (auto p : ps) {
      auto opened = open_writer(p);
      if (!opened) return opened.error();
      auto end = log->end_offset(log::kDeliveriesTopic, p);
      if (!end) return end.error();
      std::lock_guard lock(own_mu);
      auto& o = owned[p.value];
      o.writer = std::move(opened->writer);
      o.write_mu = std::make_shared<std::mutex>();
      o.restore_through = opened->restore_through;
      o.active = false;
      from.push_back({p, *end});  // the group reader keeps the membership; records are unused
    }
    if (!ps.empty())
      runtime::log_line("webhooks", "delivering outbox partitions {}", partition_list(ps));
    signal.notify();
    return from;
  }

  // A new writer for an owned partition whose writer failed.
  Status reopen(int32_t p) {
    auto opened = open_writer(Partition{p});
    if (!opened) return opened.error();
    std::lock_guard lock(own_mu);
    auto it = owned.find(p);
    if (it == owned.end()) return ok_status();  // given up meanwhile
    it->second.writer = std::move(opened->writer);
    it->second.restore_through = opened->restore_through;
    return ok_status();
  }

  void give_up(const std::vector<Partition>& ps) {
    for (auto p : ps) {
      std::optional<Owned> gone;
      {
        std::lock_guard lock(own_mu);
        auto it = owned.find(p.value);
        if (it == owned.end()) continue;
        gone = std::move(it->second);
        owned.erase(it);
      }
      // An append in progress ends before the next owner can be assigned the partition.
      if (gone->write_mu) {
        std::lock_guard wait(*gone->write_mu);
      }
      std::lock_guard lock(due_mu);
      for (const auto& [endpoint, partition] : endpoint_partition)
        if (partition == p.value) due_mem.erase(endpoint);
    }
    if (!ps.empty())
      runtime::log_line("webhooks", "gave up outbox partitions {}", partition_list(ps));
  }

  static std::string partition_list(const std::vector<Partition>& ps) {
    std::string out;
    for (auto p : ps) out += (out.empty() ? "" : ",") + std::to_string(p.value);
    return out;
  }

  std::vector<Partition> all_owned() const {
    std::lock_guard lock(own_mu);
    std::vector<Partition> out;
    for (const auto& [p, o] : owned) out.push_back(Partition{p});
    return out;
  }

  // A partition assigned, or whose writer failed: once this node's copy of the store holds
  // every record written before (the replica passed restore_through), its outbox cursor and due
  // deliveries are loaded and it is delivered.
  void activate_ready() {
    std::vector<std::pair<int32_t, int64_t>> waiting;
    {
      std::lock_guard lock(own_mu);
      for (const auto& [p, o] : owned)
        if (!o.active) waiting.emplace_back(p, o.restore_through);
    }
    for (auto [p, through] : waiting) {
      bool has_writer = false;
      {
        std::lock_guard lock(own_mu);
        auto it = owned.find(p);
        has_writer = it != owned.end() && it->second.writer;
      }
      if (!has_writer) {
        // Its writer failed: open another (fencing whatever the failed one left open).
        auto st = reopen(p);
        if (!st) {
          runtime::log_line("webhooks", "outbox partition {}: {}: {}", p, st.error().message,
                            st.error().details);
          continue;
        }
        std::lock_guard lock(own_mu);
        auto it = owned.find(p);
        if (it == owned.end()) continue;  // given up meanwhile
        through = it->second.restore_through;
      }
      if (replica->next(Partition{p}).value <= through) continue;
      if (auto st = activate(p); !st)
        runtime::log_line("webhooks", "outbox partition {}: {}: {}", p, st.error().message,
                          st.error().details);
    }
  }

  Status activate(int32_t p) {
    {
      // Another owner may have changed the endpoints' health since this node last wrote it.
      std::lock_guard lock(store_mu);
      health_mem.clear();
    }
    auto cursor = store.kv().get(keys::cursor(p));
    if (!cursor) return cursor.error();
    if (!*cursor) {
      // No dispatcher has delivered this partition: start at the outbox's end, as a first
      // start alone does; written, so that every later owner continues from here.
      auto end = outbox_end(p);
      if (!end) return end.error();
      if (auto st = persist(p, {{keys::cursor(p), *end}}); !st) return st;
    }
    // The partition's due deliveries (q/<endpoint>/…), found by each endpoint's partition.
    std::map<std::string, DueSet> found;
    std::map<std::string, int32_t> partition_by_endpoint;
    {
      std::lock_guard lock(due_mu);
      partition_by_endpoint = endpoint_partition;
    }
    Status lookup = ok_status();
    auto scanned = store.kv().scan(keys::kDuePrefix, "", false, [&](std::string_view key, auto) {
      auto due = keys::parse_due(key);
      auto known = partition_by_endpoint.find(due.endpoint);
      if (known == partition_by_endpoint.end()) {
        auto d = store.get(due.id);
        if (!d) {
          lookup = d.error();
          return false;
        }
        if (!*d) return true;
        known = partition_by_endpoint.emplace(due.endpoint, partition_of((*d)->org)).first;
      }
      if (known->second != p) return true;
      found[due.endpoint].emplace(due.ms, std::move(due.id));
      return true;
    });
    if (!scanned) return scanned;
    if (!lookup) return lookup;
    {
      std::lock_guard lock(own_mu);
      auto it = owned.find(p);
      if (it == owned.end() || !it->second.writer) return ok_status();  // given up meanwhile
      it->second.active = true;
    }
    {
      std::lock_guard lock(due_mu);
      for (auto& [endpoint, partition] : partition_by_endpoint)
        endpoint_partition[endpoint] = partition;
      for (auto& [endpoint, set] : found) due_mem[endpoint].insert(set.begin(), set.end());
    }
    signal.notify();
    return ok_status();
  }

  void membership_step() {
    if (!group_reader) {
      log::GroupHandlers handlers;
      handlers.assigned = [this](const std::vector<Partition>& ps) { return take(ps); };
      handlers.revoked = [this](const std::vector<Partition>& ps) { give_up(ps); };
      auto reader = log->group_reader(log::kDeliveriesTopic, options.group, std::move(handlers));
      if (!reader) {
        runtime::log_line("webhooks", "dispatcher group: {}: {}", reader.error().message,
                          reader.error().details);
        membership.pause(std::chrono::seconds(1));
        return;
      }
      group_reader = std::move(reader).value();
    }
    // Polled to stay in the group (and be told of rebalances); the records are the replica's.
    auto records = group_reader->poll(64, std::chrono::milliseconds(200));
    if (!records) {
      runtime::log_line("webhooks", "dispatcher group: {}: {}; rejoining", records.error().message,
                        records.error().details);
      group_reader.reset();  // leaves the group
      give_up(all_owned());
      membership.pause(std::chrono::seconds(1));
    }
  }

  Status load_due() {
    std::lock_guard lock(due_mu);
    due_mem.clear();
    return store.kv().scan(keys::kDuePrefix, "", false, [&](std::string_view key, auto) {
      auto due = keys::parse_due(key);
      due_mem[std::move(due.endpoint)].emplace(due.ms, std::move(due.id));
      return true;
    });
  }

  Result<bool> handover(int32_t p) {
    if (!active(p)) return false;
    auto cursor = store.kv().get(keys::cursor(p));
    if (!cursor) return cursor.error();
    projections::ScanRange next;  // strictly after the cursor
    if (*cursor) next.start = **cursor;
    next.limit = kHandoverBatch;
    auto page = projections::scan_page(
        views, codec::value_codec(), projections::table::outbox(Partition{p}), next,
        [](std::string_view, const projections::OutboxRecord&) { return true; });
    if (!page) return page.error();
    auto& records = page->values;
    const std::string& last = page->last_key;
    if (records.empty()) return false;
    const auto now = clock.now();
    std::lock_guard lock(store_mu);
    std::vector<store::WriteOp> ops;
    std::map<std::string, DeliveryState> touched;  // within this batch
    auto load = [&](const std::string& id) -> Result<std::optional<DeliveryState>> {
      if (auto it = touched.find(id); it != touched.end()) return std::optional(it->second);
      return store.get(id);
    };
    std::vector<std::pair<std::optional<DeliveryState>, DeliveryState>> changes;
    auto change = [&](std::optional<DeliveryState> before, DeliveryState after) {
      {
        std::lock_guard jobs_lock(jobs_mu);
        if (in_flight.count(after.id)) changed_in_flight.insert(after.id);
      }
      touched[after.id] = after;
      changes.emplace_back(std::move(before), std::move(after));
    };
    for (auto& r : records) {
      if (r.kind == "delivery") {
        auto existing = load(r.delivery_id);
        if (!existing) return existing.error();
        if (*existing) continue;  // taken over already
        DeliveryState d;
        d.id = r.delivery_id;
        d.org = r.org;
        d.webhook = r.webhook;
        d.event_type = r.event_type;
        d.event_id = r.event_id;
        d.created_at = r.created_at;
        d.payload = std::move(r.payload);
        reschedule(d, now);
        ops.push_back({keys::listing(d), std::string()});
        change(std::nullopt, std::move(d));
      } else if (r.kind == "redeliver") {
        auto d = load(r.delivery_id);
        if (!d) return d.error();
        if (!*d || (*d)->org != r.org || (*d)->webhook != r.webhook) continue;
        auto after = **d;
        reschedule(after, now);
        change(*d, std::move(after));
      } else if (r.kind == "replay" && r.since && r.until) {
        std::vector<std::string> ids;
        const auto prefix = keys::listing_prefix(r.org, r.webhook);
        const auto from = fmt::format("{}{:013}", prefix, to_unix_ms(*r.since));
        const auto to = fmt::format("{}{:013}", prefix, to_unix_ms(*r.until));
        auto scanned = store.kv().scan(prefix, from, false, [&](std::string_view key, auto) {
          if (key >= to) return false;
          ids.emplace_back(key.substr(key.rfind('/') + 1));
          return true;
        });
        if (!scanned) return scanned.error();
        for (const auto& id : ids) {
          auto d = load(id);
          if (!d) return d.error();
          if (!*d) continue;
          auto after = **d;
          reschedule(after, now);
          change(*d, std::move(after));
        }
      }
    }
    // Several changes of one delivery in a batch: the due index goes from the first state to
    // the last.
    std::map<std::string, std::optional<DeliveryState>> first;
    for (auto& [before, after] : changes) first.try_emplace(after.id, before);
    std::vector<DueChange> mem;
    for (auto& [id, before] : first) stage(ops, mem, before, touched.at(id));
    ops.push_back({keys::cursor(p), last});
    if (auto w = persist(p, ops); !w) return w.error();
    commit_due(mem);
    return true;
  }

  // ---- due deliveries to workers ---------------------------------------------------------

  // Queues what is due, endpoint by endpoint up to its free slots, so a backlog on one endpoint
  // never holds up the others. Returns when the next delivery falls due (nullopt: none).
  // `self_serve`: the caller is a worker about to take a job itself; one fewer is woken.
  std::optional<TimePoint> dispatch_due(bool self_serve = false) {
    const int64_t now = to_unix_ms(clock.now());
    std::optional<int64_t> next;
    std::set<int32_t> live;  // in a group: the partitions delivered here now
    if (grouped()) {
      std::lock_guard lock(own_mu);
      for (const auto& [p, o] : owned)
        if (o.active) live.insert(p);
    }
    std::lock_guard due_lock(due_mu);
    std::lock_guard lock(jobs_mu);
    int queued = 0;
    for (auto it = due_mem.begin(); it != due_mem.end();) {
      auto& [endpoint, set] = *it;
      bool gone = set.empty();
      if (grouped() && !gone) {
        // Given up (or its writer failed): its next owner, or its reactivation, has it.
        auto p = endpoint_partition.find(endpoint);
        gone = p == endpoint_partition.end() || !live.count(p->second);
      }
      if (gone) {
        it = due_mem.erase(it);
        continue;
      }
      auto slots = per_endpoint.find(endpoint);
      int free = options.per_endpoint - (slots == per_endpoint.end() ? 0 : slots->second);
      for (const auto& [ms, id] : set) {
        if (ms > now) {
          if (!next || ms < *next) next = ms;
          break;
        }
        if (free <= 0) break;
        if (!in_flight.insert(id).second) continue;
        ++per_endpoint[endpoint];
        --free;
        jobs.push_back(id);
        ++queued;
      }
      ++it;
    }
    for (int i = self_serve ? 1 : 0; i < queued; ++i) jobs_cv.notify_one();  // no herd
    if (!next) return std::nullopt;
    return from_unix_ms(*next);
  }

  void step() {
    if (!initialized) {
      if (auto st = init(); !st) {
        runtime::log_line("webhooks", "{}: {}", st.error().message, st.error().details);
        scheduler.pause(std::chrono::seconds(1));
        return;
      }
    }
    const auto generation = signal.generation();
    if (grouped()) activate_ready();
    for (int32_t p = 0; p < partitions; ++p) {
      for (;;) {
        auto more = handover(p);
        if (!more) {
          runtime::log_line("webhooks", "outbox {}: {}: {}", p, more.error().message,
                            more.error().details);
          break;
        }
        if (!*more) break;
      }
    }
    auto next = dispatch_due();
    auto wait = options.poll;
    if (next)
      wait = std::min(wait,
                      std::max(Millis{1}, std::chrono::duration_cast<Millis>(*next - clock.now())));
    signal.wait(generation, std::chrono::steady_clock::now() + wait);
  }

  // ---- one attempt -------------------------------------------------------------------------

  // A worker's own: its HTTP clients (keep-alive), and the endpoint sets it decoded last
  // (decoded again only when the stored bytes change).
  struct Clients {
    std::map<std::string, std::unique_ptr<httplib::Client>> by_origin;
    std::map<std::string, std::pair<std::string, projections::WebhookSet>> sets;  // by org
  };

  const projections::WebhookSet* endpoints(Clients& c, const OrgId& org) {
    auto raw = views.get(projections::table::webhooks(org).bytes);
    if (!raw) return nullptr;
    auto& [bytes, set] = c.sets[org.value];
    if (!*raw) {
      bytes.clear();
      set = {};
    } else if (**raw != bytes) {
      auto decoded = codec::decode<projections::WebhookSet>(**raw);
      if (!decoded) return nullptr;
      bytes = std::move(**raw);
      set = std::move(decoded).value();
    }
    if (c.sets.size() > 1024) c.sets.clear();
    return &c.sets[org.value].second;
  }

  AttemptOutcome post(Clients& clients, const projections::WebhookView& wh,
                      const DeliveryState& d) {
    AttemptOutcome out;
    auto url = parse_url(wh.url);
    if (!url) {
      out.response = url.error().details;
      return out;
    }
    // The secrets in force, opened in memory only for this request (the view holds them sealed,
    // or in clear when they were created before sealing).
    const auto now = clock.now();
    const auto context = webhook_secret_context(wh.id);
    std::vector<std::string> secrets;
    auto current = reveal(sealer, wh.secret, context);
    if (!current) {
      out.response = fmt::format("not sent: {}", current.error().details);
      return out;
    }
    secrets.push_back(std::move(current).value());
    if (wh.previous_secret && wh.previous_valid_until && now < *wh.previous_valid_until) {
      auto previous = reveal(sealer, *wh.previous_secret, context);
      if (!previous) {
        out.response = fmt::format("not sent: {}", previous.error().details);
        return out;
      }
      secrets.push_back(std::move(previous).value());
    }
    // Checked again now: DNS may have changed since the endpoint was created. The request
    // goes to the address checked, not to a second lookup.
    auto ip = resolve_public(*url, options.allow_private);
    if (!ip) {
      out.response = fmt::format("not sent: {}", ip.error().details);
      return out;
    }
    auto& client = clients.by_origin[url->origin()];
    if (!client) {
      if (clients.by_origin.size() > 256) clients.by_origin.clear();
      client = std::make_unique<httplib::Client>(url->origin());
      const auto t = options.timeout.count();
      client->set_connection_timeout(t / 1000, (t % 1000) * 1000);
      client->set_read_timeout(t / 1000, (t % 1000) * 1000);
      client->set_write_timeout(t / 1000, (t % 1000) * 1000);
      client->set_keep_alive(true);
      client->set_tcp_nodelay(true);
      client->set_follow_location(false);
      if (url->scheme == "https") {
        client->enable_server_certificate_verification(true);
        if (std::filesystem::exists(kCaBundle)) client->set_ca_cert_path(kCaBundle);
      }
    }
    client->set_hostname_addr_map({{url->host, *ip}});
    const int64_t timestamp = to_unix_ms(now) / 1000;
    std::string standard, raw;
    for (const auto& s : secrets) {
      standard += (standard.empty() ? "" : " ") + standard_signature(s, d.id, timestamp, d.payload);
      raw += (raw.empty() ? "" : ", ") + body_signature(s, d.payload);
    }
    httplib::Headers headers = {{"webhook-id", d.id},
                                {"webhook-timestamp", std::to_string(timestamp)},
                                {"webhook-signature", standard},
                                {"X-Pulse-Signature", raw},
                                {"X-Pulse-Event", d.event_type},
                                {"User-Agent", "Pulse-Webhooks/1"}};
    const auto t0 = std::chrono::steady_clock::now();
    auto res = client->Post(url->target, headers, d.payload, "application/json");
    out.latency_ms =
        std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - t0).count();
    if (!res) {
      out.response = fmt::format("no answer: {}", httplib::to_string(res.error()));
      clients.by_origin.erase(url->origin());
      return out;
    }
    out.status_code = res->status;
    out.response = res->body.substr(0, kExcerpt);
    out.retry_after = parse_retry_after(res->get_header_value("Retry-After"), clock.now());
    return out;
  }

  void attempt(Clients& clients, const std::string& id) {
    auto d = store.get(id);
    if (!d || !*d || (*d)->status != "pending") return;
    const int32_t partition = partition_of((*d)->org);
    if (!active(partition)) return;  // another dispatcher delivers it now
    const auto* set = endpoints(clients, (*d)->org);
    if (!set) return;
    const projections::WebhookView* wh = nullptr;
    for (const auto& w : set->webhooks)
      if (w.id == (*d)->webhook) wh = &w;
    AttemptOutcome outcome;
    bool give_up = false;
    if (!wh) {
      outcome.response = "not sent: the endpoint was deleted";
      give_up = true;
    } else if (!wh->enabled && (*d)->event_type != kWebhookPing) {
      outcome.response = fmt::format("not sent: the endpoint is disabled{}",
                                     wh->disabled_reason ? " (" + *wh->disabled_reason + ")" : "");
      give_up = true;
    } else {
      outcome = post(clients, *wh, **d);
    }
    const auto now = clock.now();
    EndpointAction action = EndpointAction::none;
    {
      std::lock_guard lock(store_mu);
      std::optional<DeliveryState> before;
      if (changed_in_flight.erase(id)) {
        auto again = store.get(id);
        if (!again || !*again) return;
        before = std::move(**again);
      } else {
        before = **d;  // this process is the only writer: nothing changed it
      }
      auto after = *before;
      const auto endpoint = keys::health(after.org, after.webhook);
      auto cached = health_mem.find(endpoint);
      if (cached == health_mem.end()) {
        EndpointHealth loaded;
        auto raw = store.kv().get(endpoint);
        if (raw && *raw)
          if (auto h = codec::decode<EndpointHealth>(**raw)) loaded = *h;
        if (health_mem.size() > 4096) health_mem.clear();
        cached = health_mem.emplace(endpoint, loaded).first;
      }
      EndpointHealth& health = cached->second;
      const auto failing_before = health.failing_since;
      // Rescheduled while this attempt was in flight (a retry or replay request): the attempt
      // is logged, and the new round stands.
      const bool rescheduled = after.round != (*d)->round || after.next_at != (*d)->next_at ||
                               after.status != (*d)->status;
      if (give_up && !rescheduled) {
        after.attempts.push_back(WebhookAttempt{now, 0, 0, outcome.response});
        after.status = "dead";
        after.next_at.reset();
      } else if (!give_up) {
        const double jitter = std::uniform_real_distribution<double>(0, 1)(random);
        auto moved = after;
        action = record_attempt(moved, health, options.policy, now, outcome, jitter);
        if (rescheduled)
          after.attempts.push_back(moved.attempts.back());
        else
          after = std::move(moved);
      }
      std::vector<store::WriteOp> ops;
      std::vector<DueChange> mem;
      stage(ops, mem, before, after);
      if (health.failing_since != failing_before) ops.push_back({endpoint, codec::encode(health)});
      if (auto st = persist(partition, ops); !st) {
        // Not recorded: the partition's next owner makes this attempt again.
        runtime::log_line("webhooks", "{}: {}", st.error().message, st.error().details);
        health_mem.erase(endpoint);
      } else {
        commit_due(mem);
      }
    }
    if (action != EndpointAction::none && wh) disable(**d, action);
  }

  void disable(const DeliveryState& d, EndpointAction action) {
    if (!log) return;
    const auto now = clock.now();
    const std::string reason =
        action == EndpointAction::disable_gone
            ? "The endpoint answered 410 Gone."
            : fmt::format("Deliveries failed for {} days in a row.",
                          options.policy.disable_after.count() / (24 * 3600'000));
    CommandEnvelope cmd{CommandId{make_id(id_prefix::command, now, random.next())}, d.org, now,
                        DisableWebhook{d.webhook, reason}};
    const log::Record record{partition_key(cmd), codec::encode(cmd)};
    if (auto st = log->append(log::kCommandsTopic, std::span(&record, 1)); !st)
      runtime::log_line("webhooks", "cannot disable {}: {}", d.webhook.value, st.error().details);
    else
      runtime::log_line("webhooks", "disabling {}: {}", d.webhook.value, reason);
  }

  void work() {
    Clients clients;
    for (;;) {
      std::string id;
      {
        std::unique_lock lock(jobs_mu);
        jobs_cv.wait(lock, [&] { return stopping || !jobs.empty(); });
        if (stopping) return;
        id = std::move(jobs.front());
        jobs.pop_front();
      }
      attempt(clients, id);
      {
        std::lock_guard lock(jobs_mu);
        in_flight.erase(id);
        auto it = per_endpoint.find(endpoint_of(id));
        if (it != per_endpoint.end() && --it->second <= 0) per_endpoint.erase(it);
      }
      // Refill the freed slot at once, and take the job (the scheduler wakes for new outbox
      // records and timers).
      dispatch_due(true);
    }
  }
};

Dispatcher::Dispatcher(log::Log* log, store::KvStore& views, store::KvStore& state,
                       int32_t partitions, const TimeSource& clock, RandomSource& random,
                       const Sealer& sealer, DispatcherOptions options, std::function<bool()> ready,
                       DeliveryReplica* replica)
    : impl_(std::make_unique<Impl>(log, views, state, partitions, clock, random, sealer,
                                   std::move(options), std::move(ready), replica)) {}

Dispatcher::~Dispatcher() {
  stop();
}

Status Dispatcher::start() {
  if (impl_->grouped() && (!impl_->log || !impl_->replica))
    return Error{Errc::internal, "Dispatcher group without its log",
                 "dispatchers in a group need the Kafka log and a delivery replica"};
  for (int i = 0; i < impl_->options.threads; ++i)
    impl_->workers.emplace_back([this] { impl_->work(); });
  impl_->scheduler.start([this] { impl_->step(); });
  if (impl_->grouped()) impl_->membership.start([this] { impl_->membership_step(); });
  return ok_status();
}

void Dispatcher::stop() {
  if (!impl_) return;
  impl_->membership.stop();
  impl_->group_reader.reset();  // leaves the group: the partitions move at once
  impl_->scheduler.stop();
  {
    std::lock_guard lock(impl_->jobs_mu);
    impl_->stopping = true;
  }
  impl_->jobs_cv.notify_all();
  for (auto& t : impl_->workers)
    if (t.joinable()) t.join();
  impl_->workers.clear();
}

runtime::Signal& Dispatcher::outbox_signal() {
  return impl_->signal;
}

std::vector<int32_t> Dispatcher::active_partitions() const {
  std::vector<int32_t> out;
  for (int32_t p = 0; p < impl_->partitions; ++p)
    if (impl_->active(p)) out.push_back(p);
  return out;
}

}  // namespace pulse::webhooks
