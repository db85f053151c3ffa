#pragma once
// Softmax and log-softmax of variables along one axis: stable, and differentiated without a
// Jacobian.

#include <cstddef>

#include "dendrite/autodiff/axis.hpp"
#include "dendrite/autodiff/op_node.hpp"
#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET {

/// y = exp(x - m) / sum(exp(x - m), axis), m the maximum along the axis (so no exp overflows).
/// Backward: dx += y * (g - sum(g * y, axis)). Cost: three reads of x and two writes of y forward,
/// two passes backward; one tape buffer of the reduced shape.
template <differentiable E>
auto softmax(const E& e, std::size_t axis) {
    const auto x = as_var(e);
    using T = typename decltype(x)::value_type;
    tape& t = x.tape();
    const detail::axis_split sp = detail::split_axis(x.shape(), axis, "softmax");
    tensor<T> y = t.acquire_value<T>(x.shape());
    tensor<T> red = t.acquire_value<T>(x.shape().without(axis, true));
    detail::reduce_along<expr::max_reducer>(red, sp, detail::identity_map{}, x.value());
    detail::finite_shift(red);
    y.assign(exp(x.value() - red));
    detail::reduce_along<expr::sum_reducer>(red, sp, detail::identity_map{}, y);
    y.assign(y / red);
    return record_op(
        t, "softmax", y, x.requires_grad(), [x, y, red, sp](tape& tp, const tensor<T>& g) {
            tensor<T> gy = red;  // the forward's sums are no longer needed: reuse the buffer
            detail::reduce_along<expr::sum_reducer>(
                gy, sp, [](const auto& a, const auto& b) { return a * b; }, g, y);
            accumulate_grad(tp, x, y * (g - gy));
        });
}

/// y = x - m - log(sum(exp(x - m), axis)), m the maximum along the axis: never exp of a large
/// value, never log of 0 unless a whole slice is -inf. Backward: dx += g - exp(y) * sum(g, axis).
/// Cost: three reads of x forward, two passes backward; two tape buffers of the reduced shape.
template <differentiable E>
auto log_softmax(const E& e, std::size_t axis) {
    const auto x = as_var(e);
    using T = typename decltype(x)::value_type;
    tape& t = x.tape();
    const detail::axis_split sp = detail::split_axis(x.shape(), axis, "log_softmax");
    const shape kept = x.shape().without(axis, true);
    tensor<T> y = t.acquire_value<T>(x.shape());
    tensor<T> m = t.acquire_value<T>(kept);
    tensor<T> lse = t.acquire_value<T>(kept);
    detail::reduce_along<expr::max_reducer>(m, sp, detail::identity_map{}, x.value());
    detail::finite_shift(m);
    detail::reduce_along<expr::sum_reducer>(
        lse, sp, [](const auto& a, const auto& b) { return exp(a - b); }, x.value(), m);
    lse.assign(m + log(lse));
    y.assign(x.value() - lse);
    return record_op(
        t, "log_softmax", y, x.requires_grad(), [x, y, lse, sp](tape& tp, const tensor<T>& g) {
            tensor<T> gs = lse;  // reused: the forward's normaliser is no longer needed
            detail::reduce_along<expr::sum_reducer>(gs, sp, detail::identity_map{}, g);
            accumulate_grad(tp, x, g - exp(y) * gs);
        });
}

}  // namespace dendrite::inline DENDRITE_TARGET
