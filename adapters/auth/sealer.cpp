#include "adapters/auth/sealer.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cassert>
#include <fstream>
#include <optional>
#include <sstream>

#include "adapters/auth/crypto.h"
#include "fmt/format.h"

namespace pulse::auth {
namespace {

namespace fs = std::filesystem;

constexpr size_t kTagBytes = 16;
constexpr std::string_view kIdLabel = "pulse data key id\n";

std::optional<std::string> from_hex(std::string_view hex) {
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2) return std::nullopt;
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = digit(hex[2 * i]), lo = digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<char>(hi * 16 + lo);
  }
  return out;
}

// Standard base64 or base64url, padded or not.
std::optional<std::string> from_base64(std::string_view text) {
  std::string s;
  for (char c : text) {
    if (c == '=') break;
    s.push_back(c == '+' ? '-' : c == '/' ? '_' : c);
  }
  return base64url_decode(s);
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return std::string(s);
}

Error key_error(std::string details) {
  return Error{Errc::internal, "Invalid data key", std::move(details)};
}

// Authenticated with the ciphertext: the key id (a value names its own key) and the context.
std::string additional_data(std::string_view key_id, std::string_view context) {
  return fmt::format("pulse-sealed-v1\n{}\n{}", key_id, context);
}

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string write_keys(const std::vector<DataKey>& keys) {
  std::string out;
  for (const auto& k : keys) out += fmt::format("{} {}\n", k.id, to_hex(k.bytes));
  return out;
}

// Writes `text` to `path` (0600), fsync'd: a new file beside it, renamed over it.
Status write_private_file(const fs::path& path, const std::string& text) {
  const auto tmp = path.string() + ".new";
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  const bool ok = fd >= 0 &&
                  ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Error{Errc::unavailable, "Cannot store the data keys", path.string()};
  }
  if (const int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return ok_status();
}

}  // namespace

std::string data_key_id(std::string_view key) {
  return "dk_" + sha256_hex(std::string(kIdLabel) + std::string(key)).substr(0, 16);
}

DataKey new_data_key() {
  auto bytes = *from_hex(random_hex(kDataKeyBytes));
  return DataKey{data_key_id(bytes), std::move(bytes)};
}

Result<std::vector<DataKey>> parse_data_keys(std::string_view text) {
  std::vector<DataKey> keys;
  std::stringstream in{std::string(text)};
  for (std::string part; std::getline(in, part, ',');) {
    const auto t = trim(part);
    auto key = t.size() == 2 * kDataKeyBytes ? from_hex(t) : from_base64(t);
    if (!key || key->size() != kDataKeyBytes)
      return key_error(fmt::format(
          "PULSE_DATA_KEY: key {} is not 32 bytes in hex (64 digits) or base64", keys.size() + 1));
    keys.push_back(DataKey{data_key_id(*key), std::move(*key)});
  }
  if (keys.empty()) return key_error("PULSE_DATA_KEY holds no key");
  return keys;
}

fs::path data_keys_path(const fs::path& data_dir) {
  return data_dir / "secrets" / "data-keys";
}

Result<std::vector<DataKey>> load_data_keys(const fs::path& data_dir, bool create) {
  const auto path = data_keys_path(data_dir);
  std::ifstream in(path);
  if (!in) {
    if (!create || fs::exists(path))
      return Error{Errc::unavailable, "Cannot read the data keys", path.string()};
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);  // 0700: store::create_private_files
    std::vector<DataKey> keys = {new_data_key()};
    if (auto st = write_private_file(path, write_keys(keys)); !st) return st.error();
    return keys;
  }
  std::vector<DataKey> keys;
  for (std::string line; std::getline(in, line);) {
    line = trim(line);
    if (line.empty()) continue;
    const auto space = line.find(' ');
    auto key = space == std::string::npos ? std::nullopt : from_hex(trim(line.substr(space + 1)));
    if (!key || key->size() != kDataKeyBytes || data_key_id(*key) != line.substr(0, space))
      return key_error(fmt::format("{}: line {} is not \"<key id> <64 hex digits>\"", path.string(),
                                   keys.size() + 1));
    keys.push_back(DataKey{line.substr(0, space), std::move(*key)});
  }
  if (keys.empty()) return key_error(path.string() + " holds no key");
  return keys;
}

Result<DataKey> rotate_data_keys(const fs::path& data_dir) {
  auto keys = load_data_keys(data_dir, true);
  if (!keys) return keys.error();
  auto fresh = new_data_key();
  keys->insert(keys->begin(), fresh);
  if (auto st = write_private_file(data_keys_path(data_dir), write_keys(*keys)); !st)
    return st.error();
  return fresh;
}

AesGcmSealer::AesGcmSealer(std::vector<DataKey> keys) : keys_(std::move(keys)) {
  assert(!keys_.empty());
}

AesGcmSealer::~AesGcmSealer() {
  for (auto& k : keys_) OPENSSL_cleanse(k.bytes.data(), k.bytes.size());
}

Result<SealedValue> AesGcmSealer::seal(std::string_view clear, std::string_view context,
                                       std::string_view nonce_hex) const {
  const auto& key = keys_.front();
  const auto nonce = from_hex(nonce_hex);
  if (!nonce || nonce->size() != kSealNonceBytes)
    return Error{Errc::internal, "Cannot seal", "the nonce must be 12 bytes in hex"};
  const auto aad = additional_data(key.id, context);
  Ctx ctx(EVP_CIPHER_CTX_new());
  std::string out(clear.size() + kTagBytes, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int n = 0, m = 0;
  const bool ok =
      ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kSealNonceBytes, nullptr) == 1 &&
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, bytes(key.bytes), bytes(*nonce)) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &n, bytes(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_EncryptUpdate(ctx.get(), o, &n, bytes(clear), static_cast<int>(clear.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx.get(), o + n, &m) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, o + clear.size()) == 1;
  if (!ok || static_cast<size_t>(n) + static_cast<size_t>(m) != clear.size())
    return Error{Errc::internal, "Cannot seal", "AES-256-GCM failed"};
  return SealedValue{key.id, std::string(nonce_hex), base64url(out)};
}

Result<std::string> AesGcmSealer::open(const SealedValue& sealed, std::string_view context) const {
  const DataKey* key = nullptr;
  for (const auto& k : keys_)
    if (k.id == sealed.key_id) key = &k;
  if (!key)
    return Error{Errc::unavailable, "Cannot open a sealed secret",
                 fmt::format("unknown data key {}: give this node the key (PULSE_DATA_KEY or "
                             "DATA_DIR/secrets/data-keys)",
                             sealed.key_id)};
  const auto nonce = from_hex(sealed.nonce);
  const auto data = base64url_decode(sealed.ciphertext);
  const Error altered{
      Errc::internal, "Cannot open a sealed secret",
      fmt::format("sealed with {}: altered, or not sealed for {}", sealed.key_id, context)};
  if (!nonce || nonce->size() != kSealNonceBytes || !data || data->size() < kTagBytes)
    return altered;
  const size_t len = data->size() - kTagBytes;
  const auto aad = additional_data(key->id, context);
  std::string tag = data->substr(len);
  std::string out(len, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  Ctx ctx(EVP_CIPHER_CTX_new());
  int n = 0, m = 0;
  const bool ok =
      ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kSealNonceBytes, nullptr) == 1 &&
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, bytes(key->bytes), bytes(*nonce)) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &n, bytes(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), o, &n, bytes(*data), static_cast<int>(len)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), o + n, &m) == 1;
  if (!ok) {
    OPENSSL_cleanse(out.data(), out.size());
    return altered;
  }
  return out;
}

Result<std::shared_ptr<const AesGcmSealer>> open_sealer(const fs::path& data_dir, const char* env) {
  auto keys = env ? parse_data_keys(env) : load_data_keys(data_dir, true);
  if (!keys) return keys.error();
  return std::shared_ptr<const AesGcmSealer>(
      std::make_shared<AesGcmSealer>(std::move(keys).value()));
}

}  // namespace pulse::auth
