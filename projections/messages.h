#pragma once
// Projections beside the views: message indexes (by status, by phone) and the organisation's daily
// counters, opt-outs, campaign extras (suppressed recipients, pinned device), idempotency keys.
// The gateway projector (gateway.cpp) keeps the status index, the timeline and the sent/
// delivered/failed counters as messages change.
#include <string>

#include "projections/read_model.h"

namespace pulse::projections {

// Applies what these projections keep of an event (every event passes here; most are no-ops).
void apply_messages(ReadModelTx& tx, const EventEnvelope& env);

// The organisation's counters of a day (zero when it had no activity yet).
DayStatsView day_stats(ReadModelTx& tx, const OrgId& org, std::string_view day);
// A campaign's extras (none yet: zero suppressed, no pinned device).
CampaignExtrasView campaign_extras(ReadModelTx& tx, const OrgId& org, const CampaignId& id);
// The message's index entries (by status, by phone). `old_status` empty: a new message.
void index_message(ReadModelTx& tx, const OrgId& org, const MessageId& id, std::string_view phone,
                   std::string_view old_status, std::string_view status);

// "2026-11-22" for any time that UTC day.
std::string utc_day_of(TimePoint t);

}  // namespace pulse::projections
