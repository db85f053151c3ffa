// Dense layers with their activation in nn::network<float> (see network_parts.hpp).
#include "network_fused.hpp"

#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn::detail {

template std::unique_ptr<module<float>> fuse_dense(dense_layer<float>&&, const layer_description&,
                                                   const shape&);

}  // namespace dendrite::inline DENDRITE_TARGET::nn::detail
