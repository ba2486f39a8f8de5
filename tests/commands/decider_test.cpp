#include "commands/decider.h"

#include <doctest/doctest.h>

#include <tuple>

#include <set>
#include <string>
#include <vector>

#include "commands/send_sms.h"
#include "domain/ids.h"
#include "fmt/format.h"

namespace pulse::commands {
namespace {

TimePoint at(std::string_view iso) {
  auto t = parse_iso8601(iso);
  REQUIRE_MESSAGE(t.has_value(), iso);
  return *t;
}

const TimePoint kNov15 = from_unix_ms(1794736800000);  // 2026-11-15T10:00:00Z
const CampaignId kCampaign{make_id(id_prefix::campaign, kNov15, 0x2a5f3c1)};
const OrgId kOrg{make_id(id_prefix::org, from_unix_ms(1700000000000), 7)};

// A SendSms built directly, bypassing make_send_sms's 500-recipient limit.
SendSms send(size_t n, std::string message = "Your order has shipped.") {
  SendSms c;
  c.campaign_id = kCampaign;
  c.message = std::move(message);
  for (size_t i = 0; i < n; ++i)
    c.recipients.push_back(
        {PhoneNumber{fmt::format("+1415555{:04}", i)}, fmt::format("Person{} Number{}", i, i)});
  return c;
}

CommandEnvelope envelope(SendSms c, TimePoint t = kNov15) {
  return CommandEnvelope{CommandId{make_id(id_prefix::command, t, 42)}, kOrg, t, std::move(c)};
}

// An existing organisation on the Free plan with these counters.
DeciderState org(int64_t campaigns = 0, int64_t messages = 0, std::string month = "",
                 int64_t month_messages = 0) {
  DeciderState s;
  s.org.exists = true;
  s.org.devices["dvc_01m80zvb19aaaaaa"].online = true;  // sends need an online gateway
  s.org.devices["dvc_01m80zvb19aaaaaa"].sending = {0};
  s.org.campaigns = campaigns;
  s.org.messages = messages;
  s.org.month = std::move(month);
  s.org.month_messages = month_messages;
  return s;
}

// The counters evolve keeps for sends (the dispatch state is the gateway tests' business).
auto counters(const DeciderState& s) {
  return std::tuple{s.org.campaigns, s.org.messages, s.org.month, s.org.month_messages};
}

// The Free plan with this monthly limit (0: unlimited).
DeciderConfig limit(int64_t monthly) {
  DeciderConfig c;
  c.plans.free.monthly_sms = monthly == 0 ? kUnlimited : monthly;
  return c;
}

std::vector<Event> decided(const CommandEnvelope& cmd, const DeciderState& state = org(),
                           const DeciderConfig& config = limit(0)) {
  auto r = decide(config, state, cmd);
  REQUIRE_MESSAGE(r.ok(), r.error().message, ": ", r.error().details);
  return std::move(r).value();
}

// Every field of an event, so that two event lists can be compared exactly.
struct Describe {
  std::string operator()(const CampaignCreated& c) const {
    return fmt::format("CampaignCreated{{{}|{}|{}|{}|{}}}", c.id.value, c.name, c.source, c.message,
                       c.total_messages);
  }
  std::string operator()(const MessagesQueued& q) const {
    std::string s = fmt::format("MessagesQueued{{{}", q.campaign_id.value);
    for (const auto& m : q.messages)
      s += fmt::format("|{},{},{},{},{},{}", m.id.value, m.phone.e164, m.contact_name, m.body,
                       to_string(m.encoding), m.segments);
    return s + "}";
  }
  std::string operator()(const CommandRejected& r) const {
    return fmt::format("CommandRejected{{{}|{}|{}|{}}}", r.command_type, to_string(r.code), r.error,
                       r.details);
  }
  // The send decider never produces account events.
  template <class T>
  std::string operator()(const T& other) const {
    return std::string(other.kType);
  }
};

std::string describe(const Event& e) {
  return std::visit(Describe{}, e);
}

std::vector<std::string> describe(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(describe(e));
  return out;
}

const MessagesQueued& queued(const Event& e) {
  REQUIRE(std::holds_alternative<MessagesQueued>(e));
  return std::get<MessagesQueued>(e);
}

TEST_CASE("one recipient: CampaignCreated then one MessagesQueued") {
  const auto events = decided(envelope(send(1)));
  REQUIRE(events.size() == 2);
  REQUIRE(std::holds_alternative<CampaignCreated>(events[0]));
  const auto& created = std::get<CampaignCreated>(events[0]);
  CHECK(created.id == kCampaign);
  CHECK(created.name == "SMS to 1 recipient");
  CHECK(created.source == "api");
  CHECK(created.message == "Your order has shipped.");
  CHECK(created.total_messages == 1);

  const auto& q = queued(events[1]);
  CHECK(q.campaign_id == kCampaign);
  REQUIRE(q.messages.size() == 1);
  const auto& m = q.messages[0];
  CHECK(m.id.value == derive_id(id_prefix::message, kCampaign.value, 0));
  CHECK(m.phone.e164 == "+14155550000");
  CHECK(m.contact_name == "Person0 Number0");
  CHECK(m.body == "Your order has shipped.");
  CHECK(m.encoding == SmsEncoding::gsm7);
  CHECK(m.segments == 1);
}

TEST_CASE("500 recipients fit in one MessagesQueued") {
  const auto events = decided(envelope(send(500)));
  REQUIRE(events.size() == 2);
  CHECK(std::get<CampaignCreated>(events[0]).name == "SMS to 500 recipients");
  CHECK(std::get<CampaignCreated>(events[0]).total_messages == 500);
  CHECK(queued(events[1]).messages.size() == 500);
}

TEST_CASE("messages are chunked by 500, with ids derived from the campaign and index") {
  const auto events = decided(envelope(send(1001)));
  REQUIRE(events.size() == 4);
  CHECK(std::get<CampaignCreated>(events[0]).total_messages == 1001);
  CHECK(std::get<CampaignCreated>(events[0]).name == "SMS to 1001 recipients");
  CHECK(queued(events[1]).messages.size() == 500);
  CHECK(queued(events[2]).messages.size() == 500);
  CHECK(queued(events[3]).messages.size() == 1);

  std::set<std::string> ids;
  size_t index = 0;
  for (size_t e = 1; e < events.size(); ++e) {
    const auto& q = queued(events[e]);
    CHECK(q.campaign_id == kCampaign);
    for (const auto& m : q.messages) {
      CHECK(m.id.value ==
            derive_id(id_prefix::message, kCampaign.value, static_cast<uint32_t>(index)));
      CHECK(is_valid_id(id_prefix::message, m.id.value));
      CHECK(m.phone.e164 == fmt::format("+1415555{:04}", index));
      ids.insert(m.id.value);
      ++index;
    }
  }
  CHECK(index == 1001);
  CHECK(ids.size() == 1001);
  // The last chunk carries recipient 1000.
  CHECK(queued(events[3]).messages[0].contact_name == "Person1000 Number1000");
}

TEST_CASE("bodies are personalised per recipient") {
  SendSms c = send(0, "Hi {{firstName}} ({{name}}, {{lastName}}), we call {{phone}}.{{missing}}");
  c.recipients = {{PhoneNumber{"+14155552671"}, "Ada Lovelace"},
                  {PhoneNumber{"+442079460958"}, "Cher"},
                  {PhoneNumber{"+493012345678"}, ""}};
  const auto events = decided(envelope(c));
  REQUIRE(events.size() == 2);
  CHECK(std::get<CampaignCreated>(events[0]).message == c.message);  // the template as sent
  const auto& q = queued(events[1]);
  REQUIRE(q.messages.size() == 3);
  CHECK(q.messages[0].body == "Hi Ada (Ada Lovelace, Lovelace), we call +14155552671.");
  CHECK(q.messages[1].body == "Hi Cher (Cher, ), we call +442079460958.");
  CHECK(q.messages[2].body == "Hi  (, ), we call +493012345678.");
  CHECK(q.messages[1].contact_name == "Cher");
}

TEST_CASE("encoding and segments are computed from each rendered body") {
  SendSms c = send(0, "{{name}}");
  c.recipients = {
      {PhoneNumber{"+14155550000"}, "Price: 5€"},                 // GSM-7, € costs 2 septets
      {PhoneNumber{"+14155550001"}, "Привет"},                    // Cyrillic: UCS-2
      {PhoneNumber{"+14155550002"}, std::string(160, 'a')},       // exactly one GSM-7 segment
      {PhoneNumber{"+14155550003"}, std::string(161, 'a')},       // two: 153 + 8
      {PhoneNumber{"+14155550004"}, std::string(71, 'b') + "☺"},  // 72 UCS-2 units: 2 of 67
  };
  const auto events = decided(envelope(c));
  const auto& m = queued(events[1]).messages;
  REQUIRE(m.size() == 5);
  CHECK(m[0].encoding == SmsEncoding::gsm7);
  CHECK(m[0].segments == 1);
  CHECK(m[1].encoding == SmsEncoding::ucs2);
  CHECK(m[1].segments == 1);
  CHECK(m[2].encoding == SmsEncoding::gsm7);
  CHECK(m[2].segments == 1);
  CHECK(m[3].encoding == SmsEncoding::gsm7);
  CHECK(m[3].segments == 2);
  CHECK(m[4].encoding == SmsEncoding::ucs2);
  CHECK(m[4].segments == 2);
}

TEST_CASE("a template without variables is sent verbatim") {
  const auto events = decided(envelope(send(3, "Sale ends { today }")));
  for (const auto& m : queued(events[1]).messages) CHECK(m.body == "Sale ends { today }");
}

TEST_CASE("decide is deterministic") {
  const auto cmd = envelope(send(1001, "Hi {{firstName}}, code {{phone}}"));
  DeciderState state = org(3, 40, "2026-11", 40);
  DeciderConfig config{.plans = {.free = {.monthly_sms = 100000}}};
  const auto a = describe(decided(cmd, state, config));
  const auto b = describe(decided(cmd, state, config));
  REQUIRE(a.size() == 4);
  CHECK(a == b);
}

TEST_CASE("the monthly limit is checked against this month's messages") {
  const DeciderConfig config{.plans = {.free = {.monthly_sms = 100}}};
  const DeciderState state = org(10, 95, "2026-11", 95);
  const auto t = at("2026-11-20T09:30:00Z");

  auto r = decide(config, state, envelope(send(6), t));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::quota_exceeded);
  CHECK(r.error().message == "Monthly SMS limit reached");
  CHECK(r.error().details == "5 SMS remaining this month on the free plan; this request needs 6");
  // The numbers, for the API's limit/remaining/resetAt and X-Quota-* headers.
  REQUIRE(r.error().quota);
  CHECK(r.error().quota->limit == 100);
  CHECK(r.error().quota->remaining == 5);
  CHECK(format_iso8601(r.error().quota->reset_at) == "2026-12-01T00:00:00.000Z");
  // December's allowance starts again in January of the next year.
  auto december =
      decide(config, org(10, 95, "2026-12", 95), envelope(send(6), at("2026-12-31T23:59:59Z")));
  REQUIRE_FALSE(december.ok());
  REQUIRE(december.error().quota);
  CHECK(format_iso8601(december.error().quota->reset_at) == "2027-01-01T00:00:00.000Z");

  const auto events = decided(envelope(send(5), t), state, config);
  REQUIRE(events.size() == 2);
  CHECK(queued(events[1]).messages.size() == 5);

  // Already over the limit (the plan was lowered): nothing remains, never a negative count.
  r = decide(config, org(10, 120, "2026-11", 120), envelope(send(1), t));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().details == "0 SMS remaining this month on the free plan; this request needs 1");
}

TEST_CASE("a new month starts the count from zero") {
  const DeciderConfig config{.plans = {.free = {.monthly_sms = 100}}};
  const DeciderState october = org(10, 500, "2026-10", 100);  // October's limit used up
  auto r = decide(config, october, envelope(send(1), at("2026-10-31T23:59:59.999Z")));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().details == "0 SMS remaining this month on the free plan; this request needs 1");

  CHECK(decided(envelope(send(100), at("2026-11-01T00:00:00Z")), october, config).size() == 2);
  r = decide(config, october, envelope(send(101), at("2026-11-01T00:00:00Z")));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().details ==
        "100 SMS remaining this month on the free plan; this request needs 101");
}

TEST_CASE("a limit of 0 means unlimited") {
  const DeciderState state = org(1, 1000000, "2026-11", 1000000);
  CHECK(decided(envelope(send(501)), state, limit(0)).size() == 3);
}

TEST_CASE("evolve counts campaigns and messages per month") {
  DeciderState s = org();
  const auto nov = at("2026-11-15T10:00:00Z");
  for (const auto& e : decided(envelope(send(501), nov))) evolve(DeciderConfig{}, s, e, nov);
  CHECK(counters(s) == counters(org(1, 501, "2026-11", 501)));

  const auto late_nov = at("2026-11-30T23:59:59.999Z");
  for (const auto& e : decided(envelope(send(2), late_nov)))
    evolve(DeciderConfig{}, s, e, late_nov);
  CHECK(counters(s) == counters(org(2, 503, "2026-11", 503)));

  const auto dec = at("2026-12-01T00:00:00Z");
  for (const auto& e : decided(envelope(send(3), dec))) evolve(DeciderConfig{}, s, e, dec);
  CHECK(counters(s) == counters(org(3, 506, "2026-12", 3)));

  evolve(DeciderConfig{}, s,
         CommandRejected{"SendSms", Errc::quota_exceeded, "Monthly SMS limit reached", "x"}, dec);
  CHECK(counters(s) == counters(org(3, 506, "2026-12", 3)));
}

TEST_CASE("decide and evolve together enforce the limit across commands") {
  const DeciderConfig config{.plans = {.free = {.monthly_sms = 10}}};
  DeciderState s = org();
  const auto t = at("2026-11-02T08:00:00Z");
  for (int i = 0; i < 2; ++i)
    for (const auto& e : decided(envelope(send(4), t), s, config)) evolve(config, s, e, t);
  CHECK(s.org.month_messages == 8);
  auto r = decide(config, s, envelope(send(4), t));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::quota_exceeded);
  CHECK(r.error().details == "2 SMS remaining this month on the free plan; this request needs 4");
  CHECK(decided(envelope(send(2), t), s, config).size() == 2);
}

TEST_CASE("utc_month") {
  CHECK(utc_month(from_unix_ms(0)) == "1970-01");
  CHECK(utc_month(at("2026-11-01T00:00:00Z")) == "2026-11");
  CHECK(utc_month(at("2026-11-30T23:59:59.999Z")) == "2026-11");
  CHECK(utc_month(at("2026-12-01T00:00:00Z")) == "2026-12");
  // UTC, whatever offset the time was written with.
  CHECK(utc_month(at("2026-12-01T00:30:00+01:00")) == "2026-11");
  CHECK(utc_month(at("2028-02-29T12:00:00Z")) == "2028-02");
  CHECK(utc_month(at("2026-12-31T23:59:59.999Z")) == "2026-12");
  CHECK(utc_month(at("2027-01-01T00:00:00Z")) == "2027-01");
}

}  // namespace
}  // namespace pulse::commands
