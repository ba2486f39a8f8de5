#include "domain/webhooks.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "fmt/format.h"

namespace pulse {

bool is_webhook_event_type(std::string_view type) {
  return std::find(kWebhookEventTypes.begin(), kWebhookEventTypes.end(), type) !=
         kWebhookEventTypes.end();
}

std::string webhook_secret_context(const WebhookId& webhook) {
  return "pulse/webhook-secret/" + webhook.value;
}

std::string delivery_id(std::string_view event_id, int32_t item, const WebhookId& webhook) {
  // evt_<p>-<o>-<i> -> dlv_<p>-<o>-<i>-<item>_<webhook body>
  const auto source = event_id.substr(event_id.find('_') + 1);
  const auto body = std::string_view(webhook.value).substr(webhook.value.find('_') + 1);
  return fmt::format("dlv_{}-{}_{}", source, item, body);
}

bool is_valid_delivery_id(std::string_view id) {
  if (!id.starts_with("dlv_") || id.size() > 80) return false;
  int dashes = 0;
  size_t i = 4;
  for (; i < id.size() && id[i] != '_'; ++i) {
    if (id[i] == '-')
      ++dashes;
    else if (id[i] < '0' || id[i] > '9')
      return false;
  }
  if (dashes != 3 || i + 1 >= id.size()) return false;
  for (++i; i < id.size(); ++i)
    if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'z'))) return false;
  return true;
}

std::optional<std::vector<Millis>> parse_retry_schedule(std::string_view text) {
  std::vector<Millis> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    auto item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    int64_t n = 0;
    auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), n);
    if (ec != std::errc{} || n < 0) return std::nullopt;
    const std::string_view unit(p, static_cast<size_t>(item.data() + item.size() - p));
    int64_t scale = 0;
    if (unit == "ms")
      scale = 1;
    else if (unit == "s" || unit.empty())
      scale = 1000;
    else if (unit == "m")
      scale = 60'000;
    else if (unit == "h")
      scale = 3600'000;
    else
      return std::nullopt;
    out.push_back(Millis{n * scale});
  }
  if (out.empty()) return std::nullopt;
  return out;
}

EndpointAction record_attempt(DeliveryState& d, EndpointHealth& health, const RetryPolicy& policy,
                              TimePoint at, const AttemptOutcome& outcome, double jitter01) {
  d.attempts.push_back(
      WebhookAttempt{at, outcome.status_code, outcome.latency_ms, outcome.response});
  ++d.round;
  const int32_t code = outcome.status_code;
  if (code >= 200 && code < 300) {
    d.status = "succeeded";
    d.next_at.reset();
    health.failing_since.reset();
    return EndpointAction::none;
  }
  if (!health.failing_since) health.failing_since = at;
  if (code == 410) {
    d.status = "dead";
    d.next_at.reset();
    return EndpointAction::disable_gone;
  }
  const auto round = static_cast<size_t>(d.round);
  if (round >= policy.schedule.size()) {
    d.status = "dead";
    d.next_at.reset();
  } else {
    const auto base = static_cast<double>(policy.schedule[round].count());
    const double factor = 1.0 + policy.jitter * (2.0 * jitter01 - 1.0);
    auto delay = Millis{static_cast<int64_t>(std::llround(base * factor))};
    if (outcome.retry_after)
      delay = std::max(delay, std::min(*outcome.retry_after, policy.max_retry_after));
    d.status = "pending";
    d.next_at = at + delay;
  }
  if (at - *health.failing_since >= policy.disable_after) return EndpointAction::disable_failing;
  return EndpointAction::none;
}

void reschedule(DeliveryState& d, TimePoint at) {
  d.status = "pending";
  d.round = 0;
  d.next_at = at;
}

}  // namespace pulse
