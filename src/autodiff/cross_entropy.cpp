// softmax_cross_entropy of float and double logits with 32-bit labels.
#include "dendrite/autodiff/cross_entropy.hpp"

#include "dendrite/config.hpp"
#include "dendrite/expr/evaluate.hpp"

namespace dendrite::inline DENDRITE_TARGET::detail {

template var<float> softmax_cross_entropy_of<float, std::int32_t>(const var<float>&,
                                                                  std::span<const std::int32_t>,
                                                                  const cross_entropy_options&);
template var<double> softmax_cross_entropy_of<double, std::int32_t>(const var<double>&,
                                                                    std::span<const std::int32_t>,
                                                                    const cross_entropy_options&);

}  // namespace dendrite::inline DENDRITE_TARGET::detail
