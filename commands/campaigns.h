#pragma once
// Campaigns on contact lists and scheduled sends: the HTTP layer's stateless checks and
// rendering, and the decider's part (drafts that hand nothing out, launch, schedule, the
// clock's start, pause/resume/cancel).
#include <optional>
#include <string>
#include <vector>

#include "commands/decider.h"
#include "domain/campaigns.h"
#include "domain/contacts.h"
#include "domain/result.h"

namespace pulse::commands {

inline constexpr Millis kMaxScheduleAhead{30LL * 24 * 3600'000};

// scheduledAt must be in the future and at most 30 days ahead of `now`.
Status check_schedule(TimePoint scheduled_at, TimePoint now);

// One message per contact, the template rendered with contact_vars; a 400 naming the contact
// when a rendered body is invalid (empty, too long), and (unless `missing` says empty) one
// naming a variable that is none of the contacts' fields (firstName, lastName, name, phone,
// email, and the custom fields any contact of the list has).
Result<std::vector<CampaignMessage>> render_messages(const std::string& message,
                                                     const std::vector<Contact>& contacts,
                                                     MissingVariables missing);

Result<std::vector<Event>> decide_campaign(const DeciderConfig& config, const DeciderState& state,
                                           const CommandEnvelope& cmd);
// Applies a campaign event (a no-op for others); MessagesQueued advances a draft's fill.
// `at` is the event's time (a draft's last progress).
void evolve_campaigns(OrgState& org, const Event& event, TimePoint at);

// Cancels a draft that was never launched: fails the messages it queued, gives them back to the
// quota (CampaignDiscarded) and cancels it. `reason`: "abandoned" | "cancelled".
std::vector<Event> discard_draft(const std::string& campaign, const CampaignQueue& q, TimePoint at,
                                 std::string_view reason);
// The drafts whose filling made no progress for config.gateway.draft_timeout by `at`: discarded
// by the clock (their request died).
std::vector<Event> abandoned_drafts(const DeciderConfig& config, const OrgState& org, TimePoint at);

// CampaignStarted for every scheduled campaign whose time has come.
std::vector<Event> due_campaigns(const DeciderConfig& config, const OrgState& org, TimePoint at);
// When the clock next has to act on one campaign of its own accord: its draft times out or
// its scheduled start comes (queue_deadline adds its expiry; CampaignQueues keeps the earliest
// over every campaign, for next_deadline after every command of the organisation).
std::optional<TimePoint> campaign_deadline(const DeciderConfig& config, const CampaignQueue& q);

}  // namespace pulse::commands
