#pragma once
// Activations written at run time: "x * tanh(softplus(x))", "mish", "where(x > 0, x, 0.1 x)".
//
// A parsed expression is a list of nodes evaluated in order on any lane type: numbers, SIMD
// batches, jets (so its derivatives of every order come from the same op rules as a compiled
// activation's) and formulas (so describe() writes it and its derivatives out). The grammar:
//
//   condition := sum [("<" | "<=" | ">" | ">=" | "==" | "!=") sum]
//   sum       := product {("+" | "-") product}
//   product   := unary {("*" | "/") unary | unary}      juxtaposition multiplies: "0.1 x"
//   unary     := "-" unary | power
//   power     := atom ["^" unary]
//   atom      := number | "x" | "(" condition ")" | name "(" condition {"," condition} ")"
//
// with the element-wise functions of expr/functions.hpp (exp, log, log1p, expm1, sqrt, rsqrt,
// square, abs, sin, cos, tanh, sigmoid, softplus, relu, erf; pow, max, min; where(c, a, b)) and
// the built-in activations by name, as functions ("mish(2 x)") or alone ("mish").

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "dendrite/config.hpp"
#include "dendrite/expr/derive.hpp"
#include "dendrite/expr/functions.hpp"
#include "dendrite/nn/activations.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

class activation_expression {
  public:
    /// Parses `text`; throws std::invalid_argument naming the column and what was expected.
    explicit activation_expression(std::string text);

    const std::string& text() const noexcept { return program_->text; }

    /// Marks callables that take lanes only (no expression trees): evaluated on lanes directly.
    static constexpr bool acts_on_lanes_only = true;

    /// The expression at x: a number, a SIMD batch, a jet or a formula.
    template <class X>
    requires(!expression<X>) X operator()(const X& x) const;

    /// The expression over a tensor expression or a var: one op of the fused pass, whose
    /// derivative comes from forward mode on lanes. So an activation_expression is an activation
    /// like any other: `nn::activation{activation_expression("x * sigmoid(x)"), "swish"}` goes
    /// into dense layers' epilogues and run-time networks.
    template <expression A>
    auto operator()(const A& a) const;

    enum class op : std::uint8_t {
        variable,
        constant,
        negate,
        add,
        subtract,
        multiply,
        divide,
        power,
        maximum,
        minimum,
        less,
        less_equal,
        greater,
        greater_equal,
        equal,
        not_equal,
        where,
        exp,
        log,
        log1p,
        expm1,
        sqrt,
        rsqrt,
        square,
        abs,
        sin,
        cos,
        tanh,
        sigmoid,
        softplus,
        relu,
        erf,
        builtin,  // a built-in activation: `index` into builtin_activations()
    };
    struct node {
        op kind;
        double value = 0;                   // constant
        std::uint32_t a = 0, b = 0, c = 0;  // operands: earlier nodes
        std::uint32_t index = 0;            // builtin
    };
    const std::vector<node>& nodes() const noexcept { return program_->nodes; }

  private:
    struct program {
        std::string text;
        std::vector<node> nodes;  // each after its operands; the last is the result
    };
    // Shared and immutable: the ops of expression trees and tape nodes copy the expression, and
    // a copy must cost no allocation.
    std::shared_ptr<const program> program_;

    template <class X>
    X run(const X& x, X* v) const;
};

namespace detail {
/// Built-in activation `index` at x, through its expression tree (as a compiled network runs it).
template <class X, std::size_t... I>
X apply_builtin(std::size_t index, const X& x, std::index_sequence<I...>) {
    X r = x;
    const auto all = builtin_activations();
    ((I == index ? (void)(r = expr::apply_lanes(std::get<I>(all), x)) : (void)0), ...);
    return r;
}
}  // namespace detail

template <class X>
requires(!expression<X>) X activation_expression::operator()(const X& x) const {
    // Lanes are evaluated once per SIMD batch of a training step: no allocation for them.
    constexpr std::size_t on_stack = 64;
    if constexpr (std::is_trivially_copyable_v<X> && sizeof(X) * on_stack <= 32768) {
        if (program_->nodes.size() <= on_stack) {
            std::array<X, on_stack> v;
            return run(x, v.data());
        }
    }
    std::vector<X> v(program_->nodes.size(), x);
    return run(x, v.data());
}

template <class X>
X activation_expression::run(const X& x, X* v) const {
    using T = simd::scalar_t<X>;
    const std::vector<node>& nodes = program_->nodes;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        const node& n = nodes[i];
        // Operands are earlier nodes; leaves read neither.
        const X& a = n.a < i ? v[n.a] : x;
        const X& b = n.b < i ? v[n.b] : x;
        X& out = v[i];
        switch (n.kind) {
            case op::variable:
                out = x;
                continue;
            case op::constant:
                out = X(T(n.value));
                continue;
            case op::negate:
                out = ops::call(ops::neg{}, a);
                continue;
            case op::add:
                out = ops::call(ops::add{}, a, b);
                continue;
            case op::subtract:
                out = ops::call(ops::sub{}, a, b);
                continue;
            case op::multiply:
                out = ops::call(ops::mul{}, a, b);
                continue;
            case op::divide:
                out = ops::call(ops::div{}, a, b);
                continue;
            case op::power:
                out = ops::call(ops::pow{}, a, b);
                continue;
            case op::maximum:
                out = ops::call(ops::maximum{}, a, b);
                continue;
            case op::minimum:
                out = ops::call(ops::minimum{}, a, b);
                continue;
            case op::less:
                out = ops::call(ops::less{}, a, b);
                continue;
            case op::less_equal:
                out = ops::call(ops::less_equal{}, a, b);
                continue;
            case op::greater:
                out = ops::call(ops::greater{}, a, b);
                continue;
            case op::greater_equal:
                out = ops::call(ops::greater_equal{}, a, b);
                continue;
            case op::equal:
                out = ops::call(ops::equal{}, a, b);
                continue;
            case op::not_equal:
                out = ops::call(ops::not_equal{}, a, b);
                continue;
            case op::where:
                out = simd::select(simd::not_equal(a, X(T(0))), b, v[n.c < i ? n.c : 0]);
                continue;
            case op::exp:
                out = ops::call(ops::exp{}, a);
                continue;
            case op::log:
                out = ops::call(ops::log{}, a);
                continue;
            case op::log1p:
                out = ops::call(ops::log1p{}, a);
                continue;
            case op::expm1:
                out = ops::call(ops::expm1{}, a);
                continue;
            case op::sqrt:
                out = ops::call(ops::sqrt{}, a);
                continue;
            case op::rsqrt:
                out = ops::call(ops::rsqrt{}, a);
                continue;
            case op::square:
                out = ops::call(ops::square{}, a);
                continue;
            case op::abs:
                out = ops::call(ops::abs{}, a);
                continue;
            case op::sin:
                out = ops::call(ops::sin{}, a);
                continue;
            case op::cos:
                out = ops::call(ops::cos{}, a);
                continue;
            case op::tanh:
                out = ops::call(ops::tanh{}, a);
                continue;
            case op::sigmoid:
                out = ops::call(ops::sigmoid{}, a);
                continue;
            case op::softplus:
                out = ops::call(ops::softplus{}, a);
                continue;
            case op::relu:
                out = ops::call(ops::relu{}, a);
                continue;
            case op::erf:
                out = ops::call(ops::erf{}, a);
                continue;
            case op::builtin: {
                constexpr std::size_t count = std::tuple_size_v<decltype(builtin_activations())>;
                out = detail::apply_builtin(n.index, a, std::make_index_sequence<count>{});
                continue;
            }
        }
    }
    return v[nodes.size() - 1];
}

namespace detail {
/// A run-time activation as an op of expression trees.
struct expression_activation_op {
    static constexpr const char* name = "activation";
    static constexpr bool composite = true;  // a formula shows the expression itself
    activation_expression f;

    template <class X>
    X apply(const X& x) const {
        return f(x);
    }
    template <class X>
    X derivative(const X& x, const X&) const {
        return expr::value_and_derivative(f, x).second;
    }
};
}  // namespace detail

template <expression A>
auto activation_expression::operator()(const A& a) const {
    return expr::make_unary(a, detail::expression_activation_op{*this});
}

}  // namespace dendrite::inline DENDRITE_TARGET::nn
