#include "adapters/service/opt_outs.h"

#include "adapters/service/errors.h"
#include "domain/text.h"
#include "fmt/format.h"

namespace pulse::service {

Result<PhoneNumber> phone_field(std::string_view raw, std::string_view where) {
  auto phone = parse_phone(raw);
  if (!phone)
    return validation_error(phone.error().message,
                            fmt::format("{}: {}", where, phone.error().details));
  return phone;
}

Result<projections::OptOutView> add_opt_out(const Deps& d, const OrgId& org, std::string_view raw,
                                            const std::string& reason) {
  auto phone = phone_field(raw, "phone");
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
  auto phone = phone_field(raw, "phone");
  if (!phone) return phone.error();
  if (auto st = d.log.execute(org, RemoveOptOut{phone->e164}); !st) return st.error();
  return phone->e164;
}

}  // namespace pulse::service
