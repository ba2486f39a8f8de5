#pragma once
// What the service layer needs from the rest of the server, as small interfaces: append a
// command and learn its outcome, read the read models it consults, the clock, randomness and
// secrets. The HTTP server implements them over the log and RocksDB (adapters/http/
// service_ports.cpp); the unit tests over an in-memory fake, without a socket.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/commands.h"
#include "domain/phone.h"
#include "domain/plans.h"
#include "domain/result.h"
#include "domain/sealed.h"
#include "domain/time.h"
#include "projections/read_model.h"

namespace pulse::service {

// Appends commands to the log.
class CommandLog {
 public:
  virtual ~CommandLog() = default;
  // Appends `body` acting for `org` and waits until the decider's outcome is visible in the
  // read models (read-your-writes): the rejection when it refused it, 503 when it was not
  // applied in time.
  virtual Status execute(const OrgId& org, Command body) = 0;
};

// The read models a workflow consults before or after its commands.
class Reads {
 public:
  virtual ~Reads() = default;
  virtual Result<std::optional<projections::CampaignView>> campaign(const OrgId& org,
                                                                    const CampaignId& id) = 0;
  virtual Result<std::optional<projections::ContactListView>> contact_list(
      const OrgId& org, const ContactListId& id) = 0;
  virtual Result<std::optional<projections::ContactView>> contact(const OrgId& org,
                                                                  const ContactListId& list,
                                                                  std::string_view phone) = 0;
  // Every contact of the list, by phone.
  virtual Result<std::vector<projections::ContactView>> contacts(const OrgId& org,
                                                                 const ContactListId& list) = 0;
  virtual Result<std::optional<projections::IdempotencyView>> idempotency(const OrgId& org,
                                                                          std::string_view key) = 0;
  virtual Result<std::optional<projections::UserView>> user(const UserId& id) = 0;
  virtual Result<std::optional<projections::OrganizationView>> organization(const OrgId& org) = 0;
  virtual Result<std::vector<projections::PendingOrganizationView>> pending_organizations() = 0;
  virtual Result<std::vector<projections::PendingPlanView>> pending_plans() = 0;
  virtual Result<std::optional<projections::ApiKeyView>> api_key(const OrgId& org,
                                                                 const ApiKeyId& id) = 0;
  virtual Result<std::optional<projections::OptOutView>> opt_out(const OrgId& org,
                                                                 std::string_view phone) = 0;
  virtual Result<projections::WebhookSet> webhooks(const OrgId& org) = 0;
  virtual Result<std::optional<projections::ConversationView>> conversation(
      const OrgId& org, std::string_view phone) = 0;
  virtual Result<std::optional<projections::PairingView>> pairing(std::string_view token_hash) = 0;
  virtual Result<std::optional<projections::VerificationView>> verification(
      const OrgId& org, std::string_view id) = 0;
  // The newest verification request for the number.
  virtual Result<std::optional<projections::VerificationView>> latest_verification(
      const OrgId& org, std::string_view phone) = 0;
  virtual Result<std::optional<projections::DeviceView>> device(const OrgId& org,
                                                                const DeviceId& id) = 0;
};

// Randomness and one-way functions for ids and secrets.
class Secrets {
 public:
  virtual ~Secrets() = default;
  // The random part of a new id.
  virtual uint64_t random64() = 0;
  // `bytes` random bytes in lower-case hex, from a cryptographic source.
  virtual std::string random_hex(size_t bytes) = 0;
  virtual std::string sha256_hex(std::string_view data) = 0;
  // A password's salted slow hash, or why not now (the server is too busy hashing).
  virtual Result<std::string> hash_password(std::string_view password) = 0;
  // A new webhook signing secret ("whsec_…").
  virtual std::string webhook_secret() = 0;
};

// Where webhooks may point: http(s), and (unless the server allows private addresses) a host
// that resolves to public addresses only.
class UrlPolicy {
 public:
  virtual ~UrlPolicy() = default;
  virtual Status check(const std::string& url) = 0;
};

// Everything a use case may touch; owned by the caller, outliving every call.
struct Deps {
  CommandLog& log;
  Reads& reads;
  const TimeSource& clock;
  Secrets& secrets;
  UrlPolicy& urls;
  const PlanTable& plans;
  const PhoneParser& phones;  // every phone number from outside goes through it
  // Seals the secrets that commands carry (nonces from `secrets`); the data keys' owner.
  const Sealer& sealer;
};

}  // namespace pulse::service
