#include "adapters/service/opt_outs.h"

#include <algorithm>

#include "adapters/service/errors.h"
#include "domain/text.h"
#include "fmt/format.h"

namespace pulse::service {

Result<PhoneNumber> phone_field(const PhoneParser& phones, std::string_view raw,
                                std::string_view where) {
  auto phone = phones.parse(raw);
  if (!phone)
    return validation_error(phone.error().message,
                            fmt::format("{}: {}", where, phone.error().details));
  return phone->number;
}

std::optional<std::string> lookup_key(const PhoneParser& phones, std::string_view raw) {
  if (auto phone = phones.parse(raw)) return phone->number.e164;
  // Stored before numbers were validated against the numbering plans: still found as written.
  if (raw.size() > 1 && raw.size() <= 16 && raw.front() == '+' &&
      std::all_of(raw.begin() + 1, raw.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::string(raw);
  return std::nullopt;
}

Result<projections::OptOutView> add_opt_out(const Deps& d, const OrgId& org, std::string_view raw,
                                            const std::string& reason) {
  auto phone = phone_field(d.phones, raw, "phone");
  if (!phone) return phone.error();
  if (reason.size() > kMaxOptOutReason)
    return validation_error("Reason is too long",
                            fmt::format("at most {} bytes", kMaxOptOutReason));
  if (auto st = check_text("reason", reason); !st) return st.error();
  if (auto st = d.log.execute(org, AddOptOut{phone->e164, reason}); !st) return st.error();
  // Absent: removed again by a racing request before this one read it back.
  return present_or(d.reads.opt_out(org, phone->e164), not_found("Opt-out not found"));
}

Result<std::string> remove_opt_out(const Deps& d, const OrgId& org, std::string_view raw) {
  auto phone = lookup_key(d.phones, raw);
  if (!phone) return phone_field(d.phones, raw, "phone").error();
  if (auto st = d.log.execute(org, RemoveOptOut{*phone}); !st) return st.error();
  return *phone;
}

}  // namespace pulse::service
