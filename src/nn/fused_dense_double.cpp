// Dense layers with their activation in nn::network<double> (see network_parts.hpp).
#include "network_fused.hpp"

#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn::detail {

template std::unique_ptr<module<double>> fuse_dense(dense_layer<double>&&, const layer_description&,
                                                    const shape&);

}  // namespace dendrite::inline DENDRITE_TARGET::nn::detail
