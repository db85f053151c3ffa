// Activation layers in nn::network<double> (see network_parts.hpp).
#include "network_fused.hpp"

namespace dendrite::nn::detail {

template std::unique_ptr<module<double>> activation_module<double>(const layer_description&,
                                                                   const shape&);

}  // namespace dendrite::nn::detail
