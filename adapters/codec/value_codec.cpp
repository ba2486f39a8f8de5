#include "adapters/codec/value_codec.h"

#include "adapters/codec/json_codec.h"

namespace pulse::codec {
namespace {

template <class... Vs>
projections::CodecSet<Vs...> json_codecs(const projections::CodecSet<Vs...>* /*type*/) {
  projections::CodecSet<Vs...> set;
  ((set.template of<Vs>() = projections::CodecFor<Vs>{&encode<Vs>, &decode<Vs>}), ...);
  return set;
}

}  // namespace

const projections::ValueCodec& value_codec() {
  static const projections::ValueCodec codec =
      json_codecs(static_cast<const projections::ValueCodec*>(nullptr));
  return codec;
}

}  // namespace pulse::codec
