#pragma once
// The organisation's opt-out (suppression) list: numbers that sends skip.
#include <optional>
#include <string>
#include <string_view>

#include "adapters/service/ports.h"
#include "domain/phone.h"

namespace pulse::service {

inline constexpr size_t kMaxOptOutReason = 500;

// A valid phone number (any type: opt-outs, senders) from a body field, a path or a query;
// `where` names it in the error.
Result<PhoneNumber> phone_field(const PhoneParser& phones, std::string_view raw,
                                std::string_view where);

// The key a stored number is found under: the input in E.164, or, for a number stored before
// numbers were checked against the numbering plans, "+" and digits as written. Nothing else.
std::optional<std::string> lookup_key(const PhoneParser& phones, std::string_view raw);

// Adds `phone` (any accepted format) with an optional reason; returns the entry as stored.
Result<projections::OptOutView> add_opt_out(const Deps& d, const OrgId& org, std::string_view phone,
                                            const std::string& reason);
// Removes it; returns the number in E.164.
Result<std::string> remove_opt_out(const Deps& d, const OrgId& org, std::string_view phone);

}  // namespace pulse::service
