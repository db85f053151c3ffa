#pragma once
// Largest and smallest elements of variables, over all elements or along one axis.

#include <cstddef>

#include "dendrite/autodiff/axis.hpp"
#include "dendrite/autodiff/op_node.hpp"
#include "dendrite/config.hpp"
#include "dendrite/expr/reduce.hpp"

namespace dendrite::inline DENDRITE_TARGET {

namespace detail {

/// amax / amin over all elements: m = R(x). Backward: dx += g * [x == m] / count(x == m), the
/// gradient split evenly among ties (as PyTorch's amax). Cost: two reads of x forward.
template <class R, differentiable E>
auto extreme_all(const E& e, const char* name) {
    const auto x = as_var(e);
    using T = typename decltype(x)::value_type;
    tape& t = x.tape();
    tensor<T> out = t.acquire_value<T>(shape{});
    const T m = expr::reduce_all<R>(as_node(x.value()));
    out.data()[0] = m;
    const T ties = sum(x.value() == m);
    return record_op(
        t, name, out, x.requires_grad(),
        [x, m, ties](tape& tp, const tensor<T>& g) {
            accumulate_grad(tp, x, (x.value() == m) * (g.item() / ties));
        },
        // Linear once the extremes are chosen: the mean of their tangents.
        linear_in(x, [x, m, ties](tape& tp, const tensor<T>& dx) {
            tensor<T> d = tp.acquire_value<T>(shape{});
            d.data()[0] = sum((x.value() == m) * dx) / ties;
            return d;
        }));
}

/// amax / amin along `axis`: m = R over the axis. Backward: dx += g * [x == m] / count, counts
/// taken per slice. The reciprocal counts are kept in a tape buffer of m's shape.
template <class R, differentiable E>
auto extreme_axis(const E& e, std::size_t axis, bool keepdims, const char* name) {
    const auto x = as_var(e);
    using T = typename decltype(x)::value_type;
    tape& t = x.tape();
    const axis_split sp = split_axis(x.shape(), axis, name);
    const shape kept = x.shape().without(axis, true);
    tensor<T> m = t.acquire_value<T>(kept);
    tensor<T> inv_ties = t.acquire_value<T>(kept);
    reduce_along<R>(m, sp, identity_map{}, x.value());
    reduce_along<expr::sum_reducer>(
        inv_ties, sp, [](const auto& a, const auto& b) { return a == b; }, x.value(), m);
    inv_ties.assign(T(1) / inv_ties);
    const shape result = keepdims ? kept : x.shape().without(axis);
    return record_op(
        t, name, m.reshape(result), x.requires_grad(),
        [x, m, inv_ties, kept](tape& tp, const tensor<T>& g) {
            accumulate_grad(tp, x, (x.value() == m) * (g.reshape(kept) * inv_ties));
        },
        linear_in(x, [x, m, inv_ties, kept, result, sp](tape& tp, const tensor<T>& dx) {
            tensor<T> d = tp.acquire_value<T>(kept);
            reduce_along<expr::sum_reducer>(
                d, sp, [](const auto& a, const auto& b, const auto& c) { return (a == b) * c; },
                x.value(), m, dx);
            d.assign(d * inv_ties);
            return d.reshape(result);
        }));
}

}  // namespace detail

/// Largest element of x, as a scalar var; the gradient goes to the maximal elements, split evenly
/// among ties. Cost: two reads of x forward, one write of dx backward.
template <differentiable E>
auto amax(const E& e) {
    return detail::extreme_all<expr::max_reducer>(e, "amax");
}
/// Largest element along `axis` (removed unless keepdims); gradient split evenly among the ties
/// of each slice.
template <differentiable E>
auto amax(const E& e, std::size_t axis, bool keepdims = false) {
    return detail::extreme_axis<expr::max_reducer>(e, axis, keepdims, "amax");
}
/// Smallest element of x, as a scalar var; gradient split evenly among ties.
template <differentiable E>
auto amin(const E& e) {
    return detail::extreme_all<expr::min_reducer>(e, "amin");
}
/// Smallest element along `axis` (removed unless keepdims); gradient split evenly among ties.
template <differentiable E>
auto amin(const E& e, std::size_t axis, bool keepdims = false) {
    return detail::extreme_axis<expr::min_reducer>(e, axis, keepdims, "amin");
}

}  // namespace dendrite::inline DENDRITE_TARGET
