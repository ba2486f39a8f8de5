// The SMSGate device API's JSON (adapters/gateway/smsgate_json.h) as SMSGATE.md describes it.
#include "adapters/gateway/smsgate_json.h"
#include "adapters/phone/phone_parser.h"

#include <doctest/doctest.h>

#include <map>
#include <string>

namespace sg = pulse::gateway::smsgate;
using pulse::Errc;

TEST_CASE("registration: simNumber is the slot + 1, phone numbers E.164 or none") {
  auto r = sg::decode_register(
      R"({"name":"Google/husky","pushToken":"tok","simCards":[)"
      R"({"slotIndex":1,"simNumber":2,"phoneNumber":"+1 (415) 555-2671","carrierName":"T-Mobile","iccid":"89"},)"
      R"({"slotIndex":0,"phoneNumber":"********2671"}]})",
      pulse::phone::default_parser());
  REQUIRE(r);
  CHECK(r->name == "Google/husky");
  CHECK(r->push_token == "tok");
  REQUIRE(r->sims.size() == 2);
  CHECK(r->sims[0].slot == 1);
  CHECK(r->sims[0].phone_number == "+14155552671");
  CHECK(r->sims[0].carrier == "T-Mobile");
  CHECK(r->sims[1].slot == 0);             // no simNumber: slotIndex
  CHECK(r->sims[1].phone_number.empty());  // redacted by the app: no number

  auto bare = sg::decode_register("{}", pulse::phone::default_parser());
  REQUIRE(bare);
  CHECK(bare->name == "Android gateway");
  CHECK(!bare->push_token);
  REQUIRE(bare->sims.size() == 1);  // no SIMs: one in slot 0
  CHECK(bare->sims[0].slot == 0);

  const std::string long_name = R"({"name":")" + std::string(135, 'x') + "\"}";  // over 128
  for (const char* bad : {R"({"simCards":[{"simNumber":1},{"simNumber":1}]})",
                          R"({"simCards":[{"simNumber":9}]})", R"({"simCards":[{"simNumber":0}]})",
                          // the extremes of int64 (once an overflow computing the slot)
                          R"({"simCards":[{"simNumber":-9223372036854775808}]})",
                          R"({"simCards":[{"simNumber":9223372036854775807}]})",
                          R"({"simCards":[{"slotIndex":-9223372036854775808}]})", R"({"name":7})",
                          R"({"simCards":{}})", "nope", long_name.c_str()}) {
    CAPTURE(bad);
    auto e = sg::decode_register(bad, pulse::phone::default_parser());
    REQUIRE(!e);
    CHECK(e.error().code == Errc::validation);
  }
}

TEST_CASE("device patch: id, pushToken, simCards") {
  auto p = sg::decode_device_patch(R"({"id":"dvc_1","simCards":[{"slotIndex":0,"simNumber":1}]})",
                                   pulse::phone::default_parser());
  REQUIRE(p);
  CHECK(p->id == "dvc_1");
  CHECK(!p->push_token);
  REQUIRE(p->sims);
  CHECK(p->sims->size() == 1);
}

TEST_CASE("message patch: states, recipients, bounds") {
  auto p = sg::decode_message_patch(
      R"([{"id":"msg_1","state":"Failed","recipients":[{"phoneNumber":"+1","state":"Failed","error":"boom"}],)"
      R"("states":{"Pending":"2026-12-04T17:00:00.000+01:00","Failed":"2026-12-04T16:00:01.500Z"}}])",
      100, 100);
  REQUIRE(p);
  REQUIRE(p->size() == 1);
  const auto& m = p->front();
  CHECK(m.state == sg::State::failed);
  CHECK(m.recipients.front().error == "boom");
  CHECK(m.states.at(sg::State::pending) == *pulse::parse_iso8601("2026-12-04T16:00:00Z"));
  CHECK(pulse::format_iso8601(m.states.at(sg::State::failed)) == "2026-12-04T16:00:01.500Z");
  // Every state name of the app.
  for (const char* s :
       {"Pending", "Processed", "Sent", "Delivered", "Failed", "Cancelling", "Cancelled"})
    CHECK(sg::to_string(*sg::state_from(s)) == s);
  CHECK(!sg::state_from("sent"));  // exact casing

  const std::string one =
      R"({"id":"msg_1","state":"Sent","recipients":[{"phoneNumber":"+1","state":"Sent"}],"states":{}})";
  std::string three = "[" + one + "," + one + "," + one + "]";
  CHECK(sg::decode_message_patch(three, 3, 1));
  CHECK(!sg::decode_message_patch(three, 2, 1));  // too many entries
  CHECK(!sg::decode_message_patch(
      R"([{"id":"m","state":"Sent","recipients":[{"phoneNumber":"1","state":"Sent"},{"phoneNumber":"2","state":"Sent"}]}])",
      1, 1));  // too many recipients
  for (
      const char* bad :
      {"[]", "{}", "[1]", R"([{"state":"Sent","recipients":[{"phoneNumber":"1","state":"Sent"}]}])",
       R"([{"id":"m","state":"Gone","recipients":[{"phoneNumber":"1","state":"Sent"}]}])",
       R"([{"id":"m","state":"Sent","recipients":[{"phoneNumber":"1","state":"Nope"}]}])",
       R"([{"id":"m","state":"Sent","recipients":[]}])",
       R"([{"id":"m","state":"Sent","recipients":[{"phoneNumber":"1","state":"Sent"}],"states":{"Later":"2026-12-04T16:00:00Z"}}])",
       R"([{"id":"m","state":"Sent","recipients":[{"phoneNumber":"1","state":"Sent"}],"states":{"Sent":"soon"}}])"}) {
    CAPTURE(bad);
    CHECK(!sg::decode_message_patch(bad, 100, 100));
  }
  // The simulator's encoding reads back.
  auto again = sg::decode_message_patch(sg::encode_message_patch(*p), 100, 100);
  REQUIRE(again);
  CHECK(again->front().recipients.front().error == "boom");
}

TEST_CASE("messages, registration answer, device, settings and events as the app reads them") {
  sg::Message m{"msg_1",
                "Hi",
                {"+14155552671"},
                2,
                true,
                pulse::parse_iso8601("2026-12-04T16:01:00Z"),
                sg::State::pending,
                *pulse::parse_iso8601("2026-12-04T16:00:00Z")};
  CHECK(
      sg::encode_messages({m}) ==
      R"([{"id":"msg_1","message":"Hi","textMessage":{"text":"Hi"},"phoneNumbers":["+14155552671"],)"
      R"("simNumber":2,"withDeliveryReport":true,"validUntil":"2026-12-04T16:01:00.000Z",)"
      R"("state":"Pending","createdAt":"2026-12-04T16:00:00.000Z"}])");
  auto back = sg::decode_messages(sg::encode_messages({m}));
  REQUIRE(back);
  CHECK(back->front().sim_number == 2);
  CHECK(back->front().text == "Hi");

  CHECK(sg::encode_register_response({"dvc_1", "gw_x", "org_1"}) ==
        R"({"id":"dvc_1","token":"gw_x","login":"org_1"})");
  auto reg = sg::decode_register_response(R"({"id":"dvc_1","token":"gw_x","login":"org_1"})");
  REQUIRE(reg);
  CHECK(reg->token == "gw_x");

  const auto t = *pulse::parse_iso8601("2026-12-04T16:00:00Z");
  CHECK(
      sg::encode_device(sg::DeviceInfo{"dvc_1", "P", t, t, t, {{1, "", "Op"}}}, "10.0.0.2") ==
      R"({"device":{"id":"dvc_1","name":"P","createdAt":"2026-12-04T16:00:00.000Z",)"
      R"("updatedAt":"2026-12-04T16:00:00.000Z","lastSeen":"2026-12-04T16:00:00.000Z",)"
      R"("simCards":[{"slotIndex":1,"simNumber":2,"carrierName":"Op"}]},"externalIp":"10.0.0.2"})");
  CHECK(sg::encode_device(std::nullopt, "10.0.0.2") == R"({"externalIp":"10.0.0.2"})");

  CHECK(sg::encode_settings(sg::Settings{}) ==
        R"({"messages":{"limit_period":"Disabled","sim_selection_mode":"OSDefault",)"
        R"("processing_order":"FIFO"},"ping":{"interval_seconds":30}})");
  CHECK(sg::sse_event("MessageEnqueued") == "event: MessageEnqueued\ndata: null\n\n");
  CHECK(*sg::parse_pairing_code(R"({"pairingToken":"pt_1","code":"01234567"})") == "01234567");
}

TEST_CASE("a PATCH entry becomes Pulse's reports as SMSGATE.md's table says") {
  const auto now = *pulse::parse_iso8601("2026-12-04T16:10:00Z");
  const auto t1 = *pulse::parse_iso8601("2026-12-04T16:00:01Z");
  const auto t2 = *pulse::parse_iso8601("2026-12-04T16:00:02Z");
  const auto later = *pulse::parse_iso8601("2026-12-04T17:00:00Z");
  const pulse::MessageId id{"msg_1"};
  auto entry = [](sg::State s, std::map<sg::State, pulse::TimePoint> states,
                  std::optional<std::string> error = std::nullopt) {
    sg::MessagePatch p;
    p.id = "msg_1";
    p.state = s;
    p.recipients = {{"+10000000000", sg::State::pending, std::nullopt},
                    {"+14155552671", s, std::move(error)}};  // the message's phone wins
    p.states = std::move(states);
    return p;
  };
  using RS = pulse::ReportedStatus;
  for (auto s : {sg::State::pending, sg::State::processed, sg::State::cancelling})
    CHECK(sg::to_reports(entry(s, {}), id, "+14155552671", now).empty());
  auto sent =
      sg::to_reports(entry(sg::State::sent, {{sg::State::sent, t1}}), id, "+14155552671", now);
  REQUIRE(sent.size() == 1);
  CHECK((sent[0].status == RS::sent && sent[0].at == t1));
  auto delivered = sg::to_reports(
      entry(sg::State::delivered, {{sg::State::sent, t1}, {sg::State::delivered, later}}), id,
      "+14155552671", now);
  REQUIRE(delivered.size() == 2);
  CHECK((delivered[0].status == RS::sent && delivered[0].at == t1));
  CHECK((delivered[1].status == RS::delivered && delivered[1].at == now));  // future: now
  auto failed = sg::to_reports(entry(sg::State::failed, {{sg::State::failed, t2}}, "boom"), id,
                               "+14155552671", now);
  REQUIRE(failed.size() == 1);
  CHECK((failed[0].status == RS::failed && failed[0].error == "boom" && failed[0].at == t2));
  auto sent_then_failed =
      sg::to_reports(entry(sg::State::failed, {{sg::State::sent, t1}, {sg::State::failed, t2}}), id,
                     "+14155552671", now);
  REQUIRE(sent_then_failed.size() == 2);
  CHECK(sent_then_failed[0].status == RS::sent);
  CHECK(sent_then_failed[1].error == "Failed");  // no error given
  // Not sent before validUntil: no report, the ended lease queues the message again.
  CHECK(
      sg::to_reports(entry(sg::State::failed, {}, "TTL expired"), id, "+14155552671", now).empty());
  auto cancelled = sg::to_reports(entry(sg::State::cancelled, {}), id, "+14155552671", now);
  REQUIRE(cancelled.size() == 1);
  CHECK((cancelled[0].status == RS::failed && cancelled[0].error == "Cancelled on the phone" &&
         cancelled[0].at == now));
  // No recipient with the message's phone: the first one's state.
  auto first = sg::to_reports(entry(sg::State::sent, {}), id, "+19999999999", now);
  CHECK(first.empty());  // the first recipient is Pending
}
