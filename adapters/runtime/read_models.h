#pragma once
// The read-model store (data/views): key layout, the projector's transaction over it, and the
// queries the HTTP layer serves. Every key starts with a kind and the organisation id.
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

namespace keys {
std::string campaign(const OrgId& org, const CampaignId& id);
std::string campaign_prefix(const OrgId& org);
std::string message(const OrgId& org, const MessageId& id);
std::string campaign_messages_prefix(const OrgId& org, const CampaignId& id);
std::string outcome(const OrgId& org, const CommandId& id);
std::string projector_position(Partition p);
std::string user_by_email(std::string_view email);
std::string user_by_id(const UserId& id);
std::string organization(const OrgId& org);
std::string membership(const UserId& user, const OrgId& org);
std::string memberships_prefix(const UserId& user);
std::string api_key(const OrgId& org, const ApiKeyId& id);
std::string api_keys_prefix(const OrgId& org);
std::string api_key_by_hash(std::string_view hash);
std::string device(const OrgId& org, const DeviceId& id);
std::string devices_prefix(const OrgId& org);
std::string pairing(std::string_view token_hash);
std::string device_credential(std::string_view credential_hash);
std::string rejections(const OrgId& org, const CommandId& id);
std::string queue(const OrgId& org);
std::string claim(const OrgId& org, const CommandId& id);
// issue 5
std::string contact_list(const OrgId& org, const ContactListId& id);
std::string contact_lists_prefix(const OrgId& org);
std::string contact(const OrgId& org, const ContactListId& list, std::string_view phone);
std::string contacts_prefix(const OrgId& org, const ContactListId& list);
std::string opt_out(const OrgId& org, std::string_view phone);
std::string opt_outs_prefix(const OrgId& org);
std::string messages_prefix(const OrgId& org);
std::string message_by_status_prefix(const OrgId& org, std::string_view status);
std::string message_by_phone_prefix(const OrgId& org, std::string_view phone);
std::string timeline_prefix(const OrgId& org, const MessageId& id);
std::string day_stats(const OrgId& org, std::string_view day);
std::string day_stats_prefix(const OrgId& org);
std::string campaign_extras(const OrgId& org, const CampaignId& id);
std::string idempotency(const OrgId& org, std::string_view key);
// webhooks (issue 6)
std::string webhooks(const OrgId& org);
std::string outbox_prefix(Partition p);
std::string outbox(const projections::OutboxRecord& r);
}  // namespace keys

// GET /api/messages: filters, newest first.
struct MessageQuery {
  std::optional<std::string> status;
  std::optional<CampaignId> campaign;
  std::optional<std::string> phone;  // E.164
  std::optional<TimePoint> from;     // createdAt >= from
  std::optional<TimePoint> to;       // createdAt < to
  std::optional<MessageId> cursor;   // strictly older than this message
  size_t limit = 50;
};
struct MessagePage {
  std::vector<projections::MessageView> messages;
  std::optional<std::string> next_cursor;  // more may follow
};

class ReadModels {
 public:
  explicit ReadModels(store::KvStore& kv) : kv_(kv) {}

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

  // ---- issue 5
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
  // issue 5
  Result<std::optional<projections::OptOutView>> opt_out(const OrgId& org, std::string_view phone);
  // By phone, at most `limit`, strictly after `after` when given.
  Result<std::vector<projections::OptOutView>> opt_outs(const OrgId& org, size_t limit,
                                                        const std::optional<std::string>& after);
  // Reads one index (campaign, phone, status, or the organisation's time order: the most
  // selective the query allows) and filters on the rest; visits at most a bounded number of
  // entries per page, so a page may come back short with a cursor to continue.
  Result<MessagePage> messages(const OrgId& org, const MessageQuery& q);
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
};

// The projector's view of the store during one batch; writes stay pending in the overlay
// until the runner commits them with the new positions.
class ReadModelBatch final : public projections::ReadModelTx {
 public:
  explicit ReadModelBatch(store::KvStore& kv) : overlay_(kv) {}

  std::optional<projections::CampaignView> campaign(const OrgId& org,
                                                    const CampaignId& id) override;
  void put_campaign(const OrgId& org, const projections::CampaignView& v) override;
  std::optional<projections::MessageView> message(const OrgId& org, const MessageId& id) override;
  void put_message(const OrgId& org, const projections::MessageView& v) override;
  void put_outcome(const OrgId& org, const CommandId& id,
                   const projections::CommandOutcome& o) override;
  void put_position(Partition p, const ProjectorPosition& pos);

  void put_user(const projections::UserView& v) override;
  std::optional<projections::OrganizationView> organization(const OrgId& org) override;
  void put_organization(const projections::OrganizationView& v) override;
  void put_membership(const projections::MembershipView& v) override;
  std::optional<projections::ApiKeyView> api_key(const OrgId& org, const ApiKeyId& id) override;
  void put_api_key(const projections::ApiKeyView& v) override;
  std::optional<projections::DeviceView> device(const OrgId& org, const DeviceId& id) override;
  void put_device(const projections::DeviceView& v) override;
  void delete_device(const projections::DeviceView& v) override;
  std::optional<projections::PairingView> pairing(std::string_view token_hash) override;
  void put_pairing(const projections::PairingView& v) override;
  void put_rejections(const OrgId& org, const CommandId& id,
                      const projections::ReportRejectionsView& v) override;
  void put_claim(const OrgId& org, const CommandId& id, const projections::ClaimView& v) override;
  projections::QueueView queue(const OrgId& org) override;
  void put_queue(const OrgId& org, const projections::QueueView& v) override;
  std::optional<projections::ContactListView> contact_list(const OrgId& org,
                                                           const ContactListId& id) override;
  void put_contact_list(const OrgId& org, const projections::ContactListView& v) override;
  void delete_contact_list(const OrgId& org, const ContactListId& id) override;
  std::optional<projections::ContactView> contact(const OrgId& org, const ContactListId& list,
                                                  std::string_view phone) override;
  void put_contact(const OrgId& org, const ContactListId& list,
                   const projections::ContactView& v) override;
  void delete_contact(const OrgId& org, const ContactListId& list, std::string_view phone) override;
  std::optional<projections::OptOutView> opt_out(const OrgId& org, std::string_view phone) override;
  void put_opt_out(const OrgId& org, const projections::OptOutView& v) override;
  void delete_opt_out(const OrgId& org, std::string_view phone) override;
  void index_message(const OrgId& org, const MessageId& id, std::string_view phone,
                     std::string_view old_status, std::string_view status) override;
  void put_timeline(const OrgId& org, const MessageId& id, const EventSource& source, int32_t k,
                    const projections::TimelineEntry& e) override;
  projections::DayStatsView day_stats(const OrgId& org, std::string_view day) override;
  void put_day_stats(const OrgId& org, const projections::DayStatsView& v) override;
  projections::CampaignExtrasView campaign_extras(const OrgId& org, const CampaignId& id) override;
  void put_campaign_extras(const OrgId& org, const projections::CampaignExtrasView& v) override;
  void put_idempotency(const OrgId& org, const projections::IdempotencyView& v) override;
  projections::WebhookSet webhooks(const OrgId& org) override;
  void put_webhooks(const OrgId& org, const projections::WebhookSet& v) override;
  void put_outbox(const projections::OutboxRecord& r) override;

  store::Overlay& overlay() { return overlay_; }
  // This batch wrote outbox records (the dispatcher has work).
  bool wrote_outbox() const { return wrote_outbox_; }

 private:
  store::Overlay overlay_;
  bool wrote_outbox_ = false;
};

std::string encode_position(const ProjectorPosition& p);
Result<ProjectorPosition> decode_position(std::string_view json);

}  // namespace pulse::runtime
