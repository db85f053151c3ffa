#pragma once
// Softmax and log-softmax of variables along one axis: stable, and differentiated without a
// Jacobian.

#include <cstddef>
#include <limits>
#include <type_traits>

#include "dendrite/autodiff/axis.hpp"
#include "dendrite/autodiff/op_node.hpp"
#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET {

namespace detail {

/// What the second-order rules of softmax and log_softmax keep: the input, the output, the axis
/// split, the reduced shape, and the output's tangent between the two passes.
template <class T>
struct along_axis_rule {
    var<T> x;
    tensor<T> y;
    axis_split sp;
    shape kept;
    tensor<T> dy = {};

    /// x's gradient tangent, or null when no term reaches it (x wants no gradient, or neither
    /// the upstream nor the output has a tangent).
    tensor<T>* tangent_target(tape& t, const tensor<T>* dg) const {
        if (!x.requires_grad() || (dg == nullptr && dy.data() == nullptr)) return nullptr;
        return &x.node().grad_tangent_accumulator(t);
    }
};

/// Second order of y = softmax(s x) (s = scale; masked entries have y = 0 and drop out):
/// dy = s y (dx - sum(y dx)); the gradient s y (g - sum(g y)) has the tangent
/// s (dy (g - sum(g y)) + y (dg - sum(dg y) - sum(g dy))).
template <class T>
struct softmax_rule : along_axis_rule<T> {
    using along_axis_rule<T>::x, along_axis_rule<T>::y, along_axis_rule<T>::sp,
        along_axis_rule<T>::kept, along_axis_rule<T>::dy;
    T scale = T(1);

    static constexpr auto product = [](const auto& a, const auto& b) { return a * b; };

    tensor<T> tangent(tape& t) {
        dy = tensor<T>();
        if (!x.node().has_tangent()) return {};
        tensor<T> r = t.acquire_value<T>(kept);
        reduce_along<expr::sum_reducer>(r, sp, product, tangent_of(x), y);
        dy = t.acquire_value<T>(y.shape());
        dy.assign(y * (tangent_of(x) - r) * scale);
        return dy;
    }
    void backward_tangent(tape& t, const tensor<T>& g, const tensor<T>* dg) {
        tensor<T>* acc = this->tangent_target(t, dg);
        if (acc == nullptr) return;
        tensor<T> r = t.acquire_value<T>(kept);
        if (dy.data()) {
            reduce_along<expr::sum_reducer>(r, sp, product, g, y);
            tensor<T> r2 = t.acquire_value<T>(kept);
            reduce_along<expr::sum_reducer>(r2, sp, product, g, dy);
            acc->assign(*acc + (dy * (g - r) - y * r2) * scale);
        }
        if (dg) {
            reduce_along<expr::sum_reducer>(r, sp, product, *dg, y);
            acc->assign(*acc + y * (*dg - r) * scale);
        }
    }
};

/// Second order of y = log_softmax(x), p = exp(y): dy = dx - sum(p dx); the gradient
/// g - p sum(g) has the tangent dg - p sum(dg) - p dy sum(g).
template <class T>
struct log_softmax_rule : along_axis_rule<T> {
    using along_axis_rule<T>::x, along_axis_rule<T>::y, along_axis_rule<T>::sp,
        along_axis_rule<T>::kept, along_axis_rule<T>::dy;

    tensor<T> tangent(tape& t) {
        dy = tensor<T>();
        if (!x.node().has_tangent()) return {};
        tensor<T> r = t.acquire_value<T>(kept);
        reduce_along<expr::sum_reducer>(
            r, sp, [](const auto& a, const auto& b) { return exp(a) * b; }, y, tangent_of(x));
        dy = t.acquire_value<T>(y.shape());
        dy.assign(tangent_of(x) - r);
        return dy;
    }
    void backward_tangent(tape& t, const tensor<T>& g, const tensor<T>* dg) {
        tensor<T>* acc = this->tangent_target(t, dg);
        if (acc == nullptr) return;
        tensor<T> r = t.acquire_value<T>(kept);
        if (dy.data()) {
            reduce_along<expr::sum_reducer>(r, sp, identity_map{}, g);
            acc->assign(*acc - exp(y) * dy * r);
        }
        if (dg) {
            reduce_along<expr::sum_reducer>(r, sp, identity_map{}, *dg);
            acc->assign(*acc + *dg - exp(y) * r);
        }
    }
};

}  // namespace detail

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
        t, "softmax", y, x.requires_grad(),
        [x, y, red, sp](tape& tp, const tensor<T>& g) {
            tensor<T> gy = red;  // the forward's sums are no longer needed: reuse the buffer
            detail::reduce_along<expr::sum_reducer>(
                gy, sp, [](const auto& a, const auto& b) { return a * b; }, g, y);
            accumulate_grad(tp, x, y * (g - gy));
        },
        detail::softmax_rule<T>{{x, y, sp, x.shape().without(axis, true)}});
}

/// y = softmax(scale * x) along `axis` with the entries where `mask` is non-zero left out (they
/// get y = 0): the attention weights of scores x, masked causally or for padding, in one op.
/// `mask` broadcasts onto x ([T, T] onto [B, H, T, T]); a row masked entirely is all zeros (it
/// attends to nothing) rather than NaN. Backward: dx += scale * y * (g - sum(g * y, axis)).
/// Cost: one more pass than softmax forward (the scaled, masked scores), two passes backward.
template <differentiable E, class T>
auto masked_softmax(const E& e, const tensor<T>& mask, std::size_t axis, double scale = 1) {
    const auto x = as_var(e);
    static_assert(std::is_same_v<typename decltype(x)::value_type, T>,
                  "masked_softmax: the mask must have the input's element type");
    tape& t = x.tape();
    const detail::axis_split sp = detail::split_axis(x.shape(), axis, "masked_softmax");
    if (!(broadcast_shapes(mask.shape(), x.shape(), "masked_softmax") == x.shape()))
        throw shape_error("masked_softmax: mask " + mask.shape().str() +
                          " does not broadcast onto the input " + x.shape().str());
    const T s = static_cast<T>(scale);
    tensor<T> y = t.acquire_value<T>(x.shape());
    tensor<T> red = t.acquire_value<T>(x.shape().without(axis, true));
    y.assign(where(mask, -std::numeric_limits<T>::infinity(), x.value() * s));
    detail::reduce_along<expr::max_reducer>(red, sp, detail::identity_map{}, y);
    detail::finite_shift(red);
    y.assign(exp(y - red));
    detail::reduce_along<expr::sum_reducer>(red, sp, detail::identity_map{}, y);
    red.assign(where(red == T(0), T(0), T(1) / red));
    y.assign(y * red);
    return record_op(
        t, "masked_softmax", y, x.requires_grad(),
        [x, y, red, sp, s](tape& tp, const tensor<T>& g) {
            tensor<T> gy = red;
            detail::reduce_along<expr::sum_reducer>(
                gy, sp, [](const auto& a, const auto& b) { return a * b; }, g, y);
            accumulate_grad(tp, x, y * (g - gy) * s);
        },
        detail::softmax_rule<T>{{x, y, sp, x.shape().without(axis, true)}, s});
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
        t, "log_softmax", y, x.requires_grad(),
        [x, y, lse, sp](tape& tp, const tensor<T>& g) {
            tensor<T> gs = lse;  // reused: the forward's normaliser is no longer needed
            detail::reduce_along<expr::sum_reducer>(gs, sp, detail::identity_map{}, g);
            accumulate_grad(tp, x, g - exp(y) * gs);
        },
        detail::log_softmax_rule<T>{{x, y, sp, kept}});
}

}  // namespace dendrite::inline DENDRITE_TARGET
