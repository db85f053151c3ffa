// Activation layers in nn::network<float> (see network_parts.hpp).
#include "network_fused.hpp"

namespace dendrite::nn::detail {

template std::unique_ptr<module<float>> activation_module<float>(const layer_description&,
                                                                 const shape&);

}  // namespace dendrite::nn::detail
