#include "adapters/webhooks/delivery_store.h"

#include <charconv>

#include "adapters/codec/json_codec.h"
#include "fmt/format.h"

namespace pulse::webhooks {

namespace keys {
std::string delivery(std::string_view id) {
  return fmt::format("d/{}", id);
}
std::string due_prefix(std::string_view endpoint) {
  return fmt::format("q/{}/", endpoint);
}
std::string due(TimePoint at, std::string_view id) {
  return fmt::format("{}{:013}/{}", due_prefix(id.substr(id.rfind('_') + 1)),
                     std::max<int64_t>(0, to_unix_ms(at)), id);
}
DueKey parse_due(std::string_view key) {
  // q/<endpoint>/<ms, 13 digits>/<id>
  const auto rest = key.substr(kDuePrefix.size());
  const auto slash = rest.find('/');
  const auto tail = rest.substr(slash + 1);
  DueKey out{std::string(rest.substr(0, slash)), 0, std::string(tail.substr(14))};
  std::from_chars(tail.data(), tail.data() + 13, out.ms);
  return out;
}
std::string listing_prefix(const OrgId& org, const WebhookId& webhook) {
  return fmt::format("l/{}/{}/", org.value, webhook.value);
}
std::string listing(const DeliveryState& d) {
  return fmt::format("{}{:013}/{}", listing_prefix(d.org, d.webhook),
                     std::max<int64_t>(0, to_unix_ms(d.created_at)), d.id);
}
std::string health(const OrgId& org, const WebhookId& webhook) {
  return fmt::format("e/{}/{}", org.value, webhook.value);
}
std::string cursor(int32_t partition) {
  return fmt::format("c/{:05}", partition);
}
std::string applied(int32_t partition) {
  return fmt::format("o/{:05}", partition);
}
}  // namespace keys

Result<std::optional<DeliveryState>> DeliveryStore::get(std::string_view id) {
  auto raw = kv_.get(keys::delivery(id));
  if (!raw) return raw.error();
  if (!*raw) return std::optional<DeliveryState>{};
  auto d = codec::decode<DeliveryState>(**raw);
  if (!d) return d.error();
  return std::optional<DeliveryState>{std::move(d).value()};
}

Result<DeliveryPage> DeliveryStore::list(const OrgId& org, const WebhookId& webhook, size_t limit,
                                         const std::optional<std::string>& cursor,
                                         const DeliveryFilter& filter) {
  constexpr size_t kMaxScanned = 20000;  // bounds the work of a filter that matches little
  DeliveryPage page;
  std::string start;
  if (cursor) {
    auto at = get(*cursor);
    if (!at) return at.error();
    if (!*at || (*at)->org != org || (*at)->webhook != webhook)
      return validation_error("Invalid query parameter", "cursor must be a delivery id");
    start = keys::listing(**at);
  }
  std::optional<Error> error;
  size_t scanned = 0;
  std::string last_key;
  auto st = kv_.scan(keys::listing_prefix(org, webhook), start, true,
                     [&](std::string_view key, std::string_view) {
                       if (!start.empty() && key == start) return true;
                       if (++scanned > kMaxScanned) return false;
                       const auto id = key.substr(key.rfind('/') + 1);
                       auto d = get(id);
                       if (!d) {
                         error = d.error();
                         return false;
                       }
                       if (!*d) return true;
                       if (filter.status && (*d)->status != *filter.status) return true;
                       if (filter.event_type && (*d)->event_type != *filter.event_type) return true;
                       if (page.deliveries.size() == limit) {
                         page.next_cursor = page.deliveries.back().id;
                         return false;
                       }
                       page.deliveries.push_back(std::move(**d));
                       return true;
                     });
  if (!st) return st.error();
  if (error) return *error;
  return page;
}

}  // namespace pulse::webhooks
