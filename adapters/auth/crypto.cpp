#include "adapters/auth/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cassert>
#include <cstdlib>
#include <vector>

#include "fmt/format.h"

namespace pulse::auth {
namespace {

constexpr int kLogN = 15;
constexpr int kR = 8;
constexpr int kP = 1;
constexpr size_t kSaltBytes = 16;
constexpr size_t kKeyBytes = 32;

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    // No randomness means no secrets: refuse to go on.
    fmt::print(stderr, "pulse: the system random generator failed\n");
    std::abort();
  }
  return out;
}

std::optional<std::string> scrypt(std::string_view password, std::string_view salt, int log_n,
                                  int r, int p) {
  if (log_n < 10 || log_n > 20 || r < 1 || r > 16 || p < 1 || p > 4) return std::nullopt;
  std::string key(kKeyBytes, '\0');
  const uint64_t n = uint64_t{1} << log_n;
  const uint64_t maxmem = 128 * n * static_cast<uint64_t>(r) * 2 + (1 << 20);
  if (EVP_PBE_scrypt(password.data(), password.size(),
                     reinterpret_cast<const unsigned char*>(salt.data()), salt.size(), n,
                     static_cast<uint64_t>(r), static_cast<uint64_t>(p), maxmem,
                     reinterpret_cast<unsigned char*>(key.data()), key.size()) != 1)
    return std::nullopt;
  return key;
}

}  // namespace

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string random_hex(size_t bytes) {
  return to_hex(random_bytes(bytes));
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return to_hex(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string base64url(std::string_view bytes) {
  std::string s = base64(bytes);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (auto& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return s;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t len = static_cast<size_t>(n);
  for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) --len;  // padding
  out.resize(len);
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  std::string s(text);
  for (auto& c : s) {
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
    else if (c == '+' || c == '/' || c == '=')
      return std::nullopt;  // not base64url
  }
  if (s.size() % 4 == 1) return std::nullopt;
  const size_t pad = (4 - s.size() % 4) % 4;
  s.append(pad, '=');
  std::string out(s.size() / 4 * 3, '\0');
  const int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string hash_password(std::string_view password) {
  const std::string salt = random_bytes(kSaltBytes);
  auto key = scrypt(password, salt, kLogN, kR, kP);
  assert(key && "scrypt with fixed, valid parameters");
  return fmt::format("scrypt${}${}${}${}${}", kLogN, kR, kP, base64url(salt), base64url(*key));
}

bool verify_password(std::string_view password, std::string_view stored) {
  std::vector<std::string_view> parts;
  for (size_t pos = 0;;) {
    const auto next = stored.find('$', pos);
    parts.push_back(stored.substr(pos, next == std::string_view::npos ? next : next - pos));
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  if (parts.size() != 6 || parts[0] != "scrypt") return false;
  int log_n = 0, r = 0, p = 0;
  try {
    log_n = std::stoi(std::string(parts[1]));
    r = std::stoi(std::string(parts[2]));
    p = std::stoi(std::string(parts[3]));
  } catch (...) {
    return false;
  }
  auto salt = base64url_decode(parts[4]);
  auto expected = base64url_decode(parts[5]);
  if (!salt || !expected) return false;
  auto key = scrypt(password, *salt, log_n, r, p);
  return key && constant_time_equal(*key, *expected);
}

}  // namespace pulse::auth
