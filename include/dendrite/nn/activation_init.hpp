#pragma once
// The initialisation scheme suited to the activation a layer feeds.

#include <type_traits>

#include "dendrite/config.hpp"
#include "dendrite/nn/activations.hpp"
#include "dendrite/nn/init.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// default_init<F>::value: the scheme a dense layer or convolution whose output goes through F
/// starts its weights with (Glorot unless F says otherwise).
template <class F>
struct default_init {
    static constexpr init::scheme value = init::scheme::glorot_uniform;
};
// He initialisation keeps the variance of ReLU-family layers' activations constant with depth.
template <>
struct default_init<std::remove_cvref_t<decltype(fn::relu)>> {
    static constexpr init::scheme value = init::scheme::he_uniform;
};
template <>
struct default_init<leaky_relu_fn> {
    static constexpr init::scheme value = init::scheme::he_uniform;
};
template <>
struct default_init<std::remove_cvref_t<decltype(fn::selu)>> {
    static constexpr init::scheme value = init::scheme::lecun_normal;
};
// A fused layer's Act is the nn::activation object (nn::relu wraps fn::relu): its function decides.
template <class F>
struct default_init<activation<F>> : default_init<F> {};
}  // namespace dendrite::inline DENDRITE_TARGET::nn
