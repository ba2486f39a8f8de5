#pragma once
// What one HTTP request may make the server hold: its body per route, its header block, and
// what a JSON parser keeps after it. One place, so the figures in the README and the tests are
// the ones the server applies. Internal to adapters/http.
#include <cstddef>
#include <string_view>

namespace pulse::http::limits {

// Every route's body unless listed below. The largest legitimate JSON body is a 500-recipient
// POST /api/sms/send: 44 KB with 30-character names and a 1,600-character message, 129 KB with
// 200-character names and every character escaped.
inline constexpr size_t kDefaultBody = 256 << 10;
// POST /api/contacts/{id}/import: a CSV file of 50,000 rows (phone, first and last name,
// e-mail, city) measures 4.3 MB, 86 bytes a row; this takes 50,000 rows of up to 167 bytes.
inline constexpr size_t kCsvImportBody = 8 << 20;
// PATCH /mobile/v1/message(s) (the SMSGate app's reports): up to 100 messages of 100
// recipients' states each, about 1 MB.
inline constexpr size_t kSmsGateReportBody = 2 << 20;
// The largest of the above: what the HTTP library itself accepts from a Content-Length.
inline constexpr size_t kLargestBody = kCsvImportBody;

// The request's header lines together (names, values and their separators), as browsers and
// proxies commonly cap them; a larger block is refused with 431. A single line over 8 KiB is
// refused by the HTTP library itself (400).
inline constexpr size_t kHeaderBlock = 16 << 10;

// A JSON parser's buffers are kept per worker thread between requests up to this; a larger
// document's buffers are released once its request is answered.
inline constexpr size_t kParserKeep = 64 << 10;

// The body limit of `method path`.
inline size_t body_limit(std::string_view method, std::string_view path) {
  if (method == "POST" && path.starts_with("/api/contacts/") && path.ends_with("/import"))
    return kCsvImportBody;
  if (method == "PATCH" && (path == "/mobile/v1/message" || path == "/mobile/v1/messages"))
    return kSmsGateReportBody;
  return kDefaultBody;
}

}  // namespace pulse::http::limits
