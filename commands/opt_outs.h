#pragma once
// The decider's opt-out parts: the organisation's opt-out list (suppression), inbound SMS with
// STOP replies, and the send API's options (a pinned device, Idempotency-Key). Pure.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commands/decider.h"

namespace pulse::commands {

// Whether `e164` is on the organisation's opt-out list.
bool is_opted_out(const OrgState& org, std::string_view e164);

// The recipients a send may go to, and those it skips because they opted out. Every send path
// (the send API, campaigns from contact lists) filters through this before queueing.
struct Suppression {
  std::vector<size_t> kept;             // indexes into the recipients, in order
  std::vector<std::string> suppressed;  // phones skipped, in order
};
template <class Range, class PhoneOf>
Suppression skip_opted_out(const OrgState& org, const Range& recipients, PhoneOf phone_of) {
  Suppression s;
  size_t i = 0;
  for (const auto& r : recipients) {
    // A reference, not a string_view: phone_of may return a string by value, which a view
    // would outlive.
    const auto& phone = phone_of(r);
    if (is_opted_out(org, phone))
      s.suppressed.emplace_back(phone);
    else
      s.kept.push_back(i);
    ++i;
  }
  return s;
}

// STOP, STOPALL, UNSUBSCRIBE, CANCEL, END or QUIT, in any case, surrounding spaces ignored.
bool is_stop_keyword(std::string_view body);
// START, UNSTOP or SUBSCRIBE, likewise: the sender takes their opt-out back.
bool is_start_keyword(std::string_view body);

// How long an Idempotency-Key is remembered after the send it answered.
inline constexpr Millis kIdempotencyTtl{24LL * 3600'000};

// A send that repeats an accepted one: SendReplayed when the key is known with the same
// request, a 409 when with another; nullopt when the key is new (or expired).
std::optional<Result<std::vector<Event>>> replay_send(const OrgState& org, const SendSms& cmd,
                                                      TimePoint at);

Result<std::vector<Event>> decide_add_opt_out(const OrgState& org, const AddOptOut& cmd);
Result<std::vector<Event>> decide_remove_opt_out(const OrgState& org, const RemoveOptOut& cmd);
Result<std::vector<Event>> decide_receive_sms(const OrgState& org, const ReceiveSms& cmd);
Result<std::vector<Event>> decide_mark_read(const OrgState& org, const MarkConversationRead& cmd);

// Applies opt-outs, pinned campaigns and idempotency keys to the organisation's state (a no-op
// for any other event).
void evolve_opt_outs(OrgState& org, const Event& event, TimePoint at);

}  // namespace pulse::commands
