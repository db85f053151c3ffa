#pragma once
// Hessian-vector products of a scalar loss with respect to parameters, by forward over reverse.
//
// The loss is recorded once. A second-order pass then carries, beside every value, its
// derivative along the direction v (the tangent), and, beside every gradient, the gradient's
// derivative along v: the gradient's tangent at a parameter is H v. Element-wise nodes get both
// from their compile-time derivatives evaluated on {value, tangent} jets (simd/jet.hpp), in the
// same single sweep as the gradient; linear ops replay their own backward on the gradient's
// tangent; GEMM-based ops add the cross terms of their two operands. Cost: about two gradient
// steps for a layer whose input is data, three for the others (bench/hvp.bench.cpp).

#include <cstddef>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "dendrite/autodiff/leaves.hpp"
#include "dendrite/autodiff/tape.hpp"
#include "dendrite/autodiff/var.hpp"
#include "dendrite/config.hpp"
#include "dendrite/tensor/parameter.hpp"

namespace dendrite::inline DENDRITE_TARGET {

/// The loss at the parameters, and H v for each parameter (same shapes, same order).
template <class T>
struct hvp_result {
    T loss;
    std::vector<tensor<T>> hv;
};

/// The Hessian of the scalar `loss(tape&)` with respect to `params`, times `v` (one tensor per
/// parameter, of its shape), by forward over reverse: one recording of the loss and one
/// second-order pass. `loss` records the model reading each parameter through
/// `parameter(t, p.value, p.grad)`, as every layer does, so any network or custom layer works.
/// The loss's gradient accumulates into the parameters' `grad`, as backward() would. `t` is
/// cleared before and after. Throws autodiff_error naming an op without a second-order rule.
template <class T, class Loss>
hvp_result<T> hvp(tape& t, Loss&& loss, std::span<const nn::parameter<T>> params,
                  std::span<const tensor<T>> v) {
    if (params.size() != v.size())
        throw shape_error("hvp: " + std::to_string(v.size()) + " directions for " +
                          std::to_string(params.size()) + " parameters");
    std::vector<tensor<T>> hv;
    hv.reserve(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
        if (!(v[i].shape() == params[i].value.shape()))
            throw shape_error("hvp: direction " + std::to_string(i) + " of shape " +
                              v[i].shape().str() + " for parameter '" + params[i].name +
                              "' of shape " + params[i].value.shape().str());
        hv.emplace_back(params[i].value.shape(), T(0));
    }
    t.clear();
    const var<T> out = loss(t);
    if (out.size() != 1)
        throw autodiff_error("hvp: the loss has shape " + out.shape().str() +
                             ", not a single element");
    if (!out.requires_grad())
        throw autodiff_error("hvp: the loss does not depend on any parameter");

    // A parameter's leaves (one per recording of it) are found by the gradient they accumulate
    // into; each starts its tangent at its direction and accumulates H v into hv.
    std::vector<detail::typed_node<T>*> bound;
    t.for_each_node([&](detail::node_base& n) {
        auto* leaf = dynamic_cast<detail::leaf_node<T>*>(&n);
        if (leaf == nullptr || !leaf->has_grad()) return;
        for (std::size_t i = 0; i < params.size(); ++i)
            if (leaf->grad().data() == params[i].grad.data() && leaf->grad().data() != nullptr) {
                leaf->tangent = v[i].is_contiguous() ? v[i] : v[i].clone();
                detail::gradient_tangent_scope tangents;
                leaf->bind_grad(hv[i]);
                bound.push_back(leaf);
            }
    });
    out.node().grad_accumulator(t).data()[0] += T(1);
    const T value = out.item();
    try {
        t.run_second_order(out.node());
    } catch (...) {
        for (auto* n : bound)
            n->unbind_grad_tangent();
        t.clear();
        throw;
    }
    for (auto* n : bound) {
        n->unbind_grad_tangent();
        n->tangent = tensor<T>();
    }
    t.clear();
    return {value, std::move(hv)};
}

/// hvp on a tape of its own.
template <class T, class Loss>
hvp_result<T> hvp(Loss&& loss, std::span<const nn::parameter<T>> params,
                  std::span<const tensor<T>> v) {
    tape t;
    return hvp(t, std::forward<Loss>(loss), params, v);
}
template <class T, class Loss>
hvp_result<T> hvp(Loss&& loss, const nn::parameter_list<T>& params,
                  const std::vector<tensor<T>>& v) {
    return hvp(std::forward<Loss>(loss), std::span<const nn::parameter<T>>(params),
               std::span<const tensor<T>>(v));
}

/// The Hessian of scalar f(var) at x, as a [n, n] tensor (n = x.size(), x flattened): one HVP
/// per column, for small inputs (tests, curvature studies).
template <class F, class T>
tensor<T> hessian(F&& f, const tensor<T>& x) {
    const std::size_t n = x.size();
    nn::parameter<T> p(x.shape(), "x");
    p.value.assign(x);
    tensor<T> h(shape{n, n}, T(0));
    tensor<T> e(x.shape(), T(0));
    tape t;
    const auto loss = [&](tape& tp) { return f(parameter(tp, p.value, p.grad)); };
    for (std::size_t j = 0; j < n; ++j) {
        e.data()[j] = T(1);
        const auto r = hvp(t, loss, std::span<const nn::parameter<T>>(&p, 1),
                           std::span<const tensor<T>>(&e, 1));
        e.data()[j] = T(0);
        for (std::size_t i = 0; i < n; ++i)
            h.data()[i * n + j] = r.hv[0].data()[i];
    }
    return h;
}

}  // namespace dendrite::inline DENDRITE_TARGET
