#pragma once
// How the GEMM packing routines read an operand: a strided view of memory, or two views
// combined element-wise on the fly (the activation derivative of a backward pass).

#include <cstddef>

#include "dendrite/config.hpp"
#include "dendrite/simd/simd.hpp"

namespace dendrite::inline DENDRITE_TARGET::linalg {

/// Loads X from p: a full register (X = simd::batch<T>, lanes p[0 .. width)) or one scalar
/// (X = T). Lets one epilogue or operand body serve vector lanes and scalar tails alike.
template <class X, class T>
DENDRITE_ALWAYS_INLINE X lanes(const T* p) noexcept {
    if constexpr (simd::is_batch_v<X>)
        return simd::load(p);
    else
        return static_cast<X>(*p);
}

/// Loads lanes [0, n) of p (n <= width) into X, zero past them, reading nothing beyond p + n:
/// the right edge of a matrix, as an edge-aware epilogue sees it. For X = T, n is 1 and this is
/// *p.
template <class X, class T>
DENDRITE_ALWAYS_INLINE X lanes(const T* p, std::size_t n) noexcept {
    if constexpr (simd::is_batch_v<X>)
        return simd::load_partial(p, n, T(0));
    else
        return static_cast<X>(*p);
}

/// Same as lanes; the name reads better inside an epilogue (`v + load_lanes<X>(bias + j)`).
template <class X, class T, class... N>
DENDRITE_ALWAYS_INLINE X load_lanes(const T* p, N... n) noexcept {
    return lanes<X>(p, n...);
}

/// Stores x to p: a whole register, or its lanes [0, n) when n is given; for a scalar, *p = x.
/// With lanes(p, n...), one epilogue body serves whole registers, right edges and scalars.
template <class T, class X, class... N>
DENDRITE_ALWAYS_INLINE void store_lanes(T* p, const X& x, N... n) noexcept {
    static_assert(sizeof...(N) <= 1, "store_lanes: at most one lane count");
    if constexpr (!simd::is_batch_v<X>)
        *p = x;
    else if constexpr (sizeof...(N) == 0)
        simd::store(p, x);
    else
        simd::store_partial(p, x, n...);
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
    /// Elements (r, c) .. (r, c + n) in one register, zero past them (n <= width): a right edge
    /// in one load instead of n.
    DENDRITE_ALWAYS_INLINE simd::batch<T> get_first(std::size_t r, std::size_t c,
                                                    std::size_t n) const noexcept {
        return simd::load_partial(p + r * ld + c, n, T(0));
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
    /// As view::get_first: f evaluated on n elements at once (the lanes past them, which f sees
    /// as zeros, are zeroed again after it, whatever f makes of a zero).
    DENDRITE_ALWAYS_INLINE simd::batch<T> get_first(std::size_t r, std::size_t c,
                                                    std::size_t n) const noexcept {
        return simd::keep_first(f(simd::load_partial(g + r * ldg + c, n, T(0)),
                                  simd::load_partial(s + r * lds + c, n, T(0))),
                                n);
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

}  // namespace dendrite::inline DENDRITE_TARGET::linalg
