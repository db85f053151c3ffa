#pragma once
// Lanes standing for the argument of a function: a slot holding the lanes' value and the
// derivative accumulated into it, the cursor reading and accumulating it, and the leaf building
// it. derive.hpp differentiates a one-argument function through them; a fused node whose every
// var leaf is one var sums that var's contributions in the slot, in registers, rather than in
// memory (see autodiff/fused.hpp).

#include <array>
#include <cstddef>
#include <string>
#include <type_traits>

#include "dendrite/config.hpp"
#include "dendrite/expr/node.hpp"
#include "dendrite/simd/simd.hpp"

namespace dendrite::inline DENDRITE_TARGET::expr {

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

/// Reads the lanes of a slot and accumulates into its gradient: a lane_slot for scalars and
/// batches, a held_lanes_slot (below) for any other lane type.
template <class T, class Slot = lane_slot<T>>
struct lane_cursor {
    static constexpr bool has_grad = true;
    Slot* slot;

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
    template <class Other>
    lane_cursor on_lanes(Other*) const noexcept {
        return *this;
    }
};

template <class X>
struct held_lanes_slot;

/// A leaf standing for "the argument" of a function being differentiated, its lanes in `Slot`
/// (scalars and batches in a lane_slot, any other lane type in a held_lanes_slot below).
template <class T, class Slot = lane_slot<T>>
struct lane_leaf {
    static constexpr bool is_dendrite_expression = true;
    static constexpr std::size_t leaf_count = 0;
    static constexpr bool has_grad = true;
    using value_type = T;

    Slot* slot;

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
    lane_cursor<T, Slot> cursor(const loop_strides*&) const noexcept { return {slot}; }
    std::string describe() const { return "x"; }
};

template <class T, class Slot>
struct sweep_reaches_all_leaves<lane_leaf<T, Slot>> : std::true_type {};

/// A slot like lane_slot for lanes of any other type X (a jet, a formula): what evaluating or
/// differentiating a function on such lanes reads and accumulates.
template <class X>
struct held_lanes_slot {
    X value_lanes;
    X grad_lanes;

    template <class Y>
    Y& value() noexcept {
        static_assert(std::is_same_v<Y, X>, "dendrite: held lanes are read as their own type");
        return value_lanes;
    }
    template <class Y>
    Y& grad() noexcept {
        static_assert(std::is_same_v<Y, X>, "dendrite: held lanes are read as their own type");
        return grad_lanes;
    }
};

/// Slots for a sweep over one var read lane by lane and a few one-element vars broadcast over it
/// (a learnable activation's parameters): each var's slot, found by the address of its value.
template <class T>
struct var_slots {
    static constexpr std::size_t capacity = 16;
    std::array<const T*, capacity> bases{};
    std::array<lane_slot<T>, capacity> slots{};
    std::size_t count = 0;

    lane_slot<T>* find(const T* base) noexcept {
        for (std::size_t i = 0; i < count; ++i)
            if (bases[i] == base) return &slots[i];
        return nullptr;
    }
};

/// Where a slot's gradient starts, for the sweep of expression E: -0 when the sweep reaches every
/// leaf, since -0 + v is v for every v (+0 + -0 is +0), so the compiler drops the first
/// contribution's addition and the sum is what storing that contribution would give; +0
/// otherwise, so that a slot the sweep never reaches (a var read only by a where() condition)
/// ends at +0.
template <class E, class X>
DENDRITE_ALWAYS_INLINE X lane_gradient_start() noexcept {
    using T = simd::scalar_t<X>;
    return X(sweep_reaches_all_leaves<E>::value ? T(-0.0) : T(0));
}

}  // namespace dendrite::inline DENDRITE_TARGET::expr
