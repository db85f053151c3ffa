// nn::network<double>: see network_layers.hpp for why each value type has its own unit.
#include "network_layers.hpp"

namespace dendrite::nn {

template class network<double>;

}  // namespace dendrite::nn
