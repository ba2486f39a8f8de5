#pragma once
// Prefixed, time-sortable ids like the reference's: "cmp_01abc9xyz7kq2000".
// Body: 10 characters of Crockford base32 (lower case) for the unix time in ms,
// then at least 6 characters of entropy (or of a derivation, for child ids).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "domain/strong_type.h"
#include "domain/time.h"

namespace pulse {

template <class Tag>
struct Id : Named<std::string, Tag> {
  using Named<std::string, Tag>::Named;
};

using OrgId = Id<struct OrgTag>;
using CampaignId = Id<struct CampaignTag>;
using MessageId = Id<struct MessageTag>;
using DeviceId = Id<struct DeviceTag>;
using ContactListId = Id<struct ContactListTag>;
using WebhookId = Id<struct WebhookTag>;
using CommandId = Id<struct CommandTag>;
using UserId = Id<struct UserTag>;
using ApiKeyId = Id<struct ApiKeyTag>;

namespace id_prefix {
inline constexpr std::string_view org = "org";
inline constexpr std::string_view campaign = "cmp";
inline constexpr std::string_view message = "msg";
inline constexpr std::string_view device = "dvc";
inline constexpr std::string_view contact_list = "cl";
inline constexpr std::string_view webhook = "wh";
inline constexpr std::string_view command = "cmd";
inline constexpr std::string_view user = "usr";
inline constexpr std::string_view api_key = "key";
}  // namespace id_prefix

// prefix + "_" + 10 time chars + 6 chars from the low 30 bits of `entropy`.
std::string make_id(std::string_view prefix, TimePoint at, uint64_t entropy);
// A child id derived from a parent id and an index, unique by construction:
// prefix + "_" + parent body + 4 base32 chars of index (index < 2^20).
std::string derive_id(std::string_view prefix, std::string_view parent_id, uint32_t index);
// True when `s` is prefix + "_" + 16..24 lower-case Crockford base32 characters.
bool is_valid_id(std::string_view prefix, std::string_view s);
// A message id's campaign and index (message ids are derived from their campaign's id).
std::optional<std::pair<std::string, uint32_t>> split_message_id(std::string_view id);

// The time encoded in a valid id.
std::optional<TimePoint> id_time(std::string_view id);

}  // namespace pulse
