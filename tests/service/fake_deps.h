#pragma once
// In-memory ports for the service tests: a log that records every command and answers from a
// script, read models held in maps, a fixed clock and counting "randomness".
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "adapters/phone/phone_parser.h"
#include "adapters/service/ports.h"
#include "fmt/format.h"

namespace pulse::service::testing {

inline const TimePoint kNow = *parse_iso8601("2026-04-01T10:00:00.000Z");

struct Appended {
  OrgId org;
  Command body;
  template <class T>
  const T* as() const {
    return std::get_if<T>(&body);
  }
};

class FakeLog final : public CommandLog {
 public:
  // Decides the outcome of the command appended as number `index` (from 0); accepted when unset.
  std::function<Status(size_t index, const Command&)> outcome;
  std::vector<Appended> appended;

  Status execute(const OrgId& org, Command body) override {
    const size_t index = appended.size();
    appended.push_back({org, body});
    return outcome ? outcome(index, body) : ok_status();
  }
  template <class T>
  std::vector<const T*> all() const {
    std::vector<const T*> out;
    for (const auto& a : appended)
      if (auto* x = a.as<T>()) out.push_back(x);
    return out;
  }
};

class FakeReads final : public Reads {
 public:
  std::map<std::string, projections::CampaignView> campaigns;
  std::map<std::string, projections::ContactListView> lists;
  std::map<std::string, std::vector<projections::ContactView>> contacts_of;
  std::map<std::string, projections::IdempotencyView> idempotency_keys;
  std::map<std::string, projections::UserView> users;
  std::map<std::string, projections::OrganizationView> organizations;
  std::map<std::string, projections::ApiKeyView> keys;
  std::map<std::string, projections::OptOutView> opt_outs;
  projections::WebhookSet webhook_set;

  template <class V>
  static Result<std::optional<V>> find(const std::map<std::string, V>& m, const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? std::optional<V>{} : std::optional<V>{it->second};
  }
  Result<std::optional<projections::CampaignView>> campaign(const OrgId&,
                                                            const CampaignId& id) override {
    return find(campaigns, id.value);
  }
  Result<std::optional<projections::ContactListView>> contact_list(
      const OrgId&, const ContactListId& id) override {
    return find(lists, id.value);
  }
  Result<std::optional<projections::ContactView>> contact(const OrgId&, const ContactListId& list,
                                                          std::string_view phone) override {
    for (const auto& c : contacts_of[list.value])
      if (c.contact.phone == phone) return std::optional{c};
    return std::optional<projections::ContactView>{};
  }
  Result<std::vector<projections::ContactView>> contacts(const OrgId&,
                                                         const ContactListId& list) override {
    return contacts_of[list.value];
  }
  Result<std::optional<projections::IdempotencyView>> idempotency(const OrgId&,
                                                                  std::string_view key) override {
    return find(idempotency_keys, std::string(key));
  }
  Result<std::optional<projections::UserView>> user(const UserId& id) override {
    return find(users, id.value);
  }
  Result<std::optional<projections::OrganizationView>> organization(const OrgId& org) override {
    return find(organizations, org.value);
  }
  std::vector<projections::PendingOrganizationView> pending;
  Result<std::vector<projections::PendingOrganizationView>> pending_organizations() override {
    return pending;
  }
  std::vector<projections::PendingPlanView> plans_pending;
  Result<std::vector<projections::PendingPlanView>> pending_plans() override {
    return plans_pending;
  }
  Result<std::optional<projections::ApiKeyView>> api_key(const OrgId&,
                                                         const ApiKeyId& id) override {
    return find(keys, id.value);
  }
  Result<std::optional<projections::OptOutView>> opt_out(const OrgId&,
                                                         std::string_view phone) override {
    return find(opt_outs, std::string(phone));
  }
  Result<projections::WebhookSet> webhooks(const OrgId&) override { return webhook_set; }
  std::map<std::string, projections::ConversationView> conversations;  // by phone
  std::map<std::string, projections::VerificationView> verifications;  // by request id
  Result<std::optional<projections::VerificationView>> verification(const OrgId&,
                                                                    std::string_view id) override {
    return find(verifications, std::string(id));
  }
  Result<std::optional<projections::VerificationView>> latest_verification(
      const OrgId&, std::string_view phone) override {
    std::optional<projections::VerificationView> out;
    for (const auto& [id, v] : verifications)
      if (v.to == phone) out = v;
    return out;
  }
  Result<std::optional<projections::ConversationView>> conversation(
      const OrgId&, std::string_view phone) override {
    return find(conversations, std::string(phone));
  }
  std::map<std::string, projections::PairingView> pairings;  // by token hash
  std::map<std::string, projections::DeviceView> devices;
  Result<std::optional<projections::PairingView>> pairing(std::string_view token_hash) override {
    return find(pairings, std::string(token_hash));
  }
  Result<std::optional<projections::DeviceView>> device(const OrgId&, const DeviceId& id) override {
    return find(devices, id.value);
  }
};

class FixedClock final : public TimeSource {
 public:
  TimePoint now() const override { return kNow; }
};

// Deterministic: ids count up, hex is a repeated digit, hashes are readable.
class FakeSecrets final : public Secrets {
 public:
  uint64_t next = 1;
  uint64_t random64() override { return next++; }
  std::string random_hex(size_t bytes) override { return std::string(bytes * 2, 'a'); }
  std::string sha256_hex(std::string_view data) override { return fmt::format("sha256({})", data); }
  Result<std::string> hash_password(std::string_view password) override {
    return fmt::format("hashed({})", password);
  }
  int secrets_made = 0;
  std::string webhook_secret() override { return fmt::format("whsec_{}", ++secrets_made); }
};

// Accepts every URL but those listed, as a resolver that finds them private would.
class FakeUrls final : public UrlPolicy {
 public:
  std::vector<std::string> checked;
  std::set<std::string> refused;
  Status check(const std::string& url) override {
    checked.push_back(url);
    if (refused.count(url)) return validation_error("Invalid url", "resolves to a private address");
    return ok_status();
  }
};

// "Seals" by reversing the text: enough to tell a sealed field from a clear one, and to check
// the context and nonce the service passed. The real one is tested in tests/adapters.
class FakeSealer final : public Sealer {
 public:
  Result<SealedValue> seal(std::string_view clear, std::string_view context,
                           std::string_view nonce_hex) const override {
    return SealedValue{"dk_test", std::string(nonce_hex),
                       std::string(context) + "|" + std::string(clear.rbegin(), clear.rend())};
  }
  Result<std::string> open(const SealedValue& sealed, std::string_view context) const override {
    const std::string prefix = std::string(context) + "|";
    if (sealed.key_id != "dk_test" || !sealed.ciphertext.starts_with(prefix))
      return Error{Errc::internal, "Cannot open a sealed secret", sealed.key_id};
    const auto body = sealed.ciphertext.substr(prefix.size());
    return std::string(body.rbegin(), body.rend());
  }
};

// One fake world per test.
struct World {
  FakeLog log;
  FakeReads reads;
  FixedClock clock;
  FakeSecrets secrets;
  FakeUrls urls;
  PlanTable plans{};
  FakeSealer sealer;
  Deps deps{log, reads, clock, secrets, urls, plans, phone::default_parser(), sealer};
  const OrgId org{"org_test"};
};

}  // namespace pulse::service::testing
