#pragma once
// The element-wise primitives: each op is a small struct holding its value and its local
// derivative side by side, written once for a scalar and a SIMD batch alike (X is either).
//
// Unary ops:  `X apply(X x)`, `X derivative(X x, X y)` with y = apply(x), so d/dx exp is y.
// Binary ops: `X apply(X a, X b)`, `X d_lhs(X a, X b, X y)`, `X d_rhs(X a, X b, X y)`.
// Composite functions (sigmoid-weighted units, mish...) are NOT ops: they are expressions built
// from these, and get their derivatives from the chain rule at compile time. Ops exist for
// primitives and for the few composites whose derived rule would be slower or unstable
// (sigmoid, softplus, tanh).

#include <type_traits>

#include "dendrite/config.hpp"
#include "dendrite/simd/simd.hpp"

namespace dendrite::inline DENDRITE_TARGET::ops {

using simd::constant;

// ---- applying an op to lanes ------------------------------------------------------------------
//
// Every application of an op goes through call(), which picks how the lane type computes it:
// scalars and batches run the op's own body; a lane type that records formulas (symbolic.hpp)
// records the op by name; a jet (simd/jet.hpp) runs the op's body when it is a polynomial, which
// is exact on series, and otherwise derives every coefficient from the op's first-derivative rule,
// so that higher orders share that rule's conventions and stability. Derivative rules call other
// ops through call() too, so they work on every lane type.

/// Ops that are polynomials in their operands (or piecewise constant): exact on jets as written.
template <class Op>
inline constexpr bool polynomial = false;

/// Lane types with their own way of applying an op (a formula records the op's name).
template <class X, class Op>
concept records_ops = requires(const Op& op, const X& x) {
    X::apply_op(op, x);
};

/// Series of numbers (not of formulas). Their rules avoid forms that cancel where a function
/// saturates (1 - y with y near 1): a first derivative rounds such a form to a harmless absolute
/// error, but every higher order would inherit a relative error of up to 100%. Formulas keep the
/// forms the backward pass computes, since they show that.
template <class X>
inline constexpr bool numeric_series = false;
template <class X, std::size_t N>
inline constexpr bool numeric_series<simd::jet<X, N>> =
    std::is_arithmetic_v<X> || simd::is_batch_v<X> || numeric_series<X>;

template <class Op, class X>
DENDRITE_ALWAYS_INLINE X call(const Op& op, const X& x) {
    if constexpr (records_ops<X, Op>)
        return X::apply_op(op, x);
    else if constexpr (simd::is_jet_v<X> && !polynomial<Op>)
        return simd::compose(x, call(op, x.c[0]),
                             [&](const auto& u, const auto& y) { return op.derivative(u, y); });
    else
        return op.apply(x);
}

template <class Op, class X>
DENDRITE_ALWAYS_INLINE X call(const Op& op, const X& a, const X& b) {
    if constexpr (records_ops<X, Op>)
        return X::apply_op(op, a, b);
    else if constexpr (simd::is_jet_v<X> && !polynomial<Op>)
        return simd::compose(
            a, b, call(op, a.c[0], b.c[0]),
            [&](const auto& u, const auto& v, const auto& y) { return op.d_lhs(u, v, y); },
            [&](const auto& u, const auto& v, const auto& y) { return op.d_rhs(u, v, y); });
    else
        return op.apply(a, b);
}

// ---- unary ------------------------------------------------------------------------------------

struct neg {
    static constexpr const char* name = "neg";
    template <class X>
    static X apply(const X& x) {
        return simd::neg(x);
    }
    template <class X>
    static X derivative(const X&, const X&) {
        return constant<X>(-1);
    }
};

struct abs {
    static constexpr const char* name = "abs";
    template <class X>
    static X apply(const X& x) {
        return simd::abs(x);
    }
    // Subgradient 0 at 0, as PyTorch.
    template <class X>
    static X derivative(const X& x, const X&) {
        return simd::select(x > constant<X>(0), constant<X>(1),
                            simd::select(x < constant<X>(0), constant<X>(-1), constant<X>(0)));
    }
};

struct exp {
    static constexpr const char* name = "exp";
    template <class X>
    static X apply(const X& x) {
        return simd::exp(x);
    }
    template <class X>
    static X derivative(const X&, const X& y) {
        return y;
    }
};

struct log {
    static constexpr const char* name = "log";
    template <class X>
    static X apply(const X& x) {
        return simd::log(x);
    }
    template <class X>
    static X derivative(const X& x, const X&) {
        return constant<X>(1) / x;
    }
};

struct log1p {
    static constexpr const char* name = "log1p";
    template <class X>
    static X apply(const X& x) {
        return simd::log1p(x);
    }
    template <class X>
    static X derivative(const X& x, const X&) {
        return constant<X>(1) / (constant<X>(1) + x);
    }
};

struct expm1 {
    static constexpr const char* name = "expm1";
    template <class X>
    static X apply(const X& x) {
        return simd::expm1(x);
    }
    template <class X>
    static X derivative(const X& x, const X& y) {
        if constexpr (numeric_series<X>) {
            X d = y + constant<X>(1);  // exact in every coefficient but the first: e^x
            d.c[0] = call(exp{}, x.c[0]);
            return d;
        } else {
            return y + constant<X>(1);
        }
    }
};

struct sqrt {
    static constexpr const char* name = "sqrt";
    template <class X>
    static X apply(const X& x) {
        return simd::sqrt(x);
    }
    template <class X>
    static X derivative(const X&, const X& y) {
        return constant<X>(0.5) / y;
    }
};

struct rsqrt {
    static constexpr const char* name = "rsqrt";
    // A full division rather than the hardware estimate: the estimate has 14 bits, and xsimd 8.1's
    // AVX-512 path does not compile.
    template <class X>
    static X apply(const X& x) {
        return constant<X>(1) / simd::sqrt(x);
    }
    template <class X>
    static X derivative(const X& x, const X& y) {
        return constant<X>(-0.5) * y / x;
    }
};

struct square {
    static constexpr const char* name = "square";
    template <class X>
    static X apply(const X& x) {
        return x * x;
    }
    template <class X>
    static X derivative(const X& x, const X&) {
        return constant<X>(2) * x;
    }
};

struct sin {
    static constexpr const char* name = "sin";
    template <class X>
    static X apply(const X& x) {
        return simd::sin(x);
    }
    template <class X>
    static X derivative(const X& x, const X&);  // cos(x), below cos
};

struct cos {
    static constexpr const char* name = "cos";
    template <class X>
    static X apply(const X& x) {
        return simd::cos(x);
    }
    template <class X>
    static X derivative(const X& x, const X&) {
        return -call(sin{}, x);
    }
};

template <class X>
X sin::derivative(const X& x, const X&) {
    return call(cos{}, x);
}

struct tanh {
    static constexpr const char* name = "tanh";
    template <class X>
    static X apply(const X& x) {
        return simd::tanh(x);
    }
    template <class X>
    static X derivative(const X& x, const X& y);  // 1 - y^2, below sigmoid
    /// tanh'(x) = sech^2 x = 4 e / (1 + e)^2 with e = e^-2|x|: no cancellation where |tanh| -> 1.
    template <class X>
    static X slope(const X& x) {
        if constexpr (simd::is_jet_v<X>) {
            return derivative(x, call(tanh{}, x));
        } else {
            const X e = simd::exp(constant<X>(-2) * simd::abs(x));
            const X q = constant<X>(1) + e;
            return constant<X>(4) * e / (q * q);
        }
    }
};

struct sigmoid {
    static constexpr const char* name = "sigmoid";
    // 1 / (1 + e^-x) saturates cleanly: e^-x overflows to inf for x < -88 and the quotient is 0.
    template <class X>
    static X apply(const X& x) {
        return constant<X>(1) / (constant<X>(1) + simd::exp(-x));
    }
    template <class X>
    static X derivative(const X& x, const X& y) {
        if constexpr (numeric_series<X>) {
            // 1 - y is exact in every coefficient but the first; that one is sigmoid(-x).
            X c = constant<X>(1) - y;
            c.c[0] = complement(x.c[0], y.c[0]);
            return y * c;
        } else {
            return y * (constant<X>(1) - y);
        }
    }
    /// 1 - y for y = sigmoid(x), exact where y is near 1: e^-x y there (e^-x is the one that
    /// computed y), 1 - y elsewhere.
    template <class X>
    static X complement(const X& x, const X& y) {
        if constexpr (simd::is_jet_v<X>) {
            X c = constant<X>(1) - y;
            c.c[0] = complement(x.c[0], y.c[0]);
            return c;
        } else {
            return simd::select(x > constant<X>(0), simd::exp(-x) * y, constant<X>(1) - y);
        }
    }
};

template <class X>
X tanh::derivative(const X& x, const X& y) {
    if constexpr (numeric_series<X>) {
        // 1 - y^2 is exact in every coefficient but the first; that one is sech^2 x.
        X d = constant<X>(1) - y * y;
        d.c[0] = slope(x.c[0]);
        return d;
    } else {
        return constant<X>(1) - y * y;
    }
}

struct softplus {
    static constexpr const char* name = "softplus";
    // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): never overflows, exact for large |x|.
    template <class X>
    static X apply(const X& x) {
        return simd::max(x, constant<X>(0)) + simd::log1p(simd::exp(-simd::abs(x)));
    }
    template <class X>
    static X derivative(const X& x, const X&) {
        return call(sigmoid{}, x);
    }
};

struct relu {
    static constexpr const char* name = "relu";
    // The NaN-propagating simd::max: NaN stays NaN, -inf gives 0 (not 0 * -inf), -0 gives +0.
    template <class X>
    static X apply(const X& x) {
        return simd::max(x, constant<X>(0));
    }
    // The derivative at 0 is 0.
    template <class X>
    static X derivative(const X& x, const X&) {
        return simd::select(x > constant<X>(0), constant<X>(1), constant<X>(0));
    }
};

struct erf {
    static constexpr const char* name = "erf";
    template <class X>
    static X apply(const X& x) {
        return simd::erf(x);
    }
    template <class X>
    static X derivative(const X& x, const X&) {
        return constant<X>(1.1283791670955126) * call(exp{}, -x * x);  // 2 / sqrt(pi)
    }
};

// ---- binary -----------------------------------------------------------------------------------

struct add {
    static constexpr const char* name = "add";
    template <class X>
    static X apply(const X& a, const X& b) {
        return a + b;
    }
    template <class X>
    static X d_lhs(const X&, const X&, const X&) {
        return constant<X>(1);
    }
    template <class X>
    static X d_rhs(const X&, const X&, const X&) {
        return constant<X>(1);
    }
};

struct sub {
    static constexpr const char* name = "sub";
    template <class X>
    static X apply(const X& a, const X& b) {
        return a - b;
    }
    template <class X>
    static X d_lhs(const X&, const X&, const X&) {
        return constant<X>(1);
    }
    template <class X>
    static X d_rhs(const X&, const X&, const X&) {
        return constant<X>(-1);
    }
};

struct mul {
    static constexpr const char* name = "mul";
    template <class X>
    static X apply(const X& a, const X& b) {
        return a * b;
    }
    template <class X>
    static X d_lhs(const X&, const X& b, const X&) {
        return b;
    }
    template <class X>
    static X d_rhs(const X& a, const X&, const X&) {
        return a;
    }
};

struct div {
    static constexpr const char* name = "div";
    template <class X>
    static X apply(const X& a, const X& b) {
        return a / b;
    }
    template <class X>
    static X d_lhs(const X&, const X& b, const X&) {
        return constant<X>(1) / b;
    }
    template <class X>
    static X d_rhs(const X&, const X& b, const X& y) {
        return -y / b;
    }
};

struct maximum {
    static constexpr const char* name = "max";
    template <class X>
    static X apply(const X& a, const X& b) {
        return simd::max(a, b);
    }
    // Ties send the gradient to the left operand, so it is never counted twice.
    template <class X>
    static X d_lhs(const X& a, const X& b, const X&) {
        return simd::select(a >= b, constant<X>(1), constant<X>(0));
    }
    template <class X>
    static X d_rhs(const X& a, const X& b, const X&) {
        return simd::select(a >= b, constant<X>(0), constant<X>(1));
    }
};

struct minimum {
    static constexpr const char* name = "min";
    template <class X>
    static X apply(const X& a, const X& b) {
        return simd::min(a, b);
    }
    template <class X>
    static X d_lhs(const X& a, const X& b, const X&) {
        return simd::select(a <= b, constant<X>(1), constant<X>(0));
    }
    template <class X>
    static X d_rhs(const X& a, const X& b, const X&) {
        return simd::select(a <= b, constant<X>(0), constant<X>(1));
    }
};

struct pow {
    static constexpr const char* name = "pow";
    template <class X>
    static X apply(const X& a, const X& b) {
        return simd::pow(a, b);
    }
    // b * a^(b-1) rather than b * y / a, which is 0/0 at a = 0.
    template <class X>
    static X d_lhs(const X& a, const X& b, const X&) {
        return b * call(pow{}, a, b - constant<X>(1));
    }
    // y * log(a), taken as 0 where y is 0 so that 0^b does not give 0 * -inf.
    template <class X>
    static X d_rhs(const X& a, const X&, const X& y) {
        return simd::select(y == constant<X>(0), constant<X>(0), y * call(log{}, a));
    }
};

// Comparisons give 1 or 0 in the value type; their derivative is zero everywhere it exists.
#define DENDRITE_COMPARISON_OP(op_name, op)                              \
    struct op_name {                                                     \
        static constexpr const char* name = #op_name;                    \
        template <class X>                                               \
        static X apply(const X& a, const X& b) {                         \
            return simd::select(a op b, constant<X>(1), constant<X>(0)); \
        }                                                                \
        template <class X>                                               \
        static X d_lhs(const X&, const X&, const X&) {                   \
            return constant<X>(0);                                       \
        }                                                                \
        template <class X>                                               \
        static X d_rhs(const X&, const X&, const X&) {                   \
            return constant<X>(0);                                       \
        }                                                                \
    };
DENDRITE_COMPARISON_OP(less, <)
DENDRITE_COMPARISON_OP(less_equal, <=)
DENDRITE_COMPARISON_OP(greater, >)
DENDRITE_COMPARISON_OP(greater_equal, >=)
DENDRITE_COMPARISON_OP(equal, ==)
#undef DENDRITE_COMPARISON_OP

struct not_equal {
    static constexpr const char* name = "not_equal";
    // simd::not_equal, not the batch operator!=, so that NaN != x is 1 in SIMD lanes too.
    template <class X>
    static X apply(const X& a, const X& b) {
        return simd::select(simd::not_equal(a, b), constant<X>(1), constant<X>(0));
    }
    template <class X>
    static X d_lhs(const X&, const X&, const X&) {
        return constant<X>(0);
    }
    template <class X>
    static X d_rhs(const X&, const X&, const X&) {
        return constant<X>(0);
    }
};

template <>
inline constexpr bool polynomial<neg> = true;
template <>
inline constexpr bool polynomial<square> = true;
template <>
inline constexpr bool polynomial<add> = true;
template <>
inline constexpr bool polynomial<sub> = true;
template <>
inline constexpr bool polynomial<mul> = true;
template <>
inline constexpr bool polynomial<div> = true;
template <>
inline constexpr bool polynomial<less> = true;
template <>
inline constexpr bool polynomial<less_equal> = true;
template <>
inline constexpr bool polynomial<greater> = true;
template <>
inline constexpr bool polynomial<greater_equal> = true;
template <>
inline constexpr bool polynomial<equal> = true;
template <>
inline constexpr bool polynomial<not_equal> = true;

}  // namespace dendrite::inline DENDRITE_TARGET::ops
