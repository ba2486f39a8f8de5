#pragma once
// The gateway protocol's messages (adapters/gateway/PROTOCOL.md), phone side: request bodies
// built with JsonWriter, response bodies parsed with simdjson. Pure: no sockets, no clock.
// Parsers ignore fields they do not know, so a newer server stays readable.
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.h"
#include "domain/time.h"

namespace pulse::gateway {

struct SimCard {
  int slot = 0;
  std::string phone_number;  // E.164
  std::string carrier;
};

// What a phone says about itself when it registers.
struct DeviceProfile {
  std::string device_name;
  std::string model;
  std::string os_version;
  std::string app_version;
  std::vector<SimCard> sims;
};

// POST /api/gateway/register → 201.
struct Registration {
  std::string device_id;
  std::string device_token;  // "gw_…": the credential of the /api/gateway/* routes
  std::string organization_id;
  int heartbeat_interval_seconds = 30;
  int lease_seconds = 60;
};

// One message of POST /api/gateway/messages/claim's answer.
struct ClaimedMessage {
  std::string id;
  std::string phone;
  std::string body;
  int sim_slot = 0;
  int attempt = 1;
  std::optional<TimePoint> lease_expires_at;
};

enum class ReportStatus { sent, delivered, failed };
std::string_view to_string(ReportStatus s);

// One entry of POST /api/gateway/messages/status's "reports".
struct Report {
  std::string message_id;
  ReportStatus status = ReportStatus::sent;
  std::string error;  // failed only
  TimePoint at;       // when the phone saw it happen
  bool operator==(const Report&) const = default;
};

// One entry of its answer's "results".
struct ReportResult {
  std::string message_id;
  bool accepted = false;
  std::string status;  // the message's status now
  std::string error;
};

// The protocol's limit of reports per request.
inline constexpr size_t kMaxReportsPerRequest = 500;

std::string token_request_json(std::string_view api_key);                               // {apiKey}
std::string registration_json(std::string_view pairing_token, const DeviceProfile& d);  // register
std::string heartbeat_json(int battery, int signal, std::string_view app_version);
std::string claim_json(int max, int wait_seconds);
std::string reports_json(std::span<const Report> reports);

Result<std::string> parse_token(std::string_view body);    // POST /api/auth/token → "token"
Result<std::string> parse_pairing(std::string_view body);  // POST /api/devices/pairing
Result<Registration> parse_registration(std::string_view body);
Result<std::vector<ClaimedMessage>> parse_claim(std::string_view body);
Result<std::vector<ReportResult>> parse_report_results(std::string_view body);

// A non-2xx answer as an Error: the body's {"error", "details"} when it has them, else the
// HTTP status and the start of the raw body.
Error http_error(int status, std::string_view body);

}  // namespace pulse::gateway
