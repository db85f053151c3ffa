#pragma once
// Sums and means of variables, over all elements or one axis.

#include "dendrite/autodiff/axis.hpp"
#include "dendrite/autodiff/op_node.hpp"
#include "dendrite/config.hpp"
#include "dendrite/expr/reduce.hpp"

namespace dendrite::inline DENDRITE_TARGET {

/// Sum of all elements, as a scalar var. Backward broadcasts the upstream gradient.
template <differentiable E>
auto sum(const E& e) {
    const auto x = as_var(e);
    using T = typename decltype(x)::value_type;
    tape& t = x.tape();
    tensor<T> out = t.acquire_value<T>(shape{});
    out.data()[0] = sum(x.value());
    return record_op(
        t, "sum", out, x.requires_grad(),
        [x](tape& tp, const tensor<T>& g) { accumulate_grad(tp, x, g.item()); },
        linear_in(x, [](tape& tp, const tensor<T>& dx) {
            tensor<T> d = tp.acquire_value<T>(shape{});
            d.data()[0] = sum(dx);
            return d;
        }));
}

/// Sum along `axis`; the axis is removed unless keepdims. Backward broadcasts the upstream
/// gradient along the axis. Cost: one read of x forward, one pass over dx backward.
template <differentiable E>
auto sum(const E& e, std::size_t axis, bool keepdims = false) {
    const auto x = as_var(e);
    using T = typename decltype(x)::value_type;
    tape& t = x.tape();
    const detail::axis_split sp = detail::split_axis(x.shape(), axis, "sum");
    const shape kept = x.shape().without(axis, true);
    tensor<T> out = t.acquire_value<T>(kept);
    detail::reduce_along<expr::sum_reducer>(out, sp, detail::identity_map{}, x.value());
    const shape result = keepdims ? kept : x.shape().without(axis);
    return record_op(
        t, "sum", out.reshape(result), x.requires_grad(),
        [x, kept](tape& tp, const tensor<T>& g) { accumulate_grad(tp, x, g.reshape(kept)); },
        linear_in(x, [sp, kept, result](tape& tp, const tensor<T>& dx) {
            tensor<T> d = tp.acquire_value<T>(kept);
            detail::reduce_along<expr::sum_reducer>(d, sp, detail::identity_map{}, dx);
            return d.reshape(result);
        }));
}

/// Mean of all elements, as a scalar var.
template <differentiable E>
auto mean(const E& e) {
    const auto x = as_var(e);
    using T = typename decltype(x)::value_type;
    tape& t = x.tape();
    const T inv = T(1) / static_cast<T>(x.size());
    tensor<T> out = t.acquire_value<T>(shape{});
    out.data()[0] = sum(x.value()) * inv;
    return record_op(
        t, "mean", out, x.requires_grad(),
        [x, inv](tape& tp, const tensor<T>& g) { accumulate_grad(tp, x, g.item() * inv); },
        linear_in(x, [inv](tape& tp, const tensor<T>& dx) {
            tensor<T> d = tp.acquire_value<T>(shape{});
            d.data()[0] = sum(dx) * inv;
            return d;
        }));
}

/// Mean along `axis` (the axis is removed unless keepdims).
template <differentiable E>
auto mean(const E& e, std::size_t axis, bool keepdims = false) {
    const auto x = as_var(e);
    using T = typename decltype(x)::value_type;
    tape& t = x.tape();
    const detail::axis_split sp = detail::split_axis(x.shape(), axis, "mean");
    const shape kept = x.shape().without(axis, true);
    const T inv = T(1) / static_cast<T>(sp.len);
    tensor<T> out = t.acquire_value<T>(kept);
    detail::reduce_along<expr::sum_reducer>(out, sp, detail::identity_map{}, x.value());
    out.assign(out * inv);
    const shape result = keepdims ? kept : x.shape().without(axis);
    return record_op(
        t, "mean", out.reshape(result), x.requires_grad(),
        [x, kept, inv](tape& tp, const tensor<T>& g) {
            accumulate_grad(tp, x, g.reshape(kept) * inv);
        },
        linear_in(x, [sp, kept, result, inv](tape& tp, const tensor<T>& dx) {
            tensor<T> d = tp.acquire_value<T>(kept);
            detail::reduce_along<expr::sum_reducer>(d, sp, detail::identity_map{}, dx);
            d.assign(d * inv);
            return d.reshape(result);
        }));
}

}  // namespace dendrite::inline DENDRITE_TARGET
