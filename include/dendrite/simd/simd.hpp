#pragma once
// The only header of the library that includes xsimd. Everything above it speaks of
// `simd::batch<T>` and the functions below, overloaded for a scalar `T` and for a batch, so that
// one generic op body serves the vector loop and its scalar remainder alike.

#include <cmath>
#include <cstddef>
#include <type_traits>

#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's own AVX-512 intrinsic headers trip -Wuninitialized on `_mm512_undefined_*`.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <xsimd/xsimd.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include "dendrite/config.hpp"

namespace dendrite::simd {

/// The widest instruction set the build targets (AVX-512 with -march=native on this class of CPU).
using arch = xsimd::default_arch;

template <class T>
using batch = xsimd::batch<T, arch>;

template <class T>
using mask = xsimd::batch_bool<T, arch>;

/// Lanes in one register of T.
template <class T>
inline constexpr std::size_t width = batch<T>::size;

/// Byte alignment of every tensor buffer: one cache line, and one AVX-512 register.
inline constexpr std::size_t alignment = 64;

inline const char* arch_name() noexcept { return arch::name(); }

template <class X>
struct is_batch : std::false_type {};
template <class T, class A>
struct is_batch<xsimd::batch<T, A>> : std::true_type {};
template <class X>
inline constexpr bool is_batch_v = is_batch<X>::value;

/// The scalar type of a lane type: `scalar_t<float> = scalar_t<batch<float>> = float`.
template <class X>
struct scalar_of {
    using type = X;
};
template <class T, class A>
struct scalar_of<xsimd::batch<T, A>> {
    using type = T;
};
template <class X>
using scalar_t = typename scalar_of<X>::type;

/// A constant in the lane type X (a broadcast for batches).
template <class X, class C>
DENDRITE_ALWAYS_INLINE X constant(C c) noexcept {
    return X(static_cast<scalar_t<X>>(c));
}

// ---- memory ---------------------------------------------------------------------------------

template <class T>
DENDRITE_ALWAYS_INLINE batch<T> load(const T* p) noexcept {
    return batch<T>::load_unaligned(p);
}
template <class T>
DENDRITE_ALWAYS_INLINE batch<T> load_aligned(const T* p) noexcept {
    return batch<T>::load_aligned(p);
}
template <class T>
DENDRITE_ALWAYS_INLINE void store(T* p, const batch<T>& v) noexcept {
    v.store_unaligned(p);
}
template <class T>
DENDRITE_ALWAYS_INLINE void store_aligned(T* p, const batch<T>& v) noexcept {
    v.store_aligned(p);
}

/// Loads `width<T>` elements spaced `stride` apart.
template <class T>
DENDRITE_ALWAYS_INLINE batch<T> load_strided(const T* p, std::ptrdiff_t stride) noexcept {
    alignas(alignment) T tmp[width<T>];
    for (std::size_t k = 0; k < width<T>; ++k) tmp[k] = p[static_cast<std::ptrdiff_t>(k) * stride];
    return batch<T>::load_aligned(tmp);
}

/// Loads the first `n < width<T>` elements, the other lanes set to `fill`.
template <class T>
DENDRITE_ALWAYS_INLINE batch<T> load_partial(const T* p, std::size_t n, T fill) noexcept {
    alignas(alignment) T tmp[width<T>];
    for (std::size_t k = 0; k < width<T>; ++k) tmp[k] = k < n ? p[k] : fill;
    return batch<T>::load_aligned(tmp);
}

// ---- horizontal reductions ------------------------------------------------------------------

template <class T>
DENDRITE_ALWAYS_INLINE T hsum(const batch<T>& v) noexcept {
    return xsimd::hadd(v);
}
/// True if any lane is NaN.
template <class T>
DENDRITE_ALWAYS_INLINE bool any_nan(const batch<T>& v) noexcept {
    return xsimd::any(v != v);
}

template <class T>
DENDRITE_ALWAYS_INLINE T hmax(const batch<T>& v) noexcept {
    alignas(alignment) T tmp[width<T>];
    v.store_aligned(tmp);
    T m = tmp[0];
    for (std::size_t k = 1; k < width<T>; ++k) m = tmp[k] > m ? tmp[k] : m;
    return m;
}
template <class T>
DENDRITE_ALWAYS_INLINE T hmin(const batch<T>& v) noexcept {
    alignas(alignment) T tmp[width<T>];
    v.store_aligned(tmp);
    T m = tmp[0];
    for (std::size_t k = 1; k < width<T>; ++k) m = tmp[k] < m ? tmp[k] : m;
    return m;
}

// ---- lane-generic arithmetic: one body for a scalar and for a batch ---------------------------

template <class X>
DENDRITE_ALWAYS_INLINE X select(bool c, const X& a, const X& b) noexcept
    requires(!is_batch_v<X>)
{
    return c ? a : b;
}
template <class T, class A>
DENDRITE_ALWAYS_INLINE xsimd::batch<T, A> select(const xsimd::batch_bool<T, A>& c,
                                                 const xsimd::batch<T, A>& a,
                                                 const xsimd::batch<T, A>& b) noexcept {
    return xsimd::select(c, a, b);
}

template <class X>
DENDRITE_ALWAYS_INLINE X fma(const X& a, const X& b, const X& c) noexcept {
    if constexpr (is_batch_v<X>)
        return xsimd::fma(a, b, c);
    else
        return a * b + c;
}

// NaN-propagating max/min, as std::fmax is not: max(NaN, 1) is NaN here, like PyTorch.
template <class X>
DENDRITE_ALWAYS_INLINE X max(const X& a, const X& b) noexcept {
    if constexpr (is_batch_v<X>)
        return xsimd::select(a != a, a, xsimd::max(a, b));
    else
        return a != a ? a : (a > b ? a : b);
}
template <class X>
DENDRITE_ALWAYS_INLINE X min(const X& a, const X& b) noexcept {
    if constexpr (is_batch_v<X>)
        return xsimd::select(a != a, a, xsimd::min(a, b));
    else
        return a != a ? a : (a < b ? a : b);
}

#define DENDRITE_SIMD_FORWARD_UNARY(name)                  \
    template <class X>                                     \
    DENDRITE_ALWAYS_INLINE X name(const X& x) noexcept {   \
        if constexpr (is_batch_v<X>)                       \
            return xsimd::name(x);                         \
        else                                               \
            return std::name(x);                           \
    }
DENDRITE_SIMD_FORWARD_UNARY(abs)
DENDRITE_SIMD_FORWARD_UNARY(exp)
DENDRITE_SIMD_FORWARD_UNARY(log)
DENDRITE_SIMD_FORWARD_UNARY(log1p)
DENDRITE_SIMD_FORWARD_UNARY(expm1)
DENDRITE_SIMD_FORWARD_UNARY(sqrt)
DENDRITE_SIMD_FORWARD_UNARY(sin)
DENDRITE_SIMD_FORWARD_UNARY(cos)
DENDRITE_SIMD_FORWARD_UNARY(tanh)
DENDRITE_SIMD_FORWARD_UNARY(erf)
DENDRITE_SIMD_FORWARD_UNARY(floor)
#undef DENDRITE_SIMD_FORWARD_UNARY

template <class X>
DENDRITE_ALWAYS_INLINE X pow(const X& x, const X& y) noexcept {
    if constexpr (is_batch_v<X>)
        return xsimd::pow(x, y);
    else
        return std::pow(x, y);
}

template <class X>
DENDRITE_ALWAYS_INLINE auto isnan(const X& x) noexcept {
    return x != x;
}

}  // namespace dendrite::simd
