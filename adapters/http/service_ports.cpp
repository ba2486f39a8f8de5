#include "adapters/http/service_ports.h"

#include <random>

#include "adapters/auth/crypto.h"
#include "adapters/codec/json_codec.h"
#include "adapters/phone/phone_parser.h"
#include "adapters/webhooks/signing.h"
#include "adapters/webhooks/url.h"
#include "domain/ids.h"
#include "fmt/format.h"

namespace pulse::http {
namespace {

class SystemSecrets final : public service::Secrets {
 public:
  explicit SystemSecrets(service::LoginGuard& logins) : logins_(logins) {}
  uint64_t random64() override {
    // One engine per request thread, seeded once from the OS.
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return rng();
  }
  std::string random_hex(size_t bytes) override { return auth::random_hex(bytes); }
  std::string sha256_hex(std::string_view data) override { return auth::sha256_hex(data); }
  // On the log-ins' hash pool, so a flood of sign-ups is bounded like one of log-ins.
  Result<std::string> hash_password(std::string_view password) override {
    auto hashed =
        logins_.hash<std::string>([p = std::string(password)] { return auth::hash_password(p); });
    if (auto* refused = std::get_if<service::Refusal>(&hashed)) return refused->error;
    return std::move(std::get<std::string>(hashed));
  }
  std::string webhook_secret() override { return webhooks::new_secret(); }

 private:
  service::LoginGuard& logins_;
};

// The dispatcher checks again before every request: DNS answers change.
class ResolvingUrlPolicy final : public service::UrlPolicy {
 public:
  explicit ResolvingUrlPolicy(bool allow_private) : allow_private_(allow_private) {}
  Status check(const std::string& text) override {
    auto url = webhooks::parse_url(text);
    if (!url) return url.error();
    auto ip = webhooks::resolve_public(*url, allow_private_);
    if (!ip) return ip.error();
    return ok_status();
  }

 private:
  bool allow_private_;
};

class LogCommands final : public service::CommandLog {
 public:
  LogCommands(App& app, const ServerOptions& options, service::Secrets& secrets)
      : app_(app), options_(options), secrets_(secrets) {}
  Status execute(const OrgId& org, Command body) override {
    const auto now = app_.clock().now();
    return execute_command(
        app_, options_,
        CommandEnvelope{CommandId{make_id(id_prefix::command, now, secrets_.random64())}, org, now,
                        std::move(body)});
  }

 private:
  App& app_;
  const ServerOptions& options_;
  service::Secrets& secrets_;
};

class ModelReads final : public service::Reads {
 public:
  explicit ModelReads(App& app) : m_(app.models()) {}
  Result<std::optional<projections::CampaignView>> campaign(const OrgId& org,
                                                            const CampaignId& id) override {
    return m_.campaign(org, id);
  }
  Result<std::optional<projections::ContactListView>> contact_list(
      const OrgId& org, const ContactListId& id) override {
    return m_.contact_list(org, id);
  }
  Result<std::optional<projections::ContactView>> contact(const OrgId& org,
                                                          const ContactListId& list,
                                                          std::string_view phone) override {
    return m_.contact(org, list, phone);
  }
  Result<std::vector<projections::ContactView>> contacts(const OrgId& org,
                                                         const ContactListId& list) override {
    return m_.contacts(org, list, 0, std::nullopt);
  }
  Result<std::optional<projections::IdempotencyView>> idempotency(const OrgId& org,
                                                                  std::string_view key) override {
    return m_.idempotency(org, key);
  }
  Result<std::optional<projections::UserView>> user(const UserId& id) override {
    return m_.user(id);
  }
  Result<std::optional<projections::OrganizationView>> organization(const OrgId& org) override {
    return m_.organization(org);
  }
  Result<std::vector<projections::PendingOrganizationView>> pending_organizations() override {
    return m_.pending_organizations();
  }
  Result<std::vector<projections::PendingPlanView>> pending_plans() override {
    return m_.pending_plans();
  }
  Result<std::optional<projections::ApiKeyView>> api_key(const OrgId& org,
                                                         const ApiKeyId& id) override {
    return m_.api_key(org, id);
  }
  Result<std::optional<projections::OptOutView>> opt_out(const OrgId& org,
                                                         std::string_view phone) override {
    return m_.opt_out(org, phone);
  }
  Result<projections::WebhookSet> webhooks(const OrgId& org) override { return m_.webhooks(org); }
  Result<std::optional<projections::ConversationView>> conversation(
      const OrgId& org, std::string_view phone) override {
    return m_.conversation(org, phone);
  }
  Result<std::optional<projections::PairingView>> pairing(std::string_view token_hash) override {
    return m_.pairing(token_hash);
  }
  Result<std::optional<projections::VerificationView>> verification(const OrgId& org,
                                                                    std::string_view id) override {
    return m_.verification(org, id);
  }
  Result<std::optional<projections::VerificationView>> latest_verification(
      const OrgId& org, std::string_view phone) override {
    return m_.latest_verification(org, phone);
  }
  Result<std::optional<projections::DeviceView>> device(const OrgId& org,
                                                        const DeviceId& id) override {
    return m_.device(org, id);
  }

 private:
  runtime::ReadModels& m_;
};

}  // namespace

struct ServicePorts::Impl {
  Impl(App& app, const ServerOptions& options, service::LoginGuard& logins)
      : secrets(logins),
        urls(app.options().allow_private_webhooks),
        commands(app, options, secrets),
        reads(app) {}
  SystemSecrets secrets;
  ResolvingUrlPolicy urls;
  LogCommands commands;
  ModelReads reads;
};

ServicePorts::ServicePorts(App& app, const ServerOptions& options, service::LoginGuard& logins)
    : impl_(std::make_unique<Impl>(app, options, logins)),
      deps_{impl_->commands,         impl_->reads, app.clock(),
            impl_->secrets,          impl_->urls,  app.options().decider.plans,
            phone::default_parser(), app.sealer()} {}

ServicePorts::~ServicePorts() = default;

service::Secrets& ServicePorts::secrets() {
  return impl_->secrets;
}

Status execute_command(App& app, const ServerOptions& options, const CommandEnvelope& cmd) {
  const log::Record record{partition_key(cmd), codec::encode(cmd)};
  auto appended = app.log().append(log::kCommandsTopic, std::span(&record, 1));
  if (!appended) {
    // 503 + Retry-After; the details say whether the command may still be applied.
    auto e = appended.error();
    e.details = fmt::format("command {}: {}", cmd.id.value, e.details);
    return e;
  }
  const auto pos = appended->front();
  const auto deadline = std::chrono::steady_clock::now() + options.write_wait;
  const auto not_yet =
      Error{Errc::unavailable, "Request accepted but not yet applied",
            fmt::format("command {} is queued; retry the read shortly", cmd.id.value)};
  // Decided first; then, if it produced events, projected (read-your-writes). A decider in
  // another process marks commands without events in the log (CommandDecided): the watermark
  // passes every command then.
  if (app.local_decisions()) {
    const auto produced = app.decisions().wait(pos.partition, pos.offset.value, deadline);
    if (!produced) return not_yet;
    if (!*produced) return ok_status();
  }
  if (!app.watermarks().wait_until(pos.partition, pos.offset.value, deadline)) return not_yet;
  auto outcome = app.models().outcome(cmd.org, cmd.id);
  if (!outcome) return outcome.error();
  if (*outcome)
    return Error{(*outcome)->code, (*outcome)->error, (*outcome)->details, (*outcome)->quota,
                 (*outcome)->retry_after};
  return ok_status();
}

}  // namespace pulse::http
