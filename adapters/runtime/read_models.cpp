#include "adapters/runtime/read_models.h"

#include <simdjson.h>

#include "adapters/codec/value_codec.h"
#include "domain/json_writer.h"
#include "fmt/format.h"

namespace pulse::runtime {

namespace table = projections::table;
using projections::Key;
using projections::Prefix;
using projections::ScanRange;

std::string position_key(Partition p) {
  return fmt::format("_p/{:05}", p.value);
}

std::string encode_position(const ProjectorPosition& p) {
  JsonWriter w;
  w.begin_object().field("type", "ProjectorPosition").field("v", 1);
  w.field("nextOffset", p.next_offset);
  w.key("last");
  if (p.last)
    w.value(event_id(*p.last));
  else
    w.null();
  w.field("watermark", p.watermark).end_object();
  return w.take();
}

Result<ProjectorPosition> decode_position(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  auto corrupt = [&](std::string_view what) {
    return Error{Errc::internal, "Corrupt record", fmt::format("ProjectorPosition: {}", what)};
  };
  if (parser.parse(json.data(), json.size()).get(doc)) return corrupt("invalid JSON");
  int64_t v = 0;
  if (doc["v"].get_int64().get(v)) return corrupt("v is missing");
  if (v != 1)
    return Error{Errc::internal, "Unsupported record version",
                 fmt::format("ProjectorPosition v{}: this build reads up to v1", v)};
  ProjectorPosition p;
  if (doc["nextOffset"].get_int64().get(p.next_offset)) return corrupt("nextOffset");
  if (doc["watermark"].get_int64().get(p.watermark)) return corrupt("watermark");
  std::string_view last;
  if (!doc["last"].get_string().get(last)) {
    p.last = parse_event_id(last);
    if (!p.last) return corrupt("last");
  }
  return p;
}

ReadModels::ReadModels(store::KvStore& kv) : kv_(kv), codec_(codec::value_codec()) {}

namespace {
template <class V>
bool keep_all(std::string_view /*key*/, const V& /*value*/) {
  return true;
}

// A page of values, or its error.
template <class V>
Result<std::vector<V>> values(Result<projections::ScanPage<V>> page) {
  if (!page) return page.error();
  return std::move(page->values);
}
}  // namespace

Result<std::optional<projections::CampaignView>> ReadModels::campaign(const OrgId& org,
                                                                      const CampaignId& id) {
  return get_value(kv_, codec_, table::campaign(org, id));
}

Result<std::vector<projections::CampaignView>> ReadModels::campaigns(
    const OrgId& org, size_t limit, const std::optional<CampaignId>& before) {
  return campaigns_with_status(org, limit, before, {});
}

Result<std::vector<projections::MessageView>> ReadModels::campaign_messages(
    const OrgId& org, const CampaignId& id, size_t limit, const std::optional<MessageId>& after) {
  ScanRange range;
  if (after) range.start = table::message(org, *after).bytes;
  range.limit = limit;
  return values(scan_page(kv_, codec_, table::campaign_messages(org, id), range,
                          keep_all<projections::MessageView>));
}

Result<std::optional<projections::CommandOutcome>> ReadModels::outcome(const OrgId& org,
                                                                       const CommandId& id) {
  return get_value(kv_, codec_, table::outcome(org, id));
}

Result<ProjectorPosition> ReadModels::position(Partition p) {
  auto raw = kv_.get(position_key(p));
  if (!raw) return raw.error();
  if (!raw->has_value()) return ProjectorPosition{};
  return decode_position(**raw);
}

Result<std::optional<projections::UserView>> ReadModels::user_by_email(std::string_view email) {
  return get_value(kv_, codec_, table::user_by_email(email));
}

Result<std::optional<projections::UserView>> ReadModels::user(const UserId& id) {
  return get_value(kv_, codec_, table::user_by_id(id));
}

Result<std::optional<projections::OrganizationView>> ReadModels::organization(const OrgId& org) {
  return get_value(kv_, codec_, table::organization(org));
}

Result<std::vector<projections::PendingOrganizationView>> ReadModels::pending_organizations() {
  return scan_all(kv_, codec_, table::pending_organizations());
}

Result<std::vector<projections::PendingPlanView>> ReadModels::pending_plans() {
  return scan_all(kv_, codec_, table::pending_plans());
}

Result<std::optional<projections::MembershipView>> ReadModels::membership(const UserId& user,
                                                                          const OrgId& org) {
  return get_value(kv_, codec_, table::membership(user, org));
}

Result<std::vector<projections::MembershipView>> ReadModels::memberships(const UserId& user) {
  return scan_all(kv_, codec_, table::memberships(user));
}

Result<std::optional<projections::ApiKeyView>> ReadModels::api_key(const OrgId& org,
                                                                   const ApiKeyId& id) {
  return get_value(kv_, codec_, table::api_key(org, id));
}

Result<std::vector<projections::ApiKeyView>> ReadModels::api_keys(const OrgId& org) {
  return scan_all(kv_, codec_, table::api_keys(org));
}

Result<std::optional<projections::ApiKeyView>> ReadModels::api_key_by_hash(std::string_view hash) {
  return get_value(kv_, codec_, table::api_key_by_hash(hash));
}

Result<std::optional<projections::MessageView>> ReadModels::message(const OrgId& org,
                                                                    const MessageId& id) {
  return get_value(kv_, codec_, table::message(org, id));
}

Result<std::optional<projections::DeviceView>> ReadModels::device(const OrgId& org,
                                                                  const DeviceId& id) {
  return get_value(kv_, codec_, table::device(org, id));
}

Result<std::vector<projections::DeviceView>> ReadModels::devices(const OrgId& org) {
  return scan_all(kv_, codec_, table::devices(org));
}

Result<std::optional<projections::PairingView>> ReadModels::pairing(std::string_view token_hash) {
  return get_value(kv_, codec_, table::pairing(token_hash));
}

Result<std::optional<projections::DeviceCredentialView>> ReadModels::device_credential(
    std::string_view credential_hash) {
  return get_value(kv_, codec_, table::device_credential(credential_hash));
}

Result<std::optional<projections::ReportRejectionsView>> ReadModels::rejections(
    const OrgId& org, const CommandId& id) {
  return get_value(kv_, codec_, table::rejections(org, id));
}

Result<projections::QueueView> ReadModels::queue(const OrgId& org) {
  auto q = get_value(kv_, codec_, table::queue(org));
  if (!q) return q.error();
  return q->value_or(projections::QueueView{});
}

Result<std::optional<projections::ClaimView>> ReadModels::claim(const OrgId& org,
                                                                const CommandId& id) {
  return get_value(kv_, codec_, table::claim(org, id));
}

Result<std::vector<projections::ContactListView>> ReadModels::contact_lists(
    const OrgId& org, size_t limit, const std::optional<ContactListId>& after) {
  ScanRange range;
  if (after) range.start = table::contact_list(org, *after).bytes;
  range.limit = limit;
  return values(scan_page(kv_, codec_, table::contact_lists(org), range,
                          keep_all<projections::ContactListView>));
}

Result<std::optional<projections::ContactListView>> ReadModels::contact_list(
    const OrgId& org, const ContactListId& id) {
  return get_value(kv_, codec_, table::contact_list(org, id));
}

Result<std::optional<projections::ContactView>> ReadModels::contact(const OrgId& org,
                                                                    const ContactListId& list,
                                                                    std::string_view phone) {
  return get_value(kv_, codec_, table::contact(org, list, phone));
}

Result<std::vector<projections::ContactView>> ReadModels::contacts(
    const OrgId& org, const ContactListId& list, size_t limit,
    const std::optional<std::string>& after) {
  ScanRange range;
  if (after) range.start = table::contact(org, list, *after).bytes;
  range.limit = limit;
  return values(scan_page(kv_, codec_, table::contacts(org, list), range,
                          keep_all<projections::ContactView>));
}

Result<std::vector<projections::CampaignView>> ReadModels::campaigns_with_status(
    const OrgId& org, size_t limit, const std::optional<CampaignId>& before,
    std::string_view status) {
  // Reverse from the cursor, skipping the cursor itself: strictly older. No status: all.
  ScanRange range;
  if (before) range.start = table::campaign(org, *before).bytes;
  range.reverse = true;
  range.limit = limit;
  return values(scan_page(kv_, codec_, table::campaigns(org), range,
                          [&](std::string_view, const projections::CampaignView& c) {
                            return status.empty() || c.status == status;
                          }));
}

Result<projections::WebhookSet> ReadModels::webhooks(const OrgId& org) {
  auto v = get_value(kv_, codec_, table::webhooks(org));
  if (!v) return v.error();
  return v->value_or(projections::WebhookSet{});
}

namespace {
// Visited index entries per page, so a filter that matches little can't hold a request long.
constexpr size_t kMaxScanPerPage = 5000;
// A message is queued at most this long after its campaign's id was made (scheduling), so its
// id's time bounds how far back a time range must look.
constexpr Millis kMaxQueueDelay{32LL * 24 * 3600'000};

// "msg_" + the 10 time characters of `t`: ids made at or after t sort at or after it.
std::string message_id_floor(TimePoint t) {
  const auto id = make_id(id_prefix::message, t, 0);
  return id.substr(0, id_prefix::message.size() + 1 + 10);
}
}  // namespace

Result<std::optional<projections::OptOutView>> ReadModels::opt_out(const OrgId& org,
                                                                   std::string_view phone) {
  return get_value(kv_, codec_, table::opt_out(org, phone));
}

Result<std::vector<projections::OptOutView>> ReadModels::opt_outs(
    const OrgId& org, size_t limit, const std::optional<std::string>& after) {
  ScanRange range;
  if (after) range.start = table::opt_out(org, *after).bytes;
  range.limit = limit;
  return values(
      scan_page(kv_, codec_, table::opt_outs(org), range, keep_all<projections::OptOutView>));
}

Result<MessagePage> ReadModels::messages(const OrgId& org, const MessageQuery& q) {
  // The index: the campaign and time orders hold message views; the status and phone indexes
  // hold entries without a value (the view is read by id).
  std::optional<Prefix<projections::MessageView>> views;
  std::optional<Prefix<projections::NoValue>> index;
  if (q.campaign) {
    views = table::campaign_messages(org, *q.campaign);
  } else if (q.phone) {
    index = table::messages_by_phone(org, *q.phone);
  } else if (q.status) {
    index = table::messages_by_status(org, *q.status);
  } else if (q.direction == projections::MessageView::kInbound) {
    index = table::messages_by_status(org, projections::kReceived);  // every received message
  } else {
    views = table::messages(org);
  }
  // Where the id part of a key starts, for the index keys "<prefix>msg_…".
  const std::string id_base = views ? table::messages(org).bytes : index->bytes;
  ScanRange range;
  range.reverse = true;
  range.after = q.cursor.has_value();  // strictly older than the cursor
  range.limit = q.limit;
  range.max_visited = kMaxScanPerPage;
  if (q.cursor) range.start = id_base + q.cursor->value;
  if (q.to) {
    // Messages created before `to` have ids made before it.
    auto bound = id_base + message_id_floor(*q.to);
    if (range.start.empty() || bound < range.start) range.start = bound;
  }
  if (q.from) range.end = id_base + message_id_floor(*q.from - kMaxQueueDelay);
  MessagePage page;
  auto wanted = [&](const projections::MessageView& m) {
    if (q.status && m.status != *q.status) return false;
    if (q.phone && m.phone != *q.phone) return false;
    if (q.direction && m.inbound() != (*q.direction == projections::MessageView::kInbound))
      return false;
    if (q.from && m.created_at < *q.from) return false;
    if (q.to && m.created_at >= *q.to) return false;
    return true;
  };
  std::string last_key;
  bool complete = true;
  if (views) {
    auto found =
        scan_page(kv_, codec_, *views, range,
                  [&](std::string_view, const projections::MessageView& m) { return wanted(m); });
    if (!found) return found.error();
    page.messages = std::move(found->values);
    last_key = std::move(found->last_key);
    complete = found->complete;
  } else {
    auto found = scan_page(kv_, codec_, *index, range,
                           [&](std::string_view key, const projections::NoValue&) -> Result<bool> {
                             auto m =
                                 message(org, MessageId{std::string(key.substr(id_base.size()))});
                             if (!m) return m.error();
                             // An index entry ahead of its view can't happen; skip it anyway.
                             if (!*m || !wanted(**m)) return false;
                             page.messages.push_back(std::move(**m));
                             return true;
                           });
    if (!found) return found.error();
    last_key = std::move(found->last_key);
    complete = found->complete;
  }
  if (!complete && !last_key.empty()) page.next_cursor = last_key.substr(id_base.size());
  return page;
}

Result<std::optional<projections::VerificationView>> ReadModels::verification(const OrgId& org,
                                                                              std::string_view id) {
  return get_value(kv_, codec_, table::verification(org, id));
}

Result<std::optional<projections::VerificationView>> ReadModels::latest_verification(
    const OrgId& org, std::string_view phone) {
  const auto index = table::verifications_of(org, phone);
  ScanRange range;
  range.reverse = true;  // request ids sort by time: the newest first
  range.limit = 1;
  std::optional<projections::VerificationView> out;
  auto found = scan_page(kv_, codec_, index, range,
                         [&](std::string_view key, const projections::NoValue&) -> Result<bool> {
                           auto v = verification(org, key.substr(index.bytes.size()));
                           if (!v) return v.error();
                           out = std::move(*v);
                           return true;
                         });
  if (!found) return found.error();
  return out;
}

Result<ConversationPage> ReadModels::conversations(const OrgId& org, size_t limit,
                                                   const std::optional<std::string>& cursor) {
  const auto order = table::conversations_by_time(org);
  ScanRange range;
  range.reverse = true;
  range.limit = limit;
  if (cursor) range.start = order.bytes + *cursor;
  ConversationPage page;
  auto found = scan_page(kv_, codec_, order, range,
                         [&](std::string_view key, const projections::NoValue&) -> Result<bool> {
                           // "<ms>/<phone>"
                           const auto rest = key.substr(order.bytes.size());
                           const auto slash = rest.find('/');
                           auto c = conversation(org, rest.substr(slash + 1));
                           if (!c) return c.error();
                           if (!*c) return false;
                           page.conversations.push_back(std::move(**c));
                           return true;
                         });
  if (!found) return found.error();
  if (!found->complete && !found->last_key.empty())
    page.next_cursor = found->last_key.substr(order.bytes.size());
  return page;
}

Result<std::optional<projections::ConversationView>> ReadModels::conversation(
    const OrgId& org, std::string_view phone) {
  return get_value(kv_, codec_, table::conversation(org, phone));
}

Result<std::optional<projections::MessageView>> ReadModels::last_message(const OrgId& org,
                                                                         std::string_view phone) {
  MessageQuery q;
  q.phone = std::string(phone);
  q.limit = 1;
  auto page = messages(org, q);
  if (!page) return page.error();
  if (page->messages.empty()) return std::optional<projections::MessageView>{};
  return std::optional<projections::MessageView>{std::move(page->messages.front())};
}

Result<std::vector<projections::TimelineEntry>> ReadModels::timeline(const OrgId& org,
                                                                     const MessageId& id) {
  return scan_all(kv_, codec_, table::timeline(org, id));
}

Result<std::vector<projections::DayStatsView>> ReadModels::day_stats(const OrgId& org,
                                                                     std::string_view from,
                                                                     std::string_view to) {
  ScanRange range;
  range.start = table::day_stats(org, from).bytes;
  range.after = false;
  range.end = table::day_stats(org, to).bytes;
  return values(scan_page(kv_, codec_, table::day_stats_all(org), range,
                          keep_all<projections::DayStatsView>));
}

Result<std::optional<projections::CampaignExtrasView>> ReadModels::campaign_extras(
    const OrgId& org, const CampaignId& id) {
  return get_value(kv_, codec_, table::campaign_extras(org, id));
}

Result<std::optional<projections::IdempotencyView>> ReadModels::idempotency(const OrgId& org,
                                                                            std::string_view key) {
  return get_value(kv_, codec_, table::idempotency(org, key));
}

// ---- the projector's batch ------------------------------------------------------------------

Result<std::optional<std::string>> OverlayKv::get(std::string_view key) {
  return overlay_.get(key);
}

Status OverlayKv::scan(std::string_view prefix, std::string_view start, bool reverse,
                       const Visit& visit) {
  // The stored entries with this batch's writes over them.
  projections::MemoryKv merged;
  auto st = base_.scan(prefix, "", false, [&](std::string_view key, std::string_view value) {
    merged.put(std::string(key), std::string(value));
    return true;
  });
  if (!st) return st;
  const auto& pending = overlay_.pending();
  for (auto it = pending.lower_bound(prefix);
       it != pending.end() && std::string_view(it->first).starts_with(prefix); ++it) {
    if (it->second)
      merged.put(it->first, *it->second);
    else
      merged.erase(it->first);
  }
  return merged.scan(prefix, start, reverse, visit);
}

void OverlayKv::put(std::string key, std::string value) {
  if (key.starts_with(table::outboxes().bytes)) wrote_outbox_ = true;
  overlay_.put(std::move(key), std::move(value));
}

void OverlayKv::erase(std::string key) {
  overlay_.erase(std::move(key));
}

Status OverlayKv::erase_prefix(std::string_view prefix) {
  return overlay_.erase_prefix(prefix);
}

ReadModelBatch::ReadModelBatch(store::KvStore& kv)
    : OverlayKv(kv),
      projections::ReadModelTx(static_cast<OverlayKv&>(*this), codec::value_codec()) {}

void ReadModelBatch::put_position(Partition p, const ProjectorPosition& pos) {
  overlay().put(position_key(p), encode_position(pos));
}

}  // namespace pulse::runtime
