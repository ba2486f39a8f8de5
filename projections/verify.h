#pragma once
// Phone verification requests (domain/verify.h) as GET-able views, found by id and by number.
#include "projections/read_model.h"

namespace pulse::projections {

// Applies the verification events; true when the event was one of them.
bool apply_verify(ReadModelTx& tx, const EventEnvelope& env);

}  // namespace pulse::projections
