// Webhook URLs (adapters/webhooks/url.h) and the address checks. Properties: a parsed URL is
// http(s) with a lower-case host and a port in range, and its origin plus target parse to the
// same URL (when that text is within the length limit); special_purpose takes any text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "adapters/webhooks/url.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

bool same(const pulse::webhooks::Url& a, const pulse::webhooks::Url& b) {
  return a.scheme == b.scheme && a.host == b.host && a.port == b.port && a.target == b.target;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)pulse::webhooks::special_purpose(input);
  auto url = pulse::webhooks::parse_url(input);
  if (!url) return 0;
  PULSE_FUZZ_CHECK(url->scheme == "http" || url->scheme == "https", input);
  PULSE_FUZZ_CHECK(!url->host.empty() && url->port >= 1 && url->port <= 65535, input);
  for (char c : url->host) PULSE_FUZZ_CHECK(!(c >= 'A' && c <= 'Z'), url->host);
  PULSE_FUZZ_CHECK(!url->target.empty() && url->target[0] == '/', url->target);
  const std::string again_text = url->origin() + url->target;
  if (again_text.size() <= 2048) {
    auto again = pulse::webhooks::parse_url(again_text);
    PULSE_FUZZ_CHECK(again && same(*again, *url), again_text);
  }
  (void)pulse::webhooks::is_private_address(url->host);
  return 0;
}
