#include "projections/read_model.h"

#include <cassert>

#include "domain/ids.h"
#include "domain/overloaded.h"
#include "fmt/format.h"
#include "projections/contacts.h"
#include "projections/conversations.h"
#include "projections/gateway.h"
#include "projections/messages.h"
#include "projections/verify.h"
#include "projections/webhooks.h"

namespace pulse::projections {

namespace table {
Prefix<MessageView> campaign_messages(const OrgId& org, const CampaignId& id) {
  const auto body = std::string_view(id.value).substr(id.value.find('_') + 1);
  return {fmt::format("m/{}/{}_{}", org.value, id_prefix::message, body)};
}
Key<TimelineEntry> timeline_entry(const OrgId& org, const MessageId& id, const EventSource& source,
                                  int32_t k) {
  // An organisation's events are in one partition: their offsets order them.
  return timeline(org, id).key(
      fmt::format("{:016}-{:06}-{:06}", source.command.offset.value, source.index, k));
}
Prefix<OutboxRecord> outbox(Partition p) {
  return {fmt::format("wo/{:05}/", p.value)};
}
Key<OutboxRecord> outbox_record(const OutboxRecord& r) {
  return {fmt::format("wo/{:05}/{:012}/{:05}/{:06}/{}", r.partition, r.offset, r.index, r.item,
                      r.webhook.value)};
}
}  // namespace table

namespace {

void on_campaign_created(ReadModelTx& tx, const EventEnvelope& env, const CampaignCreated& e) {
  if (tx.get(table::campaign(env.org, e.id))) return;  // a duplicate: the first one wins
  CampaignView v;
  v.id = e.id;
  v.name = e.name;
  v.source = e.source;
  v.message = e.message;
  v.status = "running";
  v.total_messages = e.total_messages;
  v.created_at = env.at;
  v.updated_at = env.at;
  v.started_at = env.at;
  tx.put(table::campaign(env.org, v.id), v);
}

void on_messages_queued(ReadModelTx& tx, const EventEnvelope& env, const MessagesQueued& e) {
  auto campaign = tx.get(table::campaign(env.org, e.campaign_id));
  assert(campaign && "MessagesQueued always follows its CampaignCreated");
  if (!campaign) return;
  for (const auto& m : e.messages) {
    MessageView v;
    v.id = m.id;
    v.campaign_id = e.campaign_id;
    v.phone = m.phone.e164;
    v.contact_name = m.contact_name;
    v.body = m.body;
    v.status = std::string(kQueued);
    v.encoding = std::string(to_string(m.encoding));
    v.segments = m.segments;
    v.country = m.country;
    v.phone_type = m.phone_type;
    v.sealed_body = m.sealed_body;
    v.created_at = env.at;
    v.updated_at = env.at;
    tx.put(table::message(env.org, v.id), v);
    ++campaign->queued_count;
    campaign->segments += m.segments;
  }
  campaign->updated_at = env.at;
  tx.put(table::campaign(env.org, campaign->id), *campaign);
  // Only running campaigns count as work for the phones (drafts, scheduled and paused don't).
  if (campaign->status == "running") {
    auto q = tx.get(table::queue(env.org)).value_or(QueueView{});
    q.queued += static_cast<int64_t>(e.messages.size());
    tx.put(table::queue(env.org), q);
  }
}

// Whether `org` has its owner's account plan; if not, it waits for its SetPlan.
void track_account_plan(ReadModelTx& tx, const EventEnvelope& env, const OrganizationView& org,
                        std::optional<Plan> account_plan) {
  if (!account_plan || *account_plan == org.plan) {
    tx.erase(table::pending_plan(org.id));
    return;
  }
  auto pending = tx.get(table::pending_plan(org.id));
  if (pending && pending->plan == *account_plan) return;
  tx.put(table::pending_plan(org.id), PendingPlanView{org.id, *account_plan, env.at});
}

std::optional<Plan> account_plan(ReadModelTx& tx, const UserId& owner) {
  auto user = tx.get(table::user_by_id(owner));
  return user ? user->plan : std::nullopt;
}

// Registered or claimed: pending until its CreateOrganization, which may have been projected
// already (another partition, in a rebuild).
void add_pending_organization(ReadModelTx& tx, const EventEnvelope& env,
                              PendingOrganizationView v) {
  if (tx.get(table::organization(v.org))) return;
  v.since = env.at;
  tx.put(table::pending_organization(v.org), v);
}

void on_organization_created(ReadModelTx& tx, const EventEnvelope& env,
                             const OrganizationCreated& e) {
  tx.erase(table::pending_organization(env.org));
  if (tx.get(table::organization(env.org))) return;
  tx.put(table::organization(env.org),
         OrganizationView{env.org, e.name, e.plan, e.owner, env.at, env.at});
  tx.put(table::membership(e.owner, env.org), MembershipView{e.owner, env.org, "owner", env.at});
  track_account_plan(tx, env, *tx.get(table::organization(env.org)), account_plan(tx, e.owner));
}

// An API key is found by its id and by its hash.
void put_api_key(ReadModelTx& tx, const ApiKeyView& v) {
  tx.put(table::api_key_by_hash(v.key_hash), v);
  tx.put(table::api_key(v.org, v.id), v);
}

void on_api_key_created(ReadModelTx& tx, const EventEnvelope& env, const ApiKeyCreated& e) {
  put_api_key(tx, ApiKeyView{e.id, env.org, e.name, e.hint, e.key_hash, e.created_by, env.at,
                             std::nullopt});
}

void on_api_key_revoked(ReadModelTx& tx, const EventEnvelope& env, const ApiKeyRevoked& e) {
  auto key = tx.get(table::api_key(env.org, e.id));
  if (!key || key->revoked_at) return;
  key->revoked_at = env.at;
  put_api_key(tx, *key);
}

void on_plan_changed(ReadModelTx& tx, const EventEnvelope& env, const PlanChanged& e) {
  auto org = tx.get(table::organization(env.org));
  if (!org) return;
  org->plan = e.plan;
  org->updated_at = env.at;
  tx.put(table::organization(env.org), *org);
  track_account_plan(tx, env, *org, account_plan(tx, org->owner));
}

void on_account_plan_changed(ReadModelTx& tx, const EventEnvelope& env,
                             const AccountPlanChanged& e) {
  auto user = tx.get(table::user_by_id(e.user_id));
  if (!user) return;
  user->plan = e.plan;
  tx.put(table::user_by_id(user->id), *user);
  tx.put(table::user_by_email(user->email), *user);
  const auto mine = table::memberships(e.user_id);
  for (const auto& key : tx.keys(mine, ScanRange{})) {
    auto org = tx.get(table::organization(OrgId{key.substr(mine.bytes.size())}));
    if (org && org->owner == e.user_id) track_account_plan(tx, env, *org, e.plan);
  }
}

}  // namespace

// Every view but the webhook outbox.
static void apply_views(ReadModelTx& tx, const EventEnvelope& env);

void apply(ReadModelTx& tx, const EventEnvelope& env) {
  apply_views(tx, env);
  // After the views: a webhook's resource is shown as the event left it.
  apply_webhooks(tx, env);
}

static void apply_views(ReadModelTx& tx, const EventEnvelope& env) {
  apply_messages(tx, env);
  if (apply_conversations(tx, env) || apply_verify(tx, env)) return;
  if (apply_gateway(tx, env)) return;
  if (apply_contacts(tx, env) || apply_campaigns(tx, env)) return;
  std::visit(
      Overloaded{
          [&](const CampaignCreated& e) { on_campaign_created(tx, env, e); },
          [&](const MessagesQueued& e) { on_messages_queued(tx, env, e); },
          [&](const CommandRejected& e) {
            tx.put(
                table::outcome(env.org, env.command_id),
                CommandOutcome{e.command_type, e.code, e.error, e.details, e.quota, e.retry_after});
          },
          [&](const UserRegistered& e) {
            const UserView user{e.user_id, e.email, e.name, e.password_hash, e.default_org, env.at};
            tx.put(table::user_by_id(user.id), user);
            tx.put(table::user_by_email(user.email), user);
            add_pending_organization(tx, env,
                                     {e.default_org,
                                      default_organization_name(e.organization_name, e.name),
                                      e.user_id,
                                      e.first_key,
                                      {}});
          },
          [&](const OrganizationClaimed& e) {
            add_pending_organization(
                tx, env, {e.org, e.name.empty() ? "My organization" : e.name, e.user_id, {}, {}});
          },
          [&](const OrganizationCreated& e) { on_organization_created(tx, env, e); },
          [&](const ApiKeyCreated& e) { on_api_key_created(tx, env, e); },
          [&](const ApiKeyRevoked& e) { on_api_key_revoked(tx, env, e); },
          [&](const PlanChanged& e) { on_plan_changed(tx, env, e); },
          [&](const AccountPlanChanged& e) { on_account_plan_changed(tx, env, e); },
          // Sending's other events: apply_messages and apply_gateway above.
          [&](const CampaignCompleted&) {},
          [&](const CommandDecided&) {},
          [&](const RecipientsSuppressed&) {},
          [&](const CampaignPinned&) {},
          [&](const IdempotencyKeyRecorded&) {},
          [&](const SendReplayed&) {},
          // The other capabilities' events: their projectors above.
          [&](const NoneOf<SendEvents, AccountEvents> auto&) {},
      },
      env.body);
}

std::optional<CampaignId> campaign_of(const MessageId& id) {
  // msg_<campaign body (16)><index (4)>
  const auto& s = id.value;
  const auto prefix_len = id_prefix::message.size() + 1;
  if (!is_valid_id(id_prefix::message, s) || s.size() != prefix_len + 20) return std::nullopt;
  return CampaignId{std::string(id_prefix::campaign) + "_" + s.substr(prefix_len, 16)};
}

}  // namespace pulse::projections
