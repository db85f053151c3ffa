#pragma once
// What the two halves of nn::network's builder share: network.cpp builds the layers on features,
// network_image.cpp those on images (convolution, pooling, batch norm per channel), each half in
// its own translation unit so that the two compile in parallel.

#include <memory>
#include <string>
#include <vector>

#include "dendrite/nn/activations.hpp"
#include "dendrite/nn/network.hpp"

namespace dendrite::nn::detail {

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

/// Whether layers[i] is built by add_image_layer.
bool is_image_kind(const layer_description& d, const shape& sample);

/// Adds the module for layers[i], a convolution, a pooling or a batch norm of images, for samples
/// of shape `sample` ([C, H, W]), and updates `sample` to its output. A convolution takes the
/// activation after it into its epilogue (i then advances past it).
template <class T>
void add_image_layer(module_list<T>& modules, const std::vector<layer_description>& layers,
                     std::size_t& i, shape& sample);

extern template void add_image_layer<float>(module_list<float>&,
                                            const std::vector<layer_description>&, std::size_t&,
                                            shape&);
extern template void add_image_layer<double>(module_list<double>&,
                                             const std::vector<layer_description>&, std::size_t&,
                                             shape&);

}  // namespace dendrite::nn::detail
