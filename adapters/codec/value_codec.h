#pragma once
// The read models' value codec: every type projections::ValueCodec lists, stored as the JSON
// records of json_codec. Projections declare the types; this fills in how they are stored.
#include "projections/read_model.h"

namespace pulse::codec {

const projections::ValueCodec& value_codec();

}  // namespace pulse::codec
