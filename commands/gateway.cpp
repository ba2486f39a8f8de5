#include "commands/gateway.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "commands/campaigns.h"
#include "commands/contacts.h"
#include "domain/overloaded.h"
#include "fmt/format.h"

namespace pulse::commands {
namespace {

using Decision = Result<std::vector<Event>>;

Error device_not_paired() {
  return Error{Errc::unauthorized, "Device not paired", "Pair the phone again from the dashboard."};
}

// The pacing bucket at `at`: refilled at device_per_minute, holding at most a minute's worth.
double tokens_at(const GatewayConfig& g, const DeviceState& d, TimePoint at) {
  if (g.device_per_minute == kUnlimited) return 1e9;
  const double capacity = static_cast<double>(g.device_per_minute);
  if (d.tokens < 0) return capacity;
  const double elapsed = static_cast<double>(std::max<int64_t>(0, (at - d.tokens_at).count()));
  return std::min(capacity, d.tokens + elapsed * capacity / 60000.0);
}

int64_t sent_today(const DeviceState& d, int32_t slot, TimePoint at) {
  if (d.day != utc_day(at)) return 0;
  auto it = d.sent_today.find(slot);
  return it == d.sent_today.end() ? 0 : it->second;
}

template <class E>
bool merge_into(Event& last, Event& next) {
  auto* a = std::get_if<E>(&last);
  auto* b = std::get_if<E>(&next);
  if (!a || !b) return false;
  if constexpr (requires { a->device_id; }) {
    if (a->device_id != b->device_id) return false;
  }
  if constexpr (requires { a->messages; }) {
    // Batches stay within what one log record holds.
    if (a->messages.size() + b->messages.size() > MessagesQueued::kMaxMessagesPerEvent)
      return false;
    a->messages.insert(a->messages.end(), b->messages.begin(), b->messages.end());
  } else if constexpr (requires { a->reports; }) {
    if (a->reports.size() + b->reports.size() > MessagesQueued::kMaxMessagesPerEvent) return false;
    a->reports.insert(a->reports.end(), b->reports.begin(), b->reports.end());
  } else {
    if constexpr (requires { a->reason; }) {
      if (a->reason != b->reason) return false;
    }
    if (a->ids.size() + b->ids.size() > MessagesQueued::kMaxMessagesPerEvent) return false;
    a->ids.insert(a->ids.end(), b->ids.begin(), b->ids.end());
  }
  return true;
}

// CampaignStalled for each running campaign that has messages waiting and no online device
// that may send them, CampaignUnstalled for each stalled one that has a device again (or
// nothing left to wait for).
std::vector<Event> stall_changes(const OrgState& org, TimePoint at) {
  std::vector<Event> out;
  for (const auto& entry : org.queues) {
    const auto& [id, q] = entry;
    const auto& pin = q.device;  // clang 14's lambdas can't capture a structured binding
    const int32_t waiting = q.undispatched();
    bool stalled = q.dispatching() && !(q.expires_at && *q.expires_at <= at) && waiting > 0;
    if (stalled)
      stalled = std::none_of(org.devices.begin(), org.devices.end(), [&](const auto& d) {
        return d.second.online && !d.second.sending.empty() && (!pin || *pin == d.first);
      });
    if (stalled && !q.stalled) out.push_back(CampaignStalled{CampaignId{id}, waiting});
    if (!stalled && q.stalled) out.push_back(CampaignUnstalled{CampaignId{id}});
  }
  return out;
}

// Decides step by step against a scratch copy of the state, evolving it after every event, so
// that later steps of one command see the effect of earlier ones. Adjacent events of the same
// kind (and device) are merged into one batch.
class Scratch {
 public:
  Scratch(const DeciderConfig& config, const DeciderState& state, TimePoint at)
      : config_(config), org_(state.org), at_(at) {}

  void emit(Event e) {
    evolve_gateway(config_, org_, e, at_);
    evolve_campaigns(org_, e, at_);
    if (!events_.empty()) {
      auto& last = events_.back();
      if (merge_into<MessagesSent>(last, e) || merge_into<MessagesDelivered>(last, e) ||
          merge_into<MessagesFailed>(last, e) || merge_into<MessagesRequeued>(last, e) ||
          merge_into<MessagesSettled>(last, e) || merge_into<ReportsRejected>(last, e))
        return;
    }
    events_.push_back(std::move(e));
  }
  void complete_finished() {
    for (auto& e : completions(org_)) emit(std::move(e));
  }
  const OrgState& org() const { return org_; }
  // The events, after those that mark campaigns stalled (or no longer) as they left them.
  std::vector<Event> take() {
    for (auto& e : stall_changes(org_, at_)) emit(std::move(e));
    return std::move(events_);
  }

 private:
  const DeciderConfig& config_;
  OrgState org_;
  TimePoint at_;
  std::vector<Event> events_;
};

// A lease that ended without an outcome: back to the queue, or failed when out of attempts.
void release(Scratch& s, const GatewayConfig& g, const std::string& id, const Lease& lease,
             std::string_view reason, TimePoint at) {
  // Its campaign was cancelled while the device held it: it fails instead of going back.
  if (auto split = split_message_id(id); split && !s.org().queues.count(split->first)) {
    s.emit(MessagesFailed{"", {FailedMessage{MessageId{id}, at, std::string(kCancelledError)}}});
    return;
  }
  if (lease.attempt >= g.max_attempts)
    s.emit(MessagesFailed{
        "",
        {FailedMessage{MessageId{id}, at,
                       fmt::format("no outcome after {} attempts ({})", lease.attempt, reason)}}});
  else
    s.emit(MessagesRequeued{{MessageId{id}}, std::string(reason)});
}

int rank(ReportedStatus s) {
  return s == ReportedStatus::delivered ? 2 : s == ReportedStatus::failed ? 1 : 0;
}

// One status report, against the state as earlier reports of the same command left it.
// Refusals are collected into `rejected` (one ReportsRejected per command).
void report(Scratch& s, const DeviceId& device, const StatusReport& r,
            std::vector<FailedMessage>& rejected) {
  const auto& org = s.org();
  const auto& id = r.message_id.value;
  auto reject = [&](std::string why) {
    rejected.push_back(FailedMessage{r.message_id, r.at, std::move(why)});
  };
  auto outcome = [&] {
    switch (r.status) {
      case ReportedStatus::sent:
        s.emit(MessagesSent{device, {TimedMessage{r.message_id, r.at}}});
        break;
      case ReportedStatus::delivered:
        s.emit(MessagesDelivered{device, {TimedMessage{r.message_id, r.at}}});
        break;
      case ReportedStatus::failed:
        s.emit(MessagesFailed{
            device.value,
            {FailedMessage{r.message_id, r.at, r.error.empty() ? "Failed" : r.error}}});
        break;
    }
  };
  const auto split = split_message_id(id);
  if (!split) return reject("not a message id");
  if (auto lease = org.leases.find(id); lease != org.leases.end()) {
    if (lease->second.device != device.value)
      return reject("the message is leased to another device");
    return outcome();
  }
  if (auto aw = org.awaiting.get().find(id); aw != org.awaiting.get().end()) {
    const auto& a = aw->second;
    if (a.device != device.value) return reject("the message was sent by another device");
    if (rank(r.status) > static_cast<int>(a.outcome)) return outcome();
    // Not an upgrade: only an earlier time of sending refines what is known.
    if (r.status != ReportedStatus::failed && (!a.sent_at || r.at < *a.sent_at))
      s.emit(MessagesSent{device, {TimedMessage{r.message_id, r.at}}});
    return;  // a duplicate or a late report: a no-op
  }
  auto q = org.queues.find(split->first);
  if (q != org.queues.end()) {
    const auto index = static_cast<int32_t>(split->second);
    auto req = q->second.requeued.find(index);
    // The lease ran out but the device that held it did send: keep its outcome, don't send
    // the message again.
    if (req != q->second.requeued.end() && req->second.device == device.value) return outcome();
    if (req != q->second.requeued.end() || index >= q->second.next_index)
      return reject("the message is not leased to this device");
  }
  // Finished and settled: nothing changes any more.
}

// Whether a SIM slot of the device may send now (a sending slot under its daily cap).
bool slot_open(const GatewayConfig& g, const DeviceState& d, int32_t slot, TimePoint at) {
  return std::find(d.sending.begin(), d.sending.end(), slot) != d.sending.end() &&
         (g.sim_per_day == kUnlimited || sent_today(d, slot, at) < g.sim_per_day);
}

// Whether the device could take work right now: online, paced below its bucket, with an open
// SIM. A retry only waits for its first device when that device could take it.
bool can_claim(const GatewayConfig& g, const DeviceState& d, TimePoint at) {
  if (!d.online || tokens_at(g, d, at) < 1.0) return false;
  return std::any_of(d.sending.begin(), d.sending.end(),
                     [&](int32_t slot) { return slot_open(g, d, slot, at); });
}

Decision decide_claim(Scratch& s, const GatewayConfig& g, const ClaimMessages& cmd, TimePoint at) {
  const auto& org = s.org();
  auto d = org.devices.find(cmd.device_id.value);
  if (d == org.devices.end()) return device_not_paired();
  const DeviceState dev = d->second;
  const std::string& me = cmd.device_id.value;
  if (!dev.online) s.emit(DeviceConnected{cmd.device_id});
  int64_t room =
      std::min<int64_t>(cmd.max, static_cast<int64_t>(std::floor(tokens_at(g, dev, at))));
  // The SIM: the one a retry of this phone went out on, when one is waiting and that SIM can
  // send; else the next sending SIM, round-robin, with room left today.
  int32_t slot = -1;
  // A campaign pinned to a device (the send API's deviceId) is only that device's work.
  const auto others = [&](const CampaignQueue& q) { return q.device && *q.device != me; };
  // A campaign pinned to one of this device's SIMs (a reply to a conversation) goes out on that
  // SIM.
  for (const auto& [campaign, q] : org.queues) {
    if (!q.dispatching() || (q.expires_at && *q.expires_at <= at) || others(q)) continue;
    if (q.sim && q.undispatched() > 0 && slot_open(g, dev, *q.sim, at)) {
      slot = *q.sim;
      break;
    }
    for (const auto& [index, r] : q.requeued)
      if (r.device == me && slot_open(g, dev, r.slot, at)) {
        slot = r.slot;
        break;
      }
    if (slot >= 0) break;
  }
  const auto n_slots = dev.sending.size();
  for (size_t k = 0; k < n_slots && slot < 0; ++k) {
    const auto candidate = dev.sending[(static_cast<size_t>(dev.next_slot) + k) % n_slots];
    if (slot_open(g, dev, candidate, at)) slot = candidate;
  }
  if (slot >= 0 && g.sim_per_day != kUnlimited)
    room = std::min(room, g.sim_per_day - sent_today(dev, slot, at));
  if (slot < 0 || room <= 0) return s.take();
  std::vector<ClaimedMessage> taken;
  const auto full = [&] { return static_cast<int64_t>(taken.size()) >= room; };
  for (const auto& [campaign, q] : org.queues) {
    if (full()) break;
    if (!q.dispatching()) continue;                     // draft, scheduled or paused
    if (q.expires_at && *q.expires_at <= at) continue;  // expired: the clock fails them
    if (others(q)) continue;
    if (q.sim && *q.sim != slot) continue;  // its SIM's turn comes with another claim
    for (const auto& [index, r] : q.requeued) {
      if (full()) break;
      if (r.device == me) {
        // Back on its first phone: on the same SIM while that SIM can send.
        if (r.slot != slot && slot_open(g, dev, r.slot, at)) continue;
      } else if (!r.device.empty() && r.attempts < 2) {
        // The first retry waits for the phone it went out on (the recipient keeps seeing one
        // number) while that phone could take it; after that any device may, so a phone that
        // stopped reporting can't hold a message to the end of its attempts.
        auto other = org.devices.find(r.device);
        if (other != org.devices.end() && can_claim(g, other->second, at)) continue;
      }
      taken.push_back(ClaimedMessage{
          MessageId{derive_id(id_prefix::message, campaign, static_cast<uint32_t>(index))},
          r.attempts + 1});
    }
    for (int32_t i = q.next_index; i < q.total && !full(); ++i)
      taken.push_back(ClaimedMessage{
          MessageId{derive_id(id_prefix::message, campaign, static_cast<uint32_t>(i))}, 1});
  }
  if (!taken.empty()) s.emit(MessagesClaimed{cmd.device_id, slot, at + g.lease, std::move(taken)});
  return s.take();
}

// ---- evolve --------------------------------------------------------------------------------

CampaignQueue* queue_of(OrgState& org, const MessageId& id, int32_t& index) {
  auto split = split_message_id(id.value);
  if (!split) return nullptr;
  index = static_cast<int32_t>(split->second);
  return org.queues.edit(split->first);
}

void finish(OrgState& org, const MessageId& id) {
  int32_t index = 0;
  if (auto* q = queue_of(org, id, index)) ++q->finished;
}

// A device's outcome for a message: out of its lease or the queue, into `awaiting`.
void record_outcome(const GatewayConfig& g, OrgState& org, const MessageId& id,
                    const std::string& device, Outcome outcome, TimePoint reported, TimePoint at) {
  const bool terminal = outcome != Outcome::sent;
  auto& awaiting = org.awaiting.mut();
  if (auto aw = awaiting.find(id.value); aw != awaiting.end()) {
    auto& a = aw->second;
    if (outcome != Outcome::failed)
      a.sent_at = a.sent_at ? std::min(*a.sent_at, reported) : reported;
    if (static_cast<int>(outcome) > static_cast<int>(a.outcome)) a.outcome = outcome;
    if (terminal && !a.terminal) {
      a.terminal = true;
      finish(org, id);
    }
    return;
  }
  Awaiting a;
  a.device = device;
  a.outcome = outcome;
  if (outcome != Outcome::failed) a.sent_at = reported;
  a.window_end = at + g.delivery_window;
  a.terminal = terminal;
  if (auto lease = org.leases.find(id.value); lease != org.leases.end()) {
    a.slot = lease->second.slot;
    org.leases.erase(lease);
  } else {
    int32_t index = 0;
    if (auto* q = queue_of(org, id, index)) {
      auto r = q->requeued.find(index);
      if (r != q->requeued.end()) {
        a.slot = r->second.slot;
        q->requeued.erase(r);
      }
    }
  }
  awaiting[id.value] = a;
  if (terminal) finish(org, id);
}

}  // namespace

std::string utc_day(TimePoint t) {
  const auto ymd = std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(t));
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

std::vector<Event> fail_unclaimed(const std::string& campaign, const CampaignQueue& q, int32_t end,
                                  TimePoint at, std::string_view why) {
  std::vector<FailedMessage> failed;
  auto id_of = [&](int32_t index) {
    return MessageId{derive_id(id_prefix::message, campaign, static_cast<uint32_t>(index))};
  };
  for (const auto& [index, r] : q.requeued)
    failed.push_back(FailedMessage{id_of(index), at, std::string(why)});
  for (int32_t i = q.next_index; i < end; ++i)
    failed.push_back(FailedMessage{id_of(i), at, std::string(why)});
  std::vector<Event> out;
  for (size_t k = 0; k < failed.size(); k += MessagesQueued::kMaxMessagesPerEvent) {
    const auto last = std::min(failed.size(), k + MessagesQueued::kMaxMessagesPerEvent);
    out.push_back(MessagesFailed{"",
                                 {failed.begin() + static_cast<ptrdiff_t>(k),
                                  failed.begin() + static_cast<ptrdiff_t>(last)}});
  }
  return out;
}

std::vector<Event> completions(const OrgState& org) {
  std::vector<Event> out;
  for (const auto& [id, q] : org.queues) {
    // A draft or scheduled campaign completes only once started (its total may still be 0
    // while being filled, or with every recipient opted out: decide_launch completes those).
    const bool started = !q.hold || *q.hold == campaign_status::paused;
    if (started && q.finished >= q.total) out.push_back(CampaignCompleted{CampaignId{id}});
  }
  return out;
}

Result<std::vector<Event>> decide_gateway(const DeciderConfig& config, const DeciderState& state,
                                          const CommandEnvelope& env) {
  const auto& g = config.gateway;
  const auto& org = state.org;
  const TimePoint at = env.at;
  Scratch s(config, state, at);
  auto not_found = [](std::string_view what) {
    return Error{Errc::not_found, fmt::format("{} not found", what), "It does not exist."};
  };
  return std::visit(
      Overloaded{
          [&](const CreatePairing& c) -> Decision {
            if (!org.exists) return not_found("Organization");
            s.emit(PairingCreated{c.token_hash, c.expires_at});
            return s.take();
          },
          [&](const RegisterDevice& c) -> Decision {
            auto p = org.pairings.find(c.pairing_hash);
            if (p == org.pairings.end() || p->second <= at)
              return Error{Errc::unauthorized, "Invalid or expired pairing token",
                           "Create a new QR code in the dashboard and scan it again."};
            if (org.devices.count(c.device_id.value))
              return Error{Errc::conflict, "Device already registered", c.device_id.value};
            std::vector<int32_t> slots;
            for (const auto& sim : c.sims) slots.push_back(sim.slot);
            s.emit(DeviceRegistered{c.device_id, c.pairing_hash, c.credential_hash, c.name, c.model,
                                    c.os_version, c.app_version, c.sims, slots});
            s.emit(DeviceConnected{c.device_id});
            return s.take();
          },
          [&](const UpdateDevice& c) -> Decision {
            auto d = org.devices.find(c.device_id.value);
            if (d == org.devices.end()) return not_found("Device");
            std::vector<int32_t> sending = c.sending_slots.value_or(d->second.sending);
            for (auto slot : sending)
              if (std::find(d->second.slots.begin(), d->second.slots.end(), slot) ==
                  d->second.slots.end())
                return validation_error("Invalid SIM slot",
                                        fmt::format("the device has no SIM in slot {}", slot));
            std::sort(sending.begin(), sending.end());
            sending.erase(std::unique(sending.begin(), sending.end()), sending.end());
            s.emit(DeviceUpdated{c.device_id, c.name.value_or(""), sending});
            return s.take();
          },
          [&](const UnpairDevice& c) -> Decision {
            auto d = org.devices.find(c.device_id.value);
            if (d == org.devices.end()) return not_found("Device");
            const bool online = d->second.online;
            std::vector<std::pair<std::string, Lease>> held;
            for (const auto& [id, lease] : org.leases)
              if (lease.device == c.device_id.value) held.emplace_back(id, lease);
            for (const auto& [id, lease] : held) release(s, g, id, lease, "device unpaired", at);
            // Sends pinned to it can go nowhere else: what is still queued fails now.
            const auto queues = s.org().queues;
            for (const auto& [campaign, q] : queues)
              if (q.device == c.device_id.value)
                for (auto& e : fail_unclaimed(campaign, q, q.total, at, "pinned device unpaired"))
                  s.emit(std::move(e));
            if (online) s.emit(DeviceDisconnected{c.device_id, "unpaired"});
            s.emit(DeviceUnpaired{c.device_id});
            s.complete_finished();
            return s.take();
          },
          [&](const DeviceHeartbeat& c) -> Decision {
            auto d = org.devices.find(c.device_id.value);
            if (d == org.devices.end()) return device_not_paired();
            if (!d->second.online) s.emit(DeviceConnected{c.device_id});
            s.emit(HeartbeatReceived{c.device_id, c.battery, c.signal, c.app_version});
            return s.take();
          },
          [&](const ClaimMessages& c) -> Decision { return decide_claim(s, g, c, at); },
          [&](const ReportStatus& c) -> Decision {
            if (!org.devices.count(c.device_id.value)) return device_not_paired();
            std::vector<FailedMessage> rejected;
            for (const auto& r : c.reports) report(s, c.device_id, r, rejected);
            if (!rejected.empty()) s.emit(ReportsRejected{c.device_id, std::move(rejected)});
            s.complete_finished();
            return s.take();
          },
          [&](const ClockTick&) -> Decision { return decide_tick(config, state, at); },
          // Unreachable: decide() routes only GatewayCommands here. A gateway command without
          // its overload above fails to compile.
          [&](const NoneOf<GatewayCommands> auto&) -> Decision { return misrouted(env); },
      },
      env.body);
}

std::vector<Event> decide_tick(const DeciderConfig& config, const DeciderState& state,
                               TimePoint at) {
  const auto& g = config.gateway;
  Scratch s(config, state, at);
  const OrgState org = state.org;  // what was due when the tick came
  for (auto& e : due_campaigns(config, org, at)) s.emit(std::move(e));
  for (const auto& [id, d] : org.devices) {
    if (!d.online || d.last_seen + g.presence_window > at) continue;
    s.emit(DeviceDisconnected{DeviceId{id}, "missed heartbeats"});
    for (const auto& [msg, lease] : org.leases)
      if (lease.device == id) release(s, g, msg, lease, "device offline", at);
  }
  for (const auto& [msg, lease] : org.leases) {
    if (lease.until > at || !s.org().leases.count(msg)) continue;
    release(s, g, msg, lease, "lease expired", at);
  }
  for (const auto& [msg, a] : org.awaiting.get())
    if (a.window_end <= at) s.emit(MessagesSettled{{MessageId{msg}}});
  // After the releases above, so a message whose lease ended past its campaign's time to live
  // fails here instead of going out again.
  const auto queues = s.org().queues;
  for (const auto& [campaign, q] : queues)
    if (q.expires_at && *q.expires_at <= at)
      for (auto& e : fail_unclaimed(campaign, q, q.total, at, "expired before it could be sent"))
        s.emit(std::move(e));
  for (auto& e : abandoned_drafts(config, s.org(), at)) s.emit(std::move(e));
  for (auto& e : abandoned_imports(config, s.org(), at)) s.emit(std::move(e));
  s.complete_finished();
  return s.take();
}

std::optional<TimePoint> queue_deadline(const DeciderConfig& config, const CampaignQueue& q) {
  std::optional<TimePoint> next;
  if (q.expires_at && q.undispatched() > 0) next = q.expires_at;
  if (auto due = campaign_deadline(config, q); due && (!next || *due < *next)) next = due;
  return next;
}

std::optional<TimePoint> next_deadline(const DeciderConfig& config, const DeciderState& state) {
  const auto& g = config.gateway;
  const auto& org = state.org;
  std::optional<TimePoint> next;
  auto consider = [&](TimePoint t) {
    if (!next || t < *next) next = t;
  };
  for (const auto& [id, d] : org.devices)
    if (d.online) consider(d.last_seen + g.presence_window);
  for (const auto& [id, lease] : org.leases) consider(lease.until);
  for (const auto& [id, a] : org.awaiting.get()) consider(a.window_end);
  const auto queues = org.queues.earliest(config);
#ifndef NDEBUG
  // The index against a walk of every queue (the sanitizer build runs every decider test so).
  std::optional<TimePoint> walked;
  for (const auto& [id, q] : org.queues)
    if (auto t = queue_deadline(config, q); t && (!walked || *t < *walked)) walked = t;
  assert(queues == walked && "CampaignQueues' index is out of date: a change bypassed edit()");
#endif
  if (queues) consider(*queues);
  if (auto stale = next_import_timeout(config, org)) consider(*stale);
  return next;
}

void evolve_gateway(const DeciderConfig& config, OrgState& org, const Event& event, TimePoint at) {
  const auto& g = config.gateway;
  std::visit(
      Overloaded{
          [&](const CampaignCreated& e) {
            CampaignQueue q;
            q.total = e.total_messages;
            q.expires_at = e.expires_at;
            org.queues.put(e.id.value, q);
          },
          [&](const PairingCreated& e) {
            std::erase_if(org.pairings, [&](const auto& p) { return p.second <= at; });
            org.pairings[e.token_hash] = e.expires_at;
          },
          [&](const DeviceRegistered& e) {
            org.pairings.erase(e.pairing_hash);
            DeviceState d;
            for (const auto& sim : e.sims) d.slots.push_back(sim.slot);
            d.sending = e.sending_slots;
            d.last_seen = at;
            org.devices[e.device_id.value] = d;
          },
          [&](const DeviceUpdated& e) {
            auto d = org.devices.find(e.device_id.value);
            if (d != org.devices.end()) d->second.sending = e.sending_slots;
          },
          [&](const DeviceUnpaired& e) { org.devices.erase(e.device_id.value); },
          [&](const HeartbeatReceived& e) {
            auto d = org.devices.find(e.device_id.value);
            if (d == org.devices.end()) return;
            d->second.online = true;
            d->second.last_seen = at;
          },
          [&](const DeviceConnected& e) {
            auto d = org.devices.find(e.device_id.value);
            if (d == org.devices.end()) return;
            d->second.online = true;
            d->second.last_seen = at;
          },
          [&](const DeviceDisconnected& e) {
            auto d = org.devices.find(e.device_id.value);
            if (d != org.devices.end()) d->second.online = false;
          },
          [&](const MessagesClaimed& e) {
            auto d = org.devices.find(e.device_id.value);
            if (d != org.devices.end()) {
              auto& dev = d->second;
              const auto n = static_cast<double>(e.messages.size());
              dev.tokens = g.device_per_minute == kUnlimited ? -1 : tokens_at(g, dev, at) - n;
              dev.tokens_at = at;
              const auto day = utc_day(at);
              if (dev.day != day) {
                dev.day = day;
                dev.sent_today.clear();
              }
              dev.sent_today[e.sim_slot] += static_cast<int64_t>(e.messages.size());
              if (!dev.sending.empty())
                dev.next_slot = static_cast<int32_t>((static_cast<size_t>(dev.next_slot) + 1) %
                                                     dev.sending.size());
              dev.online = true;
              dev.last_seen = at;
            }
            for (const auto& m : e.messages) {
              int32_t index = 0;
              if (auto* q = queue_of(org, m.id, index)) {
                if (!q->requeued.erase(index)) q->next_index = std::max(q->next_index, index + 1);
              }
              org.leases[m.id.value] =
                  Lease{e.device_id.value, e.sim_slot, e.lease_until, m.attempt};
            }
          },
          [&](const MessagesRequeued& e) {
            for (const auto& id : e.ids) {
              auto lease = org.leases.find(id.value);
              if (lease == org.leases.end()) continue;
              int32_t index = 0;
              if (auto* q = queue_of(org, id, index))
                q->requeued[index] =
                    Requeued{lease->second.attempt, lease->second.device, lease->second.slot};
              org.leases.erase(lease);
            }
          },
          [&](const MessagesSent& e) {
            for (const auto& m : e.messages)
              record_outcome(g, org, m.id, e.device_id.value, Outcome::sent, m.at, at);
          },
          [&](const MessagesDelivered& e) {
            for (const auto& m : e.messages)
              record_outcome(g, org, m.id, e.device_id.value, Outcome::delivered, m.at, at);
          },
          [&](const MessagesFailed& e) {
            for (const auto& m : e.messages) {
              if (!e.device_id.empty()) {
                record_outcome(g, org, m.id, e.device_id, Outcome::failed, m.at, at);
                continue;
              }
              // No device involved: out of attempts, or expired in the queue.
              org.leases.erase(m.id.value);
              int32_t index = 0;
              if (auto* q = queue_of(org, m.id, index)) {
                if (!q->requeued.erase(index)) q->next_index = std::max(q->next_index, index + 1);
                ++q->finished;
              }
            }
          },
          [&](const MessagesSettled& e) {
            auto& awaiting = org.awaiting.mut();
            for (const auto& id : e.ids) {
              auto a = awaiting.find(id.value);
              if (a == awaiting.end()) continue;
              if (!a->second.terminal) finish(org, id);
              awaiting.erase(a);
            }
          },
          [&](const CampaignCompleted& e) { org.queues.erase(e.campaign_id.value); },
          [&](const ReportsRejected&) {},
          [&](const CampaignStalled& e) {
            if (auto* q = org.queues.edit(e.campaign_id.value)) q->stalled = true;
          },
          [&](const CampaignUnstalled& e) {
            if (auto* q = org.queues.edit(e.campaign_id.value)) q->stalled.reset();
          },
          [&](const NoneOf<GatewayEvents> auto&) {},
      },
      event);
}

}  // namespace pulse::commands
