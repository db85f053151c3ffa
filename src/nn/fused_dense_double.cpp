// The run-time builders of dense layers in nn::network<double>, one fused layer per built-in
// activation (see builtin_registry.hpp), and the dense ops nn/layers/dense.hpp declares extern.
#include "dendrite/nn/registry.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn::detail {

template struct kind_builders<dense_kind, double>;

}  // namespace dendrite::inline DENDRITE_TARGET::nn::detail

namespace dendrite::inline DENDRITE_TARGET {

template var<double> dense(const var<double>&, const var<double>&, const var<double>&,
                           nn::detail::no_activation);
template var<double> dense(const var<double>&, const var<double>&, const var<double>&,
                           nn::detail::activation_type<nn::relu>);
template var<double> dense(const var<double>&, const var<double>&, const var<double>&,
                           nn::detail::activation_type<nn::leaky_relu>);
template var<double> dense(const var<double>&, const var<double>&, const var<double>&,
                           nn::detail::activation_type<nn::elu>);
template var<double> dense(const var<double>&, const var<double>&, const var<double>&,
                           nn::detail::activation_type<nn::gelu>);
template var<double> dense(const var<double>&, const var<double>&, const var<double>&,
                           nn::detail::activation_type<nn::sigmoid>);
template var<double> dense(const var<double>&, const var<double>&, const var<double>&,
                           nn::detail::activation_type<nn::tanh>);
template var<double> dense(const var<double>&, const var<double>&, const var<double>&,
                           nn::detail::activation_type<nn::silu>);

}  // namespace dendrite::inline DENDRITE_TARGET
