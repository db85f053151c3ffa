#pragma once
// The definitions of network_parts.hpp's activation-carrying modules, each explicitly
// instantiated for one value type by a fused_<family>_<type>.cpp unit.

#include <memory>

#include "dendrite/config.hpp"
#include "dendrite/nn/activations.hpp"
#include "dendrite/nn/conv.hpp"
#include "dendrite/nn/dense.hpp"
#include "network_parts.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn::detail {

/// Layer<T, act> taking the parameters of `layer` (a dense layer or a convolution), for the
/// activation `act` names; nullptr when it names none.
template <template <class, class> class Layer, class T, class Plain>
std::unique_ptr<module<T>> absorb_activation(Plain&& layer, const layer_description& act,
                                             const shape& out) {
    std::unique_ptr<module<T>> m;
    with_activation(act, [&](auto a) {
        using F = decltype(a);
        m = std::make_unique<module_of<T, Layer<T, F>>>(Layer<T, F>(std::move(layer), a, a.name),
                                                        out);
    });
    return m;
}

template <class T>
std::unique_ptr<module<T>> fuse_dense(dense_layer<T>&& dense, const layer_description& act,
                                      const shape& out) {
    return absorb_activation<dense_layer, T>(std::move(dense), act, out);
}

template <class T>
std::unique_ptr<module<T>> fuse_conv(conv2d_layer<T>&& conv, const layer_description& act,
                                     const shape& out) {
    return absorb_activation<conv2d_layer, T>(std::move(conv), act, out);
}

template <class T>
std::unique_ptr<module<T>> activation_module(const layer_description& act, const shape& out) {
    std::unique_ptr<module<T>> m;
    with_activation(act, [&](auto a) {
        using F = decltype(a);
        m = std::make_unique<module_of<T, activation_layer<T, F>>>(
            activation_layer<T, F>(a, a.name), out);
    });
    return m;
}

}  // namespace dendrite::inline DENDRITE_TARGET::nn::detail
