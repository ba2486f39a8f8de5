#pragma once
// The decider: a pure function (state, command) -> events | rejection, and evolve(state, event).
// One decider is the only writer for its partition, so its checks are consistent. Its state is
// kept per log key: an organisation ("org_…") or a user ("user:<email>").
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/commands.h"
#include "domain/events.h"
#include "domain/plans.h"
#include "domain/result.h"

namespace pulse::commands {

// ---- dispatch state ---------------------------------------------------------------------------
// Only what is in flight is remembered: devices, the campaigns still running (as counters and
// the few requeued messages), leases, and messages waiting for their delivery report. Finished
// messages live only in the read models.

struct DeviceState {
  std::vector<int32_t> slots;    // every SIM slot
  std::vector<int32_t> sending;  // the slots the organisation lets send
  bool online = false;
  TimePoint last_seen;
  double tokens = -1;  // the pacing bucket (messages); -1: full
  TimePoint tokens_at;
  std::string day;                        // "2026-11-22": the UTC day sent_today counts
  std::map<int32_t, int64_t> sent_today;  // per SIM slot
  int32_t next_slot = 0;                  // round-robin over sending slots
  auto operator<=>(const DeviceState&) const = default;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("slots", s.slots), f("sending", s.sending), f("online", s.online), f("lastSeen", s.last_seen),
        f("tokens", s.tokens), f("tokensAt", s.tokens_at), f("day", s.day),
        f("sentToday", s.sent_today), f("nextSlot", s.next_slot);
  }
};

// A message back in the queue, remembering its attempts and the SIM it went out on (so that a
// recipient keeps seeing the same sending number).
struct Requeued {
  int32_t attempts = 0;
  std::string device;
  int32_t slot = -1;
  auto operator<=>(const Requeued&) const = default;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("attempts", s.attempts), f("device", s.device), f("slot", s.slot);
  }
};

// A campaign's dispatch state. Stored on its own (the decider's store keeps each queue under
// its own key beside the organisation's state), so it is a stored record too.
struct CampaignQueue {
  static constexpr std::string_view kType = "CampaignQueue";
  static constexpr int kVersion = 1;
  int32_t total = 0;
  int32_t next_index = 0;  // messages below it have been handed out at least once
  std::map<int32_t, Requeued> requeued;
  int32_t finished = 0;  // delivered, failed, or sent with the delivery window passed
  std::optional<TimePoint> expires_at;
  // Why nothing is handed out ("draft", "scheduled", "paused"); unset: running.
  std::optional<std::string> hold;
  std::optional<int32_t> filled;          // a draft's messages queued so far
  std::optional<TimePoint> scheduled_at;  // when a scheduled campaign starts
  std::optional<std::string> device;      // pinned: only this device may claim
  std::optional<int32_t> skipped;         // a draft's recipients left out: opted out
  std::optional<TimePoint> filled_at;     // a draft's last progress (drafted or a chunk queued)
  std::optional<int32_t> sim;             // pinned with `device`: only from this SIM slot
  std::optional<bool> stalled;            // CampaignStalled: no online device may send it
  bool dispatching() const { return !hold; }
  // Messages not handed out yet: first sends and retries.
  int32_t undispatched() const {
    return total - next_index + static_cast<int32_t>(requeued.size());
  }
  auto operator<=>(const CampaignQueue&) const = default;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("total", s.total), f("nextIndex", s.next_index), f("requeued", s.requeued),
        f("finished", s.finished), f("expiresAt", s.expires_at), f("hold", s.hold),
        f("filled", s.filled), f("scheduledAt", s.scheduled_at), f("device", s.device),
        f("skipped", s.skipped), f("filledAt", s.filled_at), f("sim", s.sim, field::omit_empty),
        f("stalled", s.stalled, field::omit_empty);
  }
};

struct DeciderConfig;

// The running campaigns' queues of an organisation by campaign id (oldest first), with the
// earliest of their deadlines kept up to date as they change. The decider asks for that after
// every command; walking every queue each time made the cost of a send grow with the campaigns
// an organisation has waiting (thousands while no phone is online). Changes go through put,
// edit and erase, which mark the queue; the index is derived from the queues, never stored or
// compared, and lives on the decider's thread as the state does. A copy (the decider's scratch
// state for one command) takes the queues only and indexes them when it is asked.
//
// The same marks tell the decider's store which queues to write: each queue is stored under its
// own key, so writing an organisation's state costs what changed since the last write, not every
// campaign it has waiting. A queue set that was filled whole (mut(), a copy) is unwritten whole
// until the store calls written().
class CampaignQueues {
 public:
  using Map = std::map<std::string, CampaignQueue>;
  CampaignQueues() = default;
  CampaignQueues(const CampaignQueues& o) : map_(o.map_) {}
  CampaignQueues& operator=(const CampaignQueues& o) {
    if (this != &o) {
      map_ = o.map_;
      all_dirty_ = true;
      dirty_.clear();
      all_unwritten_ = true;
      unwritten_.clear();
    }
    return *this;
  }
  CampaignQueues(CampaignQueues&&) noexcept = default;
  CampaignQueues& operator=(CampaignQueues&&) noexcept = default;
  ~CampaignQueues() = default;

  const Map& get() const { return map_; }
  // The whole map, to fill (the codec): every queue is indexed and written again.
  Map& mut() {
    all_dirty_ = true;
    all_unwritten_ = true;
    return map_;
  }
  Map::const_iterator begin() const { return map_.begin(); }
  Map::const_iterator end() const { return map_.end(); }
  Map::const_iterator find(const std::string& id) const { return map_.find(id); }
  const CampaignQueue& at(const std::string& id) const { return map_.at(id); }
  size_t count(const std::string& id) const { return map_.count(id); }
  size_t size() const { return map_.size(); }
  bool empty() const { return map_.empty(); }

  // The queue to change, or nullptr when there is none.
  CampaignQueue* edit(const std::string& id);
  CampaignQueue& put(const std::string& id, CampaignQueue q);
  void erase(const std::string& id);

  // The earliest queue_deadline(config, q) over the queues: O(changes since the last call ·
  // log n). The deadlines kept are those of the config last asked with (a decider's is fixed
  // for its life); another config object indexes every queue again.
  std::optional<TimePoint> earliest(const DeciderConfig& config) const;

  // For the store: every queue is unwritten (and stored queues absent from the map are to be
  // erased), or only those in unwritten() (absent from the map: erased).
  bool all_unwritten() const { return all_unwritten_; }
  const std::set<std::string>& unwritten() const { return unwritten_; }
  // What the map holds is what the store holds.
  void written() {
    all_unwritten_ = false;
    unwritten_.clear();
  }

  bool operator==(const CampaignQueues& o) const { return map_ == o.map_; }
  auto operator<=>(const CampaignQueues& o) const { return map_ <=> o.map_; }

 private:
  void changed(const std::string& id) {
    dirty_.insert(id);
    if (!all_unwritten_) unwritten_.insert(id);
  }

  Map map_;
  // The index: each queue's deadline, and the deadlines in order; `dirty_` queues (or all of
  // them) are out of date in it.
  mutable std::set<std::string> dirty_;
  mutable bool all_dirty_ = true;
  mutable const DeciderConfig* indexed_for_ = nullptr;
  mutable std::map<std::string, TimePoint> due_;
  mutable std::set<std::pair<TimePoint, std::string>> by_due_;
  // Changed since the store last wrote them (a new set has never been written).
  std::set<std::string> unwritten_;
  bool all_unwritten_ = true;
};

struct Lease {
  std::string device;
  int32_t slot = 0;
  TimePoint until;
  int32_t attempt = 1;
  auto operator<=>(const Lease&) const = default;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("device", s.device), f("slot", s.slot), f("until", s.until), f("attempt", s.attempt);
  }
};

// A message past its lease (sent, delivered or failed by a device), kept until its delivery
// window closes so that late and out-of-order reports resolve the same way in any order.
enum class Outcome : int32_t { sent = 0, failed = 1, delivered = 2 };  // precedence order
struct Awaiting {
  std::string device;
  int32_t slot = 0;
  Outcome outcome = Outcome::sent;
  std::optional<TimePoint> sent_at;  // unset while only a failure was reported
  TimePoint window_end;
  bool terminal = false;  // counted as finished
  auto operator<=>(const Awaiting&) const = default;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("device", s.device), f("slot", s.slot), f("outcome", s.outcome), f("sentAt", s.sent_at),
        f("windowEnd", s.window_end), f("terminal", s.terminal);
  }
};

// A value shared by the copies of a state until one of them changes it. The decider copies an
// organisation's state for every gateway command (see Scratch in gateway.cpp); the opt-out list
// can hold many numbers and must not be copied with it. Decider states live on the decider's
// thread only. Absent from a stored state (written before the field existed): empty.
template <class T>
class CopyOnWrite {
 public:
  const T& get() const { return p_ ? *p_ : empty(); }
  T& mut() {
    if (!p_)
      p_ = std::make_shared<T>();
    else if (p_.use_count() > 1)
      p_ = std::make_shared<T>(*p_);
    return *p_;
  }
  // Holds something other than an empty T (field::omit_empty leaves it out otherwise).
  explicit operator bool() const { return p_ && !(*p_ == empty()); }
  bool operator==(const CopyOnWrite& o) const { return get() == o.get(); }
  auto operator<=>(const CopyOnWrite& o) const { return get() <=> o.get(); }

 private:
  static const T& empty() {
    static const T e;
    return e;
  }
  std::shared_ptr<T> p_;
};

// An accepted send's Idempotency-Key, remembered until it expires.
struct IdempotentSend {
  std::string request_hash;
  std::string campaign_id;
  int32_t recipient_count = 0;
  TimePoint expires_at;
  auto operator<=>(const IdempotentSend&) const = default;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("requestHash", s.request_hash), f("campaignId", s.campaign_id),
        f("recipientCount", s.recipient_count), f("expiresAt", s.expires_at);
  }
};

// A webhook endpoint, as far as deciding goes.
struct WebhookState {
  bool enabled = true;
  auto operator<=>(const WebhookState&) const = default;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("enabled", s.enabled);
  }
};

// A CSV import being staged (domain/contacts.h): the staged contacts themselves live only in
// the events and the projector's staging keys; the decider keeps what ordering and the clock
// need.
struct ContactImport {
  std::string list;
  int32_t chunks = 0;    // staged so far: the next chunk's number
  int32_t contacts = 0;  // staged so far
  TimePoint staged_at;   // its last progress (the first or the latest chunk)
  auto operator<=>(const ContactImport&) const = default;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("list", s.list), f("chunks", s.chunks), f("contacts", s.contacts), f("stagedAt", s.staged_at);
  }
};

// An open verification request (domain/verify.h), kept until it has been expired for
// verify::kSendWindow.
struct VerificationState {
  std::string to;
  std::string code_hash;
  TimePoint expires_at;
  int32_t attempts = 0;
  std::string status;   // pending | approved | failed | cancelled
  std::string message;  // the SMS, masked and sealed: a resend sends it again
  SealedValue sealed_message;
  auto operator<=>(const VerificationState&) const = default;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("to", s.to), f("codeHash", s.code_hash), f("expiresAt", s.expires_at),
        f("attempts", s.attempts), f("status", s.status), f("message", s.message),
        f("sealedMessage", s.sealed_message);
  }
};

// A number's verification SMS of the last verify::kSendWindow, and its newest request.
struct VerifyNumber {
  std::string request_id;
  std::vector<TimePoint> sends;
  auto operator<=>(const VerifyNumber&) const = default;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("requestId", s.request_id), f("sends", s.sends);
  }
};

struct Verifications {
  std::map<std::string, VerificationState> requests;  // by request id
  std::map<std::string, VerifyNumber> numbers;        // by E.164 number
  auto operator<=>(const Verifications&) const = default;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("requests", s.requests), f("numbers", s.numbers);
  }
};

// What the decider remembers of one organisation.
struct OrgState {
  bool exists = false;
  Plan plan = Plan::free;
  std::set<std::string> api_keys;  // active key ids
  int64_t campaigns = 0;
  int64_t messages = 0;
  std::string month;                          // "2026-11": the UTC month month_messages counts
  int64_t month_messages = 0;                 // messages queued in that month
  std::map<std::string, TimePoint> pairings;  // token hash -> expiry
  std::map<std::string, DeviceState> devices;
  CampaignQueues queues;                // running campaigns, oldest first
  std::map<std::string, Lease> leases;  // by message id
  // By message id; shared by the per-command copies of the gateway's decisions (Scratch) until
  // one changes it: it holds every message of the last delivery window (thousands for a
  // sending organisation), which heartbeats and claims leave alone.
  CopyOnWrite<std::map<std::string, Awaiting>> awaiting;
  std::optional<std::set<std::string>> contact_lists;  // ids of existing lists
  // Added with opt-outs and idempotency keys: states written before them decode with them empty.
  CopyOnWrite<std::set<std::string>> opt_outs;                     // E.164 numbers never sent to
  CopyOnWrite<std::map<std::string, IdempotentSend>> idempotency;  // by Idempotency-Key
  // By webhook id. Optional only so that states stored before webhooks existed still read.
  std::optional<std::map<std::string, WebhookState>> webhooks;
  // Open CSV imports by import id; unset when there are none (and in states written before).
  std::optional<std::map<std::string, ContactImport>> imports;
  // Phone verification (shared by the per-command copies of the gateway's decisions).
  CopyOnWrite<Verifications> verifications;
  auto operator<=>(const OrgState&) const = default;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("exists", s.exists), f("plan", s.plan), f("apiKeys", s.api_keys), f("campaigns", s.campaigns),
        f("messages", s.messages), f("month", s.month), f("monthMessages", s.month_messages),
        f("pairings", s.pairings), f("devices", s.devices), f("queues", s.queues),
        f("leases", s.leases), f("awaiting", s.awaiting), f("contactLists", s.contact_lists),
        f("optOuts", s.opt_outs), f("idempotency", s.idempotency), f("webhooks", s.webhooks),
        f("imports", s.imports, field::omit_empty),
        f("verifications", s.verifications, field::omit_empty);
  }
};

// What the decider remembers of one user (keyed by e-mail).
struct UserState {
  bool registered = false;
  std::string user_id;
  int64_t organizations = 0;  // owned, the default one included
  auto operator<=>(const UserState&) const = default;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("registered", s.registered), f("userId", s.user_id), f("organizations", s.organizations);
  }
};

// Stored as v2 with `queues` empty and each queue under its own key (see DeciderRunner); a v1
// state holds its queues inline and is still read. A build that knows only v1 refuses v2
// rather than reading an organisation without its campaigns.
struct DeciderState {
  static constexpr std::string_view kType = "DeciderState";
  static constexpr int kVersion = 2;
  OrgState org;
  UserState user;
  auto operator<=>(const DeciderState&) const = default;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("org", s.org), f("user", s.user);
  }
};

struct GatewayConfig {
  Millis presence_window{90'000};       // offline after this long without a heartbeat
  Millis lease{60'000};                 // a claimed message's time with its device
  int32_t max_attempts = 3;             // leases before a message fails
  Millis message_ttl{24LL * 3600'000};  // queued messages fail after this
  int64_t device_per_minute = 30;       // pacing of each device (kUnlimited: none)
  int64_t sim_per_day = 1000;           // cap of each SIM (kUnlimited: none)
  Millis delivery_window{10 * 60'000};  // how long delivery reports are awaited after sent
  // A draft campaign whose filling made no progress for this long is discarded (its request
  // died): the clock cancels it and gives its messages back to the month's quota.
  Millis draft_timeout{60'000};
  // A CSV import that staged nothing for this long is discarded the same way (serve
  // --import-timeout-seconds): nothing of its file reaches the list.
  Millis import_timeout{60'000};
  auto operator<=>(const GatewayConfig&) const = default;
};

struct DeciderConfig {
  PlanTable plans;
  GatewayConfig gateway;
};

// A send's events (POST /api/sms/send, and the SMS of other workflows such as verification).
Result<std::vector<Event>> decide_send(const DeciderConfig& config, const OrgState& org,
                                       const CommandEnvelope& env, const SendSms& cmd);

// The events a command produces, in order, or why the decider refuses it.
Result<std::vector<Event>> decide(const DeciderConfig& config, const DeciderState& state,
                                  const CommandEnvelope& cmd);

// A capability's decide called with another capability's command: decide() routes by the
// capabilities' command lists, so this is a bug, refused as an internal error.
Error misrouted(const CommandEnvelope& cmd);

// Applies an event the decider produced to its state.
void evolve(const DeciderConfig& config, DeciderState& state, const Event& event, TimePoint at);

// The clock for one organisation's state: presence timeouts, lease and delivery-window ends,
// expiries, and the completions they cause.
std::vector<Event> decide_tick(const DeciderConfig& config, const DeciderState& state,
                               TimePoint at);
// When decide_tick next has something to do for this state; nullopt: never.
std::optional<TimePoint> next_deadline(const DeciderConfig& config, const DeciderState& state);
// When the decider must look at one campaign's queue again (expiry, scheduled start, draft
// timeout), if ever.
std::optional<TimePoint> queue_deadline(const DeciderConfig& config, const CampaignQueue& q);

// "2026-11" for any time in November 2026 (UTC).
std::string utc_month(TimePoint t);

// Messages the organisation may still queue this month (kUnlimited when unlimited).
int64_t sms_remaining(const DeciderConfig& config, const OrgState& org, TimePoint at);
// The monthly limit's refusal of `needed` messages (a "request" or a "campaign"), with the
// allowance's numbers: limit, remaining, and the start of the next month (UTC).
Error monthly_limit_reached(const DeciderConfig& config, const OrgState& org, TimePoint at,
                            int64_t needed, std::string_view what);

}  // namespace pulse::commands
