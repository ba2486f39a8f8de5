#pragma once
#include "projections/read_model.h"

namespace pulse::projections {

// Applies a gateway event; false for any other event.
bool apply_gateway(ReadModelTx& tx, const EventEnvelope& env);

}  // namespace pulse::projections
