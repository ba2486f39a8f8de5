#pragma once
// Versioned JSON envelopes for everything persisted: log records ({type, v, id, orgId, at,
// data}) and read-model/decider values ({type, v, …}). Parsed with simdjson, written with
// JsonWriter. A record of an unknown type or of a newer version than this build knows is
// refused with a clear error, never misread. Fields are only ever appended, with defaults.
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commands/contacts.h"
#include "commands/decider.h"
#include "commands/send_sms.h"
#include "domain/commands.h"
#include "domain/events.h"
#include "domain/result.h"
#include "domain/webhooks.h"
#include "projections/read_model.h"

namespace pulse::codec {

// How a record is written and read, from its fields() list. Log records are envelopes
// ({type, v, id, orgId, at, …, data}); stored values are {type, v, <fields>}. Compiled in
// json_codec.cpp for the envelopes and for each stored value type it lists.
template <class T>
struct Codec {
  static std::string encode(const T& value);
  static Result<T> decode(std::string_view json);
};
template <>
std::string Codec<CommandEnvelope>::encode(const CommandEnvelope& c);
template <>
Result<CommandEnvelope> Codec<CommandEnvelope>::decode(std::string_view json);
template <>
std::string Codec<EventEnvelope>::encode(const EventEnvelope& e);
template <>
Result<EventEnvelope> Codec<EventEnvelope>::decode(std::string_view json);

template <class T>
std::string encode(const T& value) {
  return Codec<T>::encode(value);
}
template <class T>
Result<T> decode(std::string_view json) {
  return Codec<T>::decode(json);
}

}  // namespace pulse::codec
