#pragma once
// Gateway devices, organisation side: pairing tokens, registering the phone that scans one,
// renaming or choosing SIMs, unpairing. The phone's hot path (heartbeats, claims, reports)
// stays with the gateway routes.
#include <optional>
#include <string>
#include <vector>

#include "adapters/gateway/protocol_json.h"
#include "adapters/service/ports.h"

namespace pulse::service {

inline constexpr Millis kPairingLifetime{10 * 60 * 1000};

struct Pairing {
  std::string token;  // "pt_…", shown once (in the QR code)
  TimePoint expires_at;
};
Result<Pairing> create_pairing(const Deps& d, const OrgId& org);
// What a phone says about itself (name, model, versions, carriers) is one line of text each.
Status check_device_profile(const gateway::DeviceProfile& device);
// Whether `token` has the shape of a pairing token.
bool looks_like_pairing_token(std::string_view token);

struct Registered {
  DeviceId device;
  std::string token;  // "gw_…": the credential of the /api/gateway/* routes, shown once
  OrgId org;
};
// The phone that scanned `pairing_token` joins the token's organisation; 401 for a token that
// is unknown or used.
Result<Registered> register_device(const Deps& d, const std::string& pairing_token,
                                   const gateway::DeviceProfile& device);

// The device `id` of `org`; 404 when it is malformed or unknown.
Result<projections::DeviceView> find_device(const Deps& d, const OrgId& org, const std::string& id);
// PATCH /api/devices/{id}: a new name (1 to 200 characters) and/or the SIM slots to send from.
Status update_device(const Deps& d, const OrgId& org, const DeviceId& device,
                     const std::optional<std::string>& name,
                     const std::optional<std::vector<int32_t>>& sending_slots);
Status unpair_device(const Deps& d, const OrgId& org, const DeviceId& device);

inline constexpr size_t kMaxInboundBody = 10000;

// POST /api/gateway/messages/inbound: an SMS the phone received.
struct InboundSms {
  std::string from;  // as the phone reported it
  std::string body;
  std::string received_at;  // ISO 8601; empty: now
  std::optional<int64_t> sim_slot;
};
struct Received {
  std::string from;        // E.164 when it parsed as one
  bool opted_out = false;  // the sender is on the opt-out list now (a STOP reply puts it there)
};
// Records it (ReceiveSms); the decider handles STOP and the other opt-out keywords.
Result<Received> receive_sms(const Deps& d, const OrgId& org, const DeviceId& device,
                             const InboundSms& in);

}  // namespace pulse::service
