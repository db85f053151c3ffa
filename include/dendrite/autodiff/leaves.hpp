#pragma once
// Creating leaves on a tape: variables, parameters and constants.

#include <string>

#include "dendrite/autodiff/tape.hpp"
#include "dendrite/autodiff/var.hpp"
#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET {

/// A leaf that requires a gradient; the gradient is owned by the tape (valid until clear()).
/// A strided `value` is copied so that value and gradient share one layout.
template <class T>
var<T> variable(tape& t, const tensor<T>& value) {
    auto& n = t.make<detail::leaf_node<T>>("variable");
    n.value = value.is_contiguous() ? value : value.clone();
    n.requires_grad = !no_grad_guard::active();
    return var<T>(t, n);
}

/// A leaf whose gradient accumulates into caller-owned `grad` (same shape as `value`) across
/// recordings, as a model's parameters need; zero it between steps.
template <class T>
var<T> parameter(tape& t, const tensor<T>& value, const tensor<T>& grad) {
    if (!(value.shape() == grad.shape()))
        throw shape_error("parameter: value of shape " + value.shape().str() +
                          " but gradient of shape " + grad.shape().str());
    if (!value.is_contiguous() || !grad.is_contiguous())
        throw shape_error("parameter: value and gradient must be contiguous");
    auto& n = t.make<detail::leaf_node<T>>("parameter");
    n.value = value;
    n.bind_grad(grad);
    n.requires_grad = !no_grad_guard::active();
    return var<T>(t, n);
}

/// A leaf that never receives a gradient (inputs, targets).
template <class T>
var<T> constant(tape& t, const tensor<T>& value) {
    auto& n = t.make<detail::leaf_node<T>>("constant");
    n.value = value.is_contiguous() ? value : value.clone();
    return var<T>(t, n);
}

}  // namespace dendrite::inline DENDRITE_TARGET
