#include "adapters/service/campaigns.h"

#include <algorithm>

#include "adapters/service/errors.h"
#include "commands/campaigns.h"
#include "commands/contacts.h"
#include "fmt/format.h"

namespace pulse::service {

Status run_campaign(const Deps& d, const OrgId& org, const DraftCampaign& draft,
                    const std::vector<CampaignMessage>& messages) {
  if (auto st = d.log.execute(org, draft); !st) return st;
  // Past the draft, a failure leaves a half-filled campaign: cancel it (the log orders the cancel
  // after anything already appended) and say which one it was. When this process dies instead,
  // the decider's clock discards the draft once its filling stopped for the draft timeout.
  auto abandon = [&](Error e) -> Status {
    auto cancelled = d.log.execute(org, ControlCampaign{draft.campaign_id, "cancel"});
    if (!cancelled) {  // the clock may have discarded it already
      auto view = d.reads.campaign(org, draft.campaign_id);
      if (view && *view && (*view)->status == campaign_status::cancelled) cancelled = ok_status();
    }
    e.details = fmt::format("{} (campaign {} {})", e.details, draft.campaign_id.value,
                            cancelled ? "was cancelled: nothing of it is sent"
                                      : "is left as a draft until the draft timeout discards it");
    return e;
  };
  for (size_t k = 0; k < messages.size(); k += kMaxCampaignMessagesPerCommand) {
    const auto end = std::min(messages.size(), k + kMaxCampaignMessagesPerCommand);
    QueueCampaignMessages chunk{draft.campaign_id,
                                static_cast<int32_t>(k),
                                {messages.begin() + static_cast<ptrdiff_t>(k),
                                 messages.begin() + static_cast<ptrdiff_t>(end)}};
    if (auto st = d.log.execute(org, std::move(chunk)); !st) return abandon(st.error());
  }
  if (auto st = d.log.execute(org, LaunchCampaign{draft.campaign_id}); !st)
    return abandon(st.error());
  return ok_status();
}

Result<projections::CampaignView> find_campaign(const Deps& d, const OrgId& org,
                                                const std::string& id) {
  const Error missing = not_found("Campaign not found");
  if (!is_valid_id(id_prefix::campaign, id)) return missing;
  return present_or(d.reads.campaign(org, CampaignId{id}), missing);
}

Result<projections::CampaignView> create_campaign(const Deps& d, const OrgId& org,
                                                  const NewCampaign& in) {
  if (auto st = commands::check_list_name(in.name); !st)
    return validation_error("Invalid campaign name", "name must be 1 to 200 characters");
  const auto now = d.clock.now();
  auto scheduled = parse_schedule(in.scheduled_at, now);
  if (!scheduled) return scheduled.error();
  const Error no_list = not_found("Contact list not found");
  if (!is_valid_id(id_prefix::contact_list, in.contact_list_id)) return no_list;
  const ContactListId list_id{in.contact_list_id};
  auto list = d.reads.contact_list(org, list_id);
  if (!list) return list.error();
  if (!*list) return no_list;
  // The snapshot: the list as it is now; later changes to it don't touch this campaign.
  auto contacts = d.reads.contacts(org, list_id);
  if (!contacts) return contacts.error();
  if (contacts->empty())
    return validation_error("The contact list is empty",
                            "add contacts to it or import a CSV file first");
  std::vector<Contact> snapshot;
  snapshot.reserve(contacts->size());
  for (auto& c : *contacts) snapshot.push_back(std::move(c.contact));
  auto messages = commands::render_messages(in.message, snapshot, in.missing_variables);
  if (!messages) return messages.error();
  const CampaignId id{make_id(id_prefix::campaign, now, d.secrets.random64())};
  const auto n = static_cast<int32_t>(messages->size());
  const DraftCampaign draft{.campaign_id = id,
                            .name = in.name,
                            .source = "campaign",
                            .message = in.message,
                            .contact_list_id = list_id.value,
                            .contact_list_name = (*list)->name,
                            .contact_count = n,
                            .total_messages = n,
                            .scheduled_at = *scheduled};
  if (auto st = run_campaign(d, org, draft, *messages); !st) return st.error();
  return find_campaign(d, org, id.value);
}

Result<projections::CampaignView> control_campaign(const Deps& d, const OrgId& org,
                                                   const std::string& id, CampaignAction action) {
  auto c = find_campaign(d, org, id);
  if (!c) return c.error();
  const char* verb = action == CampaignAction::pause    ? "pause"
                     : action == CampaignAction::resume ? "resume"
                                                        : "cancel";
  if (auto st = d.log.execute(org, ControlCampaign{c->id, verb}); !st) return st.error();
  return find_campaign(d, org, c->id.value);
}

}  // namespace pulse::service
