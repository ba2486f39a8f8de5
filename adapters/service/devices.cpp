#include "adapters/service/devices.h"

#include "adapters/service/errors.h"
#include "domain/phone.h"
#include "domain/text.h"
#include "fmt/format.h"

namespace pulse::service {

Result<Pairing> create_pairing(const Deps& d, const OrgId& org) {
  Pairing p{"pt_" + d.secrets.random_hex(16), d.clock.now() + kPairingLifetime};
  if (auto st = d.log.execute(org, CreatePairing{d.secrets.sha256_hex(p.token), p.expires_at}); !st)
    return st.error();
  return p;
}

Status check_device_profile(const gateway::DeviceProfile& device) {
  for (const auto& [field, value] :
       {std::pair{"deviceName", &device.device_name}, std::pair{"model", &device.model},
        std::pair{"osVersion", &device.os_version}, std::pair{"appVersion", &device.app_version}})
    if (auto st = check_text(field, *value); !st) return st.error();
  for (const auto& sim : device.sims)
    if (auto st = check_text("carrier", sim.carrier); !st) return st.error();
  return ok_status();
}

bool looks_like_pairing_token(std::string_view token) {
  return token.starts_with("pt_") && token.size() == 35;
}

Result<Registered> register_device(const Deps& d, const std::string& pairing_token,
                                   const gateway::DeviceProfile& device) {
  const Error invalid{Errc::unauthorized, "Invalid or expired pairing token",
                      "Create a new QR code in the dashboard and scan it again."};
  if (auto st = check_device_profile(device); !st) return st.error();
  const auto pairing_hash = d.secrets.sha256_hex(pairing_token);
  auto pairing = d.reads.pairing(pairing_hash);
  if (!pairing) return pairing.error();
  if (!*pairing || (*pairing)->used) return invalid;
  Registered r{DeviceId{}, "gw_" + d.secrets.random_hex(24), (*pairing)->org};
  std::vector<SimCard> sims;
  for (const auto& s : device.sims) sims.push_back(SimCard{s.slot, s.phone_number, s.carrier});
  r.device = DeviceId{make_id(id_prefix::device, d.clock.now(), d.secrets.random64())};
  if (auto st =
          d.log.execute(r.org, RegisterDevice{r.device, pairing_hash, d.secrets.sha256_hex(r.token),
                                              device.device_name, device.model, device.os_version,
                                              device.app_version, std::move(sims)});
      !st)
    return st.error();
  return r;
}

Result<projections::DeviceView> find_device(const Deps& d, const OrgId& org,
                                            const std::string& id) {
  const Error missing = not_found("Device not found");
  if (!is_valid_id(id_prefix::device, id)) return missing;
  return present_or(d.reads.device(org, DeviceId{id}), missing);
}

Status update_device(const Deps& d, const OrgId& org, const DeviceId& device,
                     const std::optional<std::string>& name,
                     const std::optional<std::vector<int32_t>>& sending_slots) {
  if (name && (name->empty() || name->size() > 200))
    return validation_error("Invalid deviceName", "use 1 to 200 characters");
  if (name)
    if (auto st = check_text("deviceName", *name); !st) return st.error();
  return d.log.execute(org, UpdateDevice{device, name, sending_slots});
}

Result<Received> receive_sms(const Deps& d, const OrgId& org, const DeviceId& device,
                             const InboundSms& in) {
  if (in.from.empty() || in.from.size() > 32)
    return validation_error("Invalid from", "the sender's number, 1 to 32 bytes");
  if (auto st = check_text("from", in.from); !st) return st.error();
  // The sender names its conversation (GET /api/conversations/{phone}): no path separator.
  if (in.from.find('/') != std::string::npos)
    return validation_error("Invalid from", "the sender's number or name, without '/'");
  if (auto st = check_text("body", in.body, TextKind::multi_line); !st) return st.error();
  if (in.body.size() > kMaxInboundBody)
    return validation_error("Message too long",
                            fmt::format("body: at most {} bytes", kMaxInboundBody));
  TimePoint received = d.clock.now();
  if (!in.received_at.empty()) {
    auto t = parse_iso8601(in.received_at);
    if (!t) return validation_error("Invalid receivedAt", "an ISO 8601 time");
    received = *t;
  }
  std::optional<int32_t> sim_slot;
  if (in.sim_slot) {
    if (*in.sim_slot < 0 || *in.sim_slot > 7) return validation_error("Invalid simSlot", "0 to 7");
    sim_slot = static_cast<int32_t>(*in.sim_slot);
  }
  // Senders are matched to recipients in E.164; a short code or alphanumeric sender stays as
  // the phone reported it (and can't opt out).
  auto phone = d.phones.parse(in.from);
  Received r{phone ? phone->number.e164 : in.from, false};
  if (auto st = d.log.execute(org, ReceiveSms{device, r.from, in.body, received, sim_slot}); !st)
    return st.error();
  if (phone) {
    auto v = d.reads.opt_out(org, phone->number.e164);
    if (!v) return v.error();
    r.opted_out = v->has_value();
  }
  return r;
}

Status unpair_device(const Deps& d, const OrgId& org, const DeviceId& device) {
  return d.log.execute(org, UnpairDevice{device});
}

}  // namespace pulse::service
