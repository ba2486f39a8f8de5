// Secrets at rest: AES-256-GCM sealing under the data keys, their files and rotation, and the
// records that hold sealed (or, written before sealing, clear) secrets.
#include "adapters/auth/sealer.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "adapters/auth/crypto.h"
#include "adapters/codec/json_codec.h"
#include "adapters/store/data_dir.h"
#include "domain/webhooks.h"
#include "fmt/format.h"
#include "projections/webhook_views.h"
#include "tests/support/temp_dir.h"

namespace pulse::auth {
namespace {

using pulse::testing::TempDir;

namespace fs = std::filesystem;

const std::string kSecret = "whsec_Mq3DLyibZoTpMANdm2S+2Vz+3N3WboaU";
const std::string kContext = "pulse/webhook-secret/wh_01m818nbctnyg66r";

std::string nonce(int i) {
  return fmt::format("{:024x}", i);
}

AesGcmSealer sealer_of(std::vector<DataKey> keys) {
  return AesGcmSealer(std::move(keys));
}

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

}  // namespace

TEST_CASE("a sealed secret opens with its key and context, and holds nothing in clear") {
  const AesGcmSealer s({new_data_key()});
  auto sealed = s.seal(kSecret, kContext, nonce(1));
  REQUIRE(sealed.ok());
  CHECK(sealed->key_id == s.current_key_id());
  CHECK(sealed->key_id.starts_with("dk_"));
  CHECK(sealed->key_id.size() == 19);
  CHECK(sealed->nonce == nonce(1));
  CHECK(sealed->ciphertext.find("whsec_") == std::string::npos);
  CHECK(base64url_decode(sealed->ciphertext)->size() == kSecret.size() + 16);
  CHECK(s.open(*sealed, kContext).value() == kSecret);
  CHECK(reveal(s, SecretValue{*sealed}, kContext).value() == kSecret);
  // The same key, nonce and text seal to the same bytes (a nonce is never drawn twice).
  CHECK(s.seal(kSecret, kContext, nonce(1)).value() == *sealed);
  CHECK(s.seal(kSecret, kContext, nonce(2)).value().ciphertext != sealed->ciphertext);
  CHECK(s.seal("", kContext, nonce(3)).ok());
  CHECK(s.open(s.seal("", kContext, nonce(3)).value(), kContext).value().empty());
  // A nonce must be 12 bytes of hex.
  CHECK_FALSE(s.seal(kSecret, kContext, "00").ok());
  CHECK_FALSE(s.seal(kSecret, kContext, std::string(24, 'g')).ok());
}

TEST_CASE("a wrong key, another context or any altered byte fails to open") {
  const AesGcmSealer s({new_data_key()});
  const auto sealed = s.seal(kSecret, kContext, nonce(7)).value();

  const AesGcmSealer other({new_data_key()});
  auto unknown = other.open(sealed, kContext);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().details.find("unknown data key " + sealed.key_id) != std::string::npos);
  // A different key under the sealed value's id (a corrupt keyring) fails the tag.
  auto forged_key = new_data_key();
  forged_key.id = sealed.key_id;
  CHECK_FALSE(sealer_of({forged_key}).open(sealed, kContext).ok());

  CHECK_FALSE(s.open(sealed, "pulse/webhook-secret/wh_other").ok());  // moved to another record

  auto flip = [](std::string text, size_t at) {
    text[at] = text[at] == 'A' ? 'B' : 'A';
    return text;
  };
  for (size_t i = 0; i < sealed.ciphertext.size(); i += 5) {
    auto t = sealed;
    t.ciphertext = flip(t.ciphertext, i);
    CHECK_FALSE(s.open(t, kContext).ok());
  }
  auto t = sealed;
  t.ciphertext = flip(t.ciphertext, t.ciphertext.size() - 1);  // the tag
  CHECK_FALSE(s.open(t, kContext).ok());
  t = sealed;
  t.nonce = nonce(8);
  CHECK_FALSE(s.open(t, kContext).ok());
  t = sealed;
  t.ciphertext = t.ciphertext.substr(0, 10);  // shorter than a tag
  CHECK_FALSE(s.open(t, kContext).ok());
  t = sealed;
  t.ciphertext += "!";
  CHECK_FALSE(s.open(t, kContext).ok());
  auto altered = s.open(t, kContext);
  CHECK(altered.error().message == "Cannot open a sealed secret");
  CHECK(altered.error().details.find(kSecret) == std::string::npos);
}

TEST_CASE("records written before sealing hold the secret in clear and still read") {
  const AesGcmSealer s({new_data_key()});
  CHECK(reveal(s, SecretValue{kSecret}, kContext).value() == kSecret);

  // A v1 event (clear) and a v2 one (sealed) decode to the two forms of the same field.
  const std::string v1 =
      R"({"type":"WebhookCreated","v":1,"id":"evt_1-1-0","orgId":"org_01m8115bqek3g600",)"
      R"("at":"2026-11-22T09:16:12.570Z","commandId":"cmd_01m818nbctph1tqg","eventCount":1,)"
      R"("data":{"webhookId":"wh_01m818nbctnyg66r","url":"https://hooks.example.com/pulse",)"
      R"("events":["message.sent"],"description":"","secret":")" +
      kSecret + R"("}})";
  auto old = codec::decode<EventEnvelope>(v1);
  REQUIRE_MESSAGE(old.ok(), old.error().details);
  CHECK(std::get<WebhookCreated>(old->body).secret == SecretValue{kSecret});

  EventEnvelope e = *old;
  auto& created = std::get<WebhookCreated>(e.body);
  created.secret = s.seal(kSecret, kContext, nonce(3)).value();
  const auto v2 = codec::encode(e);
  CHECK(v2.find(R"("v":2)") != std::string::npos);
  CHECK(v2.find("whsec_") == std::string::npos);
  CHECK(v2.find(R"("secret":{"keyId":")") != std::string::npos);
  auto back = codec::decode<EventEnvelope>(v2);
  REQUIRE(back.ok());
  CHECK(std::get<WebhookCreated>(back->body).secret == created.secret);
  CHECK(codec::encode(*back) == v2);

  // A stored set of endpoints written before sealing (WebhookSet v1) reads too.
  const std::string set_v1 =
      R"({"type":"WebhookSet","v":1,"webhooks":[{"id":"wh_01m818nbctnyg66r","url":"https://a.example/h",)"
      R"("events":["message.sent"],"description":"","secret":")" +
      kSecret +
      R"(","previousSecret":null,"previousValidUntil":null,"enabled":true,)"
      R"("disabledReason":null,"createdAt":"2026-11-22T09:16:12.570Z",)"
      R"("updatedAt":"2026-11-22T09:16:12.570Z"}]})";
  auto set = codec::decode<projections::WebhookSet>(set_v1);
  REQUIRE_MESSAGE(set.ok(), set.error().details);
  CHECK(reveal(s, set->webhooks.at(0).secret, kContext).value() == kSecret);

  // Neither a number nor an array is a secret.
  const auto bad = std::string(v2).replace(v2.find(R"("secret":{)") + 9, 1, "7,\"x\":{");
  CHECK_FALSE(codec::decode<EventEnvelope>(bad).ok());
}

TEST_CASE("PULSE_DATA_KEY: keys in hex or base64, the first seals, the others open") {
  const auto a = new_data_key();
  const auto b = new_data_key();
  auto keys = parse_data_keys(to_hex(a.bytes) + ", " + base64(b.bytes));
  REQUIRE(keys.ok());
  REQUIRE(keys->size() == 2);
  CHECK(keys->at(0).id == a.id);
  CHECK(keys->at(1).id == b.id);
  CHECK(keys->at(1).bytes == b.bytes);
  CHECK(parse_data_keys(base64url(a.bytes)).value().at(0).bytes == a.bytes);
  CHECK(data_key_id(a.bytes) == a.id);  // the same key gives the same id on every node
  for (const char* bad : {"", "00", "zz", "0123456789abcdef0123456789abcdef"})
    CHECK_FALSE(parse_data_keys(bad).ok());
  auto refused = parse_data_keys(to_hex(a.bytes) + ",nope");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().details.find(to_hex(a.bytes)) == std::string::npos);  // never echoed

  const AesGcmSealer old_only({b});
  const auto old_sealed = old_only.seal(kSecret, kContext, nonce(1)).value();
  const AesGcmSealer both(std::move(keys).value());
  CHECK(both.current_key_id() == a.id);
  CHECK(both.open(old_sealed, kContext).value() == kSecret);
  CHECK(both.seal(kSecret, kContext, nonce(2)).value().key_id == a.id);
}

TEST_CASE("the data directory's keys: created 0600 once, rotated with the old ones kept") {
  store::create_private_files();
  TempDir dir{"pulse-sealer"};
  const auto data = dir.path() / "data";
  REQUIRE(store::make_private(data).ok());
  CHECK_FALSE(load_data_keys(data, false).ok());  // not created unless asked
  auto first = load_data_keys(data, true);
  REQUIRE(first.ok());
  REQUIRE(first->size() == 1);
  CHECK(mode_of(data_keys_path(data)) == 0600);
  CHECK(mode_of(data / "secrets") == 0700);
  CHECK(load_data_keys(data, true).value().at(0).id == first->at(0).id);  // the same on restart

  auto sealer = open_sealer(data, nullptr);
  REQUIRE(sealer.ok());
  const auto before = (*sealer)->seal(kSecret, kContext, nonce(1)).value();
  CHECK(before.key_id == first->at(0).id);

  auto fresh = rotate_data_keys(data);
  REQUIRE(fresh.ok());
  CHECK(fresh->id != first->at(0).id);
  CHECK(mode_of(data_keys_path(data)) == 0600);
  CHECK_FALSE(fs::exists(data_keys_path(data).string() + ".new"));
  auto keys = load_data_keys(data, false).value();
  REQUIRE(keys.size() == 2);
  CHECK(keys.at(0).id == fresh->id);
  CHECK(keys.at(1).id == first->at(0).id);

  auto after = open_sealer(data, nullptr);
  REQUIRE(after.ok());
  CHECK((*after)->current_key_id() == fresh->id);
  CHECK((*after)->open(before, kContext).value() == kSecret);  // old records still open
  const auto sealed = (*after)->seal(kSecret, kContext, nonce(2)).value();
  CHECK(sealed.key_id == fresh->id);
  CHECK_FALSE((*sealer)->open(sealed, kContext).ok());  // a server not restarted: unknown key

  // PULSE_DATA_KEY wins over the file.
  const auto env = new_data_key();
  CHECK(open_sealer(data, to_hex(env.bytes).c_str()).value()->current_key_id() == env.id);

  // The file is checked: an altered key no longer matches its id.
  std::string text;
  {
    std::ifstream in(data_keys_path(data));
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  text[text.find(' ') + 1] = text[text.find(' ') + 1] == '0' ? '1' : '0';
  std::ofstream(data_keys_path(data)) << text;
  CHECK_FALSE(load_data_keys(data, true).ok());
}

}  // namespace pulse::auth
