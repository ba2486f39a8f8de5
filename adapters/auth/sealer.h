#pragma once
// The data keys and the Sealer over them (domain/sealed.h): AES-256-GCM with OpenSSL's EVP.
//
// Where the keys come from, in this order:
//   PULSE_DATA_KEY  keys separated by commas, each 32 bytes as 64 hex digits or base64
//                   (base64url too); the first seals, the others only open. Nodes that share a
//                   Kafka log must all hold the keys their records name: give them the same.
//   DATA_DIR/secrets/data-keys  one key per line, "<key id> <64 hex digits>", the first seals;
//                   created 0600 with one new key on a server's first start.
// A key's id ("dk_<16 hex>") is derived from the key, so nodes given the same key agree on it.
// `pulse admin rotate-data-key` puts a new key first; old keys stay, since the log keeps the
// records they sealed (a replay copies those as they are).
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.h"
#include "domain/sealed.h"

namespace pulse::auth {

inline constexpr size_t kDataKeyBytes = 32;

struct DataKey {
  std::string id;
  std::string bytes;  // kDataKeyBytes
};

// "dk_" + the first 8 bytes of SHA-256 of the key (with a label), in hex.
std::string data_key_id(std::string_view key);
// A new random key (kDataKeyBytes, from the OS).
DataKey new_data_key();

// PULSE_DATA_KEY's value: at least one key.
Result<std::vector<DataKey>> parse_data_keys(std::string_view text);

// DATA_DIR/secrets/data-keys; when missing and `create`, a new file with one new key (0600).
Result<std::vector<DataKey>> load_data_keys(const std::filesystem::path& data_dir, bool create);
// Puts a new key first in DATA_DIR/secrets/data-keys (the old ones stay, after it): written
// beside it, fsync'd and renamed over it. Returns the new key.
Result<DataKey> rotate_data_keys(const std::filesystem::path& data_dir);
// The file's path.
std::filesystem::path data_keys_path(const std::filesystem::path& data_dir);

// Seals under keys.front(), opens under any of `keys`. Immutable: shared by every thread.
class AesGcmSealer final : public Sealer {
 public:
  explicit AesGcmSealer(std::vector<DataKey> keys);  // at least one
  ~AesGcmSealer() override;
  AesGcmSealer(const AesGcmSealer&) = delete;
  AesGcmSealer& operator=(const AesGcmSealer&) = delete;

  Result<SealedValue> seal(std::string_view clear, std::string_view context,
                           std::string_view nonce_hex) const override;
  Result<std::string> open(const SealedValue& sealed, std::string_view context) const override;

  const std::string& current_key_id() const { return keys_.front().id; }

 private:
  std::vector<DataKey> keys_;
};

// The server's sealer: PULSE_DATA_KEY's keys when `env` is set, else the data directory's
// (created on first start).
Result<std::shared_ptr<const AesGcmSealer>> open_sealer(const std::filesystem::path& data_dir,
                                                        const char* env);

}  // namespace pulse::auth
