#include "domain/verify.h"

namespace pulse::verify {

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]);
  return diff == 0;
}

std::string_view status_at(std::string_view stored, TimePoint expires_at, TimePoint now) {
  if (stored == status::pending && now >= expires_at) return status::expired;
  return stored;
}

Error not_found(std::string_view request_id) {
  return Error{Errc::not_found, "Verification not found",
               std::string(request_id) + " is not a verification request of this organization"};
}

std::string body_context(const OrgId& org) {
  return "pulse/sms-body/" + org.value;
}

}  // namespace pulse::verify
