#pragma once
// Forward mode and derivatives of any order of element-wise functions, in one fused pass.
//
//   value_and_derivatives<N>(f, x)   {f(x), f'(x), ..., f^(N)(x)}: x a number, a batch or a tensor
//   jvp(f, x, v)                     {f(x), f'(x) v}: the directional derivative (forward mode)
//   derivative<N>(f)                 f^(N) as a function of its own, usable wherever f is: on
//                                    numbers, tensors and vars (so it is an activation, and can be
//                                    differentiated again, by the tape or by derivative<M>)
//
// All of them run f's expression tree on truncated Taylor series (simd/jet.hpp): f^(k) at every
// element comes out of the same pass as f, with no formula written for it.

#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include "dendrite/config.hpp"
#include "dendrite/expr/derive.hpp"
#include "dendrite/expr/evaluate.hpp"
#include "dendrite/expr/functions.hpp"
#include "dendrite/simd/jet.hpp"
#include "dendrite/tensor/tensor.hpp"

namespace dendrite::inline DENDRITE_TARGET::expr {

namespace detail {
template <class T>
constexpr T factorial(std::size_t n) {
    T r = 1;
    for (std::size_t k = 2; k <= n; ++k)
        r *= T(k);
    return r;
}

/// The series of f around x, in direction v, to order N.
template <std::size_t N, class F, class X>
DENDRITE_ALWAYS_INLINE simd::jet<X, N> series(const F& f, const X& x, const X& v) {
    return apply_lanes(f, simd::jet<X, N>::seed(x, v));
}

/// A leaf reading x (and a direction v, or 1) from tensors as seeded jets: what the tensor
/// versions of jvp and value_and_derivatives evaluate f on.
template <class T, std::size_t N>
struct seeded_cursor {
    static constexpr bool has_grad = false;
    read_cursor<T> x;
    read_cursor<T> v;
    bool has_direction;

    DENDRITE_ALWAYS_INLINE void set_row(std::size_t i0, std::size_t i1, std::size_t i2) noexcept {
        x.set_row(i0, i1, i2);
        if (has_direction) v.set_row(i0, i1, i2);
    }
    template <class J, bool C>
    DENDRITE_ALWAYS_INLINE J value(std::size_t j) const noexcept {
        using X = typename J::lane_type;
        return J::seed(x.template value<X, C>(j),
                       has_direction ? v.template value<X, C>(j) : X(T(1)));
    }
    template <class J, bool C>
    DENDRITE_ALWAYS_INLINE leaf_cache<J> forward(std::size_t j) const noexcept {
        return {value<J, C>(j)};
    }
    template <class J, bool C, class Cache>
    DENDRITE_ALWAYS_INLINE void backward(std::size_t, const Cache&, const J&) const noexcept {}
    template <class Slot>
    seeded_cursor on_lanes(Slot*) const noexcept {
        return *this;
    }
};

template <class T, std::size_t N>
struct seeded_leaf {
    static constexpr bool is_dendrite_expression = true;
    static constexpr std::size_t leaf_count = 2;
    static constexpr bool has_grad = false;
    using value_type = T;

    tensor<T> x;
    tensor<T> v;  // empty: the direction 1 everywhere
    bool has_direction;
    dendrite::shape shp;  // x's and v's shapes broadcast

    seeded_leaf(tensor<T> value, tensor<T> direction, bool directed)
        : x(std::move(value)),
          v(std::move(direction)),
          has_direction(directed),
          shp(directed ? broadcast_shapes(x.shape(), v.shape(), "jvp") : x.shape()) {}

    const dendrite::shape& shape() const noexcept { return shp; }
    template <class G>
    void for_each_leaf(G& g) const {
        g(x.shape(), x.strides());
        // Without a direction, x stands in for it: the plan needs as many leaves either way.
        g(has_direction ? v.shape() : x.shape(), has_direction ? v.strides() : x.strides());
    }
    seeded_cursor<T, N> cursor(const loop_strides*& s) const noexcept {
        read_cursor<T> xc{x.data(), *s++};
        read_cursor<T> vc{has_direction ? v.data() : x.data(), *s++};
        return {xc, vc, has_direction};
    }
    template <class G>
    void for_each_var(G&) const {}
    template <class G>
    void for_each_var(G&) {}
    std::string describe() const { return "x"; }
};

/// Evaluates f on the seeded leaves to order N, in one fused pass, into the N + 1 tensors
/// out[k] = scale[k] * coefficient k; an output keeps its storage when it has the result's shape
/// and nobody else sees it.
template <std::size_t N, class F, class T, std::size_t K>
void evaluate_series(const F& f, const std::array<seeded_leaf<T, N>, K>& leaves,
                     const std::array<T, N + 1>& scale, std::array<tensor<T>, N + 1>& out) {
    const auto e = std::apply(f, leaves);
    const auto& n = as_node(e);
    static_assert(std::is_same_v<typename std::remove_cvref_t<decltype(n)>::value_type, T>,
                  "dendrite: the function must keep its arguments' value type");
    const dendrite::shape s = n.shape();
    for (auto& o : out)
        if (!(o.shape() == s && o.owns_storage_exclusively() && o.is_contiguous()))
            o = tensor<T>::uninitialized(s);
    auto [plan, cursor] = bind_for_write(out[0].data(), out[0].shape(), out[0].strides(), n);
    // Every output has out[0]'s layout: each lane goes to the same offset in all of them.
    std::array<T*, N + 1> base;
    for (std::size_t k = 0; k <= N; ++k)
        base[k] = out[k].data();
    run_plan<T>(plan, cursor, [&]<class X, bool C>(auto& cur, std::size_t j) {
        const auto y = cur.in.template value<simd::jet<X, N>, C>(j);
        const std::ptrdiff_t offset = cur.out.row - base[0];
        for (std::size_t k = 0; k <= N; ++k) {
            auto w = cur.out;
            w.row = base[k] + offset;
            w.template store<X, C>(j, k == 0 ? y.c[0] : y.c[k] * X(scale[k]));
        }
    });
}
}  // namespace detail

/// {f(x), f'(x), ..., f^(N)(x)} at a number or on SIMD lanes.
template <std::size_t N, class F, class X>
requires(arithmetic<X> || lanes<X>) std::array<X, N + 1> value_and_derivatives(const F& f,
                                                                               const X& x) {
    using T = simd::scalar_t<X>;
    const auto y = detail::series<N>(f, x, X(T(1)));
    std::array<X, N + 1> r;
    for (std::size_t k = 0; k <= N; ++k)
        r[k] = k == 0 ? y.c[0] : y.c[k] * X(detail::factorial<T>(k));
    return r;
}

/// {f(x), f'(x), ..., f^(N)(x)} at every element of x, in one fused pass over x, into `out`
/// (whose tensors keep their storage when they have x's shape and nobody else sees them).
template <std::size_t N, class F, class T>
void value_and_derivatives(const F& f, const tensor<T>& x, std::array<tensor<T>, N + 1>& out) {
    std::array<T, N + 1> scale;
    for (std::size_t k = 0; k <= N; ++k)
        scale[k] = detail::factorial<T>(k);
    const std::array<detail::seeded_leaf<T, N>, 1> leaf{
        detail::seeded_leaf<T, N>(x, tensor<T>{}, false)};
    detail::evaluate_series<N>(f, leaf, scale, out);
}

/// {f(x), f'(x), ..., f^(N)(x)} at every element of x, in one fused pass over x.
template <std::size_t N, class F, class T>
std::array<tensor<T>, N + 1> value_and_derivatives(const F& f, const tensor<T>& x) {
    std::array<tensor<T>, N + 1> out;
    value_and_derivatives<N>(f, x, out);
    return out;
}

/// Forward mode: {f(x), f'(x) v}, at a number or on SIMD lanes.
template <class F, class X>
requires(arithmetic<X> || lanes<X>) std::pair<X, X> jvp(const F& f, const X& x, const X& v) {
    const auto y = detail::series<1>(f, x, v);
    return {y.c[0], y.c[1]};
}

/// Forward mode in several arguments: {f(x...), the sum over i of df/dx_i v_i}, at numbers or
/// SIMD lanes: `jvp(f, std::array{x, y}, std::array{dx, dy})`.
template <class F, class X, std::size_t K>
requires(arithmetic<X> || lanes<X>) std::pair<X, X> jvp(const F& f, const std::array<X, K>& x,
                                                        const std::array<X, K>& v) {
    using T = simd::scalar_t<X>;
    using J = simd::jet<X, 1>;
    std::array<held_lanes_slot<J>, K> slots;
    for (std::size_t i = 0; i < K; ++i)
        slots[i] = {J::seed(x[i], v[i]), J(T(0))};
    const J y = [&]<std::size_t... I>(std::index_sequence<I...>) {
        const auto e = f(lane_leaf<T, held_lanes_slot<J>>{&slots[I]}...);
        const loop_strides* no_strides = nullptr;
        return as_node(e).cursor(no_strides).template value<J, true>(0);
    }
    (std::make_index_sequence<K>{});
    return {y.c[0], y.c[1]};
}

/// Forward mode on tensors: {f(x), f'(x) v} element-wise (v broadcasts against x), in one fused
/// pass: the tangent costs what one more output costs, not a second pass.
template <class F, class T>
std::pair<tensor<T>, tensor<T>> jvp(const F& f, const tensor<T>& x, const tensor<T>& v) {
    return jvp(f, std::array<tensor<T>, 1>{x}, std::array<tensor<T>, 1>{v});
}

/// Forward mode on tensors in several arguments, broadcasting as f's expression does:
/// `jvp([](auto x, auto y) { return x * sin(y); }, std::array{x, y}, std::array{dx, dy})` is
/// {x sin(y), dx sin(y) + x cos(y) dy}, in one fused pass.
template <class F, class T, std::size_t K>
std::pair<tensor<T>, tensor<T>> jvp(const F& f, const std::array<tensor<T>, K>& x,
                                    const std::array<tensor<T>, K>& v) {
    const auto leaves = [&]<std::size_t... I>(std::index_sequence<I...>) {
        return std::array<detail::seeded_leaf<T, 1>, K>{
            detail::seeded_leaf<T, 1>(x[I], v[I], true)...};
    }
    (std::make_index_sequence<K>{});
    std::array<tensor<T>, 2> r;
    detail::evaluate_series<1>(f, leaves, std::array<T, 2>{T(1), T(1)}, r);
    return {std::move(r[0]), std::move(r[1])};
}

/// The op computing f^(N) of a function f: its value is the N-th coefficient of f's series times
/// N!, its derivative the next one, so the tape and the jets can differentiate it further.
template <class F, std::size_t N>
struct nth_derivative_op {
    static constexpr const char* name = "derivative";
    static constexpr bool composite = true;  // a formula shows the derivative, derived
    [[no_unique_address]] F f;

    template <class X>
    X apply(const X& x) const {
        using T = simd::scalar_t<X>;
        return detail::series<N>(f, x, X(T(1))).c[N] * X(detail::factorial<T>(N));
    }
    template <class X>
    X derivative(const X& x, const X&) const {
        using T = simd::scalar_t<X>;
        return detail::series<N + 1>(f, x, X(T(1))).c[N + 1] * X(detail::factorial<T>(N + 1));
    }
};

/// f^(N): a function usable wherever f is.
template <std::size_t N, class F>
struct nth_derivative {
    [[no_unique_address]] F f;
    static constexpr std::size_t order = N;

    template <expression A>
    auto operator()(const A& a) const {
        return make_unary(a, nth_derivative_op<F, N>{f});
    }
    template <arithmetic A>
    auto operator()(A a) const {
        using R = std::conditional_t<std::is_floating_point_v<A>, A, double>;
        return ops::call(nth_derivative_op<F, N>{f}, static_cast<R>(a));
    }
    template <lanes A>
    A operator()(const A& a) const {
        return ops::call(nth_derivative_op<F, N>{f}, a);
    }
};

/// f^(N) of an element-wise function f (a lambda, an nn activation, another derivative):
/// `derivative<2>(mish)` is mish'' on numbers, tensors and vars alike.
template <std::size_t N, class F>
auto derivative(F f) {
    return nth_derivative<N, F>{std::move(f)};
}
template <std::size_t N, std::size_t M, class F>
auto derivative(nth_derivative<M, F> d) {
    return nth_derivative<N + M, F>{std::move(d.f)};
}

}  // namespace dendrite::inline DENDRITE_TARGET::expr

namespace dendrite::inline DENDRITE_TARGET {
using expr::derivative;
using expr::jvp;
using expr::value_and_derivatives;
}  // namespace dendrite::inline DENDRITE_TARGET
