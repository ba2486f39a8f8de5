#pragma once
// Projectors of contact lists (contacts.cpp) and of the campaign lifecycle events
// (campaigns.cpp). Each returns false for an event that is not theirs.
#include "projections/read_model.h"

namespace pulse::projections {

bool apply_contacts(ReadModelTx& tx, const EventEnvelope& env);
bool apply_campaigns(ReadModelTx& tx, const EventEnvelope& env);

}  // namespace pulse::projections
