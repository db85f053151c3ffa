#pragma once
// How the GEMM packing routines read an operand: a strided view of memory, or two views
// combined element-wise on the fly (the activation derivative of a backward pass).

#include <cstddef>

#include "dendrite/simd/simd.hpp"

namespace dendrite::linalg {

/// Loads X from p: a full register (X = simd::batch<T>, lanes p[0 .. width)) or one scalar
/// (X = T). Lets one epilogue or operand body serve vector lanes and scalar tails alike.
template <class X, class T>
DENDRITE_ALWAYS_INLINE X lanes(const T* p) noexcept {
    if constexpr (simd::is_batch_v<X>)
        return simd::load(p);
    else
        return static_cast<X>(*p);
}

/// Same as lanes; the name reads better inside an epilogue (`v + load_lanes<X>(bias + j)`).
template <class X, class T>
DENDRITE_ALWAYS_INLINE X load_lanes(const T* p) noexcept {
    return lanes<X>(p);
}

/// A row-major matrix in memory: element (r, c) is p[r * ld + c].
template <class T>
struct view {
    const T* p;
    std::size_t ld;

    template <class X>
    DENDRITE_ALWAYS_INLINE X get(std::size_t r, std::size_t c) const noexcept {
        return lanes<X>(p + r * ld + c);
    }
};

/// A matrix that exists only as a formula over two same-shape row-major matrices:
/// element (r, c) is f(g[r * ldg + c], s[r * lds + c]). In a dense layer's backward pass g is
/// the output gradient dY, s the saved pre-activation Z (or output Y) and f the derivative
/// rule, so the product reads dZ = dY * act'(Z) without dZ ever being stored.
/// F: `template <class X> X operator()(X g, X s) const` for X = simd::batch<T> and X = T,
/// element-wise (lane l of the result depends on lane l of the arguments only).
template <class T, class F>
struct zipped {
    const T* g;
    std::size_t ldg;
    const T* s;
    std::size_t lds;
    F f;

    template <class X>
    DENDRITE_ALWAYS_INLINE X get(std::size_t r, std::size_t c) const noexcept {
        return f(lanes<X>(g + r * ldg + c), lanes<X>(s + r * lds + c));
    }
};

/// Builds zipped{g, ldg, s, lds, f}; see zipped.
template <class T, class F>
zipped<T, F> zip(const T* g, std::size_t ldg, const T* s, std::size_t lds, F f) {
    return {g, ldg, s, lds, f};
}

namespace detail {
template <class S>
inline constexpr bool is_view = false;
template <class T>
inline constexpr bool is_view<view<T>> = true;
}  // namespace detail

}  // namespace dendrite::linalg
