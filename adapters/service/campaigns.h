#pragma once
// Campaigns: creating one from a contact list (POST /api/campaigns), the draft → chunks →
// launch workflow that a scheduled send shares, and the pause/resume/cancel controls.
#include <optional>
#include <string>
#include <vector>

#include "adapters/service/ports.h"
#include "domain/campaigns.h"

namespace pulse::service {

// Drafts, queues in chunks of kMaxCampaignMessagesPerCommand and launches one campaign. Past the
// draft, a failure cancels the half-filled campaign (best effort) and says so in the error.
Status run_campaign(const Deps& d, const OrgId& org, const DraftCampaign& draft,
                    const std::vector<CampaignMessage>& messages);

struct NewCampaign {
  std::string name;
  std::string message;  // the template
  std::string contact_list_id;
  std::optional<std::string> scheduled_at;  // ISO 8601; absent: now
  MissingVariables missing_variables = MissingVariables::refuse;
};
// Validates, snapshots the list as it is now, renders every message and runs the campaign;
// returns the campaign as it is once launched.
Result<projections::CampaignView> create_campaign(const Deps& d, const OrgId& org,
                                                  const NewCampaign& in);

enum class CampaignAction { pause, resume, cancel };
// Returns the campaign after the control was applied.
Result<projections::CampaignView> control_campaign(const Deps& d, const OrgId& org,
                                                   const std::string& id, CampaignAction action);

// The campaign `id` of `org`; 404 when it is malformed or unknown.
Result<projections::CampaignView> find_campaign(const Deps& d, const OrgId& org,
                                                const std::string& id);

}  // namespace pulse::service
