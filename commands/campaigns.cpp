#include "commands/campaigns.h"

#include "commands/gateway.h"
#include "commands/opt_outs.h"

#include <algorithm>

#include "domain/message_body.h"
#include "domain/overloaded.h"
#include "domain/template.h"
#include "fmt/format.h"

namespace pulse::commands {
namespace {

using Decision = Result<std::vector<Event>>;

std::string status_of(const CampaignQueue& q) {
  return q.hold ? *q.hold : std::string(campaign_status::running);
}

Error not_active(const CampaignId& id) {
  return Error{Errc::conflict, "Campaign is not active",
               fmt::format("{} is completed or cancelled", id.value)};
}

Decision decide_draft(const DeciderConfig& config, const OrgState& org, const CommandEnvelope& env,
                      const DraftCampaign& c) {
  if (!org.exists) return Error{Errc::not_found, "Organization not found", "It does not exist."};
  if (org.queues.count(c.campaign_id.value))
    return Error{Errc::conflict, "Campaign already exists", c.campaign_id.value};
  if (c.total_messages < 1) return validation_error("The campaign has no recipients", "");
  const bool now = !c.scheduled_at || *c.scheduled_at <= env.at;
  if (now && !std::any_of(org.devices.begin(), org.devices.end(), [](const auto& d) {
        return d.second.online && !d.second.sending.empty();
      }))
    return validation_error("No online devices. Connect at least one device to send SMS.",
                            "Check the Devices page in your dashboard.");
  const int64_t remaining = sms_remaining(config, org, env.at);
  if (remaining != kUnlimited && c.total_messages > remaining)
    return monthly_limit_reached(config, org, env.at, c.total_messages, "campaign");
  return std::vector<Event>{CampaignDrafted{c.campaign_id, c.name, c.source, c.message,
                                            c.contact_list_id, c.contact_list_name, c.contact_count,
                                            c.total_messages, c.scheduled_at}};
}

Decision decide_queue(const OrgState& org, const QueueCampaignMessages& c) {
  auto q = org.queues.find(c.campaign_id.value);
  if (q == org.queues.end() || q->second.hold != std::string(campaign_status::draft))
    return Error{Errc::conflict, "Campaign is not a draft", c.campaign_id.value};
  const int32_t filled = q->second.filled.value_or(0);
  const int32_t submitted = filled + q->second.skipped.value_or(0);
  // The draft's total counts every recipient submitted; those on the opt-out list are left
  // out here (RecipientsSuppressed lowers the total), the others numbered contiguously.
  const auto n = static_cast<int32_t>(c.messages.size());
  if (c.first_index != submitted || filled + n > q->second.total ||
      c.messages.size() > kMaxCampaignMessagesPerCommand)
    return Error{Errc::conflict, "Messages out of order",
                 fmt::format("expected messages from {} (of {})", submitted, q->second.total)};
  const auto suppression = skip_opted_out(
      org, c.messages, [](const CampaignMessage& m) -> std::string_view { return m.phone; });
  std::vector<Event> events;
  if (!suppression.suppressed.empty())
    events.push_back(RecipientsSuppressed{c.campaign_id, suppression.suppressed});
  MessagesQueued e{c.campaign_id, {}};
  for (size_t k = 0; k < suppression.kept.size(); ++k) {
    const auto& m = c.messages[suppression.kept[k]];
    auto info = analyze_body(m.body);
    if (!info) return info.error();
    e.messages.push_back(
        QueuedMessage{MessageId{derive_id(id_prefix::message, c.campaign_id.value,
                                          static_cast<uint32_t>(filled + static_cast<int32_t>(k)))},
                      PhoneNumber{m.phone}, m.contact_name, m.body, info->encoding, info->segments,
                      m.country, m.phone_type});
  }
  if (!e.messages.empty()) events.push_back(std::move(e));
  return events;
}

Decision decide_launch(const DeciderConfig& config, const OrgState& org, const CommandEnvelope& env,
                       const LaunchCampaign& c) {
  auto q = org.queues.find(c.campaign_id.value);
  if (q == org.queues.end() || q->second.hold != std::string(campaign_status::draft))
    return Error{Errc::conflict, "Campaign is not a draft", c.campaign_id.value};
  if (q->second.filled.value_or(0) != q->second.total)
    return Error{Errc::conflict, "Campaign is not fully queued",
                 fmt::format("{} of {} messages", q->second.filled.value_or(0), q->second.total)};
  if (q->second.scheduled_at && *q->second.scheduled_at > env.at)
    return std::vector<Event>{CampaignScheduled{c.campaign_id, *q->second.scheduled_at}};
  std::vector<Event> events{CampaignStarted{c.campaign_id, env.at + config.gateway.message_ttl}};
  // Every recipient opted out: nothing to wait for.
  if (q->second.total == 0) events.push_back(CampaignCompleted{c.campaign_id});
  return events;
}

Decision decide_control(const OrgState& org, const CommandEnvelope& env, const ControlCampaign& c) {
  auto it = org.queues.find(c.campaign_id.value);
  if (it == org.queues.end()) return not_active(c.campaign_id);
  const auto& q = it->second;
  const auto status = status_of(q);
  if (c.action == "pause") {
    if (status != campaign_status::running)
      return Error{Errc::conflict, "Campaign cannot be paused",
                   fmt::format("it is {}; only a running campaign can be paused", status)};
    return std::vector<Event>{CampaignPaused{c.campaign_id}};
  }
  if (c.action == "resume") {
    if (status != campaign_status::paused)
      return Error{Errc::conflict, "Campaign cannot be resumed",
                   fmt::format("it is {}; only a paused campaign can be resumed", status)};
    return std::vector<Event>{CampaignResumed{c.campaign_id}};
  }
  if (c.action != "cancel") return validation_error("Invalid action", "pause, resume or cancel");
  // A draft never went out: its messages go back to the quota.
  if (q.hold == std::string(campaign_status::draft))
    return discard_draft(c.campaign_id.value, q, env.at, "cancelled");
  // Everything still queued fails now; leased messages keep their lease and may still report.
  auto events =
      fail_unclaimed(c.campaign_id.value, q, q.total, env.at, std::string(kCancelledError));
  events.push_back(CampaignCancelled{c.campaign_id});
  return events;
}

}  // namespace

Status check_schedule(TimePoint scheduled_at, TimePoint now) {
  if (scheduled_at <= now)
    return validation_error("Invalid scheduledAt", "scheduledAt must be in the future");
  if (scheduled_at > now + kMaxScheduleAhead)
    return validation_error("Invalid scheduledAt", "scheduledAt must be at most 30 days ahead");
  return ok_status();
}

Result<std::vector<CampaignMessage>> render_messages(const std::string& message,
                                                     const std::vector<Contact>& contacts,
                                                     MissingVariables missing) {
  auto body = analyze_body(message);
  if (!body) return body.error();
  auto tmpl = parse_template(message);
  if (!tmpl) return tmpl.error();
  if (tmpl->has_variables() && missing == MissingVariables::refuse) {
    VariableNames available;
    for (auto& [name, value] : contact_vars(Contact{})) available.insert(name);
    for (const auto& c : contacts)
      for (const auto& [name, value] : c.extra) available.insert(name);
    if (auto st = check_variables(*tmpl, available, missing); !st) return st.error();
  }
  std::vector<CampaignMessage> out;
  out.reserve(contacts.size());
  for (const auto& c : contacts) {
    const auto vars = contact_vars(c);
    std::string rendered = tmpl->has_variables() ? render(*tmpl, vars) : message;
    if (tmpl->has_variables()) {
      auto info = analyze_body(rendered);
      if (!info)
        return validation_error(info.error().message,
                                fmt::format("message for {}: {}", c.phone, info.error().details));
    }
    out.push_back(
        CampaignMessage{c.phone, vars.at("name"), std::move(rendered), c.country, c.phone_type});
  }
  return out;
}

Result<std::vector<Event>> decide_campaign(const DeciderConfig& config, const DeciderState& state,
                                           const CommandEnvelope& env) {
  const auto& org = state.org;
  return std::visit(
      Overloaded{
          [&](const DraftCampaign& c) { return decide_draft(config, org, env, c); },
          [&](const QueueCampaignMessages& c) { return decide_queue(org, c); },
          [&](const LaunchCampaign& c) { return decide_launch(config, org, env, c); },
          [&](const ControlCampaign& c) { return decide_control(org, env, c); },
          // Unreachable: decide() routes only CampaignCommands here.
          [&](const NoneOf<CampaignCommands> auto&) -> Decision { return misrouted(env); },
      },
      env.body);
}

std::vector<Event> discard_draft(const std::string& campaign, const CampaignQueue& q, TimePoint at,
                                 std::string_view reason) {
  const int32_t queued = q.filled.value_or(0);
  auto events = fail_unclaimed(campaign, q, queued, at, std::string(kCancelledError));
  // The month its last chunk counted in (a draft lives seconds, not months).
  events.push_back(CampaignDiscarded{CampaignId{campaign}, queued,
                                     utc_month(q.filled_at.value_or(at)), std::string(reason)});
  events.push_back(CampaignCancelled{CampaignId{campaign}});
  return events;
}

namespace {

// A draft's deadline. A draft kept by a state written before drafts had one is due at once:
// whatever was filling it is gone.
std::optional<TimePoint> draft_deadline(const DeciderConfig& config, const CampaignQueue& q) {
  if (q.hold != campaign_status::draft) return std::nullopt;
  if (!q.filled_at) return TimePoint{};
  return *q.filled_at + config.gateway.draft_timeout;
}

}  // namespace

std::vector<Event> abandoned_drafts(const DeciderConfig& config, const OrgState& org,
                                    TimePoint at) {
  std::vector<Event> out;
  for (const auto& [id, q] : org.queues)
    if (auto due = draft_deadline(config, q); due && *due <= at)
      for (auto& e : discard_draft(id, q, at, "abandoned")) out.push_back(std::move(e));
  return out;
}

void evolve_campaigns(OrgState& org, const Event& event, TimePoint at) {
  auto queue = [&](const CampaignId& id) { return org.queues.edit(id.value); };
  std::visit(Overloaded{
                 [&](const CampaignDrafted& e) {
                   CampaignQueue q;
                   q.total = e.total_messages;
                   q.hold = std::string(campaign_status::draft);
                   q.filled = 0;
                   q.filled_at = at;
                   q.scheduled_at = e.scheduled_at;
                   org.queues.put(e.campaign_id.value, q);
                   ++org.campaigns;
                 },
                 [&](const MessagesQueued& e) {
                   if (auto* q = queue(e.campaign_id); q && q->filled) {
                     *q->filled += static_cast<int32_t>(e.messages.size());
                     q->filled_at = at;
                   }
                 },
                 [&](const RecipientsSuppressed& e) {
                   // A draft's (a send's CampaignCreated already counts only the others).
                   if (auto* q = queue(e.campaign_id); q && q->filled) {
                     const auto n = static_cast<int32_t>(e.phones.size());
                     q->total -= n;
                     q->skipped = q->skipped.value_or(0) + n;
                     q->filled_at = at;
                   }
                 },
                 [&](const CampaignScheduled& e) {
                   if (auto* q = queue(e.campaign_id)) {
                     q->hold = std::string(campaign_status::scheduled);
                     q->scheduled_at = e.scheduled_at;
                     q->filled.reset();
                     q->skipped.reset();
                     q->filled_at.reset();
                   }
                 },
                 [&](const CampaignStarted& e) {
                   if (auto* q = queue(e.campaign_id)) {
                     q->hold.reset();
                     q->filled.reset();
                     q->skipped.reset();
                     q->filled_at.reset();
                     q->scheduled_at.reset();
                     q->expires_at = e.expires_at;
                   }
                 },
                 [&](const CampaignPaused& e) {
                   if (auto* q = queue(e.campaign_id))
                     q->hold = std::string(campaign_status::paused);
                 },
                 [&](const CampaignResumed& e) {
                   if (auto* q = queue(e.campaign_id)) q->hold.reset();
                 },
                 [&](const CampaignCancelled& e) { org.queues.erase(e.campaign_id.value); },
                 [&](const CampaignDiscarded& e) {
                   if (org.month == e.month)
                     org.month_messages = std::max<int64_t>(0, org.month_messages - e.messages);
                   org.messages -= e.messages;
                 },
                 // The other capabilities' events, MessagesQueued and RecipientsSuppressed aside.
                 [&](const NoneOf<CampaignEvents> auto&) {},
             },
             event);
}

std::vector<Event> due_campaigns(const DeciderConfig& config, const OrgState& org, TimePoint at) {
  std::vector<Event> out;
  for (const auto& [id, q] : org.queues)
    if (q.hold == std::string(campaign_status::scheduled) && q.scheduled_at &&
        *q.scheduled_at <= at)
      out.push_back(CampaignStarted{CampaignId{id}, at + config.gateway.message_ttl});
  return out;
}

std::optional<TimePoint> campaign_deadline(const DeciderConfig& config, const CampaignQueue& q) {
  if (q.hold == campaign_status::scheduled) return q.scheduled_at;
  return draft_deadline(config, q);
}

CampaignQueue* CampaignQueues::edit(const std::string& id) {
  auto it = map_.find(id);
  if (it == map_.end()) return nullptr;
  changed(id);
  return &it->second;
}

CampaignQueue& CampaignQueues::put(const std::string& id, CampaignQueue q) {
  changed(id);
  return map_[id] = std::move(q);
}

void CampaignQueues::erase(const std::string& id) {
  changed(id);
  map_.erase(id);
}

std::optional<TimePoint> CampaignQueues::earliest(const DeciderConfig& config) const {
  auto index = [&](const std::string& id, const CampaignQueue& q) {
    if (auto t = queue_deadline(config, q)) {
      due_.emplace(id, *t);
      by_due_.emplace(*t, id);
    }
  };
  if (all_dirty_ || indexed_for_ != &config) {
    due_.clear();
    by_due_.clear();
    for (const auto& [id, q] : map_) index(id, q);
    all_dirty_ = false;
    indexed_for_ = &config;
  } else {
    for (const auto& id : dirty_) {
      if (auto old = due_.find(id); old != due_.end()) {
        by_due_.erase({old->second, id});
        due_.erase(old);
      }
      if (auto q = map_.find(id); q != map_.end()) index(id, q->second);
    }
  }
  dirty_.clear();
  if (by_due_.empty()) return std::nullopt;
  return by_due_.begin()->first;
}

}  // namespace pulse::commands
