#pragma once
// The read-model store (data/views): the projector's transaction over it, and the queries the
// HTTP layer serves. The key spaces are declared with the views (projections/read_model.h).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapters/store/kv_store.h"
#include "domain/events.h"
#include "projections/read_model.h"

namespace pulse::runtime {

// Where the projector stands on one event partition. Stored with the read models it produced.
struct ProjectorPosition {
  int64_t next_offset = 0;          // the next event offset to read
  std::optional<EventSource> last;  // the last event applied (duplicates are <= it)
  int64_t watermark = -1;           // every command <= this has all its events applied
};

// Where the projector's position on a partition is stored (beside the read models).
std::string position_key(Partition p);

// GET /api/messages: filters, newest first.
struct MessageQuery {
  std::optional<std::string> status;
  std::optional<CampaignId> campaign;
  std::optional<std::string> phone;      // E.164
  std::optional<TimePoint> from;         // createdAt >= from
  std::optional<TimePoint> to;           // createdAt < to
  std::optional<MessageId> cursor;       // strictly older than this message
  std::optional<std::string> direction;  // "inbound" | "outbound"
  size_t limit = 50;
};
struct ConversationPage {
  std::vector<projections::ConversationView> conversations;  // newest first
  std::optional<std::string> next_cursor;                    // more may follow
};
struct MessagePage {
  std::vector<projections::MessageView> messages;
  std::optional<std::string> next_cursor;  // more may follow
};

class ReadModels {
 public:
  explicit ReadModels(store::KvStore& kv);

  Result<std::optional<projections::CampaignView>> campaign(const OrgId& org, const CampaignId& id);
  // Newest first, at most `limit`, strictly older than `before` when given.
  Result<std::vector<projections::CampaignView>> campaigns(const OrgId& org, size_t limit,
                                                           const std::optional<CampaignId>& before);
  // In creation order, at most `limit`, strictly after `after` when given.
  Result<std::vector<projections::MessageView>> campaign_messages(
      const OrgId& org, const CampaignId& id, size_t limit, const std::optional<MessageId>& after);
  Result<std::optional<projections::CommandOutcome>> outcome(const OrgId& org, const CommandId& id);
  Result<ProjectorPosition> position(Partition p);

  Result<std::optional<projections::UserView>> user_by_email(std::string_view email);
  Result<std::optional<projections::UserView>> user(const UserId& id);
  Result<std::optional<projections::OrganizationView>> organization(const OrgId& org);
  // Organisations registered or claimed whose creation is not in the log yet.
  Result<std::vector<projections::PendingOrganizationView>> pending_organizations();
  Result<std::vector<projections::PendingPlanView>> pending_plans();
  Result<std::optional<projections::MembershipView>> membership(const UserId& user,
                                                                const OrgId& org);
  Result<std::vector<projections::MembershipView>> memberships(const UserId& user);
  Result<std::optional<projections::ApiKeyView>> api_key(const OrgId& org, const ApiKeyId& id);
  Result<std::vector<projections::ApiKeyView>> api_keys(const OrgId& org);
  Result<std::optional<projections::ApiKeyView>> api_key_by_hash(std::string_view hash);
  Result<std::optional<projections::MessageView>> message(const OrgId& org, const MessageId& id);
  Result<std::optional<projections::DeviceView>> device(const OrgId& org, const DeviceId& id);
  Result<std::vector<projections::DeviceView>> devices(const OrgId& org);
  Result<std::optional<projections::PairingView>> pairing(std::string_view token_hash);
  Result<std::optional<projections::DeviceCredentialView>> device_credential(
      std::string_view credential_hash);
  Result<std::optional<projections::ReportRejectionsView>> rejections(const OrgId& org,
                                                                      const CommandId& id);
  Result<projections::QueueView> queue(const OrgId& org);
  Result<std::optional<projections::ClaimView>> claim(const OrgId& org, const CommandId& id);
  Result<projections::WebhookSet> webhooks(const OrgId& org);

  // Oldest first, at most `limit`, strictly after `after` when given.
  Result<std::vector<projections::ContactListView>> contact_lists(
      const OrgId& org, size_t limit, const std::optional<ContactListId>& after);
  Result<std::optional<projections::ContactListView>> contact_list(const OrgId& org,
                                                                   const ContactListId& id);
  Result<std::optional<projections::ContactView>> contact(const OrgId& org,
                                                          const ContactListId& list,
                                                          std::string_view phone);
  // By phone, at most `limit` (0: all), strictly after the phone `after` when given.
  Result<std::vector<projections::ContactView>> contacts(const OrgId& org,
                                                         const ContactListId& list, size_t limit,
                                                         const std::optional<std::string>& after);
  // Newest first like campaigns(), only those whose status is `status`.
  Result<std::vector<projections::CampaignView>> campaigns_with_status(
      const OrgId& org, size_t limit, const std::optional<CampaignId>& before,
      std::string_view status);
  Result<std::optional<projections::OptOutView>> opt_out(const OrgId& org, std::string_view phone);
  // By phone, at most `limit`, strictly after `after` when given.
  Result<std::vector<projections::OptOutView>> opt_outs(const OrgId& org, size_t limit,
                                                        const std::optional<std::string>& after);
  // Reads one index (campaign, phone, status, or the organisation's time order: the most
  // selective the query allows) and filters on the rest; visits at most a bounded number of
  // entries per page, so a page may come back short with a cursor to continue.
  Result<MessagePage> messages(const OrgId& org, const MessageQuery& q);
  // By the last message received, newest first; `cursor` is a page's next_cursor.
  Result<ConversationPage> conversations(const OrgId& org, size_t limit,
                                         const std::optional<std::string>& cursor);
  Result<std::optional<projections::VerificationView>> verification(const OrgId& org,
                                                                    std::string_view id);
  Result<std::optional<projections::VerificationView>> latest_verification(const OrgId& org,
                                                                           std::string_view phone);
  Result<std::optional<projections::ConversationView>> conversation(const OrgId& org,
                                                                    std::string_view phone);
  // The newest message to or from `phone`, of either direction.
  Result<std::optional<projections::MessageView>> last_message(const OrgId& org,
                                                               std::string_view phone);
  Result<std::vector<projections::TimelineEntry>> timeline(const OrgId& org, const MessageId& id);
  // Days from..to inclusive ("2026-11-01"), only those with activity.
  Result<std::vector<projections::DayStatsView>> day_stats(const OrgId& org, std::string_view from,
                                                           std::string_view to);
  Result<std::optional<projections::CampaignExtrasView>> campaign_extras(const OrgId& org,
                                                                         const CampaignId& id);
  Result<std::optional<projections::IdempotencyView>> idempotency(const OrgId& org,
                                                                  std::string_view key);

  store::KvStore& kv() { return kv_; }

 private:
  store::KvStore& kv_;
  const projections::ValueCodec& codec_;
};

// The projector's store during one batch: writes stay pending in the overlay until the runner
// commits them with the new positions; reads see them first.
class OverlayKv : public projections::Kv {
 public:
  explicit OverlayKv(store::KvStore& kv) : base_(kv), overlay_(kv) {}
  Result<std::optional<std::string>> get(std::string_view key) override;
  Status scan(std::string_view prefix, std::string_view start, bool reverse,
              const Visit& visit) override;
  void put(std::string key, std::string value) override;
  void erase(std::string key) override;
  Status erase_prefix(std::string_view prefix) override;

  store::Overlay& overlay() { return overlay_; }
  // This batch wrote outbox records (the dispatcher has work).
  bool wrote_outbox() const { return wrote_outbox_; }

 private:
  store::KvStore& base_;
  store::Overlay overlay_;
  bool wrote_outbox_ = false;
};

// The projector's transaction over one batch (OverlayKv first: it must exist before the
// transaction that writes to it).
class ReadModelBatch final : private OverlayKv, public projections::ReadModelTx {
 public:
  explicit ReadModelBatch(store::KvStore& kv);
  using OverlayKv::overlay;
  using OverlayKv::wrote_outbox;
  void put_position(Partition p, const ProjectorPosition& pos);
};

std::string encode_position(const ProjectorPosition& p);
Result<ProjectorPosition> decode_position(std::string_view json);

}  // namespace pulse::runtime
