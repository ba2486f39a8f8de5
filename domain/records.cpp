#include <charconv>

#include "domain/commands.h"
#include "domain/events.h"
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
  return c.org.value;
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

}  // namespace pulse
