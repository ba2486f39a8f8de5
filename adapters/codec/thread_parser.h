#pragma once
// The per-thread simdjson parsers of the decoders of outside and stored JSON. A parser keeps its
// largest allocation (about ten times the largest document it parsed), so each worker thread
// would pin the buffers of the largest body it ever saw; trim_thread_parsers() gives back what
// is above a cap once the decoded structs no longer point into the parser.
#include <simdjson.h>

#include <array>
#include <cstddef>

namespace pulse::codec {

// One parser per decoder module: one module's document may still be in use while another's is
// parsed.
enum class ParserSlot : size_t { records, requests, gateway, smsgate, count };

namespace detail {
inline std::array<simdjson::dom::parser, static_cast<size_t>(ParserSlot::count)>& thread_parsers() {
  thread_local std::array<simdjson::dom::parser, static_cast<size_t>(ParserSlot::count)> parsers;
  return parsers;
}
}  // namespace detail

inline simdjson::dom::parser& thread_parser(ParserSlot slot) {
  return detail::thread_parsers()[static_cast<size_t>(slot)];
}

// Replaces this thread's parsers whose capacity exceeds `keep` bytes by fresh ones (which
// allocate on their next parse). Returns whether any memory was released. Only between
// documents: elements of a replaced parser dangle.
inline bool trim_thread_parsers(size_t keep) {
  bool trimmed = false;
  for (auto& p : detail::thread_parsers()) {
    if (p.capacity() <= keep) continue;
    p = simdjson::dom::parser{};
    trimmed = true;
  }
  return trimmed;
}

}  // namespace pulse::codec
