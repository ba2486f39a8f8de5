#pragma once
// PhoneParser over libphonenumber's numbering-plan metadata. Its headers stay in the .cpp; the
// library's PhoneNumberUtil is a process-wide, thread-safe singleton.
#include <array>
#include <mutex>
#include <string>
#include <unordered_map>

#include "domain/phone.h"

namespace pulse::phone {

class LibPhoneNumberParser final : public PhoneParser {
 public:
  Result<ParsedPhone> parse(std::string_view input) const override;

 private:
  // Numbers already parsed, by their digits. Matching a number against its country's patterns
  // (every region sharing +1, for a North American number) is the costliest step of a send,
  // and the same numbers come back (lists, customers). Only valid numbers are kept; a full
  // shard is emptied, so the cache stays within kCached entries. Thread-safe.
  static constexpr size_t kShards = 16;
  static constexpr size_t kCached = 131'072;
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, ParsedPhone> parsed;
  };
  mutable std::array<Shard, kShards> cache_;
};

// One shared instance for the composition root, the tools and the tests.
const PhoneParser& default_parser();

}  // namespace pulse::phone
