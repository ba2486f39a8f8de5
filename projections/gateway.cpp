// The gateway projector: devices and their presence, message transitions and campaign counts.
// Events come already decided (forward-only, deduplicated by the decider); this applies them.
#include "projections/gateway.h"
#include "domain/overloaded.h"
#include "projections/messages.h"

#include <algorithm>
#include <map>
#include <string>

namespace pulse::projections {
namespace {

// A device is found by its id and by its credential's hash.
void put_device(ReadModelTx& tx, const DeviceView& d) {
  tx.put(table::device(d.org, d.id), d);
  tx.put(table::device_credential(d.credential_hash),
         DeviceCredentialView{d.credential_hash, d.org, d.id});
}

// Message and campaign updates of one event, batched per campaign.
class Messages {
 public:
  Messages(ReadModelTx& tx, const EventEnvelope& env) : tx_(tx), env_(env) {}
  ~Messages() { flush(); }

  // The message's view and its campaign's, or nothing for a message this store doesn't know.
  MessageView* get(const MessageId& id) {
    auto it = messages_.find(id.value);
    if (it != messages_.end()) return &it->second;
    auto m = tx_.get(table::message(env_.org, id));
    if (!m) return nullptr;
    if (!campaign(m->campaign_id)) return nullptr;
    before_.emplace(id.value, Before{m->status, m->sent_at.has_value()});
    return &messages_.emplace(id.value, std::move(*m)).first->second;
  }
  CampaignView* campaign(const CampaignId& id) {
    auto it = campaigns_.find(id.value);
    if (it != campaigns_.end()) return &it->second;
    auto c = tx_.get(table::campaign(env_.org, id));
    if (!c) return nullptr;
    return &campaigns_.emplace(id.value, std::move(*c)).first->second;
  }
  void queued_delta(int64_t d) { queued_ += d; }
  // A state change for the message's timeline, with the device, SIM and attempt it has now.
  void note(const MessageView& m, TimePoint at, std::optional<std::string> error = std::nullopt) {
    tx_.put(table::timeline_entry(env_.org, m.id, env_.source, k_++),
            TimelineEntry{m.status, at, m.device_id, m.sim_slot,
                          m.attempts > 0 ? std::optional<int32_t>(m.attempts) : std::nullopt,
                          std::move(error)});
  }
  DeviceView* device(const std::string& id) {
    if (id.empty()) return nullptr;
    auto it = devices_.find(id);
    if (it != devices_.end()) return &it->second;
    auto d = tx_.get(table::device(env_.org, DeviceId{id}));
    if (!d) return nullptr;
    return &devices_.emplace(id, std::move(*d)).first->second;
  }

 private:
  void flush() {
    DayStatsView day;
    for (auto& [id, m] : messages_) {
      m.updated_at = env_.at;
      tx_.put(table::message(env_.org, m.id), m);
      // Status index and the organisation's daily counters follow what changed.
      const auto& b = before_.at(id);
      if (b.status != m.status) index_message(tx_, env_.org, m.id, m.phone, b.status, m.status);
      if (!b.sent && m.sent_at) ++day.sent;
      if (b.status != m.status) {
        if (m.status == "delivered") ++day.delivered;
        if (m.status == "failed") ++day.failed;
        if (b.status == "failed") --day.failed;
      }
    }
    if (day.sent || day.delivered || day.failed) {
      auto d = day_stats(tx_, env_.org, utc_day_of(env_.at));
      d.sent += day.sent;
      d.delivered += day.delivered;
      d.failed += day.failed;
      tx_.put(table::day_stats(env_.org, d.day), d);
    }
    for (auto& [id, c] : campaigns_) {
      c.updated_at = env_.at;
      tx_.put(table::campaign(env_.org, c.id), c);
    }
    for (auto& [id, d] : devices_) put_device(tx_, d);
    if (queued_ != 0) {
      auto q = tx_.get(table::queue(env_.org)).value_or(QueueView{});
      q.queued = std::max<int64_t>(0, q.queued + queued_);
      tx_.put(table::queue(env_.org), q);
    }
  }

  ReadModelTx& tx_;
  const EventEnvelope& env_;
  std::map<std::string, MessageView> messages_;
  struct Before {
    std::string status;
    bool sent = false;
  };
  std::map<std::string, Before> before_;  // as loaded
  int32_t k_ = 0;
  std::map<std::string, CampaignView> campaigns_;
  std::map<std::string, DeviceView> devices_;
  int64_t queued_ = 0;
};

// Leaves the message's current status in the campaign's counts.
void leave(Messages& ms, CampaignView& c, const MessageView& m) {
  if (m.status == "queued") {
    --c.queued_count;
    if (c.status == "running") ms.queued_delta(-1);
  } else if (m.status == "sending") {
    --c.sending_count;
  } else if (m.status == "failed") {
    --c.failed_count;
  } else if (m.status == "delivered") {
    --c.delivered_count;
  }
}

// The first time a message is known to have gone out: sentCount and the device's smsSent.
void mark_sent(Messages& ms, CampaignView& c, MessageView& m, TimePoint at,
               const std::string& device) {
  if (!m.sent_at) {
    ++c.sent_count;
    if (auto* d = ms.device(device.empty() ? m.device_id.value_or("") : device)) ++d->sms_sent;
    m.sent_at = at;
  } else if (at < *m.sent_at) {
    m.sent_at = at;
  }
  if (!device.empty()) m.device_id = device;
}

void on_claimed(Messages& ms, const EventEnvelope& env, const MessagesClaimed& e) {
  for (const auto& cm : e.messages) {
    auto* m = ms.get(cm.id);
    if (!m) continue;
    auto* c = ms.campaign(m->campaign_id);
    leave(ms, *c, *m);
    m->status = "sending";
    ++c->sending_count;
    m->device_id = e.device_id.value;
    m->sim_slot = e.sim_slot;
    m->attempts = cm.attempt;
    ms.note(*m, env.at);
  }
  if (auto* d = ms.device(e.device_id.value)) {
    d->last_seen_at = env.at;
    d->updated_at = env.at;
  }
}

void on_requeued(Messages& ms, const MessagesRequeued& e, TimePoint at) {
  for (const auto& id : e.ids) {
    auto* m = ms.get(id);
    if (!m || m->status != "sending") continue;
    auto* c = ms.campaign(m->campaign_id);
    leave(ms, *c, *m);
    m->status = "queued";
    ++c->queued_count;
    if (c->status == "running") ms.queued_delta(1);
    ms.note(*m, at, e.reason);
  }
}

void on_sent(Messages& ms, const MessagesSent& e) {
  for (const auto& tm : e.messages) {
    auto* m = ms.get(tm.id);
    if (!m) continue;
    auto* c = ms.campaign(m->campaign_id);
    mark_sent(ms, *c, *m, tm.at, e.device_id.value);
    if (m->status == "queued" || m->status == "sending") {
      leave(ms, *c, *m);
      m->status = "sent";
      ms.note(*m, tm.at);
    }
  }
}

void on_delivered(Messages& ms, const MessagesDelivered& e) {
  for (const auto& tm : e.messages) {
    auto* m = ms.get(tm.id);
    if (!m || m->status == "delivered") continue;
    auto* c = ms.campaign(m->campaign_id);
    mark_sent(ms, *c, *m, tm.at, e.device_id.value);
    leave(ms, *c, *m);
    m->status = "delivered";
    m->delivered_at = tm.at;
    m->error.reset();
    ++c->delivered_count;
    ms.note(*m, tm.at);
  }
}

void on_failed(Messages& ms, const MessagesFailed& e) {
  for (const auto& fm : e.messages) {
    auto* m = ms.get(fm.id);
    if (!m || m->status == "failed" || m->status == "delivered") continue;
    auto* c = ms.campaign(m->campaign_id);
    leave(ms, *c, *m);
    m->status = "failed";
    m->error = fm.error;
    if (!e.device_id.empty()) m->device_id = e.device_id;
    ++c->failed_count;
    ms.note(*m, fm.at, fm.error);
  }
}

// A campaign's stalled mark (CampaignStalled: since `since`; CampaignUnstalled: none).
void set_stalled(ReadModelTx& tx, const EventEnvelope& env, const CampaignId& id,
                 std::optional<TimePoint> since) {
  auto c = tx.get(table::campaign(env.org, id));
  if (!c) return;
  c->stalled_since = since;
  c->updated_at = env.at;
  tx.put(table::campaign(env.org, c->id), *c);
}

}  // namespace

bool apply_gateway(ReadModelTx& tx, const EventEnvelope& env) {
  return std::visit(Overloaded{
                        [&](const PairingCreated& e) {
                          tx.put(table::pairing(e.token_hash),
                                 PairingView{e.token_hash, env.org, e.expires_at, false});
                          return true;
                        },
                        [&](const DeviceRegistered& e) {
                          DeviceView d;
                          d.id = e.device_id;
                          d.org = env.org;
                          d.name = e.name;
                          d.model = e.model;
                          d.os_version = e.os_version;
                          d.app_version = e.app_version;
                          d.sims = e.sims;
                          d.sending_slots = e.sending_slots;
                          d.credential_hash = e.credential_hash;
                          d.last_seen_at = env.at;
                          d.created_at = env.at;
                          d.updated_at = env.at;
                          put_device(tx, d);
                          if (auto p = tx.get(table::pairing(e.pairing_hash))) {
                            p->used = true;
                            tx.put(table::pairing(e.pairing_hash), *p);
                          }
                          return true;
                        },
                        [&](const DeviceUpdated& e) {
                          auto d = tx.get(table::device(env.org, e.device_id));
                          if (!d) return true;
                          if (!e.name.empty()) d->name = e.name;
                          d->sending_slots = e.sending_slots;
                          d->updated_at = env.at;
                          put_device(tx, *d);
                          return true;
                        },
                        [&](const DeviceUnpaired& e) {
                          if (auto d = tx.get(table::device(env.org, e.device_id))) {
                            tx.erase(table::device(d->org, d->id));
                            tx.erase(table::device_credential(d->credential_hash));
                          }
                          return true;
                        },
                        [&](const HeartbeatReceived& e) {
                          auto d = tx.get(table::device(env.org, e.device_id));
                          if (!d) return true;
                          d->battery = e.battery ? e.battery : d->battery;
                          d->signal = e.signal ? e.signal : d->signal;
                          if (!e.app_version.empty()) d->app_version = e.app_version;
                          d->last_seen_at = env.at;
                          d->updated_at = env.at;
                          put_device(tx, *d);
                          return true;
                        },
                        [&](const DeviceConnected& e) {
                          auto d = tx.get(table::device(env.org, e.device_id));
                          if (!d) return true;
                          d->status = "online";
                          d->last_seen_at = env.at;
                          d->updated_at = env.at;
                          put_device(tx, *d);
                          return true;
                        },
                        [&](const DeviceDisconnected& e) {
                          auto d = tx.get(table::device(env.org, e.device_id));
                          if (!d) return true;
                          d->status = "offline";
                          d->updated_at = env.at;
                          put_device(tx, *d);
                          return true;
                        },
                        [&](const MessagesClaimed& e) {
                          tx.put(table::claim(env.org, env.command_id),
                                 ClaimView{e.sim_slot, e.lease_until, e.messages});
                          Messages ms(tx, env);
                          on_claimed(ms, env, e);
                          return true;
                        },
                        [&](const MessagesRequeued& e) {
                          Messages ms(tx, env);
                          on_requeued(ms, e, env.at);
                          return true;
                        },
                        [&](const MessagesSent& e) {
                          Messages ms(tx, env);
                          on_sent(ms, e);
                          return true;
                        },
                        [&](const MessagesDelivered& e) {
                          Messages ms(tx, env);
                          on_delivered(ms, e);
                          return true;
                        },
                        [&](const MessagesFailed& e) {
                          Messages ms(tx, env);
                          on_failed(ms, e);
                          return true;
                        },
                        [&](const MessagesSettled&) { return true; },
                        [&](const ReportsRejected& e) {
                          tx.put(table::rejections(env.org, env.command_id),
                                 ReportRejectionsView{e.reports});
                          return true;
                        },
                        [&](const CampaignCompleted& e) {
                          auto c = tx.get(table::campaign(env.org, e.campaign_id));
                          if (!c || c->status == "completed") return true;
                          c->status = "completed";
                          c->completed_at = env.at;
                          c->updated_at = env.at;
                          tx.put(table::campaign(env.org, c->id), *c);
                          return true;
                        },
                        [&](const CampaignStalled& e) {
                          set_stalled(tx, env, e.campaign_id, env.at);
                          return true;
                        },
                        [&](const CampaignUnstalled& e) {
                          set_stalled(tx, env, e.campaign_id, std::nullopt);
                          return true;
                        },
                        [&](const NoneOf<GatewayEvents> auto&) { return false; },
                    },
                    env.body);
}

}  // namespace pulse::projections
