#pragma once
// The user-facing element-wise vocabulary: operators and functions that build expression nodes.
//
// Each function accepts three kinds of argument: an expression (tensor, node, autodiff variable),
// giving a lazy node; an arithmetic scalar, giving its value now; and a SIMD batch, giving its
// lanes now. So a generic lambda such as `[](auto x) { return x * tanh(softplus(x)); }` runs on a
// float, on tensors (one fused pass) and on variables (one fused, differentiated node) unchanged.

#include <type_traits>
#include <utility>

#include "dendrite/config.hpp"
#include "dendrite/expr/node.hpp"
#include "dendrite/expr/ops.hpp"

namespace dendrite::inline DENDRITE_TARGET::expr {

template <class A>
concept arithmetic = std::is_arithmetic_v<std::remove_cvref_t<A>>;

/// Values computed now, a register (or a series, or a formula) at a time: see simd::is_lanes.
template <class A>
concept lanes = simd::is_lanes<std::remove_cvref_t<A>>;

/// The node an operand becomes inside an expression.
template <class E>
using node_t = std::remove_cvref_t<decltype(as_node(std::declval<const E&>()))>;

template <class E>
using value_type_of = typename node_t<E>::value_type;

}  // namespace dendrite::inline DENDRITE_TARGET::expr

namespace dendrite::inline DENDRITE_TARGET {
/// An expression with no autodiff variable in it: evaluated eagerly, never recorded.
template <class E>
concept plain_expression = expression<E> && !expr::node_t<E>::has_grad;
}  // namespace dendrite::inline DENDRITE_TARGET

namespace dendrite::inline DENDRITE_TARGET::expr {

template <class A, class B>
concept binary_operands = (expression<A> && (expression<B> || arithmetic<B>)) ||
                          (arithmetic<A> && expression<B>);

template <class Op, class E>
auto make_unary(const E& e, Op op = {}) {
    return unary_expr<Op, node_t<E>>{{}, op, as_node(e)};
}

/// A scalar operand adopts the value type of the other side (`x * 1.702` stays float).
template <class Op, class A, class B>
auto make_binary(const A& a, const B& b, Op op = {}) {
    if constexpr (arithmetic<A>) {
        using T = value_type_of<B>;
        return binary_expr<Op, scalar_node<T>, node_t<B>>(op, scalar_node<T>{static_cast<T>(a)},
                                                          as_node(b));
    } else if constexpr (arithmetic<B>) {
        using T = value_type_of<A>;
        return binary_expr<Op, node_t<A>, scalar_node<T>>(op, as_node(a),
                                                          scalar_node<T>{static_cast<T>(b)});
    } else {
        return binary_expr<Op, node_t<A>, node_t<B>>(op, as_node(a), as_node(b));
    }
}

template <class E, class T>
auto as_operand(const E& e) {
    if constexpr (arithmetic<E>)
        return scalar_node<T>{static_cast<T>(e)};
    else
        return as_node(e);
}

// ---- operators ---------------------------------------------------------------------------------

template <class A, class B>
requires binary_operands<A, B>
auto operator+(const A& a, const B& b) {
    return make_binary<ops::add>(a, b);
}
template <class A, class B>
requires binary_operands<A, B>
auto operator-(const A& a, const B& b) {
    return make_binary<ops::sub>(a, b);
}
template <class A, class B>
requires binary_operands<A, B>
auto operator*(const A& a, const B& b) {
    return make_binary<ops::mul>(a, b);
}
template <class A, class B>
requires binary_operands<A, B>
auto operator/(const A& a, const B& b) {
    return make_binary<ops::div>(a, b);
}
template <expression E>
auto operator-(const E& e) {
    return make_unary<ops::neg>(e);
}
template <expression E>
const E& operator+(const E& e) {
    return e;
}

template <class A, class B>
requires binary_operands<A, B>
auto operator<(const A& a, const B& b) {
    return make_binary<ops::less>(a, b);
}
template <class A, class B>
requires binary_operands<A, B>
auto operator<=(const A& a, const B& b) {
    return make_binary<ops::less_equal>(a, b);
}
template <class A, class B>
requires binary_operands<A, B>
auto operator>(const A& a, const B& b) {
    return make_binary<ops::greater>(a, b);
}
template <class A, class B>
requires binary_operands<A, B>
auto operator>=(const A& a, const B& b) {
    return make_binary<ops::greater_equal>(a, b);
}
template <class A, class B>
requires binary_operands<A, B>
auto operator==(const A& a, const B& b) {
    return make_binary<ops::equal>(a, b);
}
template <class A, class B>
requires binary_operands<A, B>
auto operator!=(const A& a, const B& b) {
    return make_binary<ops::not_equal>(a, b);
}

// ---- functions ---------------------------------------------------------------------------------

// Functions rather than function objects: with `using namespace dendrite;` an object named `exp`
// would be ambiguous with the C library's ::exp, whereas overloads simply join the set.
#define DENDRITE_UNARY_FUNCTION(fn)                                           \
    template <expression A>                                                   \
    auto fn(const A& a) {                                                     \
        return make_unary<ops::fn>(a);                                        \
    }                                                                         \
    template <arithmetic A>                                                   \
    auto fn(A a) {                                                            \
        using F = std::conditional_t<std::is_floating_point_v<A>, A, double>; \
        return ops::fn::apply(static_cast<F>(a));                             \
    }                                                                         \
    template <lanes A>                                                        \
    A fn(const A& a) {                                                        \
        return ops::call(ops::fn{}, a);                                       \
    }
DENDRITE_UNARY_FUNCTION(abs)
DENDRITE_UNARY_FUNCTION(exp)
DENDRITE_UNARY_FUNCTION(log)
DENDRITE_UNARY_FUNCTION(log1p)
DENDRITE_UNARY_FUNCTION(expm1)
DENDRITE_UNARY_FUNCTION(sqrt)
DENDRITE_UNARY_FUNCTION(rsqrt)
DENDRITE_UNARY_FUNCTION(square)
DENDRITE_UNARY_FUNCTION(sin)
DENDRITE_UNARY_FUNCTION(cos)
DENDRITE_UNARY_FUNCTION(tanh)
DENDRITE_UNARY_FUNCTION(sigmoid)
DENDRITE_UNARY_FUNCTION(softplus)
DENDRITE_UNARY_FUNCTION(relu)
DENDRITE_UNARY_FUNCTION(erf)
#undef DENDRITE_UNARY_FUNCTION

#define DENDRITE_BINARY_FUNCTION(fn, op)                             \
    template <class A, class B>                                      \
    requires binary_operands<A, B>                                   \
    auto fn(const A& a, const B& b) {                                \
        return make_binary<ops::op>(a, b);                           \
    }                                                                \
    template <arithmetic A, arithmetic B>                            \
    auto fn(A a, B b) {                                              \
        using F = std::common_type_t<A, B, float>;                   \
        return ops::op::apply(static_cast<F>(a), static_cast<F>(b)); \
    }                                                                \
    template <lanes A>                                               \
    A fn(const A& a, const A& b) {                                   \
        return ops::call(ops::op{}, a, b);                           \
    }                                                                \
    template <lanes A, arithmetic B>                                 \
    A fn(const A& a, B b) {                                          \
        return ops::call(ops::op{}, a, simd::constant<A>(b));        \
    }
DENDRITE_BINARY_FUNCTION(pow, pow)
DENDRITE_BINARY_FUNCTION(max, maximum)
DENDRITE_BINARY_FUNCTION(min, minimum)
#undef DENDRITE_BINARY_FUNCTION

/// where(cond, a, b): element-wise select; cond is any expression, non-zero meaning true.
template <expression C, class A, class B>
requires((expression<A> || arithmetic<A>)&&(expression<B> || arithmetic<B>)&&(
    expression<A> || expression<B>)) auto where(const C& cond, const A& a, const B& b) {
    using T =
        std::conditional_t<expression<A>, value_type_of<std::conditional_t<expression<A>, A, B>>,
                           value_type_of<std::conditional_t<expression<B>, B, A>>>;
    using CN = decltype(as_operand<C, T>(cond));
    using AN = decltype(as_operand<A, T>(a));
    using BN = decltype(as_operand<B, T>(b));
    return where_expr<CN, AN, BN>(as_operand<C, T>(cond), as_operand<A, T>(a), as_operand<B, T>(b));
}

/// where on plain scalars, so an activation written with where also runs on a float.
template <arithmetic A, arithmetic B>
auto where(bool cond, A a, B b) {
    using F = std::common_type_t<A, B>;
    return cond ? static_cast<F>(a) : static_cast<F>(b);
}
/// where on lanes, with the mask their comparisons give.
template <lanes A, class M>
requires(!expression<M>) A where(const M& cond, const A& a, const A& b) {
    return simd::select(cond, a, b);
}

/// A callable evaluated on lanes directly, with no expression tree of its own (a run-time
/// activation): it says so with `static constexpr bool acts_on_lanes_only = true`. Its derivatives
/// come from forward mode on jets.
template <class F>
concept acts_on_lanes_only = requires {
    requires F::acts_on_lanes_only;
};

// ---- user-given derivatives
// ----------------------------------------------------------------------

/// An op from two lane-generic callables: the value f(x) and the derivative df(x, y), y = f(x).
template <class F, class DF>
struct custom_unary_op {
    static constexpr const char* name = "custom";
    static constexpr bool composite = true;  // a formula shows f itself
    [[no_unique_address]] F f;
    [[no_unique_address]] DF df;
    template <class X>
    X apply(const X& x) const {
        return f(x);
    }
    template <class X>
    X derivative(const X& x, const X& y) const {
        return df(x, y);
    }
};

/// Wraps a function with a hand-written derivative, still evaluated in the fused pass (as JAX's
/// custom_jvp): `auto f = with_derivative([](auto x) {...}, [](auto x, auto y) {...});`. Use it
/// where the derived derivative is numerically poor or slower than a known closed form.
template <class F, class DF>
struct with_derivative {
    [[no_unique_address]] F f;
    [[no_unique_address]] DF df;

    with_derivative(F fn, DF dfn) : f(std::move(fn)), df(std::move(dfn)) {}

    template <expression A>
    auto operator()(const A& a) const {
        return make_unary(a, custom_unary_op<F, DF>{f, df});
    }
    template <class A>
    requires(arithmetic<A> || lanes<A>) auto operator()(const A& a) const { return f(a); }
};

}  // namespace dendrite::inline DENDRITE_TARGET::expr

namespace dendrite::inline DENDRITE_TARGET {
using expr::operator+;
using expr::operator-;
using expr::operator*;
using expr::operator/;
using expr::operator<;
using expr::operator<=;
using expr::operator>;
using expr::operator>=;
using expr::operator==;
using expr::operator!=;
using expr::abs;
using expr::cos;
using expr::erf;
using expr::exp;
using expr::expm1;
using expr::log;
using expr::log1p;
using expr::max;
using expr::min;
using expr::pow;
using expr::relu;
using expr::rsqrt;
using expr::sigmoid;
using expr::sin;
using expr::softplus;
using expr::sqrt;
using expr::square;
using expr::tanh;
using expr::where;
using expr::with_derivative;
}  // namespace dendrite::inline DENDRITE_TARGET
