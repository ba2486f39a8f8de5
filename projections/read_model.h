#pragma once
// The read models the HTTP query layer serves, their key spaces, and the pure projector that
// builds them from events. The projector sees the store only through ReadModelTx over a Kv, so
// it needs no I/O; the RocksDB adapter batches its writes with the consumed offset in one
// WriteBatch.
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "domain/events.h"
#include "domain/ids.h"
#include "domain/plans.h"
#include "domain/time.h"
#include "projections/contact_views.h"
#include "projections/table.h"
#include "projections/webhook_views.h"

namespace pulse::projections {

// Message lifecycle: queued -> sending -> sent -> delivered | failed.
inline constexpr std::string_view kQueued = "queued";
// The status of every message a phone received (direction "inbound").
inline constexpr std::string_view kReceived = "received";

struct CampaignView {
  static constexpr std::string_view kType = "CampaignView";
  static constexpr int kVersion = 2;  // v2: stalledSince
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
  // Since when no online device may send its waiting messages (CampaignStalled); unset again
  // when one may (CampaignUnstalled).
  std::optional<TimePoint> stalled_since;
  // Its queued messages while it is stalled: waiting for a device.
  int32_t waiting_for_device() const { return stalled_since ? queued_count : 0; }
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
        f("contactCount", s.contact_count, field::defaulted), f("scheduledAt", s.scheduled_at),
        f("stalledSince", s.stalled_since, field::omit_empty);
  }
  auto operator<=>(const CampaignView&) const = default;
};

struct MessageView {
  static constexpr std::string_view kType = "MessageView";
  static constexpr int kVersion = 4;  // v2: country, phoneType; v3: direction, replyTo, receivedAt;
                                      // v4: sealedBody
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
  std::optional<std::string> country;  // the phone's, when it was classified (v2)
  std::optional<std::string> phone_type;
  // An SMS a phone received (status "received"): from `phone`, to `device_id`'s `sim_slot`,
  // answering `reply_to` (a message of `campaign_id`) when one was linked. Empty: outbound.
  std::optional<std::string> direction;
  std::optional<std::string> reply_to;
  std::optional<TimePoint> received_at;  // the phone's time
  // The body in clear, sealed: `body` shows it masked (a verification code). Opened only to
  // hand the message to a phone; never shown.
  std::optional<SealedValue> sealed_body;
  bool inbound() const { return direction == kInbound; }
  static constexpr std::string_view kInbound = "inbound";
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("id", s.id), f("campaignId", s.campaign_id), f("phone", s.phone),
        f("contactName", s.contact_name, field::defaulted), f("body", s.body),
        f("status", s.status), f("encoding", s.encoding), f("segments", s.segments),
        f("createdAt", s.created_at), f("updatedAt", s.updated_at), f("sentAt", s.sent_at),
        f("deliveredAt", s.delivered_at), f("error", s.error), f("deviceId", s.device_id),
        f("simSlot", s.sim_slot), f("attempts", s.attempts, field::defaulted),
        f("country", s.country, field::omit_empty), f("phoneType", s.phone_type, field::omit_empty),
        f("direction", s.direction, field::omit_empty), f("replyTo", s.reply_to, field::omit_empty),
        f("receivedAt", s.received_at, field::omit_empty),
        f("sealedBody", s.sealed_body, field::omit_empty);
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
  std::optional<QuotaState> quota;
  std::optional<int64_t> retry_after;  // seconds (a throttled request)
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("commandType", s.command_type), f("code", s.code), f("error", s.error),
        f("details", s.details, field::defaulted), f("quota", s.quota, field::omit_empty),
        f("retryAfter", s.retry_after, field::omit_empty);
  }
  auto operator<=>(const CommandOutcome&) const = default;
};

// ---- accounts ---------------------------------------------------------------------------

struct UserView {
  static constexpr std::string_view kType = "UserView";
  static constexpr int kVersion = 2;  // v2: plan
  UserId id;
  std::string email;
  std::string name;
  std::string password_hash;
  OrgId default_org;
  TimePoint created_at;
  // The account's plan, which its organisations take; unset until an operator set one (its
  // organisations keep theirs).
  std::optional<Plan> plan;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("id", s.id), f("email", s.email), f("name", s.name), f("passwordHash", s.password_hash),
        f("defaultOrgId", s.default_org), f("createdAt", s.created_at),
        f("plan", s.plan, field::omit_empty);
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

// An organisation a user registered or claimed whose CreateOrganization is not in the log yet:
// the process manager (adapters/runtime/workflows.h) appends it. Kept in any order of the two
// partitions: the organisation's creation removes it, and it is not added once that is there.
struct PendingOrganizationView {
  static constexpr std::string_view kType = "PendingOrganizationView";
  static constexpr int kVersion = 1;
  OrgId org;
  std::string name;
  UserId owner;
  std::optional<NewApiKey> first_key;
  TimePoint since;  // the time of the command that registered or claimed it
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("org", s.org), f("name", s.name), f("ownerUserId", s.owner),
        f("firstKey", s.first_key, field::omit_empty), f("since", s.since);
  }
  auto operator<=>(const PendingOrganizationView&) const = default;
};

// An organisation whose plan is not its owner's account plan yet: the service sets it right after
// the account's change or the organisation's creation, and the process manager
// (finish_pending_plans) when that request died. Removed when the organisation has the plan.
struct PendingPlanView {
  static constexpr std::string_view kType = "PendingPlanView";
  static constexpr int kVersion = 1;
  OrgId org;
  Plan plan = Plan::free;
  TimePoint since;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("org", s.org), f("plan", s.plan), f("since", s.since);
  }
  auto operator<=>(const PendingPlanView&) const = default;
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

// One contact's conversation: every number that wrote to the organisation has one. Its messages
// (both directions) are the phone index's; this holds what the list shows and where replies go.
struct ConversationView {
  static constexpr std::string_view kType = "ConversationView";
  static constexpr int kVersion = 1;
  std::string phone;
  std::string contact_name;    // of the message the last reply answered, when linked
  TimePoint last_received_at;  // its time (server's): the list's order, newest first
  int32_t received = 0;        // messages received
  int32_t unread = 0;          // received since the conversation was last marked read
  std::string device_id;       // the phone (and SIM) it last wrote to: replies leave from them
  std::optional<int32_t> sim_slot;
  TimePoint created_at;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("phone", s.phone), f("contactName", s.contact_name, field::defaulted),
        f("lastReceivedAt", s.last_received_at), f("received", s.received), f("unread", s.unread),
        f("deviceId", s.device_id), f("simSlot", s.sim_slot), f("createdAt", s.created_at);
  }
  auto operator<=>(const ConversationView&) const = default;
};

// A phone verification request (domain/verify.h). Its status is as the log left it: "expired"
// is not stored (a pending request past expires_at shows as expired when read).
struct VerificationView {
  static constexpr std::string_view kType = "VerificationView";
  static constexpr int kVersion = 1;
  std::string id;  // "vrf_…"
  std::string to;
  std::string status;  // pending | approved | failed | cancelled
  int32_t code_length = 0;
  int32_t attempts = 0;
  int32_t sends = 0;                       // SMS sent: the first and the resends
  CampaignId campaign_id;                  // the send of the newest SMS
  std::string salt;                        // for hashing a submitted code
  std::optional<std::string> approved_by;  // the check that approved it
  TimePoint expires_at;
  TimePoint created_at;
  TimePoint updated_at;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("id", s.id), f("to", s.to), f("status", s.status), f("codeLength", s.code_length),
        f("attempts", s.attempts), f("sends", s.sends), f("campaignId", s.campaign_id),
        f("salt", s.salt), f("approvedBy", s.approved_by, field::omit_empty),
        f("expiresAt", s.expires_at), f("createdAt", s.created_at), f("updatedAt", s.updated_at);
  }
  auto operator<=>(const VerificationView&) const = default;
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
  static constexpr int kVersion = 2;  // v2: replies
  CampaignId id;
  int32_t suppressed = 0;
  std::optional<std::string> device_id;
  int32_t replies = 0;  // received messages linked to one of its messages
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("id", s.id), f("suppressed", s.suppressed), f("deviceId", s.device_id),
        f("replies", s.replies, field::defaulted);
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

// ---- key spaces: where each view is stored ----------------------------------------------
// Every key starts with its kind. Keys are prefixed by organisation (or, for a user's own
// records, by user): a read can't cross tenants by construction. Global indexes by hash
// (users by email, API keys, pairing and device tokens) sit beside them.
namespace table {

inline std::string join(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

inline Key<CampaignView> campaign(const OrgId& org, const CampaignId& id) {
  return {join({"c", org.value, id.value})};
}
inline Prefix<CampaignView> campaigns(const OrgId& org) {
  return {join({"c", org.value, ""})};
}
inline Key<MessageView> message(const OrgId& org, const MessageId& id) {
  return {join({"m", org.value, id.value})};
}
// The organisation's messages in time order (their ids are made from the time).
inline Prefix<MessageView> messages(const OrgId& org) {
  return {join({"m", org.value, ""})};
}
// Message ids are msg_<campaign body><index>: one campaign's messages are contiguous.
Prefix<MessageView> campaign_messages(const OrgId& org, const CampaignId& id);
// Index entries "<prefix><message id>" (no value) of the messages with a status, to a phone.
inline Prefix<NoValue> messages_by_status(const OrgId& org, std::string_view status) {
  return {join({"ms", org.value, status, ""})};
}
inline Prefix<NoValue> messages_by_phone(const OrgId& org, std::string_view phone) {
  return {join({"mp", org.value, phone, ""})};
}
inline Prefix<TimelineEntry> timeline(const OrgId& org, const MessageId& id) {
  return {join({"mh", org.value, id.value, ""})};
}
// Entries sort by their event's position; `k` tells apart entries of one event.
Key<TimelineEntry> timeline_entry(const OrgId& org, const MessageId& id, const EventSource& source,
                                  int32_t k);
inline Key<CommandOutcome> outcome(const OrgId& org, const CommandId& id) {
  return {join({"o", org.value, id.value})};
}
inline Key<UserView> user_by_email(std::string_view email) {
  return {join({"u", email})};
}
inline Key<UserView> user_by_id(const UserId& id) {
  return {join({"ui", id.value})};
}
inline Key<OrganizationView> organization(const OrgId& org) {
  return {join({"org", org.value})};
}
inline Key<PendingOrganizationView> pending_organization(const OrgId& org) {
  return {join({"porg", org.value})};
}
inline Prefix<PendingOrganizationView> pending_organizations() {
  return {"porg/"};
}
inline Key<PendingPlanView> pending_plan(const OrgId& org) {
  return {join({"pplan", org.value})};
}
inline Prefix<PendingPlanView> pending_plans() {
  return {"pplan/"};
}
inline Key<MembershipView> membership(const UserId& user, const OrgId& org) {
  return {join({"mem", user.value, org.value})};
}
inline Prefix<MembershipView> memberships(const UserId& user) {
  return {join({"mem", user.value, ""})};
}
inline Key<ApiKeyView> api_key(const OrgId& org, const ApiKeyId& id) {
  return {join({"k", org.value, id.value})};
}
inline Prefix<ApiKeyView> api_keys(const OrgId& org) {
  return {join({"k", org.value, ""})};
}
inline Key<ApiKeyView> api_key_by_hash(std::string_view hash) {
  return {join({"kh", hash})};
}
inline Key<DeviceView> device(const OrgId& org, const DeviceId& id) {
  return {join({"d", org.value, id.value})};
}
inline Prefix<DeviceView> devices(const OrgId& org) {
  return {join({"d", org.value, ""})};
}
inline Key<PairingView> pairing(std::string_view token_hash) {
  return {join({"pt", token_hash})};
}
inline Key<DeviceCredentialView> device_credential(std::string_view credential_hash) {
  return {join({"dt", credential_hash})};
}
inline Key<ReportRejectionsView> rejections(const OrgId& org, const CommandId& id) {
  return {join({"rr", org.value, id.value})};
}
inline Key<QueueView> queue(const OrgId& org) {
  return {join({"q", org.value})};
}
inline Key<ClaimView> claim(const OrgId& org, const CommandId& id) {
  return {join({"cl", org.value, id.value})};
}
inline Key<ContactListView> contact_list(const OrgId& org, const ContactListId& id) {
  return {join({"ls", org.value, id.value})};
}
inline Prefix<ContactListView> contact_lists(const OrgId& org) {
  return {join({"ls", org.value, ""})};
}
inline Key<ContactView> contact(const OrgId& org, const ContactListId& list,
                                std::string_view phone) {
  return {join({"lc", org.value, list.value, phone})};
}
inline Prefix<ContactView> contacts(const OrgId& org, const ContactListId& list) {
  return {join({"lc", org.value, list.value, ""})};
}
// The contacts an open CSV import staged (ContactsStaged), by phone: not part of any list until
// its ContactImportCompleted moves them in, and dropped when it is discarded.
inline Key<ContactView> staged_contact(const OrgId& org, std::string_view import_id,
                                       std::string_view phone) {
  return {join({"li", org.value, import_id, phone})};
}
inline Prefix<ContactView> staged_contacts(const OrgId& org, std::string_view import_id) {
  return {join({"li", org.value, import_id, ""})};
}
inline Key<OptOutView> opt_out(const OrgId& org, std::string_view phone) {
  return {join({"oo", org.value, phone})};
}
inline Prefix<OptOutView> opt_outs(const OrgId& org) {
  return {join({"oo", org.value, ""})};
}
inline Key<DayStatsView> day_stats(const OrgId& org, std::string_view day) {
  return {join({"sd", org.value, day})};
}
inline Prefix<DayStatsView> day_stats_all(const OrgId& org) {
  return {join({"sd", org.value, ""})};
}
inline Key<CampaignExtrasView> campaign_extras(const OrgId& org, const CampaignId& id) {
  return {join({"cx", org.value, id.value})};
}
inline Key<ConversationView> conversation(const OrgId& org, std::string_view phone) {
  return {join({"cv", org.value, phone})};
}
// Entries "<prefix><13-digit unix ms of the last received message>/<phone>" (no value).
inline Prefix<NoValue> conversations_by_time(const OrgId& org) {
  return {join({"ct", org.value, ""})};
}
inline Key<VerificationView> verification(const OrgId& org, std::string_view id) {
  return {join({"vf", org.value, id})};
}
// Entries "<prefix><request id>" (no value): a number's requests, oldest first (ids sort by time).
inline Prefix<NoValue> verifications_of(const OrgId& org, std::string_view phone) {
  return {join({"vn", org.value, phone, ""})};
}
inline Key<IdempotencyView> idempotency(const OrgId& org, std::string_view key) {
  return {join({"ik", org.value, key})};
}
inline Key<WebhookSet> webhooks(const OrgId& org) {
  return {join({"wh", org.value})};
}
// Every partition's outbox; a partition's, in log order (the dispatcher reads it in order).
inline Prefix<OutboxRecord> outboxes() {
  return {"wo/"};
}
Prefix<OutboxRecord> outbox(Partition p);
Key<OutboxRecord> outbox_record(const OutboxRecord& r);

}  // namespace table

// Every type stored in the read models (the adapters provide its codec).
using ValueCodec =
    CodecSet<CampaignView, MessageView, CommandOutcome, UserView, OrganizationView, MembershipView,
             ApiKeyView, DeviceView, PairingView, DeviceCredentialView, ReportRejectionsView,
             ClaimView, QueueView, ContactListView, ContactView, OptOutView, TimelineEntry,
             DayStatsView, CampaignExtrasView, IdempotencyView, WebhookSet, OutboxRecord,
             PendingOrganizationView, ConversationView, VerificationView, PendingPlanView>;

// The projector's transaction: typed reads and writes over a Kv. A read that fails means the
// store is broken; the projector stops (projector_store_failed).
class ReadModelTx {
 public:
  ReadModelTx(Kv& kv, const ValueCodec& codec) : kv_(kv), codec_(codec) {}

  template <class V>
  std::optional<V> get(const Key<V>& key) {
    auto v = get_value(kv_, codec_, key);
    if (!v) projector_store_failed("read of", key.bytes, v.error());
    return std::move(v).value();
  }
  template <class V>
  void put(const Key<V>& key, const V& value) {
    kv_.put(key.bytes, encode_value(codec_, value));
  }
  template <class V>
  void erase(const Key<V>& key) {
    kv_.erase(key.bytes);
  }
  template <class V>
  void erase(const Prefix<V>& prefix) {
    if (auto st = kv_.erase_prefix(prefix.bytes); !st)
      projector_store_failed("scan of", prefix.bytes, st.error());
  }
  // The keys under `prefix` within `range` (an index's entries).
  template <class V>
  std::vector<std::string> keys(const Prefix<V>& prefix, const ScanRange& range) {
    std::vector<std::string> out;
    auto page = scan_page(kv_, codec_, prefix, range, [&](std::string_view key, const V&) {
      out.emplace_back(key);
      return true;
    });
    if (!page) projector_store_failed("scan of", prefix.bytes, page.error());
    return out;
  }
  template <class V>
  std::vector<V> scan(const Prefix<V>& prefix) {
    auto all = scan_all(kv_, codec_, prefix);
    if (!all) projector_store_failed("scan of", prefix.bytes, all.error());
    return std::move(all).value();
  }

 private:
  Kv& kv_;
  const ValueCodec& codec_;
};

// Applies one event. Events must come in log order; duplicates are dropped by the runner.
void apply(ReadModelTx& tx, const EventEnvelope& event);

// The campaign a message id belongs to (message ids are derived from their campaign's id).
std::optional<CampaignId> campaign_of(const MessageId& id);

}  // namespace pulse::projections
