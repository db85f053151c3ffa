#pragma once
// Truncated Taylor series as a lane type: forward-mode derivatives of any order, fused.
//
// A jet<X, N> holds the Taylor coefficients c[0..N] of a function of one parameter t around t = 0
// (c[k] = the k-th derivative / k!), each in the lane type X (a scalar, a SIMD batch, another jet,
// or a formula). Seeding x + t (c = {x, 1, 0, ...}) and running any element-wise expression on it
// gives f(x), f'(x), f''(x) / 2, ... in one pass; seeding x + t v gives the directional
// derivative, which is forward mode (jvp).
//
// Arithmetic is exact truncated-series arithmetic. Every other function enters through its
// derivative (compose below): if y = f(u) and f' = g(u, y), then k y[k] = sum_j j u[j] g[k-j],
// where g is itself evaluated on jets one order shorter. So a function's higher derivatives come
// from the same first-derivative rule that backpropagation uses (ops.hpp), the conventions at
// kinks carry over (relu'' is 0 everywhere, as in PyTorch), and rules written in terms of y stay
// stable where the function saturates (sigmoid's y (1 - y) never forms e^80).

#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "dendrite/config.hpp"
#include "dendrite/simd/simd.hpp"

namespace dendrite::inline DENDRITE_TARGET::simd {

template <class X, std::size_t N>
struct jet {
    using lane_type = X;
    static constexpr std::size_t order = N;
    std::array<X, N + 1> c;

    /// Zero.
    DENDRITE_ALWAYS_INLINE jet() noexcept(noexcept(X(0))) {
        for (auto& v : c)
            v = X(0);
    }
    /// The constant v (no dependence on t).
    template <class S>
    requires std::is_constructible_v<X, S> DENDRITE_ALWAYS_INLINE explicit jet(const S& v) : jet() {
        c[0] = X(v);
    }
    /// x + t v: the seed of a derivative in direction v.
    DENDRITE_ALWAYS_INLINE static jet seed(const X& x, const X& v) {
        jet r;
        r.c[0] = x;
        if constexpr (N >= 1) r.c[1] = v;
        return r;
    }
    /// The first M + 1 coefficients (M <= N).
    template <std::size_t M>
    DENDRITE_ALWAYS_INLINE jet<X, M> truncate() const {
        static_assert(M <= N);
        jet<X, M> r;
        for (std::size_t k = 0; k <= M; ++k)
            r.c[k] = c[k];
        return r;
    }
    const X& value() const noexcept { return c[0]; }
};

template <class X, std::size_t N>
struct scalar_of<jet<X, N>> {
    using type = scalar_t<X>;
};

/// Lane types: what element-wise functions compute on now, a whole value at a time (a scalar is
/// not one: functions of numbers are the C library's). Formula lanes add themselves.
template <class X>
inline constexpr bool is_lanes = is_batch_v<X> || is_jet_v<X>;

// ---- arithmetic: exact on truncated series ----------------------------------------------------

template <class X, std::size_t N>
DENDRITE_ALWAYS_INLINE jet<X, N> operator+(const jet<X, N>& a, const jet<X, N>& b) {
    jet<X, N> r;
    for (std::size_t k = 0; k <= N; ++k)
        r.c[k] = a.c[k] + b.c[k];
    return r;
}
template <class X, std::size_t N>
DENDRITE_ALWAYS_INLINE jet<X, N> operator-(const jet<X, N>& a, const jet<X, N>& b) {
    jet<X, N> r;
    for (std::size_t k = 0; k <= N; ++k)
        r.c[k] = a.c[k] - b.c[k];
    return r;
}
template <class X, std::size_t N>
DENDRITE_ALWAYS_INLINE jet<X, N> operator-(const jet<X, N>& a) {
    jet<X, N> r;
    for (std::size_t k = 0; k <= N; ++k)
        r.c[k] = -a.c[k];
    return r;
}
/// The Cauchy product: c[k] = sum_j a[j] b[k - j].
template <class X, std::size_t N>
DENDRITE_ALWAYS_INLINE jet<X, N> operator*(const jet<X, N>& a, const jet<X, N>& b) {
    jet<X, N> r;
    for (std::size_t k = 0; k <= N; ++k) {
        X s = a.c[0] * b.c[k];
        for (std::size_t j = 1; j <= k; ++j)
            s = s + a.c[j] * b.c[k - j];
        r.c[k] = s;
    }
    return r;
}
/// q = a / b from q b = a: q[k] = (a[k] - sum_{j >= 1} b[j] q[k - j]) / b[0].
template <class X, std::size_t N>
DENDRITE_ALWAYS_INLINE jet<X, N> operator/(const jet<X, N>& a, const jet<X, N>& b) {
    jet<X, N> q;
    for (std::size_t k = 0; k <= N; ++k) {
        X s = a.c[k];
        for (std::size_t j = 1; j <= k; ++j)
            s = s - b.c[j] * q.c[k - j];
        q.c[k] = s / b.c[0];
    }
    return q;
}
// A number on one side is a constant series: `1 - y * y` reads as in a scalar rule.
template <class S>
concept jet_number = std::is_arithmetic_v<S>;
#define DENDRITE_JET_MIXED(op)                                              \
    template <class X, std::size_t N, jet_number S>                         \
    DENDRITE_ALWAYS_INLINE jet<X, N> operator op(const jet<X, N>& a, S b) { \
        return a op jet<X, N>(scalar_t<X>(b));                              \
    }                                                                       \
    template <class X, std::size_t N, jet_number S>                         \
    DENDRITE_ALWAYS_INLINE jet<X, N> operator op(S a, const jet<X, N>& b) { \
        return jet<X, N>(scalar_t<X>(a)) op b;                              \
    }
DENDRITE_JET_MIXED(+)
DENDRITE_JET_MIXED(-)
DENDRITE_JET_MIXED(*)
DENDRITE_JET_MIXED(/)
#undef DENDRITE_JET_MIXED

template <class X, std::size_t N>
DENDRITE_ALWAYS_INLINE jet<X, N>& operator+=(jet<X, N>& a, const jet<X, N>& b) {
    return a = a + b;
}

// Comparisons look at the values: a branch taken at x is taken near x, so a select of jets picks
// whole series, and the derivatives of a comparison are zero.
#define DENDRITE_JET_COMPARISON(op)                                                   \
    template <class X, std::size_t N>                                                 \
    DENDRITE_ALWAYS_INLINE auto operator op(const jet<X, N>& a, const jet<X, N>& b) { \
        return a.c[0] op b.c[0];                                                      \
    }
DENDRITE_JET_COMPARISON(<)
DENDRITE_JET_COMPARISON(<=)
DENDRITE_JET_COMPARISON(>)
DENDRITE_JET_COMPARISON(>=)
DENDRITE_JET_COMPARISON(==)
#undef DENDRITE_JET_COMPARISON

/// Whole series chosen by a mask of the values' lanes.
template <class M, class X, std::size_t N>
DENDRITE_ALWAYS_INLINE jet<X, N> select(const M& mask, const jet<X, N>& a, const jet<X, N>& b) {
    jet<X, N> r;
    for (std::size_t k = 0; k <= N; ++k)
        r.c[k] = simd::select(mask, a.c[k], b.c[k]);
    return r;
}

template <class X, std::size_t N>
DENDRITE_ALWAYS_INLINE auto isnan(const jet<X, N>& a) {
    return simd::isnan(a.c[0]);
}

template <class X, std::size_t N>
DENDRITE_ALWAYS_INLINE jet<X, N> fma(const jet<X, N>& a, const jet<X, N>& b, const jet<X, N>& c) {
    return a * b + c;
}

// ---- functions, through their first derivative --------------------------------------------------

namespace detail {
/// y[k] = (1/k) sum_{j=1..k} j u[j] d[k - j], for k = K; d holds f'(u) to order K - 1.
template <class X, std::size_t N, std::size_t M>
DENDRITE_ALWAYS_INLINE X taylor_step(std::size_t k, const jet<X, N>& u, const jet<X, M>& d) {
    using T = scalar_t<X>;
    X s = u.c[1] * d.c[k - 1];
    for (std::size_t j = 2; j <= k; ++j)
        s = s + X(T(j)) * u.c[j] * d.c[k - j];
    return s / X(T(k));
}
}  // namespace detail

/// y = f(u) as a jet, from y[0] = f(u[0]) and the derivative rule d(u, y) = f'(u), which is called
/// on jets of orders 0 .. N - 1 (the coefficient k of y needs f'(u) to order k - 1 only, and each
/// call sees u and y to that order).
template <class X, std::size_t N, class D>
DENDRITE_ALWAYS_INLINE jet<X, N> compose(const jet<X, N>& u, const X& y0, const D& d) {
    jet<X, N> y;
    y.c[0] = y0;
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        // Step K + 1 needs f'(u) to order K, which needs y to order K: already known.
        ((y.c[K + 1] =
              detail::taylor_step(K + 1, u, d(u.template truncate<K>(), y.template truncate<K>()))),
         ...);
    }
    (std::make_index_sequence<N>{});
    return y;
}

/// y = f(a, b) as a jet, from y[0] and the partial derivative rules da(a, b, y), db(a, b, y).
template <class X, std::size_t N, class DA, class DB>
DENDRITE_ALWAYS_INLINE jet<X, N> compose(const jet<X, N>& a, const jet<X, N>& b, const X& y0,
                                         const DA& da, const DB& db) {
    jet<X, N> y;
    y.c[0] = y0;
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        ((y.c[K + 1] =
              [&] {
                  const auto ak = a.template truncate<K>();
                  const auto bk = b.template truncate<K>();
                  const auto yk = y.template truncate<K>();
                  return detail::taylor_step(K + 1, a, da(ak, bk, yk)) +
                         detail::taylor_step(K + 1, b, db(ak, bk, yk));
              }()),
         ...);
    }
    (std::make_index_sequence<N>{});
    return y;
}

}  // namespace dendrite::inline DENDRITE_TARGET::simd
