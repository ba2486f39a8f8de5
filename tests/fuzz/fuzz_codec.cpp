// The stored-record codec (adapters/codec/json_codec.h): log records (commands, events) and
// every read-model and decider value, decoded from arbitrary bytes as a damaged or hostile
// store would hand them over. Property: whatever decodes, encodes to JSON that decodes and
// encodes to the same bytes (the first decode may normalise: "01" keys, duplicate fields).
//
// With PULSE_FUZZ_EMIT_SEEDS=<dir> set, the target instead writes each value type's default
// encoding into <dir> and exits: the goldens cover commands and events, these the values.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include "adapters/codec/json_codec.h"
#include "commands/decider.h"
#include "domain/webhooks.h"
#include "projections/read_model.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace codec = pulse::codec;
namespace pj = pulse::projections;

template <class... Vs>
struct Types {};
using StoredValues =
    Types<pulse::commands::DeciderState, pj::CampaignView, pj::MessageView, pj::CommandOutcome,
          pj::UserView, pj::OrganizationView, pj::MembershipView, pj::ApiKeyView, pj::DeviceView,
          pj::PairingView, pj::DeviceCredentialView, pj::ReportRejectionsView, pj::ClaimView,
          pj::QueueView, pj::ContactListView, pj::ContactView, pj::OptOutView, pj::TimelineEntry,
          pj::DayStatsView, pj::CampaignExtrasView, pj::IdempotencyView, pj::WebhookSet,
          pj::OutboxRecord, pulse::DeliveryState, pulse::EndpointHealth,
          pulse::commands::CampaignQueue>;

template <class T>
void round_trip(std::string_view json) {
  auto value = codec::decode<T>(json);
  if (!value) {
    PULSE_FUZZ_CHECK(!value.error().message.empty(), json);
    return;
  }
  const std::string once = codec::encode(*value);
  auto again = codec::decode<T>(once);
  PULSE_FUZZ_CHECK(again, once + "\n" + (again ? "" : again.error().details));
  const std::string twice = codec::encode(*again);
  PULSE_FUZZ_CHECK(twice == once, once + "\n" + twice);
}

template <class... Vs>
void round_trip_values(std::string_view json, Types<Vs...>) {
  // A value decodes only when its type name is in the record: skip the others cheaply.
  ((json.find(Vs::kType) != std::string_view::npos ? round_trip<Vs>(json) : void()), ...);
}

template <class... Vs>
void emit_seeds(const std::string& dir, Types<Vs...>) {
  ((std::ofstream(dir + "/" + std::string(Vs::kType) + ".json") << codec::encode(Vs{})), ...);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("PULSE_FUZZ_EMIT_SEEDS")) {
    emit_seeds(dir, StoredValues{});
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  round_trip<pulse::CommandEnvelope>(json);
  round_trip<pulse::EventEnvelope>(json);
  round_trip_values(json, StoredValues{});
  return 0;
}
