#include "adapters/runtime/read_models.h"

#include <simdjson.h>

#include "adapters/codec/json_codec.h"
#include "domain/json_writer.h"
#include "fmt/format.h"

namespace pulse::runtime {

namespace keys {
std::string campaign(const OrgId& org, const CampaignId& id) {
  return fmt::format("c/{}/{}", org.value, id.value);
}
std::string campaign_prefix(const OrgId& org) {
  return fmt::format("c/{}/", org.value);
}
std::string message(const OrgId& org, const MessageId& id) {
  return fmt::format("m/{}/{}", org.value, id.value);
}
std::string campaign_messages_prefix(const OrgId& org, const CampaignId& id) {
  // Message ids are msg_<campaign body><index>: one campaign's messages are contiguous.
  const auto body = std::string_view(id.value).substr(id.value.find('_') + 1);
  return fmt::format("m/{}/{}_{}", org.value, id_prefix::message, body);
}
std::string outcome(const OrgId& org, const CommandId& id) {
  return fmt::format("o/{}/{}", org.value, id.value);
}
std::string projector_position(Partition p) {
  return fmt::format("_p/{:05}", p.value);
}
std::string user_by_email(std::string_view email) {
  return fmt::format("u/{}", email);
}
std::string user_by_id(const UserId& id) {
  return fmt::format("ui/{}", id.value);
}
std::string organization(const OrgId& org) {
  return fmt::format("org/{}", org.value);
}
std::string membership(const UserId& user, const OrgId& org) {
  return fmt::format("mem/{}/{}", user.value, org.value);
}
std::string memberships_prefix(const UserId& user) {
  return fmt::format("mem/{}/", user.value);
}
std::string api_key(const OrgId& org, const ApiKeyId& id) {
  return fmt::format("k/{}/{}", org.value, id.value);
}
std::string api_keys_prefix(const OrgId& org) {
  return fmt::format("k/{}/", org.value);
}
std::string api_key_by_hash(std::string_view hash) {
  return fmt::format("kh/{}", hash);
}
std::string device(const OrgId& org, const DeviceId& id) {
  return fmt::format("d/{}/{}", org.value, id.value);
}
std::string devices_prefix(const OrgId& org) {
  return fmt::format("d/{}/", org.value);
}
std::string pairing(std::string_view token_hash) {
  return fmt::format("pt/{}", token_hash);
}
std::string device_credential(std::string_view credential_hash) {
  return fmt::format("dt/{}", credential_hash);
}
std::string rejections(const OrgId& org, const CommandId& id) {
  return fmt::format("rr/{}/{}", org.value, id.value);
}
std::string queue(const OrgId& org) {
  return fmt::format("q/{}", org.value);
}
std::string claim(const OrgId& org, const CommandId& id) {
  return fmt::format("cl/{}/{}", org.value, id.value);
}
std::string contact_list(const OrgId& org, const ContactListId& id) {
  return fmt::format("ls/{}/{}", org.value, id.value);
}
std::string contact_lists_prefix(const OrgId& org) {
  return fmt::format("ls/{}/", org.value);
}
std::string contact(const OrgId& org, const ContactListId& list, std::string_view phone) {
  return fmt::format("lc/{}/{}/{}", org.value, list.value, phone);
}
std::string contacts_prefix(const OrgId& org, const ContactListId& list) {
  return fmt::format("lc/{}/{}/", org.value, list.value);
}

std::string webhooks(const OrgId& org) {
  return fmt::format("wh/{}", org.value);
}
std::string outbox_prefix(Partition p) {
  return fmt::format("wo/{:05}/", p.value);
}
std::string outbox(const projections::OutboxRecord& r) {
  // In log order within a partition: the dispatcher reads each partition's outbox in order.
  return fmt::format("wo/{:05}/{:012}/{:05}/{:06}/{}", r.partition, r.offset, r.index, r.item,
                     r.webhook.value);
}
}  // namespace keys

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

namespace {
template <class T, class Decode>
Result<std::optional<T>> get_decoded(store::KvStore& kv, const std::string& key, Decode decode) {
  auto raw = kv.get(key);
  if (!raw) return raw.error();
  if (!raw->has_value()) return std::optional<T>{};
  auto v = decode(**raw);
  if (!v) return v.error();
  return std::optional<T>{std::move(v).value()};
}
}  // namespace

Result<std::optional<projections::CampaignView>> ReadModels::campaign(const OrgId& org,
                                                                      const CampaignId& id) {
  return get_decoded<projections::CampaignView>(kv_, keys::campaign(org, id),
                                                codec::decode<projections::CampaignView>);
}

Result<std::vector<projections::CampaignView>> ReadModels::campaigns(
    const OrgId& org, size_t limit, const std::optional<CampaignId>& before) {
  std::vector<projections::CampaignView> out;
  std::optional<Error> error;
  const auto prefix = keys::campaign_prefix(org);
  // Reverse from the cursor, skipping the cursor itself: strictly older.
  const std::string start = before ? keys::campaign(org, *before) : std::string();
  auto st = kv_.scan(prefix, start, true, [&](std::string_view key, std::string_view value) {
    if (!start.empty() && key == start) return true;
    auto v = codec::decode<projections::CampaignView>(value);
    if (!v) {
      error = v.error();
      return false;
    }
    out.push_back(std::move(v).value());
    return out.size() < limit;
  });
  if (!st) return st.error();
  if (error) return *error;
  return out;
}

Result<std::vector<projections::MessageView>> ReadModels::campaign_messages(
    const OrgId& org, const CampaignId& id, size_t limit, const std::optional<MessageId>& after) {
  std::vector<projections::MessageView> out;
  std::optional<Error> error;
  std::string start;
  if (after) start = keys::message(org, *after) + '\0';
  auto st = kv_.scan(keys::campaign_messages_prefix(org, id), start, false,
                     [&](std::string_view, std::string_view value) {
                       auto v = codec::decode<projections::MessageView>(value);
                       if (!v) {
                         error = v.error();
                         return false;
                       }
                       out.push_back(std::move(v).value());
                       return out.size() < limit;
                     });
  if (!st) return st.error();
  if (error) return *error;
  return out;
}

Result<std::optional<projections::CommandOutcome>> ReadModels::outcome(const OrgId& org,
                                                                       const CommandId& id) {
  return get_decoded<projections::CommandOutcome>(kv_, keys::outcome(org, id),
                                                  codec::decode<projections::CommandOutcome>);
}

Result<ProjectorPosition> ReadModels::position(Partition p) {
  auto raw = kv_.get(keys::projector_position(p));
  if (!raw) return raw.error();
  if (!raw->has_value()) return ProjectorPosition{};
  return decode_position(**raw);
}

Result<std::optional<projections::UserView>> ReadModels::user_by_email(std::string_view email) {
  return get_decoded<projections::UserView>(kv_, keys::user_by_email(email),
                                            codec::decode<projections::UserView>);
}

Result<std::optional<projections::UserView>> ReadModels::user(const UserId& id) {
  return get_decoded<projections::UserView>(kv_, keys::user_by_id(id),
                                            codec::decode<projections::UserView>);
}

Result<std::optional<projections::OrganizationView>> ReadModels::organization(const OrgId& org) {
  return get_decoded<projections::OrganizationView>(kv_, keys::organization(org),
                                                    codec::decode<projections::OrganizationView>);
}

Result<std::optional<projections::MembershipView>> ReadModels::membership(const UserId& user,
                                                                          const OrgId& org) {
  return get_decoded<projections::MembershipView>(kv_, keys::membership(user, org),
                                                  codec::decode<projections::MembershipView>);
}

namespace {
// Values under `prefix` in key order (reversed when `reverse`) after `start` (exclusive; empty:
// from the first), at most `limit` (0: all) that `keep` accepts.
template <class T, class Decode, class Keep>
Result<std::vector<T>> scan_page(store::KvStore& kv, const std::string& prefix,
                                 const std::string& start, bool reverse, size_t limit,
                                 Decode decode, Keep keep) {
  std::vector<T> out;
  std::optional<Error> error;
  auto st = kv.scan(prefix, start, reverse, [&](std::string_view key, std::string_view value) {
    if (!start.empty() && key == start) return true;
    auto v = decode(value);
    if (!v) {
      error = v.error();
      return false;
    }
    if (keep(*v)) out.push_back(std::move(v).value());
    return limit == 0 || out.size() < limit;
  });
  if (!st) return st.error();
  if (error) return *error;
  return out;
}

// Every value under `prefix`, in key order.
template <class T, class Decode>
Result<std::vector<T>> scan_decoded(store::KvStore& kv, const std::string& prefix, Decode decode) {
  return scan_page<T>(kv, prefix, "", false, 0, decode, [](const T&) { return true; });
}
}  // namespace

Result<std::vector<projections::MembershipView>> ReadModels::memberships(const UserId& user) {
  return scan_decoded<projections::MembershipView>(kv_, keys::memberships_prefix(user),
                                                   codec::decode<projections::MembershipView>);
}

Result<std::optional<projections::ApiKeyView>> ReadModels::api_key(const OrgId& org,
                                                                   const ApiKeyId& id) {
  return get_decoded<projections::ApiKeyView>(kv_, keys::api_key(org, id),
                                              codec::decode<projections::ApiKeyView>);
}

Result<std::vector<projections::ApiKeyView>> ReadModels::api_keys(const OrgId& org) {
  return scan_decoded<projections::ApiKeyView>(kv_, keys::api_keys_prefix(org),
                                               codec::decode<projections::ApiKeyView>);
}

Result<std::optional<projections::ApiKeyView>> ReadModels::api_key_by_hash(std::string_view hash) {
  return get_decoded<projections::ApiKeyView>(kv_, keys::api_key_by_hash(hash),
                                              codec::decode<projections::ApiKeyView>);
}

Result<std::optional<projections::MessageView>> ReadModels::message(const OrgId& org,
                                                                    const MessageId& id) {
  return get_decoded<projections::MessageView>(kv_, keys::message(org, id),
                                               codec::decode<projections::MessageView>);
}

Result<std::optional<projections::DeviceView>> ReadModels::device(const OrgId& org,
                                                                  const DeviceId& id) {
  return get_decoded<projections::DeviceView>(kv_, keys::device(org, id),
                                              codec::decode<projections::DeviceView>);
}

Result<std::vector<projections::DeviceView>> ReadModels::devices(const OrgId& org) {
  return scan_decoded<projections::DeviceView>(kv_, keys::devices_prefix(org),
                                               codec::decode<projections::DeviceView>);
}

Result<std::optional<projections::PairingView>> ReadModels::pairing(std::string_view token_hash) {
  return get_decoded<projections::PairingView>(kv_, keys::pairing(token_hash),
                                               codec::decode<projections::PairingView>);
}

Result<std::optional<projections::DeviceCredentialView>> ReadModels::device_credential(
    std::string_view credential_hash) {
  return get_decoded<projections::DeviceCredentialView>(
      kv_, keys::device_credential(credential_hash),
      codec::decode<projections::DeviceCredentialView>);
}

Result<std::optional<projections::ReportRejectionsView>> ReadModels::rejections(
    const OrgId& org, const CommandId& id) {
  return get_decoded<projections::ReportRejectionsView>(
      kv_, keys::rejections(org, id), codec::decode<projections::ReportRejectionsView>);
}

Result<projections::QueueView> ReadModels::queue(const OrgId& org) {
  auto q = get_decoded<projections::QueueView>(kv_, keys::queue(org),
                                               codec::decode<projections::QueueView>);
  if (!q) return q.error();
  return q->value_or(projections::QueueView{});
}

Result<std::optional<projections::ClaimView>> ReadModels::claim(const OrgId& org,
                                                                const CommandId& id) {
  return get_decoded<projections::ClaimView>(kv_, keys::claim(org, id),
                                             codec::decode<projections::ClaimView>);
}

// ---- issue 5 -------------------------------------------------------------------------------

Result<std::vector<projections::ContactListView>> ReadModels::contact_lists(
    const OrgId& org, size_t limit, const std::optional<ContactListId>& after) {
  return scan_page<projections::ContactListView>(
      kv_, keys::contact_lists_prefix(org), after ? keys::contact_list(org, *after) : "", false,
      limit, codec::decode<projections::ContactListView>, [](const auto&) { return true; });
}

Result<std::optional<projections::ContactListView>> ReadModels::contact_list(
    const OrgId& org, const ContactListId& id) {
  return get_decoded<projections::ContactListView>(kv_, keys::contact_list(org, id),
                                                   codec::decode<projections::ContactListView>);
}

Result<std::optional<projections::ContactView>> ReadModels::contact(const OrgId& org,
                                                                    const ContactListId& list,
                                                                    std::string_view phone) {
  return get_decoded<projections::ContactView>(kv_, keys::contact(org, list, phone),
                                               codec::decode<projections::ContactView>);
}

Result<std::vector<projections::ContactView>> ReadModels::contacts(
    const OrgId& org, const ContactListId& list, size_t limit,
    const std::optional<std::string>& after) {
  return scan_page<projections::ContactView>(
      kv_, keys::contacts_prefix(org, list), after ? keys::contact(org, list, *after) : "", false,
      limit, codec::decode<projections::ContactView>, [](const auto&) { return true; });
}

Result<std::vector<projections::CampaignView>> ReadModels::campaigns_with_status(
    const OrgId& org, size_t limit, const std::optional<CampaignId>& before,
    std::string_view status) {
  return scan_page<projections::CampaignView>(
      kv_, keys::campaign_prefix(org), before ? keys::campaign(org, *before) : "", true, limit,
      codec::decode<projections::CampaignView>, [&](const auto& c) { return c.status == status; });
}

Result<projections::WebhookSet> ReadModels::webhooks(const OrgId& org) {
  auto v = get_decoded<projections::WebhookSet>(kv_, keys::webhooks(org),
                                                codec::decode<projections::WebhookSet>);
  if (!v) return v.error();
  return v->value_or(projections::WebhookSet{});
}

// ---- ReadModelBatch ----------------------------------------------------------------------

namespace {
// A read-model value the projector wrote itself and can't read back means the store is broken:
// stop loudly rather than project on top of it.
template <class T, class Decode>
std::optional<T> must_get(store::Overlay& overlay, const std::string& key, Decode decode) {
  auto raw = overlay.get(key);
  if (!raw) {
    fmt::print(stderr, "pulse: projector: read of {} failed: {}\n", key, raw.error().details);
    std::abort();
  }
  if (!raw->has_value()) return std::nullopt;
  auto v = decode(**raw);
  if (!v) {
    fmt::print(stderr, "pulse: projector: {} is unreadable: {}\n", key, v.error().details);
    std::abort();
  }
  return std::move(v).value();
}
}  // namespace

std::optional<projections::CampaignView> ReadModelBatch::campaign(const OrgId& org,
                                                                  const CampaignId& id) {
  return must_get<projections::CampaignView>(overlay_, keys::campaign(org, id),
                                             codec::decode<projections::CampaignView>);
}

void ReadModelBatch::put_campaign(const OrgId& org, const projections::CampaignView& v) {
  overlay_.put(keys::campaign(org, v.id), codec::encode(v));
}

std::optional<projections::MessageView> ReadModelBatch::message(const OrgId& org,
                                                                const MessageId& id) {
  return must_get<projections::MessageView>(overlay_, keys::message(org, id),
                                            codec::decode<projections::MessageView>);
}

void ReadModelBatch::put_message(const OrgId& org, const projections::MessageView& v) {
  overlay_.put(keys::message(org, v.id), codec::encode(v));
}

void ReadModelBatch::put_outcome(const OrgId& org, const CommandId& id,
                                 const projections::CommandOutcome& o) {
  overlay_.put(keys::outcome(org, id), codec::encode(o));
}

void ReadModelBatch::put_user(const projections::UserView& v) {
  auto encoded = codec::encode(v);
  overlay_.put(keys::user_by_id(v.id), encoded);
  overlay_.put(keys::user_by_email(v.email), std::move(encoded));
}

std::optional<projections::OrganizationView> ReadModelBatch::organization(const OrgId& org) {
  return must_get<projections::OrganizationView>(overlay_, keys::organization(org),
                                                 codec::decode<projections::OrganizationView>);
}

void ReadModelBatch::put_organization(const projections::OrganizationView& v) {
  overlay_.put(keys::organization(v.id), codec::encode(v));
}

void ReadModelBatch::put_membership(const projections::MembershipView& v) {
  overlay_.put(keys::membership(v.user, v.org), codec::encode(v));
}

std::optional<projections::ApiKeyView> ReadModelBatch::api_key(const OrgId& org,
                                                               const ApiKeyId& id) {
  return must_get<projections::ApiKeyView>(overlay_, keys::api_key(org, id),
                                           codec::decode<projections::ApiKeyView>);
}

void ReadModelBatch::put_api_key(const projections::ApiKeyView& v) {
  auto encoded = codec::encode(v);
  overlay_.put(keys::api_key_by_hash(v.key_hash), encoded);
  overlay_.put(keys::api_key(v.org, v.id), std::move(encoded));
}

std::optional<projections::DeviceView> ReadModelBatch::device(const OrgId& org,
                                                              const DeviceId& id) {
  return must_get<projections::DeviceView>(overlay_, keys::device(org, id),
                                           codec::decode<projections::DeviceView>);
}

void ReadModelBatch::put_device(const projections::DeviceView& v) {
  overlay_.put(keys::device(v.org, v.id), codec::encode(v));
  overlay_.put(keys::device_credential(v.credential_hash),
               codec::encode(projections::DeviceCredentialView{v.credential_hash, v.org, v.id}));
}

void ReadModelBatch::delete_device(const projections::DeviceView& v) {
  overlay_.erase(keys::device(v.org, v.id));
  overlay_.erase(keys::device_credential(v.credential_hash));
}

std::optional<projections::PairingView> ReadModelBatch::pairing(std::string_view token_hash) {
  return must_get<projections::PairingView>(overlay_, keys::pairing(token_hash),
                                            codec::decode<projections::PairingView>);
}

void ReadModelBatch::put_pairing(const projections::PairingView& v) {
  overlay_.put(keys::pairing(v.token_hash), codec::encode(v));
}

void ReadModelBatch::put_rejections(const OrgId& org, const CommandId& id,
                                    const projections::ReportRejectionsView& v) {
  overlay_.put(keys::rejections(org, id), codec::encode(v));
}

void ReadModelBatch::put_claim(const OrgId& org, const CommandId& id,
                               const projections::ClaimView& v) {
  overlay_.put(keys::claim(org, id), codec::encode(v));
}

projections::QueueView ReadModelBatch::queue(const OrgId& org) {
  return must_get<projections::QueueView>(overlay_, keys::queue(org),
                                          codec::decode<projections::QueueView>)
      .value_or(projections::QueueView{});
}

void ReadModelBatch::put_queue(const OrgId& org, const projections::QueueView& v) {
  overlay_.put(keys::queue(org), codec::encode(v));
}

std::optional<projections::ContactListView> ReadModelBatch::contact_list(const OrgId& org,
                                                                         const ContactListId& id) {
  return must_get<projections::ContactListView>(overlay_, keys::contact_list(org, id),
                                                codec::decode<projections::ContactListView>);
}

void ReadModelBatch::put_contact_list(const OrgId& org, const projections::ContactListView& v) {
  overlay_.put(keys::contact_list(org, v.id), codec::encode(v));
}

void ReadModelBatch::delete_contact_list(const OrgId& org, const ContactListId& id) {
  overlay_.erase(keys::contact_list(org, id));
  if (auto st = overlay_.erase_prefix(keys::contacts_prefix(org, id)); !st) {
    fmt::print(stderr, "pulse: projector: scan of list {} failed: {}\n", id.value,
               st.error().details);
    std::abort();
  }
}

std::optional<projections::ContactView> ReadModelBatch::contact(const OrgId& org,
                                                                const ContactListId& list,
                                                                std::string_view phone) {
  return must_get<projections::ContactView>(overlay_, keys::contact(org, list, phone),
                                            codec::decode<projections::ContactView>);
}

void ReadModelBatch::put_contact(const OrgId& org, const ContactListId& list,
                                 const projections::ContactView& v) {
  overlay_.put(keys::contact(org, list, v.contact.phone), codec::encode(v));
}

void ReadModelBatch::delete_contact(const OrgId& org, const ContactListId& list,
                                    std::string_view phone) {
  overlay_.erase(keys::contact(org, list, phone));
}

void ReadModelBatch::put_position(Partition p, const ProjectorPosition& pos) {
  overlay_.put(keys::projector_position(p), encode_position(pos));
}

projections::WebhookSet ReadModelBatch::webhooks(const OrgId& org) {
  return must_get<projections::WebhookSet>(overlay_, keys::webhooks(org),
                                           codec::decode<projections::WebhookSet>)
      .value_or(projections::WebhookSet{});
}

void ReadModelBatch::put_webhooks(const OrgId& org, const projections::WebhookSet& v) {
  overlay_.put(keys::webhooks(org), codec::encode(v));
}

void ReadModelBatch::put_outbox(const projections::OutboxRecord& r) {
  overlay_.put(keys::outbox(r), codec::encode(r));
  wrote_outbox_ = true;
}

}  // namespace pulse::runtime

// ---- issue 5: opt-outs, message indexes and timelines, stats, idempotency -----------------

namespace pulse::runtime {

namespace keys {
std::string opt_out(const OrgId& org, std::string_view phone) {
  return fmt::format("oo/{}/{}", org.value, phone);
}
std::string opt_outs_prefix(const OrgId& org) {
  return fmt::format("oo/{}/", org.value);
}
std::string messages_prefix(const OrgId& org) {
  return fmt::format("m/{}/", org.value);
}
std::string message_by_status_prefix(const OrgId& org, std::string_view status) {
  return fmt::format("ms/{}/{}/", org.value, status);
}
std::string message_by_phone_prefix(const OrgId& org, std::string_view phone) {
  return fmt::format("mp/{}/{}/", org.value, phone);
}
std::string timeline_prefix(const OrgId& org, const MessageId& id) {
  return fmt::format("mh/{}/{}/", org.value, id.value);
}
std::string day_stats(const OrgId& org, std::string_view day) {
  return fmt::format("sd/{}/{}", org.value, day);
}
std::string day_stats_prefix(const OrgId& org) {
  return fmt::format("sd/{}/", org.value);
}
std::string campaign_extras(const OrgId& org, const CampaignId& id) {
  return fmt::format("cx/{}/{}", org.value, id.value);
}
std::string idempotency(const OrgId& org, std::string_view key) {
  return fmt::format("ik/{}/{}", org.value, key);
}
}  // namespace keys

namespace {
// Index entries hold no value: the key ends with the message id.
constexpr std::string_view kIndexValue = "";
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
  return get_decoded<projections::OptOutView>(kv_, keys::opt_out(org, phone),
                                              codec::decode<projections::OptOutView>);
}

Result<std::vector<projections::OptOutView>> ReadModels::opt_outs(
    const OrgId& org, size_t limit, const std::optional<std::string>& after) {
  std::vector<projections::OptOutView> out;
  std::optional<Error> error;
  std::string start;
  if (after) start = keys::opt_out(org, *after) + '\0';
  auto st = kv_.scan(keys::opt_outs_prefix(org), start, false,
                     [&](std::string_view, std::string_view value) {
                       auto v = codec::decode<projections::OptOutView>(value);
                       if (!v) {
                         error = v.error();
                         return false;
                       }
                       out.push_back(std::move(v).value());
                       return out.size() < limit;
                     });
  if (!st) return st.error();
  if (error) return *error;
  return out;
}

Result<MessagePage> ReadModels::messages(const OrgId& org, const MessageQuery& q) {
  // The index: values are message views for the campaign and time orders, empty for the
  // status and phone indexes (the view is read by id).
  std::string prefix;
  bool has_views = true;
  if (q.campaign) {
    prefix = keys::campaign_messages_prefix(org, *q.campaign);
  } else if (q.phone) {
    prefix = keys::message_by_phone_prefix(org, *q.phone);
    has_views = false;
  } else if (q.status) {
    prefix = keys::message_by_status_prefix(org, *q.status);
    has_views = false;
  } else {
    prefix = keys::messages_prefix(org);
  }
  // Where the id part of a key starts, for the index keys "<prefix>msg_…".
  const std::string id_base = has_views ? keys::messages_prefix(org) : prefix;
  std::string start;
  if (q.cursor) start = id_base + q.cursor->value;
  if (q.to) {
    // Messages created before `to` have ids made before it.
    auto bound = id_base + message_id_floor(*q.to);
    if (start.empty() || bound < start) start = bound;
  }
  const std::optional<std::string> stop =
      q.from ? std::optional(id_base + message_id_floor(*q.from - kMaxQueueDelay)) : std::nullopt;
  MessagePage page;
  std::optional<Error> error;
  size_t visited = 0;
  std::string last_key;
  bool exhausted = true;
  auto st = kv_.scan(prefix, start, true, [&](std::string_view key, std::string_view value) {
    if (q.cursor && key == start) return true;  // strictly older than the cursor
    if (stop && key < *stop) return false;
    if (++visited > kMaxScanPerPage) {
      exhausted = false;
      return false;
    }
    last_key = key;
    std::optional<projections::MessageView> m;
    if (has_views) {
      auto v = codec::decode<projections::MessageView>(value);
      if (!v) {
        error = v.error();
        return false;
      }
      m = std::move(v).value();
    } else {
      auto v = message(org, MessageId{std::string(key.substr(id_base.size()))});
      if (!v) {
        error = v.error();
        return false;
      }
      m = std::move(*v);
      if (!m) return true;  // an index entry ahead of its view can't happen; skip it anyway
    }
    if (q.status && m->status != *q.status) return true;
    if (q.phone && m->phone != *q.phone) return true;
    if (q.from && m->created_at < *q.from) return true;
    if (q.to && m->created_at >= *q.to) return true;
    page.messages.push_back(std::move(*m));
    if (page.messages.size() >= q.limit) {
      exhausted = false;
      return false;
    }
    return true;
  });
  if (!st) return st.error();
  if (error) return *error;
  if (!exhausted && !last_key.empty()) page.next_cursor = last_key.substr(id_base.size());
  return page;
}

Result<std::vector<projections::TimelineEntry>> ReadModels::timeline(const OrgId& org,
                                                                     const MessageId& id) {
  return scan_decoded<projections::TimelineEntry>(kv_, keys::timeline_prefix(org, id),
                                                  codec::decode<projections::TimelineEntry>);
}

Result<std::vector<projections::DayStatsView>> ReadModels::day_stats(const OrgId& org,
                                                                     std::string_view from,
                                                                     std::string_view to) {
  std::vector<projections::DayStatsView> out;
  std::optional<Error> error;
  const auto last = keys::day_stats(org, to);
  auto st = kv_.scan(keys::day_stats_prefix(org), keys::day_stats(org, from), false,
                     [&](std::string_view key, std::string_view value) {
                       if (key > last) return false;
                       auto v = codec::decode<projections::DayStatsView>(value);
                       if (!v) {
                         error = v.error();
                         return false;
                       }
                       out.push_back(std::move(v).value());
                       return true;
                     });
  if (!st) return st.error();
  if (error) return *error;
  return out;
}

Result<std::optional<projections::CampaignExtrasView>> ReadModels::campaign_extras(
    const OrgId& org, const CampaignId& id) {
  return get_decoded<projections::CampaignExtrasView>(
      kv_, keys::campaign_extras(org, id), codec::decode<projections::CampaignExtrasView>);
}

Result<std::optional<projections::IdempotencyView>> ReadModels::idempotency(const OrgId& org,
                                                                            std::string_view key) {
  return get_decoded<projections::IdempotencyView>(kv_, keys::idempotency(org, key),
                                                   codec::decode<projections::IdempotencyView>);
}

std::optional<projections::OptOutView> ReadModelBatch::opt_out(const OrgId& org,
                                                               std::string_view phone) {
  return must_get<projections::OptOutView>(overlay_, keys::opt_out(org, phone),
                                           codec::decode<projections::OptOutView>);
}

void ReadModelBatch::put_opt_out(const OrgId& org, const projections::OptOutView& v) {
  overlay_.put(keys::opt_out(org, v.phone), codec::encode(v));
}

void ReadModelBatch::delete_opt_out(const OrgId& org, std::string_view phone) {
  overlay_.erase(keys::opt_out(org, phone));
}

void ReadModelBatch::index_message(const OrgId& org, const MessageId& id, std::string_view phone,
                                   std::string_view old_status, std::string_view status) {
  if (old_status.empty()) {
    overlay_.put(keys::message_by_phone_prefix(org, phone) + id.value, std::string(kIndexValue));
  } else {
    overlay_.erase(keys::message_by_status_prefix(org, old_status) + id.value);
  }
  overlay_.put(keys::message_by_status_prefix(org, status) + id.value, std::string(kIndexValue));
}

void ReadModelBatch::put_timeline(const OrgId& org, const MessageId& id, const EventSource& source,
                                  int32_t k, const projections::TimelineEntry& e) {
  // An organisation's events are in one partition: their offsets order them.
  overlay_.put(fmt::format("{}{:016}-{:06}-{:06}", keys::timeline_prefix(org, id),
                           source.command.offset.value, source.index, k),
               codec::encode(e));
}

projections::DayStatsView ReadModelBatch::day_stats(const OrgId& org, std::string_view day) {
  auto v = must_get<projections::DayStatsView>(overlay_, keys::day_stats(org, day),
                                               codec::decode<projections::DayStatsView>);
  if (v) return *v;
  projections::DayStatsView fresh;
  fresh.day = std::string(day);
  return fresh;
}

void ReadModelBatch::put_day_stats(const OrgId& org, const projections::DayStatsView& v) {
  overlay_.put(keys::day_stats(org, v.day), codec::encode(v));
}

projections::CampaignExtrasView ReadModelBatch::campaign_extras(const OrgId& org,
                                                                const CampaignId& id) {
  auto v = must_get<projections::CampaignExtrasView>(
      overlay_, keys::campaign_extras(org, id), codec::decode<projections::CampaignExtrasView>);
  if (v) return *v;
  projections::CampaignExtrasView fresh;
  fresh.id = id;
  return fresh;
}

void ReadModelBatch::put_campaign_extras(const OrgId& org,
                                         const projections::CampaignExtrasView& v) {
  overlay_.put(keys::campaign_extras(org, v.id), codec::encode(v));
}

void ReadModelBatch::put_idempotency(const OrgId& org, const projections::IdempotencyView& v) {
  overlay_.put(keys::idempotency(org, v.key), codec::encode(v));
}

}  // namespace pulse::runtime
