#pragma once
// The derivative of a generic element-wise function, derived at compile time, on lanes.
//
// `derive(f)(z)` applies f to a placeholder leaf holding the lanes z, which builds f's expression
// tree as a type, then runs that tree's forward and reverse sweep on z alone. Everything inlines to
// straight-line code: this is how a user's one-line activation gets its derivative inside a GEMM
// epilogue or an operand transform, where there is no tape.

#include <utility>

#include "dendrite/expr/node.hpp"
#include "dendrite/simd/simd.hpp"

namespace dendrite::expr {

/// Storage for the placeholder's value and accumulated derivative, for scalar and batch lanes.
template <class T>
struct lane_slot {
    simd::batch<T> batch_value{}, batch_grad{};
    T scalar_value{}, scalar_grad{};

    template <class X>
    X& value() noexcept {
        if constexpr (simd::is_batch_v<X>)
            return batch_value;
        else
            return scalar_value;
    }
    template <class X>
    X& grad() noexcept {
        if constexpr (simd::is_batch_v<X>)
            return batch_grad;
        else
            return scalar_grad;
    }
};

template <class T>
struct lane_cursor {
    static constexpr bool has_grad = true;
    lane_slot<T>* slot;

    DENDRITE_ALWAYS_INLINE void set_row(std::size_t, std::size_t, std::size_t) noexcept {}
    template <class X, bool C>
    DENDRITE_ALWAYS_INLINE X value(std::size_t) const noexcept {
        return slot->template value<X>();
    }
    template <class X, bool C>
    DENDRITE_ALWAYS_INLINE leaf_cache<X> forward(std::size_t) const noexcept {
        return {slot->template value<X>()};
    }
    template <class X, bool C, class Cache>
    DENDRITE_ALWAYS_INLINE void backward(std::size_t, const Cache&, const X& g) const noexcept {
        slot->template grad<X>() += g;
    }
};

/// A leaf standing for "the argument" of a function being differentiated.
template <class T>
struct lane_leaf {
    static constexpr bool is_dendrite_expression = true;
    static constexpr std::size_t leaf_count = 0;
    static constexpr bool has_grad = true;
    using value_type = T;

    lane_slot<T>* slot;

    const dendrite::shape& shape() const noexcept {
        static const dendrite::shape scalar_shape{};
        return scalar_shape;
    }
    template <class F>
    void for_each_leaf(F&) const {}
    template <class F>
    void for_each_var(F&) const {}
    template <class F>
    void for_each_var(F&) {}
    lane_cursor<T> cursor(const loop_strides*&) const noexcept { return {slot}; }
    std::string describe() const { return "x"; }
};

/// f and its derivative at z (a scalar or a SIMD batch), in one forward and one reverse sweep.
template <class F, class X>
DENDRITE_ALWAYS_INLINE std::pair<X, X> value_and_derivative(const F& f, const X& z) {
    using T = simd::scalar_t<X>;
    lane_slot<T> slot;
    slot.template value<X>() = z;
    slot.template grad<X>() = X(T(0));
    const auto e = f(lane_leaf<T>{&slot});
    const auto& n = as_node(e);
    const loop_strides* no_strides = nullptr;
    const auto cur = n.cursor(no_strides);
    const auto cache = cur.template forward<X, true>(0);
    cur.template backward<X, true>(0, cache, X(T(1)));
    return {cache.value, slot.template grad<X>()};
}

/// f(z) on lanes, through f's expression tree: scalar constants in f (`0.5 * x`) take the lanes'
/// type, and `where` works, exactly as when f is applied to tensors.
template <class F, class X>
DENDRITE_ALWAYS_INLINE X apply_lanes(const F& f, const X& z) {
    using T = simd::scalar_t<X>;
    lane_slot<T> slot;
    slot.template value<X>() = z;
    const auto e = f(lane_leaf<T>{&slot});
    const loop_strides* no_strides = nullptr;
    return as_node(e).cursor(no_strides).template value<X, true>(0);
}

/// A lane function computing f'(z): `derive(mish)(z)`.
template <class F>
auto derive(F f) {
    return [f](const auto& z) { return value_and_derivative(f, z).second; };
}

}  // namespace dendrite::expr

namespace dendrite {
using expr::apply_lanes;
using expr::derive;
using expr::value_and_derivative;
}  // namespace dendrite
