// The run-time builders of dense layers in nn::network<double>, one fused layer per built-in
// activation (see builtin_registry.hpp).
#include "dendrite/nn/registry.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn::detail {

template struct kind_builders<dense_kind, double>;

}  // namespace dendrite::inline DENDRITE_TARGET::nn::detail
