#include "projections/read_model.h"

#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>
#include <utility>

#include "domain/ids.h"
#include "projections/messages.h"

namespace pulse::projections {
namespace {

// The store as maps keyed by (org, id), counting writes so that "ignored" can be checked.
class FakeTx final : public ReadModelTx {
 public:
  std::optional<CampaignView> campaign(const OrgId& org, const CampaignId& id) override {
    auto it = campaigns.find({org.value, id.value});
    if (it == campaigns.end()) return std::nullopt;
    return it->second;
  }
  void put_campaign(const OrgId& org, const CampaignView& v) override {
    ++campaign_puts;
    campaigns[{org.value, v.id.value}] = v;
  }
  std::optional<MessageView> message(const OrgId& org, const MessageId& id) override {
    auto it = messages.find({org.value, id.value});
    if (it == messages.end()) return std::nullopt;
    return it->second;
  }
  void put_message(const OrgId& org, const MessageView& v) override {
    messages[{org.value, v.id.value}] = v;
  }
  void put_outcome(const OrgId& org, const CommandId& id, const CommandOutcome& o) override {
    outcomes[{org.value, id.value}] = o;
  }

  void put_user(const UserView& v) override { users[v.email] = v; }
  std::optional<OrganizationView> organization(const OrgId& org) override {
    auto it = orgs.find(org.value);
    if (it == orgs.end()) return std::nullopt;
    return it->second;
  }
  void put_organization(const OrganizationView& v) override { orgs[v.id.value] = v; }
  void put_membership(const MembershipView& v) override {
    memberships[{v.user.value, v.org.value}] = v;
  }
  std::optional<ApiKeyView> api_key(const OrgId& org, const ApiKeyId& id) override {
    auto it = keys.find({org.value, id.value});
    if (it == keys.end()) return std::nullopt;
    return it->second;
  }
  void put_api_key(const ApiKeyView& v) override { keys[{v.org.value, v.id.value}] = v; }
  std::optional<DeviceView> device(const OrgId& org, const DeviceId& id) override {
    auto it = devices.find({org.value, id.value});
    if (it == devices.end()) return std::nullopt;
    return it->second;
  }
  void put_device(const DeviceView& v) override { devices[{v.org.value, v.id.value}] = v; }
  void delete_device(const DeviceView& v) override { devices.erase({v.org.value, v.id.value}); }
  std::optional<PairingView> pairing(std::string_view hash) override {
    auto it = pairings.find(std::string(hash));
    if (it == pairings.end()) return std::nullopt;
    return it->second;
  }
  void put_pairing(const PairingView& v) override { pairings[v.token_hash] = v; }
  void put_rejections(const OrgId& org, const CommandId& id,
                      const ReportRejectionsView& v) override {
    rejections[{org.value, id.value}] = v;
  }
  void put_claim(const OrgId& org, const CommandId& id, const ClaimView& v) override {
    claims[{org.value, id.value}] = v;
  }
  QueueView queue(const OrgId& org) override { return queues[org.value]; }
  void put_queue(const OrgId& org, const QueueView& v) override { queues[org.value] = v; }
  std::optional<ContactListView> contact_list(const OrgId& org, const ContactListId& id) override {
    auto it = lists.find({org.value, id.value});
    if (it == lists.end()) return std::nullopt;
    return it->second;
  }
  void put_contact_list(const OrgId& org, const ContactListView& v) override {
    lists[{org.value, v.id.value}] = v;
  }
  void delete_contact_list(const OrgId& org, const ContactListId& id) override {
    lists.erase({org.value, id.value});
    std::erase_if(contacts,
                  [&](const auto& kv) { return kv.first.first == org.value + "/" + id.value; });
  }
  std::optional<ContactView> contact(const OrgId& org, const ContactListId& list,
                                     std::string_view phone) override {
    auto it = contacts.find({org.value + "/" + list.value, std::string(phone)});
    if (it == contacts.end()) return std::nullopt;
    return it->second;
  }
  void put_contact(const OrgId& org, const ContactListId& list, const ContactView& v) override {
    contacts[{org.value + "/" + list.value, v.contact.phone}] = v;
  }
  void delete_contact(const OrgId& org, const ContactListId& list,
                      std::string_view phone) override {
    contacts.erase({org.value + "/" + list.value, std::string(phone)});
  }
  // issue 5
  std::optional<OptOutView> opt_out(const OrgId& org, std::string_view phone) override {
    auto it = opt_outs.find({org.value, std::string(phone)});
    if (it == opt_outs.end()) return std::nullopt;
    return it->second;
  }
  void put_opt_out(const OrgId& org, const OptOutView& v) override {
    opt_outs[{org.value, v.phone}] = v;
  }
  void delete_opt_out(const OrgId& org, std::string_view phone) override {
    opt_outs.erase({org.value, std::string(phone)});
  }
  void index_message(const OrgId& org, const MessageId& id, std::string_view phone,
                     std::string_view old_status, std::string_view status) override {
    if (old_status.empty())
      by_phone[{org.value, std::string(phone)}].insert(id.value);
    else
      by_status[{org.value, std::string(old_status)}].erase(id.value);
    by_status[{org.value, std::string(status)}].insert(id.value);
  }
  void put_timeline(const OrgId& org, const MessageId& id, const EventSource& source, int32_t k,
                    const TimelineEntry& e) override {
    timelines[{org.value, id.value}][{source, k}] = e;
  }
  DayStatsView day_stats(const OrgId& org, std::string_view day) override {
    auto it = days.find({org.value, std::string(day)});
    if (it != days.end()) return it->second;
    DayStatsView v;
    v.day = std::string(day);
    return v;
  }
  void put_day_stats(const OrgId& org, const DayStatsView& v) override {
    days[{org.value, v.day}] = v;
  }
  CampaignExtrasView campaign_extras(const OrgId& org, const CampaignId& id) override {
    auto it = extras.find({org.value, id.value});
    if (it != extras.end()) return it->second;
    CampaignExtrasView v;
    v.id = id;
    return v;
  }
  void put_campaign_extras(const OrgId& org, const CampaignExtrasView& v) override {
    extras[{org.value, v.id.value}] = v;
  }
  void put_idempotency(const OrgId& org, const IdempotencyView& v) override {
    idempotency[{org.value, v.key}] = v;
  }
  WebhookSet webhooks(const OrgId& org) override { return webhook_sets[org.value]; }
  void put_webhooks(const OrgId& org, const WebhookSet& v) override { webhook_sets[org.value] = v; }
  void put_outbox(const OutboxRecord& r) override { outbox.push_back(r); }
  std::map<std::string, WebhookSet> webhook_sets;
  std::vector<OutboxRecord> outbox;

  using Key = std::pair<std::string, std::string>;
  std::map<std::string, UserView> users;
  std::map<std::string, OrganizationView> orgs;
  std::map<Key, MembershipView> memberships;
  std::map<Key, ApiKeyView> keys;
  std::map<Key, DeviceView> devices;
  std::map<std::string, PairingView> pairings;
  std::map<Key, ReportRejectionsView> rejections;
  std::map<Key, ClaimView> claims;
  std::map<std::string, QueueView> queues;
  std::map<Key, CampaignView> campaigns;
  std::map<Key, MessageView> messages;
  std::map<Key, CommandOutcome> outcomes;
  std::map<Key, ContactListView> lists;
  std::map<Key, ContactView> contacts;  // (org/list, phone)
  int campaign_puts = 0;
  std::map<Key, OptOutView> opt_outs;
  std::map<Key, std::set<std::string>> by_status, by_phone;
  std::map<Key, std::map<std::pair<EventSource, int32_t>, TimelineEntry>> timelines;
  std::map<Key, DayStatsView> days;
  std::map<Key, CampaignExtrasView> extras;
  std::map<Key, IdempotencyView> idempotency;
};

const TimePoint kT0 = from_unix_ms(1794736800000);  // 2026-11-15T10:00:00Z
const TimePoint kT1 = kT0 + Millis{250};
const OrgId kOrg{make_id(id_prefix::org, from_unix_ms(1700000000000), 1)};
const OrgId kOtherOrg{make_id(id_prefix::org, from_unix_ms(1700000000000), 2)};
const CampaignId kCampaign{make_id(id_prefix::campaign, kT0, 0x2a5f3c1)};
const CommandId kCommand{make_id(id_prefix::command, kT0, 9)};

EventEnvelope envelope(Event body, int32_t index, TimePoint at = kT0, OrgId org = kOrg) {
  return EventEnvelope{EventSource{{Partition{0}, Offset{17}}, index},
                       kCommand,
                       std::move(org),
                       at,
                       3,
                       std::move(body)};
}

MessageId msg(uint32_t i) {
  return MessageId{derive_id(id_prefix::message, kCampaign.value, i)};
}

QueuedMessage queued(uint32_t i, std::string body, SmsEncoding enc, int32_t segments) {
  return QueuedMessage{msg(i),
                       PhoneNumber{"+1415555000" + std::to_string(i)},
                       "Person " + std::to_string(i),
                       std::move(body),
                       enc,
                       segments};
}

TEST_CASE("CampaignCreated creates a running campaign") {
  FakeTx tx;
  apply(tx,
        envelope(CampaignCreated{kCampaign, "SMS to 3 recipients", "api", "Hi {{name}}", 3}, 0));
  REQUIRE(tx.campaigns.size() == 1);
  const auto v = tx.campaign(kOrg, kCampaign);
  REQUIRE(v.has_value());
  CHECK(v->id == kCampaign);
  CHECK(v->name == "SMS to 3 recipients");
  CHECK(v->source == "api");
  CHECK(v->message == "Hi {{name}}");
  CHECK(v->status == "running");
  CHECK(v->total_messages == 3);
  CHECK(v->queued_count == 0);
  CHECK(v->sent_count == 0);
  CHECK(v->delivered_count == 0);
  CHECK(v->failed_count == 0);
  CHECK(v->segments == 0);
  CHECK(v->created_at == kT0);
  CHECK(v->updated_at == kT0);
  CHECK(v->started_at == kT0);
  CHECK_FALSE(v->completed_at.has_value());
  // Keys are per organisation.
  CHECK_FALSE(tx.campaign(kOtherOrg, kCampaign).has_value());
}

TEST_CASE("MessagesQueued stores queued messages and sums the campaign's counters") {
  FakeTx tx;
  apply(tx, envelope(CampaignCreated{kCampaign, "SMS to 3 recipients", "api", "m", 3}, 0));
  apply(tx, envelope(MessagesQueued{kCampaign,
                                    {queued(0, "Hi Ann", SmsEncoding::gsm7, 1),
                                     queued(1, "Привет", SmsEncoding::ucs2, 2)}},
                     1, kT1));
  apply(tx, envelope(
                MessagesQueued{kCampaign, {queued(2, std::string(161, 'x'), SmsEncoding::gsm7, 2)}},
                2, kT1 + Millis{1}));

  REQUIRE(tx.messages.size() == 3);
  const auto m1 = tx.message(kOrg, msg(1));
  REQUIRE(m1.has_value());
  CHECK(m1->id == msg(1));
  CHECK(m1->campaign_id == kCampaign);
  CHECK(m1->phone == "+14155550001");
  CHECK(m1->contact_name == "Person 1");
  CHECK(m1->body == "Привет");
  CHECK(m1->status == "queued");
  CHECK(m1->encoding == "UCS-2");
  CHECK(m1->segments == 2);
  CHECK(m1->created_at == kT1);
  CHECK(m1->updated_at == kT1);
  CHECK_FALSE(m1->sent_at.has_value());
  CHECK_FALSE(m1->delivered_at.has_value());
  CHECK_FALSE(m1->error.has_value());

  const auto m0 = tx.message(kOrg, msg(0));
  REQUIRE(m0.has_value());
  CHECK(m0->encoding == "GSM-7");
  CHECK(m0->body == "Hi Ann");
  CHECK(tx.message(kOrg, msg(2))->created_at == kT1 + Millis{1});
  CHECK_FALSE(tx.message(kOrg, msg(3)).has_value());

  const auto v = tx.campaign(kOrg, kCampaign);
  REQUIRE(v.has_value());
  CHECK(v->queued_count == 3);
  CHECK(v->segments == 5);
  CHECK(v->total_messages == 3);
  CHECK(v->status == "running");
  CHECK(v->created_at == kT0);
  CHECK(v->updated_at == kT1 + Millis{1});
}

TEST_CASE("CommandRejected stores the outcome under the command id") {
  FakeTx tx;
  apply(tx, envelope(CommandRejected{"SendSms", Errc::quota_exceeded, "Monthly SMS limit reached",
                                     "5 SMS remaining this month; this request needs 6"},
                     0));
  REQUIRE(tx.outcomes.size() == 1);
  const auto& [key, o] = *tx.outcomes.begin();
  CHECK(key == FakeTx::Key{kOrg.value, kCommand.value});
  CHECK(o == CommandOutcome{"SendSms", Errc::quota_exceeded, "Monthly SMS limit reached",
                            "5 SMS remaining this month; this request needs 6"});
  CHECK(tx.campaigns.empty());
  CHECK(tx.messages.empty());
}

TEST_CASE("a duplicate CampaignCreated is ignored") {
  FakeTx tx;
  apply(tx, envelope(CampaignCreated{kCampaign, "first", "api", "m", 2}, 0));
  apply(tx, envelope(MessagesQueued{kCampaign, {queued(0, "a", SmsEncoding::gsm7, 1)}}, 1, kT1));
  const auto before = tx.campaign(kOrg, kCampaign);
  REQUIRE(before.has_value());
  const int puts = tx.campaign_puts;

  apply(tx,
        envelope(CampaignCreated{kCampaign, "second", "campaign", "other", 9}, 0, kT1 + Millis{5}));
  CHECK(tx.campaign_puts == puts);
  CHECK(tx.campaign(kOrg, kCampaign) == before);
  CHECK(tx.campaign(kOrg, kCampaign)->name == "first");
  CHECK(tx.campaign(kOrg, kCampaign)->queued_count == 1);

  // The same campaign id in another organisation is a different campaign.
  apply(tx, envelope(CampaignCreated{kCampaign, "theirs", "api", "m", 1}, 0, kT1, kOtherOrg));
  CHECK(tx.campaigns.size() == 2);
  CHECK(tx.campaign(kOtherOrg, kCampaign)->name == "theirs");
  CHECK(tx.campaign(kOrg, kCampaign)->name == "first");
}

TEST_CASE("campaign_of recovers the campaign of a message id") {
  CHECK(campaign_of(msg(0)) == kCampaign);
  CHECK(campaign_of(msg(1)) == kCampaign);
  CHECK(campaign_of(msg(499)) == kCampaign);
  CHECK(campaign_of(msg((1u << 20) - 1)) == kCampaign);
  const CampaignId other{make_id(id_prefix::campaign, from_unix_ms(0), 0)};
  CHECK(campaign_of(MessageId{derive_id(id_prefix::message, other.value, 7)}) == other);
}

TEST_CASE("campaign_of refuses ids that are not derived message ids") {
  CHECK_FALSE(campaign_of(MessageId{""}).has_value());
  CHECK_FALSE(campaign_of(MessageId{"msg_"}).has_value());
  CHECK_FALSE(campaign_of(MessageId{"msg_short"}).has_value());
  // A campaign id, and a message-prefixed id that is not derived (16-character body).
  CHECK_FALSE(campaign_of(MessageId{kCampaign.value}).has_value());
  CHECK_FALSE(campaign_of(MessageId{make_id(id_prefix::message, kT0, 5)}).has_value());
  // A grandchild (24-character body).
  CHECK_FALSE(campaign_of(MessageId{derive_id(id_prefix::message, msg(3).value, 1)}).has_value());
  // Right length, wrong prefix or alphabet.
  std::string id = msg(3).value;
  CHECK_FALSE(campaign_of(MessageId{"dvc" + id.substr(3)}).has_value());
  id[6] = 'u';  // not in Crockford base32
  CHECK_FALSE(campaign_of(MessageId{id}).has_value());
  id = msg(3).value;
  id[6] = 'A';  // upper case
  CHECK_FALSE(campaign_of(MessageId{id}).has_value());
}

TEST_CASE("accounts: users, organisations with their owner, API keys and plans") {
  FakeTx tx;
  const UserId user{make_id(id_prefix::user, kT0, 5)};
  apply(tx, envelope(UserRegistered{user, "ada@example.com", "Ada", "scrypt$h", kOrg}, 0));
  REQUIRE(tx.users.count("ada@example.com") == 1);
  CHECK(tx.users["ada@example.com"].id == user);
  CHECK(tx.users["ada@example.com"].default_org == kOrg);
  CHECK(tx.users["ada@example.com"].created_at == kT0);

  apply(tx, envelope(OrganizationCreated{"Acme", user, Plan::free}, 0));
  REQUIRE(tx.orgs.count(kOrg.value) == 1);
  CHECK(tx.orgs[kOrg.value].name == "Acme");
  CHECK(tx.orgs[kOrg.value].owner == user);
  REQUIRE(tx.memberships.count({user.value, kOrg.value}) == 1);
  CHECK(tx.memberships[{user.value, kOrg.value}].role == "owner");
  // A duplicate creation changes nothing.
  apply(tx, envelope(OrganizationCreated{"Renamed", user, Plan::pro}, 0, kT1));
  CHECK(tx.orgs[kOrg.value].name == "Acme");

  const ApiKeyId key{make_id(id_prefix::api_key, kT0, 6)};
  apply(
      tx,
      envelope(ApiKeyCreated{key, "ci", std::string(64, 'a'), "pk_live_aaaa…aaaa", user.value}, 1));
  REQUIRE(tx.keys.count({kOrg.value, key.value}) == 1);
  CHECK_FALSE(tx.keys[{kOrg.value, key.value}].revoked_at.has_value());
  apply(tx, envelope(ApiKeyRevoked{key}, 0, kT1));
  CHECK(tx.keys[{kOrg.value, key.value}].revoked_at == kT1);
  apply(tx, envelope(ApiKeyRevoked{key}, 0, kT1 + Millis{5}));  // the first revocation stays
  CHECK(tx.keys[{kOrg.value, key.value}].revoked_at == kT1);
  // Another organisation's key id is not this one.
  apply(tx, envelope(ApiKeyRevoked{key}, 0, kT1, kOtherOrg));
  CHECK(tx.keys.count({kOtherOrg.value, key.value}) == 0);

  apply(tx, envelope(PlanChanged{Plan::enterprise}, 0, kT1));
  CHECK(tx.orgs[kOrg.value].plan == Plan::enterprise);
  CHECK(tx.orgs[kOrg.value].updated_at == kT1);
}

TEST_CASE("gateways: messages move queued -> sending -> sent -> delivered | failed, counted") {
  FakeTx tx;
  const DeviceId dev{make_id(id_prefix::device, kT0, 8)};
  apply(tx, envelope(DeviceRegistered{dev,
                                      "ph",
                                      "ch",
                                      "Phone",
                                      "Pixel",
                                      "15",
                                      "1.0",
                                      {SimCard{0, "+15550000001", "Carrier"}},
                                      {0}},
                     0));
  apply(tx, envelope(DeviceConnected{dev}, 1));
  CHECK(tx.devices.at({kOrg.value, dev.value}).status == "online");
  apply(tx, envelope(CampaignCreated{kCampaign, "c", "api", "hi", 3, std::nullopt}, 0));
  MessagesQueued q{kCampaign, {}};
  for (uint32_t i = 0; i < 3; ++i)
    q.messages.push_back(QueuedMessage{MessageId{derive_id(id_prefix::message, kCampaign.value, i)},
                                       PhoneNumber{"+14155550000"}, "", "hi", SmsEncoding::gsm7,
                                       1});
  apply(tx, envelope(q, 1));
  CHECK(tx.queues[kOrg.value].queued == 3);
  auto id = [&](uint32_t i) {
    return MessageId{derive_id(id_prefix::message, kCampaign.value, i)};
  };
  apply(tx, envelope(MessagesClaimed{dev, 0, kT1, {{id(0), 1}, {id(1), 1}, {id(2), 1}}}, 0, kT1));
  auto c = tx.campaigns.at({kOrg.value, kCampaign.value});
  CHECK(c.queued_count == 0);
  CHECK(c.sending_count == 3);
  CHECK(tx.queues[kOrg.value].queued == 0);
  CHECK(tx.messages.at({kOrg.value, id(0).value}).status == "sending");
  CHECK(tx.messages.at({kOrg.value, id(0).value}).device_id == dev.value);

  const auto t2 = kT1 + Millis{1000};
  apply(tx, envelope(MessagesRequeued{{id(2)}, "lease expired"}, 0, t2));
  CHECK(tx.queues[kOrg.value].queued == 1);
  // Delivered before its "sent" arrives: counted as sent too, sentAt from the receipt.
  apply(tx, envelope(MessagesDelivered{dev, {{id(0), t2}}}, 0, t2));
  apply(tx, envelope(MessagesSent{dev, {{id(0), kT1}}}, 0, t2));  // an earlier time refines sentAt
  apply(tx, envelope(MessagesSent{dev, {{id(1), t2}}}, 0, t2));
  apply(tx, envelope(MessagesFailed{dev.value, {{id(1), t2, "Generic failure"}}}, 0, t2));
  c = tx.campaigns.at({kOrg.value, kCampaign.value});
  CHECK(c.queued_count == 1);
  CHECK(c.sending_count == 0);
  CHECK(c.sent_count == 2);
  CHECK(c.delivered_count == 1);
  CHECK(c.failed_count == 1);
  const auto& m0 = tx.messages.at({kOrg.value, id(0).value});
  CHECK(m0.status == "delivered");
  CHECK(m0.sent_at == kT1);
  CHECK(m0.delivered_at == t2);
  CHECK(tx.messages.at({kOrg.value, id(1).value}).error == "Generic failure");
  CHECK(tx.devices.at({kOrg.value, dev.value}).sms_sent == 2);
  // A receipt after a failure report wins: the carrier confirmed it.
  apply(tx, envelope(MessagesDelivered{dev, {{id(1), t2}}}, 0, t2));
  c = tx.campaigns.at({kOrg.value, kCampaign.value});
  CHECK(c.failed_count == 0);
  CHECK(c.delivered_count == 2);
  CHECK(c.sent_count == 2);
  apply(tx, envelope(CampaignCompleted{kCampaign}, 0, t2));
  CHECK(tx.campaigns.at({kOrg.value, kCampaign.value}).status == "completed");
  CHECK(tx.campaigns.at({kOrg.value, kCampaign.value}).completed_at == t2);
}

// ---- contact lists, campaign lifecycle, indexes, opt-outs --------------------------------------

TEST_CASE("contact lists: counts, merge by phone, replace, remove, delete with the contacts") {
  FakeTx tx;
  const ContactListId list{"cl_01m80zvb19jvjvzb"};
  apply(tx, envelope(ContactListCreated{list, "Newsletter"}, 0));
  apply(tx, envelope(ContactsUpserted{list,
                                      "imp_1",
                                      {Contact{"+14155550001", "Ada", "", "", "", {{"city", "L"}}},
                                       Contact{"+14155550002", "Bob", "", "", "", {}}},
                                      false},
                     0, kT1));
  apply(tx, envelope(ContactsUpserted{list, "", {Contact{"+14155550001", "", "Lovelace"}}, false},
                     1, kT1));
  CHECK(tx.lists.at({kOrg.value, list.value}).contact_count == 2);
  auto ada = *tx.contact(kOrg, list, "+14155550001");
  CHECK(ada.contact.first_name == "Ada");
  CHECK(ada.contact.last_name == "Lovelace");
  CHECK(ada.contact.extra.at("city") == "L");
  CHECK(ada.created_at == kT1);
  apply(tx, envelope(ContactsUpserted{list, "", {Contact{"+14155550001", "", "X"}}, true}, 2));
  CHECK(tx.contact(kOrg, list, "+14155550001")->contact.first_name.empty());
  apply(tx, envelope(ContactsRemoved{list, {"+14155550002", "+14155550009"}}, 0));
  CHECK(tx.lists.at({kOrg.value, list.value}).contact_count == 1);
  apply(tx, envelope(ContactListDeleted{list}, 0));
  CHECK(tx.lists.empty());
  CHECK(tx.contacts.empty());
}

TEST_CASE("campaign lifecycle: only running campaigns count as queued work") {
  FakeTx tx;
  apply(tx, envelope(CampaignDrafted{kCampaign, "Spring", "campaign", "Hi {{firstName}}",
                                     "cl_01m80zvb19jvjvzb", "Newsletter", 3, 3, std::nullopt},
                     0));
  auto q = [&](uint32_t i) {
    return QueuedMessage{
        msg(i), PhoneNumber{"+1415555000" + std::to_string(i)}, "N", "Hi", SmsEncoding::gsm7, 1};
  };
  apply(tx, envelope(MessagesQueued{kCampaign, {q(0), q(1), q(2)}}, 1));
  auto c = tx.campaigns.at({kOrg.value, kCampaign.value});
  CHECK(c.status == "draft");
  CHECK(c.contact_list_name == "Newsletter");
  CHECK(c.queued_count == 3);
  CHECK(tx.queues[kOrg.value].queued == 0);
  CHECK_FALSE(c.started_at);
  apply(tx, envelope(CampaignStarted{kCampaign, kT1 + Millis{86400000}}, 2, kT1));
  c = tx.campaigns.at({kOrg.value, kCampaign.value});
  CHECK(c.status == "running");
  CHECK(c.started_at == kT1);
  CHECK(tx.queues[kOrg.value].queued == 3);
  apply(tx, envelope(CampaignPaused{kCampaign}, 0));
  CHECK(tx.campaigns.at({kOrg.value, kCampaign.value}).status == "paused");
  CHECK(tx.queues[kOrg.value].queued == 0);
  apply(tx, envelope(CampaignResumed{kCampaign}, 0));
  CHECK(tx.queues[kOrg.value].queued == 3);
  apply(tx, envelope(CampaignPaused{kCampaign}, 0));
  apply(tx, envelope(MessagesFailed{"",
                                    {{msg(0), kT1, "cancelled"},
                                     {msg(1), kT1, "cancelled"},
                                     {msg(2), kT1, "cancelled"}}},
                     0));
  apply(tx, envelope(CampaignCancelled{kCampaign}, 1));
  c = tx.campaigns.at({kOrg.value, kCampaign.value});
  CHECK(c.status == "cancelled");
  CHECK(c.failed_count == 3);
  CHECK(c.queued_count == 0);
  CHECK(tx.queues[kOrg.value].queued == 0);
  CHECK(tx.messages.at({kOrg.value, msg(1).value}).error == "cancelled");
}

TEST_CASE("status and phone indexes, timeline and daily counters follow the messages") {
  FakeTx tx;
  const DeviceId dev{make_id(id_prefix::device, kT0, 8)};
  apply(tx, envelope(DeviceRegistered{dev,
                                      "ph",
                                      "ch",
                                      "Phone",
                                      "Pixel",
                                      "15",
                                      "1.0",
                                      {SimCard{0, "+15550000001", "Carrier"}},
                                      {0}},
                     0));
  apply(tx, envelope(CampaignCreated{kCampaign, "c", "api", "hi", 2, std::nullopt}, 0));
  apply(tx, envelope(RecipientsSuppressed{kCampaign, {"+14155550009"}}, 1));
  apply(tx, envelope(MessagesQueued{kCampaign,
                                    {queued(0, "hi", SmsEncoding::gsm7, 1),
                                     queued(1, "hi", SmsEncoding::gsm7, 2)}},
                     2));
  const auto day = utc_day_of(kT0);
  CHECK(day == "2026-11-15");
  auto d = tx.days.at({kOrg.value, day});
  CHECK(d.queued == 2);
  CHECK(d.segments == 3);
  CHECK(d.suppressed == 1);
  CHECK(tx.extras.at({kOrg.value, kCampaign.value}).suppressed == 1);
  CHECK(tx.by_status[{kOrg.value, "queued"}].size() == 2);
  CHECK(tx.by_phone[{kOrg.value, "+14155550000"}].count(msg(0).value) == 1);

  const TimePoint t2 = kT0 + Millis{5000};
  apply(tx, envelope(MessagesClaimed{dev, 0, t2, {{msg(0), 1}, {msg(1), 1}}}, 3, kT1));
  CHECK(tx.by_status[{kOrg.value, "queued"}].empty());
  CHECK(tx.by_status[{kOrg.value, "sending"}].size() == 2);
  // (Each event its own position, as in the log: timeline entries sort by it.)
  apply(tx, envelope(MessagesSent{dev, {{msg(0), kT1}}}, 4, t2));
  apply(tx, envelope(MessagesDelivered{dev, {{msg(0), t2}}}, 5, t2));
  apply(tx, envelope(MessagesFailed{dev.value, {{msg(1), t2, "Generic failure"}}}, 6, t2));
  CHECK(tx.by_status[{kOrg.value, "sending"}].empty());
  CHECK(tx.by_status[{kOrg.value, "sent"}].empty());
  CHECK(tx.by_status[{kOrg.value, "delivered"}] == std::set<std::string>{msg(0).value});
  CHECK(tx.by_status[{kOrg.value, "failed"}] == std::set<std::string>{msg(1).value});
  d = tx.days.at({kOrg.value, day});
  CHECK(d.sent == 1);
  CHECK(d.delivered == 1);
  CHECK(d.failed == 1);

  const auto& t0 = tx.timelines.at({kOrg.value, msg(0).value});
  std::vector<std::string> statuses;
  for (const auto& [k, e] : t0) statuses.push_back(e.status);
  CHECK(statuses == std::vector<std::string>{"sending", "sent", "delivered"});
  CHECK(t0.begin()->second.device_id == dev.value);
  CHECK(t0.begin()->second.sim_slot == 0);
  CHECK(t0.begin()->second.attempt == 1);
  const auto& t1 = tx.timelines.at({kOrg.value, msg(1).value});
  CHECK(t1.rbegin()->second.status == "failed");
  CHECK(t1.rbegin()->second.error == "Generic failure");
}

TEST_CASE("opt-outs, pinned campaigns and idempotency keys") {
  FakeTx tx;
  apply(tx, envelope(OptOutAdded{"+14155550001", "asked", "api"}, 0));
  apply(tx, envelope(OptOutAdded{"+14155550001", "again", "reply"}, 0, kT1));
  REQUIRE(tx.opt_outs.count({kOrg.value, "+14155550001"}));
  CHECK(tx.opt_outs.at({kOrg.value, "+14155550001"}).reason == "asked");  // the first stays
  CHECK(tx.opt_outs.at({kOrg.value, "+14155550001"}).created_at == kT0);
  apply(tx, envelope(OptOutRemoved{"+14155550001"}, 0));
  CHECK(tx.opt_outs.empty());
  const DeviceId dev{make_id(id_prefix::device, kT0, 8)};
  apply(tx, envelope(CampaignPinned{kCampaign, dev}, 0));
  CHECK(tx.extras.at({kOrg.value, kCampaign.value}).device_id == dev.value);
  apply(tx, envelope(IdempotencyKeyRecorded{"k1", "h", kCampaign, 3, kT0 + Millis{1000}}, 0));
  CHECK(tx.idempotency.at({kOrg.value, "k1"}).campaign_id == kCampaign);
  CHECK(tx.idempotency.at({kOrg.value, "k1"}).recipient_count == 3);
}

}  // namespace
}  // namespace pulse::projections
