#pragma once
// A trainable tensor with its gradient: what layers own and optimizers update.

#include <string>
#include <vector>

#include "dendrite/config.hpp"
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
