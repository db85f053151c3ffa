// nn::network<float>: see network_layers.hpp for why each value type has its own unit.
#include "network_layers.hpp"

#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

template class network<float>;

}  // namespace dendrite::inline DENDRITE_TARGET::nn
