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
                                                codec::decode_campaign);
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
    auto v = codec::decode_campaign(value);
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
                       auto v = codec::decode_message(value);
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
                                                  codec::decode_outcome);
}

Result<ProjectorPosition> ReadModels::position(Partition p) {
  auto raw = kv_.get(keys::projector_position(p));
  if (!raw) return raw.error();
  if (!raw->has_value()) return ProjectorPosition{};
  return decode_position(**raw);
}

Result<std::optional<projections::UserView>> ReadModels::user_by_email(std::string_view email) {
  return get_decoded<projections::UserView>(kv_, keys::user_by_email(email), codec::decode_user);
}

Result<std::optional<projections::UserView>> ReadModels::user(const UserId& id) {
  return get_decoded<projections::UserView>(kv_, keys::user_by_id(id), codec::decode_user);
}

Result<std::optional<projections::OrganizationView>> ReadModels::organization(const OrgId& org) {
  return get_decoded<projections::OrganizationView>(kv_, keys::organization(org),
                                                    codec::decode_organization);
}

Result<std::optional<projections::MembershipView>> ReadModels::membership(const UserId& user,
                                                                          const OrgId& org) {
  return get_decoded<projections::MembershipView>(kv_, keys::membership(user, org),
                                                  codec::decode_membership);
}

namespace {
template <class T, class Decode>
Result<std::vector<T>> scan_decoded(store::KvStore& kv, const std::string& prefix, Decode decode) {
  std::vector<T> out;
  std::optional<Error> error;
  auto st = kv.scan(prefix, "", false, [&](std::string_view, std::string_view value) {
    auto v = decode(value);
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
}  // namespace

Result<std::vector<projections::MembershipView>> ReadModels::memberships(const UserId& user) {
  return scan_decoded<projections::MembershipView>(kv_, keys::memberships_prefix(user),
                                                   codec::decode_membership);
}

Result<std::optional<projections::ApiKeyView>> ReadModels::api_key(const OrgId& org,
                                                                   const ApiKeyId& id) {
  return get_decoded<projections::ApiKeyView>(kv_, keys::api_key(org, id), codec::decode_api_key);
}

Result<std::vector<projections::ApiKeyView>> ReadModels::api_keys(const OrgId& org) {
  return scan_decoded<projections::ApiKeyView>(kv_, keys::api_keys_prefix(org),
                                               codec::decode_api_key);
}

Result<std::optional<projections::ApiKeyView>> ReadModels::api_key_by_hash(std::string_view hash) {
  return get_decoded<projections::ApiKeyView>(kv_, keys::api_key_by_hash(hash),
                                              codec::decode_api_key);
}

Result<std::optional<projections::MessageView>> ReadModels::message(const OrgId& org,
                                                                    const MessageId& id) {
  return get_decoded<projections::MessageView>(kv_, keys::message(org, id), codec::decode_message);
}

Result<std::optional<projections::DeviceView>> ReadModels::device(const OrgId& org,
                                                                  const DeviceId& id) {
  return get_decoded<projections::DeviceView>(kv_, keys::device(org, id), codec::decode_device);
}

Result<std::vector<projections::DeviceView>> ReadModels::devices(const OrgId& org) {
  return scan_decoded<projections::DeviceView>(kv_, keys::devices_prefix(org),
                                               codec::decode_device);
}

Result<std::optional<projections::PairingView>> ReadModels::pairing(std::string_view token_hash) {
  return get_decoded<projections::PairingView>(kv_, keys::pairing(token_hash),
                                               codec::decode_pairing);
}

Result<std::optional<projections::DeviceCredentialView>> ReadModels::device_credential(
    std::string_view credential_hash) {
  return get_decoded<projections::DeviceCredentialView>(
      kv_, keys::device_credential(credential_hash), codec::decode_credential);
}

Result<std::optional<projections::ReportRejectionsView>> ReadModels::rejections(
    const OrgId& org, const CommandId& id) {
  return get_decoded<projections::ReportRejectionsView>(kv_, keys::rejections(org, id),
                                                        codec::decode_rejections);
}

Result<projections::QueueView> ReadModels::queue(const OrgId& org) {
  auto q = get_decoded<projections::QueueView>(kv_, keys::queue(org), codec::decode_queue);
  if (!q) return q.error();
  return q->value_or(projections::QueueView{});
}

Result<std::optional<projections::ClaimView>> ReadModels::claim(const OrgId& org,
                                                                const CommandId& id) {
  return get_decoded<projections::ClaimView>(kv_, keys::claim(org, id), codec::decode_claim);
}

Result<projections::WebhookSet> ReadModels::webhooks(const OrgId& org) {
  auto v =
      get_decoded<projections::WebhookSet>(kv_, keys::webhooks(org), codec::decode_webhook_set);
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
                                             codec::decode_campaign);
}

void ReadModelBatch::put_campaign(const OrgId& org, const projections::CampaignView& v) {
  overlay_.put(keys::campaign(org, v.id), codec::encode(v));
}

std::optional<projections::MessageView> ReadModelBatch::message(const OrgId& org,
                                                                const MessageId& id) {
  return must_get<projections::MessageView>(overlay_, keys::message(org, id),
                                            codec::decode_message);
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
                                                 codec::decode_organization);
}

void ReadModelBatch::put_organization(const projections::OrganizationView& v) {
  overlay_.put(keys::organization(v.id), codec::encode(v));
}

void ReadModelBatch::put_membership(const projections::MembershipView& v) {
  overlay_.put(keys::membership(v.user, v.org), codec::encode(v));
}

std::optional<projections::ApiKeyView> ReadModelBatch::api_key(const OrgId& org,
                                                               const ApiKeyId& id) {
  return must_get<projections::ApiKeyView>(overlay_, keys::api_key(org, id), codec::decode_api_key);
}

void ReadModelBatch::put_api_key(const projections::ApiKeyView& v) {
  auto encoded = codec::encode(v);
  overlay_.put(keys::api_key_by_hash(v.key_hash), encoded);
  overlay_.put(keys::api_key(v.org, v.id), std::move(encoded));
}

std::optional<projections::DeviceView> ReadModelBatch::device(const OrgId& org,
                                                              const DeviceId& id) {
  return must_get<projections::DeviceView>(overlay_, keys::device(org, id), codec::decode_device);
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
                                            codec::decode_pairing);
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
  return must_get<projections::QueueView>(overlay_, keys::queue(org), codec::decode_queue)
      .value_or(projections::QueueView{});
}

void ReadModelBatch::put_queue(const OrgId& org, const projections::QueueView& v) {
  overlay_.put(keys::queue(org), codec::encode(v));
}

void ReadModelBatch::put_position(Partition p, const ProjectorPosition& pos) {
  overlay_.put(keys::projector_position(p), encode_position(pos));
}

projections::WebhookSet ReadModelBatch::webhooks(const OrgId& org) {
  return must_get<projections::WebhookSet>(overlay_, keys::webhooks(org), codec::decode_webhook_set)
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
