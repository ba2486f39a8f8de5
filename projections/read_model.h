#pragma once
// The read models the HTTP query layer serves, and the pure projector that builds them from
// events. The projector sees the store only through ReadModelTx, so it needs no I/O; the
// RocksDB adapter batches its writes with the consumed offset in one WriteBatch.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/events.h"
#include "domain/ids.h"
#include "domain/plans.h"
#include "domain/time.h"
#include "projections/contact_views.h"
#include "projections/webhook_views.h"

namespace pulse::projections {

// Message lifecycle: queued -> sending -> sent -> delivered | failed.
inline constexpr std::string_view kQueued = "queued";

struct CampaignView {
  static constexpr std::string_view kType = "CampaignView";
  static constexpr int kVersion = 1;
  CampaignId id;
  std::string name;
  std::string source;   // "api" | "campaign"
  std::string message;  // the template
  std::string status;   // draft | scheduled | running | paused | completed | cancelled
  int32_t total_messages = 0;
  int32_t queued_count = 0;
  int32_t sending_count = 0;
  int32_t sent_count = 0;  // messages that reached "sent" (delivered and failed-after-sent too)
  int32_t delivered_count = 0;
  int32_t failed_count = 0;
  int64_t segments = 0;
  TimePoint created_at;
  TimePoint updated_at;
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> completed_at;
  // The contact list snapshotted (empty for POST /api/sms/send), and the start time.
  std::string contact_list_id;
  std::string contact_list_name;
  int32_t contact_count = 0;
  std::optional<TimePoint> scheduled_at;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("id", s.id), f("name", s.name), f("source", s.source), f("message", s.message),
        f("status", s.status), f("totalMessages", s.total_messages),
        f("queuedCount", s.queued_count), f("sendingCount", s.sending_count, field::defaulted),
        f("sentCount", s.sent_count), f("deliveredCount", s.delivered_count),
        f("failedCount", s.failed_count), f("segments", s.segments), f("createdAt", s.created_at),
        f("updatedAt", s.updated_at), f("startedAt", s.started_at),
        f("completedAt", s.completed_at), f("contactListId", s.contact_list_id, field::defaulted),
        f("contactListName", s.contact_list_name, field::defaulted),
        f("contactCount", s.contact_count, field::defaulted), f("scheduledAt", s.scheduled_at);
  }
  auto operator<=>(const CampaignView&) const = default;
};

struct MessageView {
  static constexpr std::string_view kType = "MessageView";
  static constexpr int kVersion = 1;
  MessageId id;
  CampaignId campaign_id;
  std::string phone;
  std::string contact_name;
  std::string body;
  std::string status;
  std::string encoding;
  int32_t segments = 1;
  TimePoint created_at;
  TimePoint updated_at;
  std::optional<TimePoint> sent_at;
  std::optional<TimePoint> delivered_at;
  std::optional<std::string> error;
  std::optional<std::string> device_id;  // the device that holds or sent it
  std::optional<int32_t> sim_slot;
  int32_t attempts = 0;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("id", s.id), f("campaignId", s.campaign_id), f("phone", s.phone),
        f("contactName", s.contact_name, field::defaulted), f("body", s.body),
        f("status", s.status), f("encoding", s.encoding), f("segments", s.segments),
        f("createdAt", s.created_at), f("updatedAt", s.updated_at), f("sentAt", s.sent_at),
        f("deliveredAt", s.delivered_at), f("error", s.error), f("deviceId", s.device_id),
        f("simSlot", s.sim_slot), f("attempts", s.attempts, field::defaulted);
  }
  auto operator<=>(const MessageView&) const = default;
};

// A refused command, kept so the request that is waiting for it (on any API node) can answer.
struct CommandOutcome {
  static constexpr std::string_view kType = "CommandOutcome";
  static constexpr int kVersion = 1;
  std::string command_type;
  Errc code = Errc::validation;
  std::string error;
  std::string details;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("commandType", s.command_type), f("code", s.code), f("error", s.error),
        f("details", s.details, field::defaulted);
  }
  auto operator<=>(const CommandOutcome&) const = default;
};

// ---- accounts ---------------------------------------------------------------------------

struct UserView {
  static constexpr std::string_view kType = "UserView";
  static constexpr int kVersion = 1;
  UserId id;
  std::string email;
  std::string name;
  std::string password_hash;
  OrgId default_org;
  TimePoint created_at;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("id", s.id), f("email", s.email), f("name", s.name), f("passwordHash", s.password_hash),
        f("defaultOrgId", s.default_org), f("createdAt", s.created_at);
  }
  auto operator<=>(const UserView&) const = default;
};

struct OrganizationView {
  static constexpr std::string_view kType = "OrganizationView";
  static constexpr int kVersion = 1;
  OrgId id;
  std::string name;
  Plan plan = Plan::free;
  UserId owner;
  TimePoint created_at;
  TimePoint updated_at;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("id", s.id), f("name", s.name), f("plan", s.plan), f("ownerUserId", s.owner),
        f("createdAt", s.created_at), f("updatedAt", s.updated_at);
  }
  auto operator<=>(const OrganizationView&) const = default;
};

struct MembershipView {
  static constexpr std::string_view kType = "MembershipView";
  static constexpr int kVersion = 1;
  UserId user;
  OrgId org;
  std::string role;  // "owner"
  TimePoint created_at;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("userId", s.user), f("orgId", s.org), f("role", s.role), f("createdAt", s.created_at);
  }
  auto operator<=>(const MembershipView&) const = default;
};

struct ApiKeyView {
  static constexpr std::string_view kType = "ApiKeyView";
  static constexpr int kVersion = 1;
  ApiKeyId id;
  OrgId org;
  std::string name;
  std::string hint;
  std::string key_hash;
  std::string created_by;
  TimePoint created_at;
  std::optional<TimePoint> revoked_at;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("id", s.id), f("orgId", s.org), f("name", s.name), f("hint", s.hint),
        f("keyHash", s.key_hash), f("createdBy", s.created_by), f("createdAt", s.created_at),
        f("revokedAt", s.revoked_at);
  }
  auto operator<=>(const ApiKeyView&) const = default;
};

// ---- gateways -----------------------------------------------------------------------------

struct DeviceView {
  static constexpr std::string_view kType = "DeviceView";
  static constexpr int kVersion = 1;
  DeviceId id;
  OrgId org;
  std::string name;
  std::string model;
  std::string os_version;
  std::string app_version;
  std::vector<SimCard> sims;
  std::vector<int32_t> sending_slots;
  std::string status = "offline";  // online | offline
  int64_t sms_sent = 0;
  std::optional<TimePoint> last_seen_at;
  std::optional<int32_t> battery;
  std::optional<int32_t> signal;
  std::string credential_hash;
  TimePoint created_at;
  TimePoint updated_at;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("id", s.id), f("orgId", s.org), f("name", s.name), f("model", s.model),
        f("osVersion", s.os_version), f("appVersion", s.app_version), f("sims", s.sims),
        f("sendingSlots", s.sending_slots), f("status", s.status), f("smsSent", s.sms_sent),
        f("lastSeenAt", s.last_seen_at), f("battery", s.battery), f("signal", s.signal),
        f("credentialHash", s.credential_hash), f("createdAt", s.created_at),
        f("updatedAt", s.updated_at);
  }
  auto operator<=>(const DeviceView&) const = default;
};

// Global indexes by hash: a pairing token's organisation, a device token's device.
struct PairingView {
  static constexpr std::string_view kType = "PairingView";
  static constexpr int kVersion = 1;
  std::string token_hash;
  OrgId org;
  TimePoint expires_at;
  bool used = false;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("tokenHash", s.token_hash), f("orgId", s.org), f("expiresAt", s.expires_at),
        f("used", s.used);
  }
  auto operator<=>(const PairingView&) const = default;
};

struct DeviceCredentialView {
  static constexpr std::string_view kType = "DeviceCredentialView";
  static constexpr int kVersion = 1;
  std::string credential_hash;
  OrgId org;
  DeviceId device;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("credentialHash", s.credential_hash), f("orgId", s.org), f("deviceId", s.device);
  }
  auto operator<=>(const DeviceCredentialView&) const = default;
};

// The reports of one ReportStatus command that were not accepted.
struct ReportRejectionsView {
  static constexpr std::string_view kType = "ReportRejectionsView";
  static constexpr int kVersion = 1;
  std::vector<FailedMessage> reports;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("reports", s.reports);
  }
};

// What one ClaimMessages command handed to its device, for the request waiting on it.
struct ClaimView {
  static constexpr std::string_view kType = "ClaimView";
  static constexpr int kVersion = 1;
  int32_t sim_slot = 0;
  TimePoint lease_until;
  std::vector<ClaimedMessage> messages;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("simSlot", s.sim_slot), f("leaseUntil", s.lease_until), f("messages", s.messages);
  }
};

// Messages queued across an organisation's campaigns (for the gateways' long poll).
struct QueueView {
  static constexpr std::string_view kType = "QueueView";
  static constexpr int kVersion = 1;
  int64_t queued = 0;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("queued", s.queued);
  }
  auto operator<=>(const QueueView&) const = default;
};

// ---- opt-outs, message history, stats, idempotency (issue 5) ------------------------------

struct OptOutView {
  static constexpr std::string_view kType = "OptOutView";
  static constexpr int kVersion = 1;
  std::string phone;
  std::string reason;
  std::string source;  // "api" | "reply"
  TimePoint created_at;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("phone", s.phone), f("reason", s.reason), f("source", s.source), f("createdAt", s.created_at);
  }
  auto operator<=>(const OptOutView&) const = default;
};

// One state change of a message (its timeline; "queued" is its creation, not stored here).
struct TimelineEntry {
  static constexpr std::string_view kType = "TimelineEntry";
  static constexpr int kVersion = 1;
  std::string status;  // sending | queued (requeued) | sent | delivered | failed
  TimePoint at;        // when it happened (the phone's time for its reports)
  std::optional<std::string> device_id;
  std::optional<int32_t> sim_slot;
  std::optional<int32_t> attempt;
  std::optional<std::string> error;  // a failure's error, a requeue's reason
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("status", s.status), f("at", s.at), f("deviceId", s.device_id), f("simSlot", s.sim_slot),
        f("attempt", s.attempt), f("error", s.error);
  }
  auto operator<=>(const TimelineEntry&) const = default;
};

// Counters of one organisation for one UTC day (the day the projector applied the change).
struct DayStatsView {
  static constexpr std::string_view kType = "DayStatsView";
  static constexpr int kVersion = 1;
  std::string day;  // "2026-11-22"
  int64_t queued = 0;
  int64_t sent = 0;  // went out (delivered and failed-after-sent included)
  int64_t delivered = 0;
  int64_t failed = 0;
  int64_t suppressed = 0;
  int64_t segments = 0;  // of the messages queued
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("day", s.day), f("queued", s.queued), f("sent", s.sent), f("delivered", s.delivered),
        f("failed", s.failed), f("suppressed", s.suppressed), f("segments", s.segments);
  }
  auto operator<=>(const DayStatsView&) const = default;
};

// What a campaign has beside CampaignView: the recipients skipped and the pinned device.
struct CampaignExtrasView {
  static constexpr std::string_view kType = "CampaignExtrasView";
  static constexpr int kVersion = 1;
  CampaignId id;
  int32_t suppressed = 0;
  std::optional<std::string> device_id;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("id", s.id), f("suppressed", s.suppressed), f("deviceId", s.device_id);
  }
  auto operator<=>(const CampaignExtrasView&) const = default;
};

// An accepted send's Idempotency-Key and the answer repeated requests get.
struct IdempotencyView {
  static constexpr std::string_view kType = "IdempotencyView";
  static constexpr int kVersion = 1;
  std::string key;
  std::string request_hash;
  CampaignId campaign_id;
  int32_t recipient_count = 0;
  TimePoint expires_at;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("key", s.key), f("requestHash", s.request_hash), f("campaignId", s.campaign_id),
        f("recipientCount", s.recipient_count), f("expiresAt", s.expires_at);
  }
  auto operator<=>(const IdempotencyView&) const = default;
};

// Keys are prefixed by organisation (or, for a user's own records, by user): a read can't
// cross tenants by construction.
class ReadModelTx {
 public:
  virtual ~ReadModelTx() = default;
  virtual void put_user(const UserView& v) = 0;
  virtual std::optional<OrganizationView> organization(const OrgId& org) = 0;
  virtual void put_organization(const OrganizationView& v) = 0;
  virtual void put_membership(const MembershipView& v) = 0;
  virtual std::optional<ApiKeyView> api_key(const OrgId& org, const ApiKeyId& id) = 0;
  virtual void put_api_key(const ApiKeyView& v) = 0;
  virtual std::optional<DeviceView> device(const OrgId& org, const DeviceId& id) = 0;
  virtual void put_device(const DeviceView& v) = 0;
  virtual void delete_device(const DeviceView& v) = 0;  // and its credential index
  virtual std::optional<PairingView> pairing(std::string_view token_hash) = 0;
  virtual void put_pairing(const PairingView& v) = 0;
  virtual void put_rejections(const OrgId& org, const CommandId& id,
                              const ReportRejectionsView& v) = 0;
  virtual void put_claim(const OrgId& org, const CommandId& id, const ClaimView& v) = 0;
  virtual QueueView queue(const OrgId& org) = 0;
  virtual void put_queue(const OrgId& org, const QueueView& v) = 0;
  virtual std::optional<CampaignView> campaign(const OrgId& org, const CampaignId& id) = 0;
  virtual void put_campaign(const OrgId& org, const CampaignView& view) = 0;
  virtual std::optional<MessageView> message(const OrgId& org, const MessageId& id) = 0;
  virtual void put_message(const OrgId& org, const MessageView& view) = 0;
  virtual void put_outcome(const OrgId& org, const CommandId& id, const CommandOutcome& o) = 0;
  // ---- issue 5: contact lists
  virtual std::optional<ContactListView> contact_list(const OrgId& org,
                                                      const ContactListId& id) = 0;
  virtual void put_contact_list(const OrgId& org, const ContactListView& v) = 0;
  virtual void delete_contact_list(const OrgId& org, const ContactListId& id) = 0;  // + contacts
  virtual std::optional<ContactView> contact(const OrgId& org, const ContactListId& list,
                                             std::string_view phone) = 0;
  virtual void put_contact(const OrgId& org, const ContactListId& list, const ContactView& v) = 0;
  virtual void delete_contact(const OrgId& org, const ContactListId& list,
                              std::string_view phone) = 0;
  // ---- issue 5 ----
  virtual std::optional<OptOutView> opt_out(const OrgId& org, std::string_view phone) = 0;
  virtual void put_opt_out(const OrgId& org, const OptOutView& v) = 0;
  virtual void delete_opt_out(const OrgId& org, std::string_view phone) = 0;
  // The message's index entries (by status, by phone). `old_status` empty: a new message.
  virtual void index_message(const OrgId& org, const MessageId& id, std::string_view phone,
                             std::string_view old_status, std::string_view status) = 0;
  // Entries sort by their event's position; `k` tells apart entries of one event.
  virtual void put_timeline(const OrgId& org, const MessageId& id, const EventSource& source,
                            int32_t k, const TimelineEntry& e) = 0;
  virtual DayStatsView day_stats(const OrgId& org, std::string_view day) = 0;
  virtual void put_day_stats(const OrgId& org, const DayStatsView& v) = 0;
  virtual CampaignExtrasView campaign_extras(const OrgId& org, const CampaignId& id) = 0;
  virtual void put_campaign_extras(const OrgId& org, const CampaignExtrasView& v) = 0;
  virtual void put_idempotency(const OrgId& org, const IdempotencyView& v) = 0;
  // ---- webhooks (issue 6)
  virtual WebhookSet webhooks(const OrgId& org) = 0;
  virtual void put_webhooks(const OrgId& org, const WebhookSet& v) = 0;
  virtual void put_outbox(const OutboxRecord& r) = 0;
};

// Applies one event. Events must come in log order; duplicates are dropped by the runner.
void apply(ReadModelTx& tx, const EventEnvelope& event);

// The campaign a message id belongs to (message ids are derived from their campaign's id).
std::optional<CampaignId> campaign_of(const MessageId& id);

}  // namespace pulse::projections
