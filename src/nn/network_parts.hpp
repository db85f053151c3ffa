#pragma once
// What nn::network's parser (network.cpp), its builder (network_layers.hpp) and the units that
// build its activation-carrying modules (network_fused.hpp) share.

#include <memory>
#include <string>
#include <vector>

#include "dendrite/config.hpp"
#include "dendrite/nn/activations.hpp"
#include "dendrite/nn/conv.hpp"
#include "dendrite/nn/dense.hpp"
#include "dendrite/nn/network.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn::detail {

template <class T>
using module_list = std::vector<std::unique_ptr<module<T>>>;

/// Throws network_error "network: layer <index + 1> '<kind>': <what>".
[[noreturn]] void layer_error(std::size_t index, const layer_description& d,
                              const std::string& what);

/// The whole number d.args[arg], or `fallback` when absent; throws naming the layer and `what`
/// when it is not a whole number, or is 0 and `positive`.
std::size_t whole_argument(const layer_description& d, std::size_t index, std::size_t arg,
                           std::size_t fallback, const char* what, bool positive = true);

/// Calls f(activation) for an activation kind, returns false for anything else.
template <class F>
bool with_activation(const layer_description& d, F&& f) {
    const std::string& k = d.kind;
    if (k == "relu") return f(relu), true;
    if (k == "leaky_relu") return f(leaky_relu_with(d.args.empty() ? 0.01 : d.args[0])), true;
    if (k == "elu") return f(elu), true;
    if (k == "selu") return f(selu), true;
    if (k == "gelu") return f(gelu), true;
    if (k == "gelu_tanh") return f(gelu_tanh), true;
    if (k == "sigmoid") return f(sigmoid), true;
    if (k == "tanh") return f(tanh), true;
    if (k == "softplus") return f(softplus), true;
    if (k == "softsign") return f(softsign), true;
    if (k == "silu" || k == "swish") return f(silu), true;
    if (k == "mish") return f(mish), true;
    if (k == "hard_sigmoid") return f(hard_sigmoid), true;
    if (k == "hard_swish") return f(hard_swish), true;
    if (k == "identity" || k == "linear") return f(identity), true;
    return false;
}

// The kinds of the layers on images.
inline bool is_conv(const std::string& k) {
    return k == "conv" || k == "conv2d" || k == "conv_no_bias";
}
inline bool is_max_pool(const std::string& k) {
    return k == "maxpool" || k == "max_pool2d";
}
inline bool is_avg_pool(const std::string& k) {
    return k == "avgpool" || k == "avg_pool2d";
}
inline bool is_global_pool(const std::string& k) {
    return k == "globalavgpool" || k == "global_avg_pool2d";
}

/// Whether layers[i] is built by add_image_layer.
bool is_image_kind(const layer_description& d, const shape& sample);

// The modules that carry an activation, one instantiation per activation kind: the heaviest code
// of the library (each fused layer has its own GEMM epilogue), so each family and value type is
// compiled in a unit of its own (fused_<family>_<type>.cpp) and the units build in parallel.
// Each returns nullptr when `act` names no activation.

/// A dense layer with the activation `act` in its epilogue, built from the parameters of `dense`.
template <class T>
std::unique_ptr<module<T>> fuse_dense(dense_layer<T>&& dense, const layer_description& act,
                                      const shape& out);
/// A convolution with the activation `act` in its epilogue.
template <class T>
std::unique_ptr<module<T>> fuse_conv(conv2d_layer<T>&& conv, const layer_description& act,
                                     const shape& out);
/// The activation `act` as a layer of its own.
template <class T>
std::unique_ptr<module<T>> activation_module(const layer_description& act, const shape& out);

}  // namespace dendrite::inline DENDRITE_TARGET::nn::detail
