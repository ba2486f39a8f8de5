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
#include "domain/time.h"

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
  int32_t sent_count = 0;  // messages that reached "sent" (delivered and failed-after-sent too)
  int32_t delivered_count = 0;
  int32_t failed_count = 0;
  int64_t segments = 0;
  TimePoint created_at;
  TimePoint updated_at;
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> completed_at;
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
  auto operator<=>(const CommandOutcome&) const = default;
};

// Every key is prefixed by organisation: a read can't cross tenants by construction.
class ReadModelTx {
 public:
  virtual ~ReadModelTx() = default;
  virtual std::optional<CampaignView> campaign(const OrgId& org, const CampaignId& id) = 0;
  virtual void put_campaign(const OrgId& org, const CampaignView& view) = 0;
  virtual std::optional<MessageView> message(const OrgId& org, const MessageId& id) = 0;
  virtual void put_message(const OrgId& org, const MessageView& view) = 0;
  virtual void put_outcome(const OrgId& org, const CommandId& id, const CommandOutcome& o) = 0;
};

// Applies one event. Events must come in log order; duplicates are dropped by the runner.
void apply(ReadModelTx& tx, const EventEnvelope& event);

// The campaign a message id belongs to (message ids are derived from their campaign's id).
std::optional<CampaignId> campaign_of(const MessageId& id);

}  // namespace pulse::projections
