#include <charconv>

#include "domain/commands.h"
#include "domain/events.h"
#include "domain/ids.h"
#include "fmt/format.h"

namespace pulse {

std::string_view command_type(const Command& c) {
  return std::visit([](const auto& x) -> std::string_view { return x.kType; }, c);
}

std::string_view event_type(const Event& e) {
  return std::visit([](const auto& x) -> std::string_view { return x.kType; }, e);
}

std::string partition_key(const CommandEnvelope& c) {
  if (const auto* r = std::get_if<RegisterUser>(&c.body)) return "user:" + r->email;
  if (const auto* r = std::get_if<ClaimOrganization>(&c.body)) return "user:" + r->email;
  if (const auto* r = std::get_if<SetAccountPlan>(&c.body)) return "user:" + r->email;
  return c.org.value;
}

std::optional<std::pair<std::string, uint32_t>> split_message_id(std::string_view id) {
  // msg_<campaign body (16)><index (4)>
  constexpr std::string_view kAlphabet = "0123456789abcdefghjkmnpqrstvwxyz";
  if (!is_valid_id(id_prefix::message, id) || id.size() != id_prefix::message.size() + 1 + 20)
    return std::nullopt;
  const auto body = id.substr(id_prefix::message.size() + 1);
  uint32_t index = 0;
  for (char c : body.substr(16)) index = index * 32 + static_cast<uint32_t>(kAlphabet.find(c));
  return std::pair{std::string(id_prefix::campaign) + "_" + std::string(body.substr(0, 16)), index};
}

std::string_view to_string(ReportedStatus s) {
  switch (s) {
    case ReportedStatus::sent:
      return "sent";
    case ReportedStatus::delivered:
      return "delivered";
    case ReportedStatus::failed:
      return "failed";
  }
  return "sent";
}

std::string event_id(const EventSource& s) {
  return fmt::format("evt_{}-{}-{}", s.command.partition.value, s.command.offset.value, s.index);
}

std::optional<EventSource> parse_event_id(std::string_view id) {
  if (!id.starts_with("evt_")) return std::nullopt;
  id.remove_prefix(4);
  int64_t parts[3];
  for (int i = 0; i < 3; ++i) {
    auto [p, ec] = std::from_chars(id.data(), id.data() + id.size(), parts[i]);
    if (ec != std::errc{} || parts[i] < 0) return std::nullopt;
    id.remove_prefix(static_cast<size_t>(p - id.data()));
    if (i < 2) {
      if (id.empty() || id.front() != '-') return std::nullopt;
      id.remove_prefix(1);
    }
  }
  if (!id.empty() || parts[0] > INT32_MAX || parts[2] > INT32_MAX) return std::nullopt;
  return EventSource{{Partition{static_cast<int32_t>(parts[0])}, Offset{parts[1]}},
                     static_cast<int32_t>(parts[2])};
}

namespace {

// Every command and event belongs to exactly one capability's list: the decider and the
// projectors route by these lists, so a record in none would go nowhere.
template <class T, class... Lists>
constexpr int kListsHolding = (int(InList<T, Lists>::value) + ...);

template <class Variant, class... Lists>
constexpr bool each_in_one_list() {
  return []<size_t... I>(std::index_sequence<I...>) {
    return ((kListsHolding<std::variant_alternative_t<I, Variant>, Lists...> == 1) && ...);
  }
  (std::make_index_sequence<std::variant_size_v<Variant>>{});
}

static_assert(
    each_in_one_list<Command, SendCommands, AccountCommands, GatewayCommands, ContactCommands,
                     CampaignCommands, OptOutCommands, WebhookCommands, VerifyCommands>());
static_assert(each_in_one_list<Event, SendEvents, AccountEvents, GatewayEvents, ContactEvents,
                               CampaignEvents, OptOutEvents, WebhookEvents, VerifyEvents>());

}  // namespace

}  // namespace pulse
