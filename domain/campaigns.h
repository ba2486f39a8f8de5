#pragma once
// Campaigns on contact lists and scheduled sends. A campaign is built in steps, each
// one command: DraftCampaign (a queue that hands nothing out), QueueCampaignMessages (chunks of
// at most 500 rendered messages), then LaunchCampaign (running now, or scheduled: the clock
// starts it). ControlCampaign pauses, resumes or cancels it.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/fields.h"
#include "domain/ids.h"
#include "domain/time.h"
#include "domain/type_list.h"

namespace pulse {

inline constexpr size_t kMaxCampaignMessagesPerCommand = 500;

// Campaign statuses (CampaignView::status).
namespace campaign_status {
inline constexpr std::string_view draft = "draft";
inline constexpr std::string_view scheduled = "scheduled";
inline constexpr std::string_view running = "running";
inline constexpr std::string_view paused = "paused";
inline constexpr std::string_view completed = "completed";
inline constexpr std::string_view cancelled = "cancelled";
}  // namespace campaign_status

// The error of messages a cancel took out of the queue.
inline constexpr std::string_view kCancelledError = "cancelled";

struct DraftCampaign {
  static constexpr std::string_view kType = "DraftCampaign";
  static constexpr int kVersion = 1;
  CampaignId campaign_id;
  std::string name;
  std::string source;           // "campaign" (POST /api/campaigns) | "api" (POST /api/sms/send)
  std::string message;          // the template
  std::string contact_list_id;  // empty for "api"
  std::string contact_list_name;
  int32_t contact_count = 0;  // the list's size when it was snapshotted
  int32_t total_messages = 0;
  std::optional<TimePoint> scheduled_at;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("campaignId", s.campaign_id), f("name", s.name), f("source", s.source),
        f("message", s.message), f("contactListId", s.contact_list_id),
        f("contactListName", s.contact_list_name), f("contactCount", s.contact_count),
        f("totalMessages", s.total_messages), f("scheduledAt", s.scheduled_at);
  }
};

struct CampaignMessage {
  std::string phone;  // E.164
  std::string contact_name;
  std::string body;                    // rendered for this contact
  std::optional<std::string> country;  // the contact's (absent before v2)
  std::optional<std::string> phone_type;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("phone", s.phone), f("recipientName", s.contact_name), f("body", s.body),
        f("country", s.country, field::omit_empty), f("phoneType", s.phone_type, field::omit_empty);
  }
};

// Messages first_index.. of a draft campaign (message ids derive from the campaign and index).
struct QueueCampaignMessages {
  static constexpr std::string_view kType = "QueueCampaignMessages";
  static constexpr int kVersion = 2;  // v2: messages' country and phoneType
  CampaignId campaign_id;
  int32_t first_index = 0;
  std::vector<CampaignMessage> messages;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("campaignId", s.campaign_id), f("firstIndex", s.first_index), f("messages", s.messages);
  }
};

// A fully queued draft starts now, or at its scheduledAt when that is later.
struct LaunchCampaign {
  static constexpr std::string_view kType = "LaunchCampaign";
  static constexpr int kVersion = 1;
  CampaignId campaign_id;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("campaignId", s.campaign_id);
  }
};

// POST /api/campaigns/{id}/pause|resume|cancel.
struct ControlCampaign {
  static constexpr std::string_view kType = "ControlCampaign";
  static constexpr int kVersion = 1;
  CampaignId campaign_id;
  std::string action;  // "pause" | "resume" | "cancel"
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("campaignId", s.campaign_id), f("action", s.action);
  }
};

struct CampaignDrafted {
  static constexpr std::string_view kType = "CampaignDrafted";
  static constexpr int kVersion = 1;
  CampaignId campaign_id;
  std::string name;
  std::string source;
  std::string message;
  std::string contact_list_id;
  std::string contact_list_name;
  int32_t contact_count = 0;
  int32_t total_messages = 0;
  std::optional<TimePoint> scheduled_at;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("campaignId", s.campaign_id), f("name", s.name), f("source", s.source),
        f("message", s.message), f("contactListId", s.contact_list_id),
        f("contactListName", s.contact_list_name), f("contactCount", s.contact_count),
        f("totalMessages", s.total_messages), f("scheduledAt", s.scheduled_at);
  }
};

struct CampaignScheduled {
  static constexpr std::string_view kType = "CampaignScheduled";
  static constexpr int kVersion = 1;
  CampaignId campaign_id;
  TimePoint scheduled_at;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("campaignId", s.campaign_id), f("scheduledAt", s.scheduled_at);
  }
};

// The campaign's messages may be handed out from now on (webhooks: campaign.started).
struct CampaignStarted {
  static constexpr std::string_view kType = "CampaignStarted";
  static constexpr int kVersion = 1;
  CampaignId campaign_id;
  TimePoint expires_at;  // messages not sent by then fail
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("campaignId", s.campaign_id), f("expiresAt", s.expires_at);
  }
};

struct CampaignPaused {
  static constexpr std::string_view kType = "CampaignPaused";
  static constexpr int kVersion = 1;
  CampaignId campaign_id;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("campaignId", s.campaign_id);
  }
};

struct CampaignResumed {
  static constexpr std::string_view kType = "CampaignResumed";
  static constexpr int kVersion = 1;
  CampaignId campaign_id;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("campaignId", s.campaign_id);
  }
};

// Follows the MessagesFailed (error "cancelled") of every message still queued. Messages
// leased at that moment may still report; nothing is handed out any more.
struct CampaignCancelled {
  static constexpr std::string_view kType = "CampaignCancelled";
  static constexpr int kVersion = 1;
  CampaignId campaign_id;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("campaignId", s.campaign_id);
  }
};

// A draft cancelled before it was launched: the request filling it died (the clock discards it
// once its filling stopped for the draft timeout) or gave up. Between the MessagesFailed
// (error "cancelled") of the messages it had queued and its CampaignCancelled. Those messages
// were never going to be sent: they leave the month's quota (of `month`) and the queued and
// failed counters of /api/stats.
struct CampaignDiscarded {
  static constexpr std::string_view kType = "CampaignDiscarded";
  static constexpr int kVersion = 1;
  CampaignId campaign_id;
  int32_t messages = 0;  // queued before it stopped, now given back
  std::string month;     // "2026-11": the UTC month whose quota counted them
  std::string reason;    // "abandoned" (its filling stopped) | "cancelled" (its request gave up)
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("campaignId", s.campaign_id), f("messages", s.messages), f("month", s.month),
        f("reason", s.reason);
  }
};

using CampaignCommands =
    Types<DraftCampaign, QueueCampaignMessages, LaunchCampaign, ControlCampaign>;
using CampaignEvents = Types<CampaignDrafted, CampaignScheduled, CampaignStarted, CampaignPaused,
                             CampaignResumed, CampaignCancelled, CampaignDiscarded>;

}  // namespace pulse
