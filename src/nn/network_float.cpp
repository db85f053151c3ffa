// nn::network<float>: see network_layers.hpp for why each value type has its own unit.
#include "network_layers.hpp"

namespace dendrite::nn {

template class network<float>;

}  // namespace dendrite::nn
