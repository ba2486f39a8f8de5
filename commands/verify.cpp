#include "commands/verify.h"

#include <algorithm>

#include "commands/opt_outs.h"
#include "domain/overloaded.h"
#include "fmt/format.h"

namespace pulse::commands {
namespace {

using Decision = Result<std::vector<Event>>;

// Whether one more SMS may go to `number` at `at`: at most one per verify::kResendInterval and
// verify::kMaxSendsPerWindow per verify::kSendWindow.
Status check_throttle(const Verifications& v, const std::string& number, TimePoint at) {
  auto it = v.numbers.find(number);
  if (it == v.numbers.end()) return ok_status();
  std::vector<TimePoint> recent;
  for (auto t : it->second.sends)
    if (t > at - verify::kSendWindow) recent.push_back(t);
  std::optional<TimePoint> until;
  if (!recent.empty() && recent.back() + verify::kResendInterval > at)
    until = recent.back() + verify::kResendInterval;
  if (static_cast<int32_t>(recent.size()) >= verify::kMaxSendsPerWindow) {
    const auto window_end =
        recent[recent.size() - verify::kMaxSendsPerWindow] + verify::kSendWindow;
    until = until ? std::max(*until, window_end) : window_end;
  }
  if (!until) return ok_status();
  const auto ms = std::chrono::duration_cast<Millis>(*until - at).count();
  Error e{Errc::rate_limited, "Too many verification codes",
          fmt::format("{} may receive one code per {} s and {} per hour; try again in {} s", number,
                      verify::kResendInterval.count() / 1000, verify::kMaxSendsPerWindow,
                      (ms + 999) / 1000)};
  e.retry_after = (ms + 999) / 1000;
  return e;
}

// The SMS of a verification, as a one-recipient send.
SendSms verification_sms(const StartVerification& cmd, std::string message, SealedValue sealed) {
  SendSms send;
  send.campaign_id = cmd.campaign_id;
  send.recipients.push_back(Recipient{cmd.to, "", cmd.country, cmd.phone_type});
  send.message = std::move(message);
  send.sealed_message = std::move(sealed);
  return send;
}

Decision append(std::vector<Event> first, Decision more) {
  if (!more) return more.error();
  for (auto& e : *more) first.push_back(std::move(e));
  return first;
}

Decision decide_start(const DeciderConfig& config, const OrgState& org, const CommandEnvelope& env,
                      const StartVerification& cmd) {
  if (!org.exists) return Error{Errc::not_found, "Organization not found", "It does not exist."};
  const auto& v = org.verifications.get();
  const auto& number = cmd.to.e164;
  if (is_opted_out(org, number))
    return Error{
        Errc::forbidden, "Recipient opted out",
        fmt::format("{} asked not to receive SMS from this organization (opt-out list)", number)};
  if (auto st = check_throttle(v, number, env.at); !st) return st.error();
  // An open request for the number: its SMS again, with the same code.
  if (auto n = v.numbers.find(number); n != v.numbers.end()) {
    auto r = v.requests.find(n->second.request_id);
    if (r != v.requests.end() && verify::status_at(r->second.status, r->second.expires_at,
                                                   env.at) == verify::status::pending)
      return append(
          {VerificationResent{n->second.request_id, cmd.campaign_id}},
          decide_send(config, org, env,
                      verification_sms(cmd, r->second.message, r->second.sealed_message)));
  }
  return append(
      {VerificationStarted{cmd.request_id, number, cmd.campaign_id, cmd.code_length,
                           env.at + std::chrono::seconds(cmd.expiry_seconds), cmd.salt,
                           cmd.code_hash, cmd.message, cmd.sealed_message}},
      decide_send(config, org, env, verification_sms(cmd, cmd.message, cmd.sealed_message)));
}

Decision decide_check(const OrgState& org, const CommandEnvelope& env,
                      const CheckVerification& cmd) {
  const auto& v = org.verifications.get();
  auto r = v.requests.find(cmd.request_id);
  if (r == v.requests.end()) return verify::not_found(cmd.request_id);
  const auto& req = r->second;
  // Closed or expired: nothing changes, and the code is not compared.
  if (verify::status_at(req.status, req.expires_at, env.at) != verify::status::pending)
    return std::vector<Event>{};
  const bool valid = verify::constant_time_equal(req.code_hash, cmd.code_hash);
  const int32_t attempts = req.attempts + 1;
  const std::string_view status = valid                              ? verify::status::approved
                                  : attempts >= verify::kMaxAttempts ? verify::status::failed
                                                                     : verify::status::pending;
  return std::vector<Event>{
      VerificationChecked{cmd.request_id, cmd.check_id, valid, attempts, std::string(status)}};
}

Decision decide_cancel(const OrgState& org, const CommandEnvelope& env,
                       const CancelVerification& cmd) {
  const auto& v = org.verifications.get();
  auto r = v.requests.find(cmd.request_id);
  if (r == v.requests.end()) return verify::not_found(cmd.request_id);
  const auto status = verify::status_at(r->second.status, r->second.expires_at, env.at);
  if (status != verify::status::pending)
    return Error{
        Errc::conflict, "Verification is not pending",
        fmt::format("{} is {}; only a pending request can be cancelled", cmd.request_id, status)};
  return std::vector<Event>{VerificationCancelled{cmd.request_id}};
}

void record_send(Verifications& v, const std::string& number, const std::string& request,
                 TimePoint at) {
  auto& n = v.numbers[number];
  n.request_id = request;
  std::erase_if(n.sends, [&](TimePoint t) { return t <= at - verify::kSendWindow; });
  n.sends.push_back(at);
}

}  // namespace

Result<std::vector<Event>> decide_verify(const DeciderConfig& config, const OrgState& org,
                                         const CommandEnvelope& env) {
  return std::visit(
      Overloaded{
          [&](const StartVerification& c) { return decide_start(config, org, env, c); },
          [&](const CheckVerification& c) { return decide_check(org, env, c); },
          [&](const CancelVerification& c) { return decide_cancel(org, env, c); },
          [&](const NoneOf<VerifyCommands> auto&) -> Decision { return misrouted(env); },
      },
      env.body);
}

void evolve_verify(OrgState& org, const Event& event, TimePoint at) {
  std::visit(
      Overloaded{
          [&](const VerificationStarted& e) {
            auto& v = org.verifications.mut();
            // Requests expired for a send window are forgotten when a new one opens; their
            // numbers too once nothing recent was sent to them.
            std::erase_if(v.requests, [&](const auto& r) {
              return r.second.expires_at + verify::kSendWindow <= at;
            });
            std::erase_if(v.numbers, [&](const auto& n) {
              return !v.requests.count(n.second.request_id) &&
                     (n.second.sends.empty() || n.second.sends.back() <= at - verify::kSendWindow);
            });
            v.requests[e.request_id] = VerificationState{
                e.to,      e.code_hash,     e.expires_at, 0, std::string(verify::status::pending),
                e.message, e.sealed_message};
            record_send(v, e.to, e.request_id, at);
          },
          [&](const VerificationResent& e) {
            auto& v = org.verifications.mut();
            if (auto r = v.requests.find(e.request_id); r != v.requests.end())
              record_send(v, r->second.to, e.request_id, at);
          },
          [&](const VerificationChecked& e) {
            auto& v = org.verifications.mut();
            if (auto r = v.requests.find(e.request_id); r != v.requests.end()) {
              r->second.attempts = e.attempts;
              r->second.status = e.status;
            }
          },
          [&](const VerificationCancelled& e) {
            auto& v = org.verifications.mut();
            if (auto r = v.requests.find(e.request_id); r != v.requests.end())
              r->second.status = std::string(verify::status::cancelled);
          },
          [&](const NoneOf<VerifyEvents> auto&) {},
      },
      event);
}

}  // namespace pulse::commands
