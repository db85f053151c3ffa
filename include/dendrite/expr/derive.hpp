#pragma once
// The derivative of a generic element-wise function, derived at compile time, on lanes.
//
// `derive(f)(z)` applies f to a placeholder leaf holding the lanes z, which builds f's expression
// tree as a type, then runs that tree's forward and reverse sweep on z alone. Everything inlines to
// straight-line code: this is how a user's one-line activation gets its derivative inside a GEMM
// epilogue or an operand transform, where there is no tape.

#include <type_traits>
#include <utility>

#include "dendrite/config.hpp"
#include "dendrite/expr/functions.hpp"
#include "dendrite/expr/lane.hpp"
#include "dendrite/expr/node.hpp"
#include "dendrite/simd/simd.hpp"

namespace dendrite::inline DENDRITE_TARGET::expr {

/// f and its derivative at z (a scalar or a SIMD batch), in one forward and one reverse sweep.
template <class F, class X>
DENDRITE_ALWAYS_INLINE std::pair<X, X> value_and_derivative(const F& f, const X& z) {
    using T = simd::scalar_t<X>;
    if constexpr (acts_on_lanes_only<F>) {
        // No tree to sweep backwards: forward mode, one jet.
        const auto y = f(simd::jet<X, 1>::seed(z, X(T(1))));
        return {y.c[0], y.c[1]};
    } else if constexpr (!simd::is_batch_v<X> && !std::is_same_v<X, T>) {
        // Lanes of another type (a jet, a formula): the same sweeps through a held slot.
        held_lanes_slot<X> slot{z, X(T(0))};
        const auto e = f(lane_leaf<T, held_lanes_slot<X>>{&slot});
        const auto& n = as_node(e);
        const loop_strides* no_strides = nullptr;
        const auto cur = n.cursor(no_strides);
        const auto cache = cur.template forward<X, true>(0);
        cur.template backward<X, true>(0, cache, X(T(1)));
        return {cache.value, slot.grad_lanes};
    } else {
        lane_slot<T> slot;
        slot.template value<X>() = z;
        const auto e = f(lane_leaf<T>{&slot});
        const auto& n = as_node(e);
        slot.template grad<X>() = lane_gradient_start<std::remove_cvref_t<decltype(n)>, X>();
        const loop_strides* no_strides = nullptr;
        const auto cur = n.cursor(no_strides);
        const auto cache = cur.template forward<X, true>(0);
        cur.template backward<X, true>(0, cache, X(T(1)));
        return {cache.value, slot.template grad<X>()};
    }
}

/// f(z) on lanes, through f's expression tree: scalar constants in f (`0.5 * x`) take the lanes'
/// type, and `where` works, exactly as when f is applied to tensors.
template <class F, class X>
DENDRITE_ALWAYS_INLINE X apply_lanes(const F& f, const X& z) {
    using T = simd::scalar_t<X>;
    if constexpr (acts_on_lanes_only<F>) {
        return f(z);  // a function evaluated on lanes directly (a run-time activation)
    } else if constexpr (!simd::is_batch_v<X> && !std::is_same_v<X, T>) {
        held_lanes_slot<X> slot{z, X(T(0))};
        const loop_strides* no_strides = nullptr;
        return as_node(f(lane_leaf<T, held_lanes_slot<X>>{&slot}))
            .cursor(no_strides)
            .template value<X, true>(0);
    } else {
        lane_slot<T> slot;
        slot.template value<X>() = z;
        const auto e = f(lane_leaf<T>{&slot});
        const loop_strides* no_strides = nullptr;
        return as_node(e).cursor(no_strides).template value<X, true>(0);
    }
}

/// A lane function computing f'(z): `derive(mish)(z)`.
template <class F>
auto derive(F f) {
    return [f](const auto& z) { return value_and_derivative(f, z).second; };
}

}  // namespace dendrite::inline DENDRITE_TARGET::expr

namespace dendrite::inline DENDRITE_TARGET {
using expr::apply_lanes;
using expr::derive;
using expr::value_and_derivative;
}  // namespace dendrite::inline DENDRITE_TARGET
