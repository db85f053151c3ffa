// The run-time builders of dense layers in nn::network<float>, one fused layer per built-in
// activation (see builtin_registry.hpp), and the dense ops nn/layers/dense.hpp declares extern.
#include "dendrite/nn/registry.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn::detail {

template struct kind_builders<dense_kind, float>;

}  // namespace dendrite::inline DENDRITE_TARGET::nn::detail

namespace dendrite::inline DENDRITE_TARGET {

template var<float> dense(const var<float>&, const var<float>&, const var<float>&,
                          nn::detail::no_activation);
template var<float> dense(const var<float>&, const var<float>&, const var<float>&,
                          nn::detail::activation_type<nn::relu>);
template var<float> dense(const var<float>&, const var<float>&, const var<float>&,
                          nn::detail::activation_type<nn::leaky_relu>);
template var<float> dense(const var<float>&, const var<float>&, const var<float>&,
                          nn::detail::activation_type<nn::elu>);
template var<float> dense(const var<float>&, const var<float>&, const var<float>&,
                          nn::detail::activation_type<nn::gelu>);
template var<float> dense(const var<float>&, const var<float>&, const var<float>&,
                          nn::detail::activation_type<nn::sigmoid>);
template var<float> dense(const var<float>&, const var<float>&, const var<float>&,
                          nn::detail::activation_type<nn::tanh>);
template var<float> dense(const var<float>&, const var<float>&, const var<float>&,
                          nn::detail::activation_type<nn::silu>);

}  // namespace dendrite::inline DENDRITE_TARGET
