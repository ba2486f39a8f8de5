#pragma once
// Cryptographic helpers on OpenSSL: random secrets, SHA-256, HMAC-SHA256, base64, and slow
// salted password hashes (scrypt). No OpenSSL header here.
#include <optional>
#include <string>
#include <string_view>

namespace pulse::auth {

std::string random_hex(size_t bytes);
std::string sha256_hex(std::string_view data);
// Raw 32-byte MAC.
std::string hmac_sha256(std::string_view key, std::string_view data);
std::string to_hex(std::string_view bytes);
std::string base64(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);  // padded, as base64() writes
std::string base64url(std::string_view bytes);                    // no padding
std::optional<std::string> base64url_decode(std::string_view text);
bool constant_time_equal(std::string_view a, std::string_view b);

// "scrypt$<log2 N>$<r>$<p>$<salt b64url>$<key b64url>", N = 2^15, r = 8, p = 1: about 32 MiB and
// tens of milliseconds per hash.
std::string hash_password(std::string_view password);
bool verify_password(std::string_view password, std::string_view stored);

}  // namespace pulse::auth
