#pragma once
// The only header of the library that includes xsimd. Everything above it speaks of
// `simd::batch<T>` and the functions below, overloaded for a scalar `T` and for a batch, so that
// one generic op body serves the vector loop and its scalar remainder alike.

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
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

namespace dendrite::inline DENDRITE_TARGET::simd {

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

inline const char* arch_name() noexcept {
    return arch::name();
}

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
    for (std::size_t k = 0; k < width<T>; ++k)
        tmp[k] = p[static_cast<std::ptrdiff_t>(k) * stride];
    return batch<T>::load_aligned(tmp);
}

/// The lane mask of lanes [begin, end) (begin, end <= width<T>; empty when begin >= end).
inline unsigned range_bits(std::size_t begin, std::size_t end) noexcept {
    return begin >= end ? 0u : ((1u << end) - 1u) & ~((1u << begin) - 1u);
}

/// The lanes of p[0 .. width<T>) whose bit is set in `bits`, the other lanes set to `fill`;
/// memory of the other lanes is not touched (a masked load on AVX-512), so p may point outside
/// its buffer where those lanes lie.
template <class T>
DENDRITE_ALWAYS_INLINE batch<T> load_masked(const T* p, unsigned bits, T fill = T(0)) noexcept {
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float> && width<T> == 16)
        return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), static_cast<__mmask16>(bits), p);
    else if constexpr (std::is_same_v<T, double> && width<T> == 8)
        return _mm512_mask_loadu_pd(_mm512_set1_pd(fill), static_cast<__mmask8>(bits), p);
#endif
    alignas(alignment) T tmp[width<T>];
    for (std::size_t k = 0; k < width<T>; ++k)
        tmp[k] = bits >> k & 1u ? p[k] : fill;
    return batch<T>::load_aligned(tmp);
}

/// Stores the lanes of v whose bit is set in `bits`; memory of the other lanes is not touched.
template <class T>
DENDRITE_ALWAYS_INLINE void store_masked(T* p, const batch<T>& v, unsigned bits) noexcept {
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float> && width<T> == 16) {
        _mm512_mask_storeu_ps(p, static_cast<__mmask16>(bits), v);
        return;
    } else if constexpr (std::is_same_v<T, double> && width<T> == 8) {
        _mm512_mask_storeu_pd(p, static_cast<__mmask8>(bits), v);
        return;
    }
#endif
    alignas(alignment) T tmp[width<T>];
    v.store_aligned(tmp);
    for (std::size_t k = 0; k < width<T>; ++k)
        if (bits >> k & 1u) p[k] = tmp[k];
}

/// Lanes [begin, end) of p[0 .. width<T>) (begin <= end <= width<T>), the other lanes set to
/// `fill`; memory outside the range is not touched, so p itself may point before the first valid
/// element.
template <class T>
DENDRITE_ALWAYS_INLINE batch<T> load_range(const T* p, std::size_t begin, std::size_t end,
                                           T fill = T(0)) noexcept {
    return load_masked(p, range_bits(begin, end), fill);
}

/// Stores lanes [begin, end) of v to the same positions of p[0 .. width<T>); memory outside the
/// range is not touched.
template <class T>
DENDRITE_ALWAYS_INLINE void store_range(T* p, const batch<T>& v, std::size_t begin,
                                        std::size_t end) noexcept {
    store_masked(p, v, range_bits(begin, end));
}

/// The first `n <= width<T>` elements, the other lanes set to `fill`.
template <class T>
DENDRITE_ALWAYS_INLINE batch<T> load_partial(const T* p, std::size_t n, T fill) noexcept {
    return load_range(p, 0, n, fill);
}

/// Stores the first `n <= width<T>` lanes of v.
template <class T>
DENDRITE_ALWAYS_INLINE void store_partial(T* p, const batch<T>& v, std::size_t n) noexcept {
    store_range(p, v, 0, n);
}

/// v with the lanes whose bit is clear in `bits` set to zero.
template <class T>
DENDRITE_ALWAYS_INLINE batch<T> keep_lanes(const batch<T>& v, unsigned bits) noexcept {
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float> && width<T> == 16)
        return _mm512_maskz_mov_ps(static_cast<__mmask16>(bits), v);
    else if constexpr (std::is_same_v<T, double> && width<T> == 8)
        return _mm512_maskz_mov_pd(static_cast<__mmask8>(bits), v);
#endif
    alignas(alignment) T tmp[width<T>];
    v.store_aligned(tmp);
    for (std::size_t k = 0; k < width<T>; ++k)
        if (!(bits >> k & 1u)) tmp[k] = T(0);
    return batch<T>::load_aligned(tmp);
}

/// v with lanes [n, width<T>) set to zero (n <= width<T>).
template <class T>
DENDRITE_ALWAYS_INLINE batch<T> keep_first(const batch<T>& v, std::size_t n) noexcept {
    return keep_lanes(v, range_bits(0, n));
}

// ---- lane permutes ----------------------------------------------------------------------------

/// Two registers of one sequence (lo = elements 0 .. width, hi = the next width), or the two
/// halves of a split one.
template <class T>
struct lane_pair {
    batch<T> first, second;
};

/// A lane index of T's registers: 32-bit for float, 64-bit for double (what the permutes take).
template <class T>
using lane_index = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;

/// Element idx[k] of the sequence a, b (2 width<T> elements) in lane k, for the lanes set in
/// `bits`, zero in the others. idx points to width<T> indices, 64-byte aligned: one two-source
/// permute on AVX-512, a round trip through memory elsewhere.
template <class T>
DENDRITE_ALWAYS_INLINE batch<T> permute2(const batch<T>& a, const lane_index<T>* idx,
                                         const batch<T>& b, unsigned bits = ~0u) noexcept {
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float> && width<T> == 16)
        return _mm512_maskz_permutex2var_ps(static_cast<__mmask16>(bits), a, _mm512_load_si512(idx),
                                            b);
    else if constexpr (std::is_same_v<T, double> && width<T> == 8)
        return _mm512_maskz_permutex2var_pd(static_cast<__mmask8>(bits), a, _mm512_load_si512(idx),
                                            b);
#endif
    constexpr std::size_t w = width<T>;
    alignas(alignment) T in[2 * w], out[w];
    a.store_aligned(in);
    b.store_aligned(in + w);
    for (std::size_t k = 0; k < w; ++k)
        out[k] = bits >> k & 1u ? in[idx[k]] : T(0);
    return batch<T>::load_aligned(out);
}

namespace detail {
/// The index tables of deinterleave and interleave.
template <class T>
struct interleave_tables {
    static constexpr std::size_t w = width<T>;
    alignas(alignment) static constexpr auto even = [] {
        std::array<lane_index<T>, w> t{};
        for (std::size_t k = 0; k < w; ++k)
            t[k] = static_cast<lane_index<T>>(2 * k);
        return t;
    }();
    alignas(alignment) static constexpr auto odd = [] {
        std::array<lane_index<T>, w> t{};
        for (std::size_t k = 0; k < w; ++k)
            t[k] = static_cast<lane_index<T>>(2 * k + 1);
        return t;
    }();
    // Lane k of the first / second half of the interleaved sequence: even[k / 2] or odd[k / 2].
    alignas(alignment) static constexpr auto first_half = [] {
        std::array<lane_index<T>, w> t{};
        for (std::size_t k = 0; k < w; ++k)
            t[k] = static_cast<lane_index<T>>((k % 2) * w + k / 2);
        return t;
    }();
    alignas(alignment) static constexpr auto second_half = [] {
        std::array<lane_index<T>, w> t{};
        for (std::size_t k = 0; k < w; ++k)
            t[k] = static_cast<lane_index<T>>((k % 2) * w + w / 2 + k / 2);
        return t;
    }();
};
}  // namespace detail

/// Splits the sequence lo, hi (2 width<T> elements) into its even-indexed elements (.first) and
/// odd-indexed ones (.second): two permutes across both registers.
template <class T>
DENDRITE_ALWAYS_INLINE lane_pair<T> deinterleave(const batch<T>& lo, const batch<T>& hi) noexcept {
    using tables = detail::interleave_tables<T>;
    return {permute2(lo, tables::even.data(), hi), permute2(lo, tables::odd.data(), hi)};
}

/// The inverse of deinterleave: `even` and `odd` alternated, as the sequence .first, .second.
template <class T>
DENDRITE_ALWAYS_INLINE lane_pair<T> interleave(const batch<T>& even, const batch<T>& odd) noexcept {
    using tables = detail::interleave_tables<T>;
    return {permute2(even, tables::first_half.data(), odd),
            permute2(even, tables::second_half.data(), odd)};
}

// ---- register transpose ----------------------------------------------------------------------

/// Transposes the width x width block held in rows[0 .. width) in place: afterwards lane l of
/// rows[c] is what lane c of rows[l] was. log2(width) rounds of in-register shuffles on AVX-512
/// (what GEMM packing needs to turn rows into columns); a round trip through memory elsewhere.
template <class T>
DENDRITE_ALWAYS_INLINE void transpose(batch<T>* rows) noexcept {
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float> && width<T> == 16) {
        __m512 r[16], t[16];
        for (int i = 0; i < 16; ++i)
            r[i] = rows[i];
        for (int i = 0; i < 8; ++i) {
            t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
            t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
        }
        for (int i = 0; i < 4; ++i) {
            r[4 * i + 0] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
            r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
            r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
            r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
        }
        for (int i = 0; i < 2; ++i)
            for (int j = 0; j < 4; ++j) {
                t[8 * i + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + 4 + j], 0x88);
                t[8 * i + 4 + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + 4 + j], 0xdd);
            }
        for (int i = 0; i < 8; ++i) {
            rows[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
            rows[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
        }
        return;
    } else if constexpr (std::is_same_v<T, double> && width<T> == 8) {
        __m512d r[8], t[8];
        for (int i = 0; i < 8; ++i)
            r[i] = rows[i];
        for (int i = 0; i < 4; ++i) {
            t[2 * i] = _mm512_unpacklo_pd(r[2 * i], r[2 * i + 1]);
            t[2 * i + 1] = _mm512_unpackhi_pd(r[2 * i], r[2 * i + 1]);
        }
        for (int i = 0; i < 2; ++i)
            for (int j = 0; j < 2; ++j) {
                r[4 * i + j] = _mm512_shuffle_f64x2(t[4 * i + j], t[4 * i + 2 + j], 0x88);
                r[4 * i + 2 + j] = _mm512_shuffle_f64x2(t[4 * i + j], t[4 * i + 2 + j], 0xdd);
            }
        for (int i = 0; i < 4; ++i) {
            rows[i] = _mm512_shuffle_f64x2(r[i], r[i + 4], 0x88);
            rows[i + 4] = _mm512_shuffle_f64x2(r[i], r[i + 4], 0xdd);
        }
        return;
    }
#endif
    constexpr std::size_t w = width<T>;
    alignas(alignment) T tmp[w][w];
    for (std::size_t r = 0; r < w; ++r)
        rows[r].store_aligned(tmp[r]);
    for (std::size_t c = 0; c < w; ++c) {
        alignas(alignment) T col[w];
        for (std::size_t r = 0; r < w; ++r)
            col[r] = tmp[r][c];
        rows[c] = batch<T>::load_aligned(col);
    }
}

// ---- horizontal reductions ------------------------------------------------------------------

template <class T>
DENDRITE_ALWAYS_INLINE T hsum(const batch<T>& v) noexcept {
    return xsimd::hadd(v);
}
/// True if any lane is NaN. (xsimd 8.1's batch != is the ordered compare, false for NaN lanes, so
/// `v != v` cannot detect NaN: here and below, NaN tests go through xsimd::isnan.)
template <class T>
DENDRITE_ALWAYS_INLINE bool any_nan(const batch<T>& v) noexcept {
    return xsimd::any(xsimd::isnan(v));
}

template <class T>
DENDRITE_ALWAYS_INLINE T hmax(const batch<T>& v) noexcept {
    alignas(alignment) T tmp[width<T>];
    v.store_aligned(tmp);
    T m = tmp[0];
    for (std::size_t k = 1; k < width<T>; ++k)
        m = tmp[k] > m ? tmp[k] : m;
    return m;
}
template <class T>
DENDRITE_ALWAYS_INLINE T hmin(const batch<T>& v) noexcept {
    alignas(alignment) T tmp[width<T>];
    v.store_aligned(tmp);
    T m = tmp[0];
    for (std::size_t k = 1; k < width<T>; ++k)
        m = tmp[k] < m ? tmp[k] : m;
    return m;
}

// ---- lane-generic arithmetic: one body for a scalar and for a batch ---------------------------

template <class X, std::size_t N>
struct jet;  // jet.hpp: a series selects per coefficient
template <class X>
struct is_jet : std::false_type {};
template <class X, std::size_t N>
struct is_jet<jet<X, N>> : std::true_type {};
template <class X>
inline constexpr bool is_jet_v = is_jet<std::remove_cvref_t<X>>::value;

template <class X>
DENDRITE_ALWAYS_INLINE X select(bool c, const X& a, const X& b) noexcept
    requires(!is_batch_v<X> && !is_jet_v<X>) {
    return c ? a : b;
}
/// Lane types whose conditions are values of their own (a formula's `x > 0`) select themselves.
template <class X>
X select(const X& c, const X& a, const X& b) requires requires {
    X::select(c, a, b);
}
{ return X::select(c, a, b); }
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
        return xsimd::select(xsimd::isnan(a), a, xsimd::max(a, b));
    else
        return a != a ? a : (a > b ? a : b);
}
template <class X>
DENDRITE_ALWAYS_INLINE X min(const X& a, const X& b) noexcept {
    if constexpr (is_batch_v<X>)
        return xsimd::select(xsimd::isnan(a), a, xsimd::min(a, b));
    else
        return a != a ? a : (a < b ? a : b);
}

#define DENDRITE_SIMD_FORWARD_UNARY(name)                \
    template <class X>                                   \
    DENDRITE_ALWAYS_INLINE X name(const X& x) noexcept { \
        if constexpr (is_batch_v<X>)                     \
            return xsimd::name(x);                       \
        else                                             \
            return std::name(x);                         \
    }
DENDRITE_SIMD_FORWARD_UNARY(abs)
DENDRITE_SIMD_FORWARD_UNARY(sqrt)
DENDRITE_SIMD_FORWARD_UNARY(sin)
DENDRITE_SIMD_FORWARD_UNARY(cos)
DENDRITE_SIMD_FORWARD_UNARY(tanh)
DENDRITE_SIMD_FORWARD_UNARY(floor)
#undef DENDRITE_SIMD_FORWARD_UNARY

// The functions below patch xsimd 8.1 where its batch results differ from the C library's, so that
// a lane computed in the vector body and the same value in the scalar tail agree.

#if defined(__AVX512F__)
namespace detail {
/// e^x for 16 floats: x = n ln 2 + r with |r| <= ln 2 / 2 (ln 2 in two parts, so n ln 2 is exact),
/// e^r by a degree-6 polynomial (Cephes' expf coefficients, within 1 ulp), then vscalefps
/// multiplies by 2^n with one rounding, subnormal and overflowing results included, which a
/// 2^n built from exponent bits cannot do. x is clamped first to where e^x is 0 or inf anyway,
/// which also maps -inf to 0 and inf to inf; the operand order of max and min lets NaN through.
DENDRITE_ALWAYS_INLINE __m512 exp_scalef(__m512 x) noexcept {
    x = _mm512_min_ps(_mm512_set1_ps(89.0f), _mm512_max_ps(_mm512_set1_ps(-104.0f), x));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}
}  // namespace detail
#endif

/// e^x through xsimd 8.1, which is exact only on about [ln(min normal), ln(max) - 0.7]: it
/// flushes subnormal results to 0 and overflows early. Outside that range e^x = (e^(x/2))^2,
/// whose half is inside.
template <class X>
DENDRITE_ALWAYS_INLINE X exp_xsimd(const X& x) noexcept {
    using T = scalar_t<X>;
    constexpr T lo = sizeof(T) == 4 ? T(-87) : T(-708), hi = sizeof(T) == 4 ? T(88) : T(709);
    const auto outside = (x < X(lo)) | (x > X(hi));
    if (xsimd::any(outside)) {
        const X h = xsimd::exp(x * X(T(0.5)));
        return xsimd::select(outside, h * h, xsimd::exp(x));
    }
    return xsimd::exp(x);
}

/// e^x: detail::exp_scalef on AVX-512 floats (one short path for every argument), exp_xsimd
/// otherwise; only the path taken is compiled into a caller.
template <class X>
DENDRITE_ALWAYS_INLINE X exp(const X& x) noexcept {
    if constexpr (is_batch_v<X>) {
#if defined(__AVX512F__)
        if constexpr (std::is_same_v<X, batch<float>> && width<float> == 16)
            return detail::exp_scalef(x);
        else
#endif
            return exp_xsimd(x);
    } else {
        return std::exp(x);
    }
}

/// -x. xsimd 8.1 computes 0 - x on AVX-512, which turns -(+0) into +0; flipping the sign bit
/// does not.
template <class X>
DENDRITE_ALWAYS_INLINE X neg(const X& x) noexcept {
    if constexpr (is_batch_v<X>)
        return xsimd::bitwise_xor(x, X(scalar_t<X>(-0.0)));
    else
        return -x;
}

/// e^x - 1; above the range where the - 1 matters it is e^x, whose overflow is patched above.
/// xsimd 8.1 returns +0 for -0: x itself is the exact result at zero.
template <class X>
DENDRITE_ALWAYS_INLINE X expm1(const X& x) noexcept {
    if constexpr (is_batch_v<X>) {
        using T = scalar_t<X>;
        const auto big = x > X(T(80));
        const X r =
            xsimd::any(big) ? xsimd::select(big, simd::exp(x), xsimd::expm1(x)) : xsimd::expm1(x);
        return xsimd::select(x == X(T(0)), x, r);
    } else {
        return std::expm1(x);
    }
}

/// log(1 + x); xsimd 8.1 returns +0 for -0, as for expm1.
template <class X>
DENDRITE_ALWAYS_INLINE X log1p(const X& x) noexcept {
    if constexpr (is_batch_v<X>)
        return xsimd::select(x == X(scalar_t<X>(0)), x, xsimd::log1p(x));
    else
        return std::log1p(x);
}

/// Natural logarithm. xsimd 8.1's double kernel reads the exponent bits before it rescales a
/// subnormal input (log(1e-310) comes out near -746); rescaling first by 2^54 avoids that path.
template <class X>
DENDRITE_ALWAYS_INLINE X log(const X& x) noexcept {
    if constexpr (is_batch_v<X> && std::is_same_v<scalar_t<X>, double>) {
        const auto sub = (x < X(std::numeric_limits<double>::min())) & (x > X(0));
        if (xsimd::any(sub))
            return xsimd::select(sub, xsimd::log(x * X(0x1p54)) - X(54 * 0.6931471805599453094),
                                 xsimd::log(x));
        return xsimd::log(x);
    } else if constexpr (is_batch_v<X>) {
        return xsimd::log(x);
    } else {
        return std::log(x);
    }
}

/// Error function. xsimd 8.1's double kernel gives NaN once x * x overflows; erf(x) rounds to
/// exactly +-1 for |x| > 6 in both precisions.
template <class X>
DENDRITE_ALWAYS_INLINE X erf(const X& x) noexcept {
    if constexpr (is_batch_v<X>) {
        using T = scalar_t<X>;
        return xsimd::erf(xsimd::select(xsimd::abs(x) > X(T(6)), xsimd::copysign(X(T(6)), x), x));
    } else {
        return std::erf(x);
    }
}

/// x^y with the C library's special cases (pow(x, 0) = 1, pow(1, y) = 1, pow(0, -1) = inf,
/// pow(-1, +-inf) = 1, odd powers of -0 and -inf keep the sign...), which xsimd 8.1's pow gets
/// wrong (it returns pow(0, 0) = 0 and pow(0, -1) = 0). Computed as e^(y log|x|): the relative
/// error grows with |y log x| (about |y log x| ulp), as in xsimd.
template <class X>
DENDRITE_ALWAYS_INLINE X pow(const X& x, const X& y) noexcept {
    if constexpr (is_batch_v<X>) {
        using T = scalar_t<X>;
        const X zero(T(0)), one(T(1)), inf(std::numeric_limits<T>::infinity());
        // Qualified: unqualified calls would find xsimd's overloads by argument-dependent lookup.
        X r = simd::exp(y * simd::log(xsimd::abs(x)));
        const auto y_int = xsimd::floor(y) == y;  // true for +-inf, which count as even
        const auto y_odd = y_int & (xsimd::floor(y * X(T(0.5))) * X(T(2)) != y);
        const auto x_negative = xsimd::copysign(one, x) < zero;  // includes -0
        r = xsimd::select(x_negative & y_odd, simd::neg(r), r);
        r = xsimd::select((x < zero) & (x > -inf) & !y_int, X(std::numeric_limits<T>::quiet_NaN()),
                          r);
        r = xsimd::select((x == -one) & (xsimd::abs(y) == inf), one, r);
        return xsimd::select((y == zero) | (x == one), one, r);
    } else {
        return std::pow(x, y);
    }
}

template <class X>
DENDRITE_ALWAYS_INLINE auto isnan(const X& x) noexcept {
    if constexpr (is_batch_v<X>)
        return xsimd::isnan(x);
    else
        return x != x;
}

/// IEEE a != b, true when either side is NaN; xsimd 8.1's batch operator!= is false there.
template <class X>
DENDRITE_ALWAYS_INLINE auto not_equal(const X& a, const X& b) noexcept {
    return !(a == b);
}

}  // namespace dendrite::inline DENDRITE_TARGET::simd

// Lanes that carry derivatives: truncated Taylor series over the lane types above.
#include "dendrite/simd/jet.hpp"
