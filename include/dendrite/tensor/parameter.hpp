#pragma once
// A trainable tensor with its gradient: what layers own and optimizers update.
//
// It sits with the tensor, below both, so that optim/ updates parameters without knowing
// networks. Its names stay dendrite::nn::parameter and nn::parameter_list, the names users and
// layers have always written: the type moved down the layers of the library, not out of the
// vocabulary of networks.

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "dendrite/config.hpp"
#include "dendrite/tensor/shape.hpp"
#include "dendrite/tensor/tensor.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// A parameter: its value, the gradient that backward accumulates into it (same shape), and a
/// name for checkpoints ("dense_1.weight"). Copies share the tensors, so a list of parameters
/// handed to an optimizer updates the layer's own storage.
template <class T>
struct parameter {
    using value_type = T;
    tensor<T> value;
    tensor<T> grad;
    std::string name;
    /// Whether weight decay applies: true for weights, false for biases and normalisation scales.
    bool decay = true;

    parameter() = default;
    parameter(const shape& s, std::string parameter_name, bool apply_decay = true)
        : value(s), grad(s), name(std::move(parameter_name)), decay(apply_decay) {}
    /// A parameter starting at `initial` everywhere (a learnable slope at 0.25, a scale at 1).
    parameter(const shape& s, std::string parameter_name, bool apply_decay, T initial)
        : value(s, initial), grad(s), name(std::move(parameter_name)), decay(apply_decay) {}

    std::size_t size() const noexcept { return value.size(); }
    void zero_grad() { grad.fill(T(0)); }
};

/// The parameters of a model, in a stable order (checkpoints and optimizer state rely on it).
template <class T>
using parameter_list = std::vector<parameter<T>>;

}  // namespace dendrite::inline DENDRITE_TARGET::nn
