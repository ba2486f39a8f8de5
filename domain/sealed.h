#pragma once
// Secrets at rest: what a command, an event or a read model holds instead of a secret in clear
// (a webhook signing secret; later the verification codes of OTP messages). A value is sealed
// where randomness enters (the service layer, which draws the nonce), so the ciphertext is what
// the log holds and a replay copies it byte for byte; only the code that must use the secret
// (the webhook dispatcher signing a request) opens it, in memory. No I/O and no cryptography
// here: the Sealer port is implemented over OpenSSL in adapters/auth/sealer.h.
#include <compare>
#include <string>
#include <string_view>
#include <variant>

#include "domain/result.h"

namespace pulse {

// AES-256-GCM of a secret under one data key. Not secret itself: knowing it without the key
// reveals nothing but the secret's length.
struct SealedValue {
  std::string key_id;      // the data key ("dk_<16 hex>"): keys rotate, old ones stay readable
  std::string nonce;       // 12 random bytes in hex, never reused with the same key
  std::string ciphertext;  // base64url (no padding) of the encrypted bytes and the 16-byte tag
  auto operator<=>(const SealedValue&) const = default;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("keyId", s.key_id), f("nonce", s.nonce), f("ciphertext", s.ciphertext);
  }
};

// A secret field as a record holds it: sealed (a JSON object), or the clear text (a JSON string)
// that records written before sealing hold; those still read, replay and deliver.
using SecretValue = std::variant<std::string, SealedValue>;

inline constexpr size_t kSealNonceBytes = 12;

// Seals and opens values under the data keys. Implementations are immutable once built, so one
// is shared by every thread.
class Sealer {
 public:
  virtual ~Sealer() = default;
  // `clear` under the current data key. `nonce_hex` is kSealNonceBytes random bytes in hex,
  // drawn by the caller from its injected randomness (a nonce must never repeat under one key).
  // `context` (what the value is, and whose) is authenticated but not stored: the value opens
  // only with the same context, so a sealed value copied to another record does not open.
  virtual Result<SealedValue> seal(std::string_view clear, std::string_view context,
                                   std::string_view nonce_hex) const = 0;
  // The clear text, or an error when the key is unknown or the value was altered.
  virtual Result<std::string> open(const SealedValue& sealed, std::string_view context) const = 0;
};

// The clear text of a secret field: opened when sealed, as is when an older record held it so.
Result<std::string> reveal(const Sealer& sealer, const SecretValue& value,
                           std::string_view context);

}  // namespace pulse
