#include "adapters/codec/json_codec.h"

#include <doctest/doctest.h>
#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "domain/ids.h"
#include "domain/json_writer.h"
#include "fmt/format.h"

namespace pulse::codec {
namespace {

namespace fs = std::filesystem;

// ---- golden samples ----------------------------------------------------------------------
// tests/data/golden/<commands|events>/<Type>.v<N>.json: one record, exactly as the encoder of
// version N wrote it (no trailing newline). Never edit one; add a file for a new version.

struct Golden {
  fs::path path;
  std::string kind;  // "commands" | "events"
  std::string type;
  int version = 0;
  std::string bytes;
};

const fs::path kGoldenDir = fs::path(PULSE_TEST_DATA_DIR) / "golden";

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<Golden> goldens() {
  std::vector<Golden> out;
  for (const auto& entry : fs::recursive_directory_iterator(kGoldenDir)) {
    if (!entry.is_regular_file()) continue;
    const auto& p = entry.path();
    INFO(p.string());
    REQUIRE(p.extension() == ".json");
    Golden g;
    g.path = p;
    g.kind = p.parent_path().filename().string();
    const std::string stem = p.stem().string();  // "CampaignCreated.v1"
    const size_t dot = stem.rfind(".v");
    REQUIRE(dot != std::string::npos);
    g.type = stem.substr(0, dot);
    g.version = std::stoi(stem.substr(dot + 2));
    g.bytes = read_bytes(p);
    out.push_back(std::move(g));
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.path < b.path; });
  return out;
}

// The version this build writes for a record type, 0 when it doesn't know the type.
template <class Variant>
int current_version(std::string_view type) {
  int v = 0;
  [&]<size_t... I>(std::index_sequence<I...>) {
    ((std::variant_alternative_t<I, Variant>::kType == type
          ? v = std::variant_alternative_t<I, Variant>::kVersion
          : 0),
     ...);
  }
  (std::make_index_sequence<std::variant_size_v<Variant>>{});
  return v;
}

int current_version(const Golden& g) {
  return g.kind == "commands" ? current_version<Command>(g.type) : current_version<Event>(g.type);
}

// What a decoded record re-encodes to, or the decoder's error.
struct Decoded {
  std::optional<Error> error;
  std::string type;
  std::string reencoded;
};

Decoded decode_as(const std::string& kind, std::string_view json) {
  Decoded d;
  if (kind == "commands") {
    auto c = decode<CommandEnvelope>(json);
    if (!c) return {c.error(), {}, {}};
    d.type = command_type(c->body);
    d.reencoded = encode(*c);
  } else {
    REQUIRE(kind == "events");
    auto e = decode<EventEnvelope>(json);
    if (!e) return {e.error(), {}, {}};
    d.type = event_type(e->body);
    d.reencoded = encode(*e);
  }
  return d;
}

void check_corrupt(const Error& e) {
  CHECK(e.code == Errc::internal);
  CHECK(e.message == "Corrupt record");
  CHECK_FALSE(e.details.empty());
}

std::string replace_first(std::string s, std::string_view from, std::string_view to) {
  const size_t at = s.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, from);
  return s.replace(at, from.size(), to);
}

TEST_CASE("there is a golden sample of every record type at its current version") {
  std::set<std::string> present;
  for (const auto& g : goldens())
    present.insert(g.kind + "/" + g.type + ".v" + std::to_string(g.version));
  auto expect = [&](std::string_view kind, std::string_view type, int v) {
    const auto name = fmt::format("{}/{}.v{}", kind, type, v);
    CHECK_MESSAGE(present.count(name) == 1, "missing golden sample ", name);
  };
  // Every alternative of the variants: a new command or event fails here until its golden
  // sample is added under tests/data/golden/.
  [&]<size_t... I>(std::index_sequence<I...>) {
    (expect("commands", std::variant_alternative_t<I, Command>::kType,
            std::variant_alternative_t<I, Command>::kVersion),
     ...);
  }
  (std::make_index_sequence<std::variant_size_v<Command>>{});
  [&]<size_t... I>(std::index_sequence<I...>) {
    (expect("events", std::variant_alternative_t<I, Event>::kType,
            std::variant_alternative_t<I, Event>::kVersion),
     ...);
  }
  (std::make_index_sequence<std::variant_size_v<Event>>{});
}

TEST_CASE("every golden sample decodes; current versions re-encode to the same bytes") {
  const auto all = goldens();
  CHECK(all.size() >= 4);
  for (const auto& g : all) {
    INFO(g.path.string());
    const int current = current_version(g);
    REQUIRE_MESSAGE(current > 0, "unknown record type ", g.type);
    CHECK(g.version >= 1);
    CHECK(g.version <= current);
    const Decoded d = decode_as(g.kind, g.bytes);
    REQUIRE_MESSAGE(!d.error, d.error->message, ": ", d.error->details);
    CHECK(d.type == g.type);
    // Deterministic encoding: the bytes this build writes are the bytes it read.
    if (g.version == current) CHECK(d.reencoded == g.bytes);
  }
}

TEST_CASE("golden samples decode to the values they hold") {
  const TimePoint at = *parse_iso8601("2026-11-15T10:00:03.123Z");
  const OrgId org{"org_01jwn8sr290z78nq"};
  const CampaignId campaign{"cmp_01m7fack9k1abwy1"};
  const CommandId command{"cmd_01m7fack9k0b87cy"};
  const std::string tmpl =
      "Hi {{firstName}}, your order #4521 has shipped. Track it at https://t.example/4521 "
      "\"today\"";

  auto cmd = decode<CommandEnvelope>(read_bytes(kGoldenDir / "commands/SendSms.v1.json"));
  REQUIRE(cmd.ok());
  CHECK(cmd->id == command);
  CHECK(cmd->org == org);
  CHECK(cmd->at == at);
  const auto& send = std::get<SendSms>(cmd->body);
  CHECK(send.campaign_id == campaign);
  CHECK(send.message == tmpl);
  REQUIRE(send.recipients.size() == 3);
  CHECK(send.recipients[0].phone.e164 == "+14155552671");
  CHECK(send.recipients[0].name == "Ada Lovelace");
  CHECK(send.recipients[1].phone.e164 == "+442079460958");
  CHECK(send.recipients[1].name == "");
  CHECK(send.recipients[2].phone.e164 == "+4915112345678");
  CHECK(send.recipients[2].name == "Zoë Brontë");

  auto created = decode<EventEnvelope>(read_bytes(kGoldenDir / "events/CampaignCreated.v1.json"));
  REQUIRE(created.ok());
  CHECK(created->source == EventSource{{Partition{3}, Offset{1042}}, 0});
  CHECK(created->command_id == command);
  CHECK(created->org == org);
  CHECK(created->at == at);
  CHECK(created->event_count == 2);
  const auto& cc = std::get<CampaignCreated>(created->body);
  CHECK(cc.id == campaign);
  CHECK(cc.name == "SMS to 3 recipients");
  CHECK(cc.source == "api");
  CHECK(cc.message == tmpl);
  CHECK(cc.total_messages == 3);

  auto queued = decode<EventEnvelope>(read_bytes(kGoldenDir / "events/MessagesQueued.v1.json"));
  REQUIRE(queued.ok());
  CHECK(queued->source == EventSource{{Partition{3}, Offset{1042}}, 1});
  CHECK(queued->event_count == 2);
  const auto& mq = std::get<MessagesQueued>(queued->body);
  CHECK(mq.campaign_id == campaign);
  REQUIRE(mq.messages.size() == 3);
  CHECK(mq.messages[0].id.value == "msg_01m7fack9k1abwy10000");
  CHECK(mq.messages[0].phone.e164 == "+14155552671");
  CHECK(mq.messages[0].contact_name == "Ada Lovelace");
  CHECK(mq.messages[0].body ==
        "Hi Ada, your order #4521 has shipped. Track it at https://t.example/4521 \"today\"");
  CHECK(mq.messages[0].encoding == SmsEncoding::gsm7);
  CHECK(mq.messages[0].segments == 1);
  CHECK(mq.messages[1].contact_name == "");
  CHECK(mq.messages[2].id.value == "msg_01m7fack9k1abwy10002");
  CHECK(mq.messages[2].contact_name == "Zoë Brontë");
  CHECK(mq.messages[2].encoding == SmsEncoding::ucs2);
  CHECK(mq.messages[2].segments == 2);

  auto rejected = decode<EventEnvelope>(read_bytes(kGoldenDir / "events/CommandRejected.v1.json"));
  REQUIRE(rejected.ok());
  CHECK(rejected->source == EventSource{{Partition{3}, Offset{1877}}, 0});
  CHECK(rejected->command_id.value == "cmd_01m8hm5k3q1kr2gj");
  CHECK(rejected->at == *parse_iso8601("2026-11-28T17:45:10.007Z"));
  CHECK(rejected->event_count == 1);
  const auto& cr = std::get<CommandRejected>(rejected->body);
  CHECK(cr.command_type == "SendSms");
  CHECK(cr.code == Errc::quota_exceeded);
  CHECK(cr.error == "Monthly SMS limit reached");
  CHECK(cr.details == "5 SMS remaining this month; this request needs 6");
}

TEST_CASE("a record of a newer version is refused") {
  for (const auto& g : goldens()) {
    INFO(g.path.string());
    const int newer = current_version(g) + 1;
    const auto json =
        replace_first(g.bytes, fmt::format("\"v\":{}", g.version), fmt::format("\"v\":{}", newer));
    const Decoded d = decode_as(g.kind, json);
    REQUIRE(d.error.has_value());
    CHECK(d.error->code == Errc::internal);
    CHECK(d.error->message == "Unsupported record version");
    CHECK(d.error->details == fmt::format("{} v{}: this build reads {} up to v{}", g.type, newer,
                                          g.type, current_version(g)));
    // Version 0 never existed.
    const Decoded zero =
        decode_as(g.kind, replace_first(g.bytes, fmt::format("\"v\":{}", g.version), "\"v\":0"));
    REQUIRE(zero.error.has_value());
    CHECK(zero.error->message == "Unsupported record version");
  }
}

TEST_CASE("a record of an unknown type is refused") {
  for (const auto& g : goldens()) {
    INFO(g.path.string());
    const auto json = replace_first(g.bytes, fmt::format("\"type\":\"{}\"", g.type),
                                    "\"type\":\"CampaignExploded\"");
    const Decoded d = decode_as(g.kind, json);
    REQUIRE(d.error.has_value());
    CHECK(d.error->code == Errc::internal);
    CHECK(d.error->message == "Unknown record type");
    CHECK(d.error->details ==
          fmt::format("{} type 'CampaignExploded'", g.kind == "commands" ? "command" : "event"));
  }
}

// ---- structural mutations ----------------------------------------------------------------

enum class Mutation { none, remove, wrong_type, null, empty_string };

template <class T>
T get(simdjson::dom::element e) {
  T v{};
  REQUIRE(e.get(v) == simdjson::SUCCESS);
  return v;
}
simdjson::dom::object as_object(simdjson::dom::element e) {
  return get<simdjson::dom::object>(e);
}
simdjson::dom::array as_array(simdjson::dom::element e) {
  return get<simdjson::dom::array>(e);
}

// Re-emits a parsed document, changing the value at `target` ("data.messages[1].body").
void rewrite(simdjson::dom::element e, const std::string& path, const std::string& target,
             Mutation m, JsonWriter& w) {
  using simdjson::dom::element_type;
  auto wrong = [&](simdjson::dom::element v) {
    if (v.type() == element_type::STRING)
      w.value(int64_t{7});
    else if (v.type() == element_type::OBJECT || v.type() == element_type::ARRAY)
      w.value("x");
    else
      w.value("7");
  };
  switch (e.type()) {
    case element_type::OBJECT:
      w.begin_object();
      for (auto [key, value] : as_object(e)) {
        const std::string child = path.empty() ? std::string(key) : path + "." + std::string(key);
        if (child == target && m == Mutation::remove) continue;
        w.key(key);
        if (child == target && m == Mutation::wrong_type) {
          wrong(value);
        } else if (child == target && m == Mutation::null) {
          w.null();
        } else if (child == target && m == Mutation::empty_string) {
          w.value("");
        } else {
          rewrite(value, child, target, m, w);
        }
      }
      w.end_object();
      break;
    case element_type::ARRAY: {
      w.begin_array();
      size_t i = 0;
      for (auto value : as_array(e)) {
        const std::string child = fmt::format("{}[{}]", path, i++);
        if (child == target && m == Mutation::wrong_type) {
          wrong(value);
        } else {
          rewrite(value, child, target, m, w);
        }
      }
      w.end_array();
      break;
    }
    case element_type::STRING:
      w.value(get<std::string_view>(e));
      break;
    case element_type::INT64:
      w.value(get<int64_t>(e));
      break;
    case element_type::UINT64:
      w.raw(std::to_string(get<uint64_t>(e)));
      break;
    case element_type::DOUBLE:
      w.value(get<double>(e));
      break;
    case element_type::BOOL:
      w.value(get<bool>(e));
      break;
    case element_type::NULL_VALUE:
      w.null();
      break;
  }
}

void collect_paths(simdjson::dom::element e, const std::string& path,
                   std::vector<std::pair<std::string, bool>>& out) {  // (path, is a field)
  using simdjson::dom::element_type;
  if (e.type() == element_type::OBJECT) {
    for (auto [key, value] : as_object(e)) {
      const std::string child = path.empty() ? std::string(key) : path + "." + std::string(key);
      out.emplace_back(child, true);
      collect_paths(value, child, out);
    }
  } else if (e.type() == element_type::ARRAY) {
    size_t i = 0;
    for (auto value : as_array(e)) {
      const std::string child = fmt::format("{}[{}]", path, i++);
      out.emplace_back(child, false);
      collect_paths(value, child, out);
    }
  }
}

std::string mutate(const std::string& json, const std::string& target, Mutation m) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(json).get(doc) == simdjson::SUCCESS);
  JsonWriter w;
  rewrite(doc, "", target, m, w);
  return w.take();
}

// "data.messages[2].contactName" -> "data.messages[].contactName"
std::string without_indices(const std::string& path) {
  std::string out;
  bool in_index = false;
  for (char c : path) {
    if (c == '[') {
      in_index = true;
      out += c;
    } else if (c == ']') {
      in_index = false;
      out += c;
    } else if (!in_index) {
      out += c;
    }
  }
  return out;
}

TEST_CASE("the mutation helper reproduces an unmutated record exactly") {
  for (const auto& g : goldens()) CHECK(mutate(g.bytes, "", Mutation::none) == g.bytes);
}

TEST_CASE("missing, null or ill-typed fields are refused as corrupt, never misread") {
  // Fields written with a default: a reader accepts them absent or null. "Type:path" entries
  // apply to that record type only.
  const std::set<std::string> optional = {"data.recipients[].name",
                                          "data.messages[].contactName",
                                          "data.details",
                                          "RegisterUser:data.name",
                                          "UserRegistered:data.name",
                                          "ApiKeyCreated:data.name",
                                          "CreateApiKey:data.key.name",
                                          "CreateOrganization:data.firstKey.name",
                                          "RegisterUser:data.organizationName",
                                          "UserRegistered:data.organizationName",
                                          "RegisterUser:data.firstKey.name",
                                          "UserRegistered:data.firstKey.name",
                                          "ClaimOrganization:data.name",
                                          "OrganizationClaimed:data.name"};
  // Fields that default to null (std::optional): absent or null, they re-encode as null.
  const std::set<std::string> nullable = {
      "CreateOrganization:data.firstKey", "CampaignCreated:data.expiresAt",
      "UpdateDevice:data.name",           "UpdateDevice:data.sendingSlots",
      "DeviceHeartbeat:data.battery",     "DeviceHeartbeat:data.signal",
      "HeartbeatReceived:data.battery",   "HeartbeatReceived:data.signal",
      "DraftCampaign:data.scheduledAt",   "CampaignDrafted:data.scheduledAt",
      "ReceiveSms:data.simSlot",          "SmsReceived:data.simSlot",
      "UpdateWebhook:data.url",           "UpdateWebhook:data.events",
      "UpdateWebhook:data.description",   "UpdateWebhook:data.enabled",
      "WebhookUpdated:data.url",          "WebhookUpdated:data.events",
      "WebhookUpdated:data.description",  "WebhookUpdated:data.enabled"};
  // Fields written only when set (SendSms v2): absent or null, they re-encode absent.
  // A phone's classification (country, phoneType) likewise, in every record that carries one.
  const std::set<std::string> omittable = {"SendSms:data.deviceId",
                                           "SendSms:data.idempotencyKey",
                                           "SendSms:data.requestHash",
                                           "RegisterUser:data.firstKey",
                                           "UserRegistered:data.firstKey",
                                           "data.recipients[].country",
                                           "data.recipients[].phoneType",
                                           "data.messages[].country",
                                           "data.messages[].phoneType",
                                           "data.contacts[].country",
                                           "data.contacts[].phoneType",
                                           "CommandRejected:data.quota",
                                           "SendSms:data.simSlot",
                                           "CampaignPinned:data.simSlot",
                                           "SendSms:data.sealedMessage",
                                           "data.messages[].sealedBody",
                                           "CommandRejected:data.retryAfter",
                                           "StartVerification:data.country",
                                           "StartVerification:data.phoneType"};
  // Secret fields (SecretValue): sealed, an object, since v2; a string (the clear secret of a
  // record written before sealing) reads too, so the object turned into a string is accepted.
  const std::set<std::string> sealed_or_clear = {
      "CreateWebhook:data.secret", "RotateWebhookSecret:data.secret", "WebhookCreated:data.secret",
      "WebhookSecretRotated:data.secret"};
  int mutations = 0;
  for (const auto& g : goldens()) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    REQUIRE(parser.parse(g.bytes).get(doc) == simdjson::SUCCESS);
    std::vector<std::pair<std::string, bool>> paths;
    collect_paths(doc, "", paths);
    for (const auto& entry : paths) {
      const auto& path = entry.first;  // not a structured binding: INFO captures it
      const bool is_field = entry.second;
      const auto plain = without_indices(path);
      const bool is_optional = optional.count(plain) + optional.count(g.type + ":" + plain) > 0;
      const bool is_nullable = nullable.count(g.type + ":" + plain) > 0;
      for (Mutation m : {Mutation::remove, Mutation::wrong_type, Mutation::null}) {
        if (!is_field && m != Mutation::wrong_type) continue;
        const std::string json = mutate(g.bytes, path, m);
        INFO(g.path.filename().string(), " ", path, " mutation ", static_cast<int>(m), ": ", json);
        REQUIRE(json != g.bytes);
        ++mutations;
        const Decoded d = decode_as(g.kind, json);
        if (sealed_or_clear.count(g.type + ":" + plain) && m == Mutation::wrong_type &&
            g.version >= 2) {
          REQUIRE_FALSE(d.error.has_value());
          continue;
        }
        if (omittable.count(plain) + omittable.count(g.type + ":" + plain) > 0 &&
            m != Mutation::wrong_type) {
          REQUIRE_FALSE(d.error.has_value());
          if (g.version == current_version(g))
            CHECK(d.reencoded == mutate(g.bytes, path, Mutation::remove));
          continue;
        }
        if (is_nullable && m != Mutation::wrong_type) {
          REQUIRE_FALSE(d.error.has_value());
          CHECK(d.reencoded == mutate(g.bytes, path, Mutation::null));
          continue;
        }
        if (is_optional && m != Mutation::wrong_type) {
          // Accepted with the default, which re-encodes as "" (at the current version; an
          // older record re-encodes as the current one).
          REQUIRE_FALSE(d.error.has_value());
          if (g.version == current_version(g))
            CHECK(d.reencoded == mutate(g.bytes, path, Mutation::empty_string));
          continue;
        }
        REQUIRE(d.error.has_value());
        check_corrupt(*d.error);
      }
    }
  }
  CHECK(mutations > 100);
}

TEST_CASE("absent optional fields decode to their defaults") {
  auto cmd = decode<CommandEnvelope>(replace_first(
      read_bytes(kGoldenDir / "commands/SendSms.v1.json"), ",\"name\":\"Ada Lovelace\"", ""));
  REQUIRE(cmd.ok());
  CHECK(std::get<SendSms>(cmd->body).recipients[0].name == "");
  CHECK(std::get<SendSms>(cmd->body).recipients[2].name == "Zoë Brontë");

  auto ev =
      decode<EventEnvelope>(replace_first(read_bytes(kGoldenDir / "events/CommandRejected.v1.json"),
                                          "\"details\":\"5 SMS remaining this month; this request "
                                          "needs 6\"",
                                          "\"details\":null"));
  REQUIRE(ev.ok());
  CHECK(std::get<CommandRejected>(ev->body).details == "");
}

TEST_CASE("values a record can't hold are refused with a precise reason") {
  const auto created = read_bytes(kGoldenDir / "events/CampaignCreated.v1.json");
  const auto queued = read_bytes(kGoldenDir / "events/MessagesQueued.v1.json");
  const auto rejected = read_bytes(kGoldenDir / "events/CommandRejected.v1.json");
  const auto send = read_bytes(kGoldenDir / "commands/SendSms.v1.json");

  auto e = decode<EventEnvelope>(replace_first(created, "\"evt_3-1042-0\"", "\"evt_3-1042\""));
  REQUIRE_FALSE(e.ok());
  check_corrupt(e.error());
  CHECK(e.error().details == "event id 'evt_3-1042' is not evt_<p>-<o>-<i>");

  e = decode<EventEnvelope>(
      replace_first(created, "\"2026-11-15T10:00:03.123Z\"", "\"yesterday\""));
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().details == "event.at must be an ISO 8601 time");

  e = decode<EventEnvelope>(
      replace_first(created, "\"totalMessages\":3", "\"totalMessages\":4294967296"));
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().details == "CampaignCreated.data.totalMessages must be a 32-bit integer");

  e = decode<EventEnvelope>(replace_first(created, "\"totalMessages\":3", "\"totalMessages\":3.5"));
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().details == "CampaignCreated.data.totalMessages must be an integer");

  e = decode<EventEnvelope>(
      replace_first(queued, "\"encoding\":\"UCS-2\"", "\"encoding\":\"UTF-8\""));
  REQUIRE_FALSE(e.ok());
  check_corrupt(e.error());
  CHECK(e.error().details == "MessagesQueued.data.messages[].encoding must be GSM-7 or UCS-2");

  e = decode<EventEnvelope>(replace_first(rejected, "\"quota_exceeded\"", "\"teapot\""));
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().details == "CommandRejected.data.code must be a known error code");

  e = decode<EventEnvelope>(
      replace_first(queued, "\"messages\":[", "\"messages\":{\"a\":1,\"b\":["));
  REQUIRE_FALSE(e.ok());  // not even JSON any more
  check_corrupt(e.error());

  auto c = decode<CommandEnvelope>(replace_first(send, "\"recipients\":[", "\"recipients\":[7,"));
  REQUIRE_FALSE(c.ok());
  check_corrupt(c.error());
  CHECK(c.error().details == "SendSms.data.recipients[] must be an object");

  c = decode<CommandEnvelope>(replace_first(send, "\"recipients\":[", "\"recipients\":{\"x\":["));
  REQUIRE_FALSE(c.ok());
  check_corrupt(c.error());

  c = decode<CommandEnvelope>(mutate(send, "data.recipients", Mutation::wrong_type));
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().details == "SendSms.data.recipients must be an array");

  e = decode<EventEnvelope>(mutate(queued, "data.messages", Mutation::wrong_type));
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().details == "MessagesQueued.data.messages must be an array");

  for (const char* body : {"", "null", "[]", "42", "\"record\"", "{}"}) {
    CAPTURE(body);
    auto ce = decode<CommandEnvelope>(body);
    REQUIRE_FALSE(ce.ok());
    check_corrupt(ce.error());
    auto ee = decode<EventEnvelope>(body);
    REQUIRE_FALSE(ee.ok());
    check_corrupt(ee.error());
  }
}

TEST_CASE("truncated or damaged records never crash the decoder") {
  std::mt19937_64 rng(20261115);
  for (const auto& g : goldens()) {
    INFO(g.path.string());
    // Every proper prefix of an object is invalid JSON.
    for (size_t n = 0; n < g.bytes.size(); ++n) {
      const Decoded d = decode_as(g.kind, std::string_view(g.bytes).substr(0, n));
      REQUIRE(d.error.has_value());
      check_corrupt(*d.error);
    }
    // Random byte changes: refused with one of the documented errors, or read as some record.
    const std::set<std::string> messages = {"Corrupt record", "Unsupported record version",
                                            "Unknown record type"};
    for (int i = 0; i < 1000; ++i) {
      std::string json = g.bytes;
      const int changes = 1 + static_cast<int>(rng() % 3);
      for (int k = 0; k < changes; ++k) json[rng() % json.size()] = static_cast<char>(rng());
      const Decoded d = decode_as(g.kind, json);
      if (d.error) {
        CHECK(d.error->code == Errc::internal);
        CHECK(messages.count(d.error->message) == 1);
      }
    }
  }
}

// ---- stored values -----------------------------------------------------------------------

const TimePoint kT = *parse_iso8601("2026-11-15T10:00:03.123Z");

projections::CampaignView campaign_view() {
  projections::CampaignView v;
  v.id = CampaignId{"cmp_01m7fack9k1abwy1"};
  v.name = "Black Friday \"early\" access";
  v.source = "campaign";
  v.message = "Hi {{firstName}},\nline two\twith tab, a backslash \\ and ☺ 😀";
  v.status = "running";
  v.total_messages = 1001;
  v.queued_count = 1001;
  v.sent_count = 600;
  v.delivered_count = 550;
  v.failed_count = 12;
  v.segments = int64_t{1} << 40;
  v.created_at = kT;
  v.updated_at = kT + Millis{90061001};
  v.started_at = kT + Millis{1};
  v.completed_at = std::nullopt;
  return v;
}

projections::MessageView message_view() {
  projections::MessageView v;
  v.id = MessageId{"msg_01m7fack9k1abwy10002"};
  v.campaign_id = CampaignId{"cmp_01m7fack9k1abwy1"};
  v.phone = "+4915112345678";
  v.contact_name = "Zoë Brontë";
  v.body = "Hi Zoë, your order has shipped";
  v.status = "delivered";
  v.encoding = "UCS-2";
  v.segments = 2;
  v.created_at = kT;
  v.updated_at = kT + Millis{5000};
  v.sent_at = kT + Millis{1000};
  v.delivered_at = kT + Millis{5000};
  v.error = std::nullopt;
  return v;
}

template <class T, class Decode>
void check_round_trip(const T& value, Decode decode) {
  const std::string json = encode(value);
  auto back = decode(json);
  REQUIRE_MESSAGE(back.ok(), back.error().details);
  CHECK(*back == value);
  CHECK(encode(*back) == json);
  // A newer version is refused.
  const int v = T::kVersion;
  auto newer =
      decode(replace_first(json, fmt::format("\"v\":{},", v), fmt::format("\"v\":{},", v + 1)));
  REQUIRE_FALSE(newer.ok());
  CHECK(newer.error().code == Errc::internal);
  CHECK(newer.error().message == "Unsupported record version");
  CHECK(newer.error().details ==
        fmt::format("{} v{}: this build reads {} up to v{}", T::kType, v + 1, T::kType, v));
  // Truncated: corrupt, never a crash.
  for (size_t n = 0; n < json.size(); ++n) {
    auto cut = decode(std::string_view(json).substr(0, n));
    REQUIRE_FALSE(cut.ok());
    CHECK(cut.error().code == Errc::internal);
  }
}

TEST_CASE("DeciderState round-trips") {
  check_round_trip(commands::DeciderState{}, decode<commands::DeciderState>);
  commands::DeciderState s;
  s.org = commands::OrgState{
      true, Plan::pro, {"key_01m80zvb19aaaaaa", "key_01m80zvb19bbbbbb"}, 12, 40213, "2026-11", 913};
  s.user = commands::UserState{true, "usr_01m80zvb19jvjvzb", 3};
  check_round_trip(s, decode<commands::DeciderState>);
  CHECK(
      encode(s) ==
      R"({"type":"DeciderState","v":2,"org":{"exists":true,"plan":"pro",)"
      R"("apiKeys":["key_01m80zvb19aaaaaa","key_01m80zvb19bbbbbb"],"campaigns":12,)"
      R"("messages":40213,"month":"2026-11","monthMessages":913,"pairings":{},"devices":{},)"
      R"("queues":{},"leases":{},"awaiting":{},"contactLists":null,"optOuts":[],"idempotency":{},"webhooks":null},)"
      R"("user":{"registered":true,"userId":"usr_01m80zvb19jvjvzb","organizations":3}})");
  // A state written before opt-outs and idempotency keys (no optOuts, no idempotency) decodes.
  auto old = decode<commands::DeciderState>(
      R"({"type":"DeciderState","v":1,"org":{"exists":true,"plan":"pro","apiKeys":[],)"
      R"("campaigns":1,"messages":1,"month":"","monthMessages":1,"pairings":{},"devices":{},)"
      R"("queues":{},"leases":{},"awaiting":{}},"user":{"registered":false,)"
      R"("userId":"","organizations":0}})");
  REQUIRE(old.ok());
  CHECK(old->org.opt_outs.get().empty());
  CHECK(old->org.idempotency.get().empty());
  // And round-trips with them set; a copy shares them until one side changes.
  s.org.opt_outs.mut().insert("+14155550001");
  s.org.idempotency.mut()["k"] = commands::IdempotentSend{"h", "cmp_01m80zvb19jvjvzb", 2, kT};
  check_round_trip(s, decode<commands::DeciderState>);
  auto copy = s;
  copy.org.opt_outs.mut().insert("+14155550002");
  CHECK(s.org.opt_outs.get().size() == 1);
  CHECK(copy.org.opt_outs.get().size() == 2);
  auto bad = decode<commands::DeciderState>(
      R"({"type":"DeciderState","v":1,"org":{"exists":true,"plan":"gold","apiKeys":[],)"
      R"("campaigns":1,"messages":1,"month":"","monthMessages":1,"pairings":{},"devices":{},)"
      R"("queues":{},"leases":{},"awaiting":{}},"user":{"registered":false,)"
      R"("userId":"","organizations":0}})");
  REQUIRE_FALSE(bad.ok());
  check_corrupt(bad.error());
  CHECK(bad.error().details == "DeciderState.org.plan must be free, pro or enterprise");
}

TEST_CASE("CampaignQueue round-trips (stored under its own key)") {
  commands::CampaignQueue q;
  q.total = 3;
  q.next_index = 2;
  q.requeued[1] = commands::Requeued{2, "dvc_01m80zvb19jvjvzb", 1};
  q.expires_at = kT;
  q.hold = "paused";
  check_round_trip(q, decode<commands::CampaignQueue>);
  CHECK(encode(q).starts_with(R"({"type":"CampaignQueue","v":1,"total":3,"nextIndex":2,)"));
}

// Open CSV imports: written only while there are some, so states without them keep their bytes.
TEST_CASE("DeciderState with open imports round-trips; without them \"imports\" is absent") {
  commands::DeciderState s;
  s.org.exists = true;
  CHECK(encode(s).find("imports") == std::string::npos);
  s.org.imports.emplace();
  (*s.org.imports)["imp_01m80zvb19jvjvzb"] =
      commands::ContactImport{"cl_01m80zvb19jvjvzb", 3, 1500, kT};
  check_round_trip(s, decode<commands::DeciderState>);
  CHECK(encode(s).find(R"("imports":{"imp_01m80zvb19jvjvzb":{"list":"cl_01m80zvb19jvjvzb",)"
                       R"("chunks":3,"contacts":1500,"stagedAt":")") != std::string::npos);
}

TEST_CASE("CampaignView round-trips, with and without optional times") {
  auto v = campaign_view();
  check_round_trip(v, decode<projections::CampaignView>);
  v.status = "completed";
  v.completed_at = kT + Millis{86400000};
  check_round_trip(v, decode<projections::CampaignView>);
  v.started_at = std::nullopt;
  v.completed_at = std::nullopt;
  v.status = "draft";
  check_round_trip(v, decode<projections::CampaignView>);
  CHECK(encode(v).find("\"startedAt\":null,\"completedAt\":null") != std::string::npos);

  auto bad = decode<projections::CampaignView>(
      replace_first(encode(campaign_view()), "\"startedAt\":\"", "\"startedAt\":\"x"));
  REQUIRE_FALSE(bad.ok());
  check_corrupt(bad.error());
  CHECK(bad.error().details == "CampaignView.startedAt must be an ISO 8601 time or null");
}

TEST_CASE("MessageView round-trips, with and without an error") {
  auto v = message_view();
  check_round_trip(v, decode<projections::MessageView>);
  v.status = "failed";
  v.delivered_at = std::nullopt;
  v.error = "Carrier rejected: \"unknown subscriber\"";
  check_round_trip(v, decode<projections::MessageView>);
  v.sent_at = std::nullopt;
  v.error = std::string();  // present but empty is not absent
  check_round_trip(v, decode<projections::MessageView>);
  auto back = decode<projections::MessageView>(encode(v));
  REQUIRE(back.ok());
  REQUIRE(back->error.has_value());
  CHECK(*back->error == "");
}

TEST_CASE("CommandOutcome round-trips") {
  check_round_trip(
      projections::CommandOutcome{"SendSms", Errc::quota_exceeded, "Monthly SMS limit reached",
                                  "5 SMS remaining this month; this request needs 6"},
      decode<projections::CommandOutcome>);
  check_round_trip(projections::CommandOutcome{"SendSms", Errc::validation, "Invalid", ""},
                   decode<projections::CommandOutcome>);
  auto bad = decode<projections::CommandOutcome>(
      R"({"type":"CommandOutcome","v":1,"commandType":"SendSms",)"
      R"("code":"oops","error":"x","details":""})");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().details == "CommandOutcome.code must be a known error code");
}

}  // namespace
}  // namespace pulse::codec
