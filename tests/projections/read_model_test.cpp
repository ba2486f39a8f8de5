#include "projections/read_model.h"

#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>
#include <utility>

#include "adapters/codec/value_codec.h"
#include "domain/ids.h"
#include "projections/conversations.h"
#include "projections/messages.h"

namespace pulse::projections {
namespace {

// The projector over an in-memory store, with the values stored the way the server stores them.
class TestTx {
 public:
  operator ReadModelTx&() { return tx_; }  // NOLINT: apply(tx, …) takes it as the transaction
  template <class V>
  std::optional<V> get(const Key<V>& key) {
    return tx_.get(key);
  }
  template <class V>
  std::vector<V> scan(const Prefix<V>& prefix) {
    return tx_.scan(prefix);
  }
  // Keys of one kind ("c/": campaigns), across organisations.
  size_t count(std::string_view kind) const {
    size_t n = 0;
    for (const auto& [k, v] : kv_.data())
      if (std::string_view(k).starts_with(kind)) ++n;
    return n;
  }
  // The message ids an index holds.
  std::set<std::string> index(const Prefix<NoValue>& prefix) const {
    std::set<std::string> ids;
    for (const auto& [k, v] : kv_.data())
      if (std::string_view(k).starts_with(prefix.bytes)) ids.insert(k.substr(prefix.bytes.size()));
    return ids;
  }
  QueueView queue(const OrgId& org) { return get(table::queue(org)).value_or(QueueView{}); }
  size_t puts() const { return kv_.puts(); }
  const auto& data() const { return kv_.data(); }

 private:
  MemoryKv kv_;
  ReadModelTx tx_{kv_, codec::value_codec()};
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
  TestTx tx;
  apply(tx,
        envelope(CampaignCreated{kCampaign, "SMS to 3 recipients", "api", "Hi {{name}}", 3}, 0));
  REQUIRE(tx.count("c/") == 1);
  const auto v = tx.get(table::campaign(kOrg, kCampaign));
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
  CHECK_FALSE(tx.get(table::campaign(kOtherOrg, kCampaign)).has_value());
}

TEST_CASE("MessagesQueued stores queued messages and sums the campaign's counters") {
  TestTx tx;
  apply(tx, envelope(CampaignCreated{kCampaign, "SMS to 3 recipients", "api", "m", 3}, 0));
  apply(tx, envelope(MessagesQueued{kCampaign,
                                    {queued(0, "Hi Ann", SmsEncoding::gsm7, 1),
                                     queued(1, "Привет", SmsEncoding::ucs2, 2)}},
                     1, kT1));
  apply(tx, envelope(
                MessagesQueued{kCampaign, {queued(2, std::string(161, 'x'), SmsEncoding::gsm7, 2)}},
                2, kT1 + Millis{1}));

  REQUIRE(tx.count("m/") == 3);
  const auto m1 = tx.get(table::message(kOrg, msg(1)));
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

  const auto m0 = tx.get(table::message(kOrg, msg(0)));
  REQUIRE(m0.has_value());
  CHECK(m0->encoding == "GSM-7");
  CHECK(m0->body == "Hi Ann");
  CHECK(tx.get(table::message(kOrg, msg(2)))->created_at == kT1 + Millis{1});
  CHECK_FALSE(tx.get(table::message(kOrg, msg(3))).has_value());

  const auto v = tx.get(table::campaign(kOrg, kCampaign));
  REQUIRE(v.has_value());
  CHECK(v->queued_count == 3);
  CHECK(v->segments == 5);
  CHECK(v->total_messages == 3);
  CHECK(v->status == "running");
  CHECK(v->created_at == kT0);
  CHECK(v->updated_at == kT1 + Millis{1});
}

TEST_CASE("CommandRejected stores the outcome under the command id") {
  TestTx tx;
  apply(tx, envelope(CommandRejected{"SendSms", Errc::quota_exceeded, "Monthly SMS limit reached",
                                     "5 SMS remaining this month; this request needs 6"},
                     0));
  REQUIRE(tx.count("o/") == 1);
  const auto o = tx.get(table::outcome(kOrg, kCommand));
  REQUIRE(o.has_value());
  CHECK(*o == CommandOutcome{"SendSms", Errc::quota_exceeded, "Monthly SMS limit reached",
                             "5 SMS remaining this month; this request needs 6"});
  CHECK((tx.count("c/") == 0));
  CHECK((tx.count("m/") == 0));
}

TEST_CASE("a duplicate CampaignCreated is ignored") {
  TestTx tx;
  apply(tx, envelope(CampaignCreated{kCampaign, "first", "api", "m", 2}, 0));
  apply(tx, envelope(MessagesQueued{kCampaign, {queued(0, "a", SmsEncoding::gsm7, 1)}}, 1, kT1));
  const auto before = tx.get(table::campaign(kOrg, kCampaign));
  REQUIRE(before.has_value());
  const size_t puts = tx.puts();

  apply(tx,
        envelope(CampaignCreated{kCampaign, "second", "campaign", "other", 9}, 0, kT1 + Millis{5}));
  CHECK(tx.puts() == puts);
  CHECK(tx.get(table::campaign(kOrg, kCampaign)) == before);
  CHECK(tx.get(table::campaign(kOrg, kCampaign))->name == "first");
  CHECK(tx.get(table::campaign(kOrg, kCampaign))->queued_count == 1);

  // The same campaign id in another organisation is a different campaign.
  apply(tx, envelope(CampaignCreated{kCampaign, "theirs", "api", "m", 1}, 0, kT1, kOtherOrg));
  CHECK(tx.count("c/") == 2);
  CHECK(tx.get(table::campaign(kOtherOrg, kCampaign))->name == "theirs");
  CHECK(tx.get(table::campaign(kOrg, kCampaign))->name == "first");
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

TEST_CASE("pending organisations: kept until created, in either order of the two partitions") {
  const UserId user{make_id(id_prefix::user, kT0, 5)};
  const NewApiKey key{ApiKeyId{make_id(id_prefix::api_key, kT0, 6)}, "Default key", "h", "pk…"};
  const UserRegistered registered{user, "ada@example.com", "Ada", "scrypt$h", kOrg, "", key};
  // Registered first (the live order): pending until its organisation is created.
  TestTx live;
  apply(live, envelope(registered, 0));
  auto pending = live.get(table::pending_organization(kOrg));
  REQUIRE(pending.has_value());
  CHECK(pending->name == "Ada's organization");
  CHECK(pending->owner == user);
  CHECK(pending->first_key == key);
  CHECK(pending->since == kT0);
  apply(live, envelope(OrganizationCreated{"Ada's organization", user, Plan::free}, 0, kT1));
  CHECK_FALSE(live.get(table::pending_organization(kOrg)).has_value());
  // A rebuild may project the organisation's partition first: nothing is left pending either.
  TestTx rebuilt;
  apply(rebuilt, envelope(OrganizationCreated{"Ada's organization", user, Plan::free}, 0, kT1));
  apply(rebuilt, envelope(registered, 0));
  CHECK_FALSE(rebuilt.get(table::pending_organization(kOrg)).has_value());
  // A claim names its organisation (v1 claims have no name).
  const OrgId second{make_id(id_prefix::org, kT0, 9)};
  apply(live, envelope(OrganizationClaimed{user, "ada@example.com", second, "Branch"}, 0));
  CHECK(live.get(table::pending_organization(second))->name == "Branch");
  apply(live, envelope(OrganizationClaimed{user, "ada@example.com", second, ""}, 0));
  CHECK(live.get(table::pending_organization(second))->name == "My organization");
}

TEST_CASE("accounts: users, organisations with their owner, API keys and plans") {
  TestTx tx;
  const UserId user{make_id(id_prefix::user, kT0, 5)};
  apply(tx, envelope(UserRegistered{user, "ada@example.com", "Ada", "scrypt$h", kOrg}, 0));
  REQUIRE(tx.get(table::user_by_email("ada@example.com")).has_value());
  CHECK(tx.get(table::user_by_email("ada@example.com"))->id == user);
  CHECK(tx.get(table::user_by_email("ada@example.com"))->default_org == kOrg);
  CHECK(tx.get(table::user_by_email("ada@example.com"))->created_at == kT0);

  apply(tx, envelope(OrganizationCreated{"Acme", user, Plan::free}, 0));
  REQUIRE(tx.get(table::organization(kOrg)).has_value());
  CHECK(tx.get(table::organization(kOrg))->name == "Acme");
  CHECK(tx.get(table::organization(kOrg))->owner == user);
  REQUIRE(tx.get(table::membership(user, kOrg)).has_value());
  CHECK(tx.get(table::membership(user, kOrg))->role == "owner");
  // A duplicate creation changes nothing.
  apply(tx, envelope(OrganizationCreated{"Renamed", user, Plan::pro}, 0, kT1));
  CHECK(tx.get(table::organization(kOrg))->name == "Acme");

  const ApiKeyId key{make_id(id_prefix::api_key, kT0, 6)};
  apply(
      tx,
      envelope(ApiKeyCreated{key, "ci", std::string(64, 'a'), "pk_live_aaaa…aaaa", user.value}, 1));
  REQUIRE(tx.get(table::api_key(kOrg, key)).has_value());
  CHECK_FALSE(tx.get(table::api_key(kOrg, key))->revoked_at.has_value());
  apply(tx, envelope(ApiKeyRevoked{key}, 0, kT1));
  CHECK(tx.get(table::api_key(kOrg, key))->revoked_at == kT1);
  apply(tx, envelope(ApiKeyRevoked{key}, 0, kT1 + Millis{5}));  // the first revocation stays
  CHECK(tx.get(table::api_key(kOrg, key))->revoked_at == kT1);
  // Another organisation's key id is not this one.
  apply(tx, envelope(ApiKeyRevoked{key}, 0, kT1, kOtherOrg));
  CHECK(!tx.get(table::api_key(kOtherOrg, key)).has_value());

  apply(tx, envelope(PlanChanged{Plan::enterprise}, 0, kT1));
  CHECK(tx.get(table::organization(kOrg))->plan == Plan::enterprise);
  CHECK(tx.get(table::organization(kOrg))->updated_at == kT1);
}

TEST_CASE("gateways: messages move queued -> sending -> sent -> delivered | failed, counted") {
  TestTx tx;
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
  CHECK((*tx.get(table::device(kOrg, dev))).status == "online");
  apply(tx, envelope(CampaignCreated{kCampaign, "c", "api", "hi", 3, std::nullopt}, 0));
  MessagesQueued q{kCampaign, {}};
  for (uint32_t i = 0; i < 3; ++i)
    q.messages.push_back(QueuedMessage{MessageId{derive_id(id_prefix::message, kCampaign.value, i)},
                                       PhoneNumber{"+14155550000"}, "", "hi", SmsEncoding::gsm7,
                                       1});
  apply(tx, envelope(q, 1));
  CHECK(tx.queue(kOrg).queued == 3);
  auto id = [&](uint32_t i) {
    return MessageId{derive_id(id_prefix::message, kCampaign.value, i)};
  };
  apply(tx, envelope(MessagesClaimed{dev, 0, kT1, {{id(0), 1}, {id(1), 1}, {id(2), 1}}}, 0, kT1));
  auto c = (*tx.get(table::campaign(kOrg, kCampaign)));
  CHECK(c.queued_count == 0);
  CHECK(c.sending_count == 3);
  CHECK(tx.queue(kOrg).queued == 0);
  CHECK((*tx.get(table::message(kOrg, id(0)))).status == "sending");
  CHECK((*tx.get(table::message(kOrg, id(0)))).device_id == dev.value);

  const auto t2 = kT1 + Millis{1000};
  apply(tx, envelope(MessagesRequeued{{id(2)}, "lease expired"}, 0, t2));
  CHECK(tx.queue(kOrg).queued == 1);
  // Delivered before its "sent" arrives: counted as sent too, sentAt from the receipt.
  apply(tx, envelope(MessagesDelivered{dev, {{id(0), t2}}}, 0, t2));
  apply(tx, envelope(MessagesSent{dev, {{id(0), kT1}}}, 0, t2));  // an earlier time refines sentAt
  apply(tx, envelope(MessagesSent{dev, {{id(1), t2}}}, 0, t2));
  apply(tx, envelope(MessagesFailed{dev.value, {{id(1), t2, "Generic failure"}}}, 0, t2));
  c = (*tx.get(table::campaign(kOrg, kCampaign)));
  CHECK(c.queued_count == 1);
  CHECK(c.sending_count == 0);
  CHECK(c.sent_count == 2);
  CHECK(c.delivered_count == 1);
  CHECK(c.failed_count == 1);
  const auto m0 = *tx.get(table::message(kOrg, id(0)));
  CHECK(m0.status == "delivered");
  CHECK(m0.sent_at == kT1);
  CHECK(m0.delivered_at == t2);
  CHECK((*tx.get(table::message(kOrg, id(1)))).error == "Generic failure");
  CHECK((*tx.get(table::device(kOrg, dev))).sms_sent == 2);
  // A receipt after a failure report wins: the carrier confirmed it.
  apply(tx, envelope(MessagesDelivered{dev, {{id(1), t2}}}, 0, t2));
  c = (*tx.get(table::campaign(kOrg, kCampaign)));
  CHECK(c.failed_count == 0);
  CHECK(c.delivered_count == 2);
  CHECK(c.sent_count == 2);
  apply(tx, envelope(CampaignCompleted{kCampaign}, 0, t2));
  CHECK((*tx.get(table::campaign(kOrg, kCampaign))).status == "completed");
  CHECK((*tx.get(table::campaign(kOrg, kCampaign))).completed_at == t2);
}

// ---- contact lists, campaign lifecycle, indexes, opt-outs --------------------------------------

TEST_CASE("contact lists: counts, merge by phone, replace, remove, delete with the contacts") {
  TestTx tx;
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
  CHECK((*tx.get(table::contact_list(kOrg, list))).contact_count == 2);
  auto ada = *tx.get(table::contact(kOrg, list, "+14155550001"));
  CHECK(ada.contact.first_name == "Ada");
  CHECK(ada.contact.last_name == "Lovelace");
  CHECK(ada.contact.extra.at("city") == "L");
  CHECK(ada.created_at == kT1);
  apply(tx, envelope(ContactsUpserted{list, "", {Contact{"+14155550001", "", "X"}}, true}, 2));
  CHECK(tx.get(table::contact(kOrg, list, "+14155550001"))->contact.first_name.empty());
  apply(tx, envelope(ContactsRemoved{list, {"+14155550002", "+14155550009"}}, 0));
  CHECK((*tx.get(table::contact_list(kOrg, list))).contact_count == 1);
  apply(tx, envelope(ContactListDeleted{list}, 0));
  CHECK((tx.count("ls/") == 0));
  CHECK((tx.count("lc/") == 0));
}

TEST_CASE("a staged import is invisible until it completes, then the list gets it whole") {
  TestTx tx;
  const ContactListId list{"cl_01m80zvb19jvjvzb"};
  const std::string imp = "imp_01m80zvb19jvjvzb";
  apply(tx, envelope(ContactListCreated{list, "Newsletter"}, 0));
  apply(tx, envelope(ContactsUpserted{list, "", {Contact{"+14155550001", "Ada"}}, false}, 0));
  apply(tx, envelope(ContactsStaged{list,
                                    imp,
                                    0,
                                    {Contact{"+14155550001", "", "Lovelace"},
                                     Contact{"+14155550002", "Bob", "", "", "", {{"city", "L"}}}}},
                     0, kT1));
  apply(tx, envelope(ContactsStaged{list, imp, 1, {Contact{"+14155550003", "Cy"}}}, 0, kT1));
  // Staged: not in the list, not counted, kept apart.
  CHECK((*tx.get(table::contact_list(kOrg, list))).contact_count == 1);
  CHECK_FALSE(tx.get(table::contact(kOrg, list, "+14155550002")));
  CHECK(tx.get(table::contact(kOrg, list, "+14155550001"))->contact.last_name.empty());
  CHECK(tx.count("li/") == 3);
  const TimePoint t2 = kT1 + Millis{1000};
  apply(tx, envelope(ContactImportCompleted{list, imp, 2, 3}, 1, t2));
  const auto after = *tx.get(table::contact_list(kOrg, list));
  CHECK(after.contact_count == 3);
  CHECK(after.updated_at == t2);
  auto ada = *tx.get(table::contact(kOrg, list, "+14155550001"));
  CHECK(ada.contact.first_name == "Ada");  // merged, as an upsert
  CHECK(ada.contact.last_name == "Lovelace");
  CHECK(ada.updated_at == t2);
  auto bob = *tx.get(table::contact(kOrg, list, "+14155550002"));
  CHECK(bob.contact.extra.at("city") == "L");
  CHECK(bob.created_at == t2);  // in the list from the completion on
  CHECK(tx.count("li/") == 0);
}

TEST_CASE("a discarded import leaves the list as it was; a deleted list's imports go too") {
  TestTx tx;
  const ContactListId list{"cl_01m80zvb19jvjvzb"};
  apply(tx, envelope(ContactListCreated{list, "Newsletter"}, 0));
  const auto before = *tx.get(table::contact_list(kOrg, list));
  apply(tx, envelope(ContactsStaged{list, "imp_01m80zvb19jvjvza", 0, {Contact{"+14155550001"}}}, 0,
                     kT1));
  apply(tx, envelope(ContactsStaged{list, "imp_01m80zvb19jvjvzb", 0, {Contact{"+14155550002"}}}, 0,
                     kT1));
  apply(tx, envelope(ContactImportDiscarded{list, "imp_01m80zvb19jvjvza", 1, 1, "abandoned"}, 0));
  CHECK(tx.count("li/") == 1);
  CHECK(*tx.get(table::contact_list(kOrg, list)) == before);
  CHECK(tx.count("lc/") == 0);
  // A completion after a discard (never decided so) would find nothing staged.
  apply(tx,
        envelope(ContactImportDiscarded{list, "imp_01m80zvb19jvjvzb", 1, 1, "list_deleted"}, 0));
  apply(tx, envelope(ContactListDeleted{list}, 1));
  CHECK(tx.count("li/") == 0);
  CHECK(tx.count("ls/") == 0);
}

// Replaying the same events rebuilds the same bytes, staging keys included, whether imports
// interleave or not: the projector reads nothing but the events and its own store.
TEST_CASE("imports project deterministically") {
  auto run = [](TestTx& tx) {
    const ContactListId list{"cl_01m80zvb19jvjvzb"};
    apply(tx, envelope(ContactListCreated{list, "L"}, 0));
    for (int chunk = 0; chunk < 3; ++chunk)
      for (const char* imp : {"imp_01m80zvb19jvjvza", "imp_01m80zvb19jvjvzb"}) {
        std::vector<Contact> cs;
        for (int i = 0; i < 50; ++i)
          cs.push_back(Contact{"+1415555" + std::to_string(1000 + chunk * 100 + i), imp});
        apply(tx, envelope(ContactsStaged{list, imp, chunk, cs}, 0, kT1 + Millis{chunk}));
      }
    apply(tx, envelope(ContactImportCompleted{list, "imp_01m80zvb19jvjvza", 3, 150}, 0, kT1));
  };
  TestTx a, b;
  run(a);
  run(b);
  CHECK(a.count("lc/") == 150);
  CHECK(a.count("li/") == 150);  // the other import, still open
  CHECK(a.data() == b.data());
}

TEST_CASE("campaign lifecycle: only running campaigns count as queued work") {
  TestTx tx;
  apply(tx, envelope(CampaignDrafted{kCampaign, "Spring", "campaign", "Hi {{firstName}}",
                                     "cl_01m80zvb19jvjvzb", "Newsletter", 3, 3, std::nullopt},
                     0));
  auto q = [&](uint32_t i) {
    return QueuedMessage{
        msg(i), PhoneNumber{"+1415555000" + std::to_string(i)}, "N", "Hi", SmsEncoding::gsm7, 1};
  };
  apply(tx, envelope(MessagesQueued{kCampaign, {q(0), q(1), q(2)}}, 1));
  auto c = (*tx.get(table::campaign(kOrg, kCampaign)));
  CHECK(c.status == "draft");
  CHECK(c.contact_list_name == "Newsletter");
  CHECK(c.queued_count == 3);
  CHECK(tx.queue(kOrg).queued == 0);
  CHECK_FALSE(c.started_at);
  apply(tx, envelope(CampaignStarted{kCampaign, kT1 + Millis{86400000}}, 2, kT1));
  c = (*tx.get(table::campaign(kOrg, kCampaign)));
  CHECK(c.status == "running");
  CHECK(c.started_at == kT1);
  CHECK(tx.queue(kOrg).queued == 3);
  apply(tx, envelope(CampaignPaused{kCampaign}, 0));
  CHECK((*tx.get(table::campaign(kOrg, kCampaign))).status == "paused");
  CHECK(tx.queue(kOrg).queued == 0);
  apply(tx, envelope(CampaignResumed{kCampaign}, 0));
  CHECK(tx.queue(kOrg).queued == 3);
  apply(tx, envelope(CampaignPaused{kCampaign}, 0));
  apply(tx, envelope(MessagesFailed{"",
                                    {{msg(0), kT1, "cancelled"},
                                     {msg(1), kT1, "cancelled"},
                                     {msg(2), kT1, "cancelled"}}},
                     0));
  apply(tx, envelope(CampaignCancelled{kCampaign}, 1));
  c = (*tx.get(table::campaign(kOrg, kCampaign)));
  CHECK(c.status == "cancelled");
  CHECK(c.failed_count == 3);
  CHECK(c.queued_count == 0);
  CHECK(tx.queue(kOrg).queued == 0);
  CHECK((*tx.get(table::message(kOrg, msg(1)))).error == "cancelled");
}

TEST_CASE("status and phone indexes, timeline and daily counters follow the messages") {
  TestTx tx;
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
  auto d = (*tx.get(table::day_stats(kOrg, day)));
  CHECK(d.queued == 2);
  CHECK(d.segments == 3);
  CHECK(d.suppressed == 1);
  CHECK((*tx.get(table::campaign_extras(kOrg, kCampaign))).suppressed == 1);
  CHECK(tx.index(table::messages_by_status(kOrg, "queued")).size() == 2);
  CHECK(tx.index(table::messages_by_phone(kOrg, "+14155550000")).count(msg(0).value) == 1);

  const TimePoint t2 = kT0 + Millis{5000};
  apply(tx, envelope(MessagesClaimed{dev, 0, t2, {{msg(0), 1}, {msg(1), 1}}}, 3, kT1));
  CHECK(tx.index(table::messages_by_status(kOrg, "queued")).empty());
  CHECK(tx.index(table::messages_by_status(kOrg, "sending")).size() == 2);
  // (Each event its own position, as in the log: timeline entries sort by it.)
  apply(tx, envelope(MessagesSent{dev, {{msg(0), kT1}}}, 4, t2));
  apply(tx, envelope(MessagesDelivered{dev, {{msg(0), t2}}}, 5, t2));
  apply(tx, envelope(MessagesFailed{dev.value, {{msg(1), t2, "Generic failure"}}}, 6, t2));
  CHECK(tx.index(table::messages_by_status(kOrg, "sending")).empty());
  CHECK(tx.index(table::messages_by_status(kOrg, "sent")).empty());
  CHECK(tx.index(table::messages_by_status(kOrg, "delivered")) ==
        std::set<std::string>{msg(0).value});
  CHECK(tx.index(table::messages_by_status(kOrg, "failed")) == std::set<std::string>{msg(1).value});
  d = (*tx.get(table::day_stats(kOrg, day)));
  CHECK(d.sent == 1);
  CHECK(d.delivered == 1);
  CHECK(d.failed == 1);

  const auto t0 = tx.scan(table::timeline(kOrg, msg(0)));
  std::vector<std::string> statuses;
  for (const auto& e : t0) statuses.push_back(e.status);
  CHECK(statuses == std::vector<std::string>{"sending", "sent", "delivered"});
  CHECK(t0.front().device_id == dev.value);
  CHECK(t0.front().sim_slot == 0);
  CHECK(t0.front().attempt == 1);
  const auto t1 = tx.scan(table::timeline(kOrg, msg(1)));
  REQUIRE_FALSE(t1.empty());
  CHECK(t1.back().status == "failed");
  CHECK(t1.back().error == "Generic failure");
}

TEST_CASE("opt-outs, pinned campaigns and idempotency keys") {
  TestTx tx;
  apply(tx, envelope(OptOutAdded{"+14155550001", "asked", "api"}, 0));
  apply(tx, envelope(OptOutAdded{"+14155550001", "again", "reply"}, 0, kT1));
  REQUIRE(tx.get(table::opt_out(kOrg, "+14155550001")).has_value());
  CHECK((*tx.get(table::opt_out(kOrg, "+14155550001"))).reason == "asked");  // the first stays
  CHECK((*tx.get(table::opt_out(kOrg, "+14155550001"))).created_at == kT0);
  apply(tx, envelope(OptOutRemoved{"+14155550001"}, 0));
  CHECK((tx.count("oo/") == 0));
  const DeviceId dev{make_id(id_prefix::device, kT0, 8)};
  apply(tx, envelope(CampaignPinned{kCampaign, dev}, 0));
  CHECK((*tx.get(table::campaign_extras(kOrg, kCampaign))).device_id == dev.value);
  apply(tx, envelope(IdempotencyKeyRecorded{"k1", "h", kCampaign, 3, kT0 + Millis{1000}}, 0));
  CHECK((*tx.get(table::idempotency(kOrg, "k1"))).campaign_id == kCampaign);
  CHECK((*tx.get(table::idempotency(kOrg, "k1"))).recipient_count == 3);
}

}  // namespace
}  // namespace pulse::projections

namespace pulse::projections {
namespace {

TEST_CASE(
    "a received SMS is an inbound message of its sender's conversation, linked to what it "
    "answers") {
  TestTx tx;
  const DeviceId phone_d{make_id(id_prefix::device, kT0, 5)};
  apply(tx, envelope(CampaignCreated{kCampaign, "SMS to 2 recipients", "api", "m", 2}, 0));
  apply(tx, envelope(MessagesQueued{kCampaign,
                                    {queued(0, "Hi", SmsEncoding::gsm7, 1),
                                     queued(1, "Hi", SmsEncoding::gsm7, 1)}},
                     1));
  apply(tx, envelope(MessagesClaimed{phone_d,
                                     1,
                                     kT0 + Millis{60000},
                                     {ClaimedMessage{msg(0), 1}, ClaimedMessage{msg(1), 1}}},
                     2));
  apply(tx, envelope(MessagesSent{phone_d, {TimedMessage{msg(0), kT0 + Millis{1000}}}}, 3));
  const std::string ada = "+14155550000";
  int32_t index = 10;
  auto receive = [&](const std::string& from, std::optional<int32_t> sim, TimePoint at) {
    const auto env =
        envelope(SmsReceived{phone_d, from, "Yes please", at, sim, false}, index++, at);
    apply(tx, env);
    auto m = tx.get(table::message(kOrg, inbound_message_id(env)));
    REQUIRE(m);
    return *m;
  };

  const auto hour = Millis{3600'000};
  auto linked = receive(ada, 1, kT0 + hour);
  CHECK(linked.inbound());
  CHECK(linked.status == "received");
  CHECK(linked.reply_to == msg(0).value);
  CHECK(linked.campaign_id == kCampaign);
  CHECK(linked.contact_name == "Person 0");
  CHECK(linked.device_id == phone_d.value);
  CHECK_FALSE(campaign_of(linked.id).has_value());  // an inbound id names no campaign
  CHECK(tx.get(table::campaign_extras(kOrg, kCampaign))->replies == 1);
  CHECK(tx.index(table::messages_by_status(kOrg, kReceived)).count(linked.id.value) == 1);
  CHECK(tx.index(table::messages_by_phone(kOrg, ada)).count(linked.id.value) == 1);

  // Not linked: a message never sent (msg 1), another SIM, past the window.
  CHECK_FALSE(receive("+14155550001", 1, kT0 + hour).reply_to);
  CHECK_FALSE(receive(ada, 0, kT0 + 2 * hour).reply_to);
  CHECK_FALSE(receive(ada, 1, kT0 + kReplyWindow + Millis{2000}).reply_to);
  // No SIM reported: the device is enough.
  CHECK(receive(ada, std::nullopt, kT0 + 3 * hour).reply_to == msg(0).value);
  CHECK(tx.get(table::campaign_extras(kOrg, kCampaign))->replies == 2);

  auto c = tx.get(table::conversation(kOrg, ada));
  REQUIRE(c);
  CHECK(c->received == 4);
  CHECK(c->unread == 4);
  CHECK(c->contact_name == "Person 0");
  CHECK(c->sim_slot == std::nullopt);  // the SIM of its last message
  // One order entry per conversation, the newest (Ada's) last in key order.
  const auto order = tx.index(table::conversations_by_time(kOrg));
  REQUIRE(order.size() == 2);
  CHECK(order.rbegin()->ends_with("/" + ada));
  apply(tx, envelope(ConversationRead{ada}, 30));
  CHECK(tx.get(table::conversation(kOrg, ada))->unread == 0);
  CHECK(tx.get(table::conversation(kOrg, "+14155550001"))->unread == 1);
}

}  // namespace
}  // namespace pulse::projections

namespace pulse::projections {
namespace {

TEST_CASE("plans are the account's: its organisations wait for its plan until they have it") {
  TestTx tx;
  const UserId user{make_id(id_prefix::user, kT0, 5)};
  apply(tx, envelope(UserRegistered{user, "ada@example.com", "Ada", "scrypt$h", kOrg}, 0));
  apply(tx, envelope(OrganizationCreated{"Acme", user, Plan::free}, 0));
  CHECK_FALSE(tx.get(table::pending_plan(kOrg)));  // no account plan set: nothing to follow
  apply(tx, envelope(AccountPlanChanged{user, Plan::pro}, 0, kT1, OrgId{}));
  CHECK(tx.get(table::user_by_email("ada@example.com"))->plan == Plan::pro);
  CHECK(tx.get(table::user_by_id(user))->plan == Plan::pro);
  REQUIRE(tx.get(table::pending_plan(kOrg)));
  CHECK(tx.get(table::pending_plan(kOrg))->plan == Plan::pro);
  CHECK(tx.get(table::pending_plan(kOrg))->since == kT1);
  // An organisation created afterwards starts on Free and waits too; each leaves when it has
  // the plan (another plan first does not count).
  apply(tx, envelope(OrganizationCreated{"Branch", user, Plan::free}, 0, kT1, kOtherOrg));
  REQUIRE(tx.get(table::pending_plan(kOtherOrg)));
  apply(tx, envelope(PlanChanged{Plan::enterprise}, 0, kT1, kOrg));
  CHECK(tx.get(table::pending_plan(kOrg)));
  apply(tx, envelope(PlanChanged{Plan::pro}, 0, kT1, kOrg));
  CHECK_FALSE(tx.get(table::pending_plan(kOrg)));
  apply(tx, envelope(PlanChanged{Plan::pro}, 0, kT1, kOtherOrg));
  CHECK_FALSE(tx.get(table::pending_plan(kOtherOrg)));
  CHECK(tx.scan(table::pending_plans()).empty());
  // Back to Free: both follow again.
  apply(tx, envelope(AccountPlanChanged{user, Plan::free}, 0, kT1, OrgId{}));
  CHECK(tx.scan(table::pending_plans()).size() == 2);
}

}  // namespace
}  // namespace pulse::projections
