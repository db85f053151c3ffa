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

#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
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

    const std::string& text() const noexcept { return text_; }

    /// Marks callables that take lanes only (no expression trees): evaluated on lanes directly.
    static constexpr bool acts_on_lanes_only = true;

    /// The expression at x: a number, a SIMD batch, a jet or a formula.
    template <class X>
    X operator()(const X& x) const;

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
    const std::vector<node>& nodes() const noexcept { return nodes_; }

  private:
    std::string text_;
    std::vector<node> nodes_;  // each after its operands; the last is the result
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
X activation_expression::operator()(const X& x) const {
    using T = simd::scalar_t<X>;
    std::vector<X> v;
    v.reserve(nodes_.size());
    for (const node& n : nodes_) {
        // Operands are earlier nodes, and v never reallocates (reserved), so these stay valid.
        const X* a_ptr = n.kind == op::variable || n.kind == op::constant ? &x : &v[n.a];
        const X& a = *a_ptr;
        const X& b = n.b < v.size() ? v[n.b] : x;
        switch (n.kind) {
            case op::variable:
                v.push_back(x);
                continue;
            case op::constant:
                v.push_back(X(T(n.value)));
                continue;
            case op::negate:
                v.push_back(ops::call(ops::neg{}, a));
                continue;
            case op::add:
                v.push_back(ops::call(ops::add{}, a, b));
                continue;
            case op::subtract:
                v.push_back(ops::call(ops::sub{}, a, b));
                continue;
            case op::multiply:
                v.push_back(ops::call(ops::mul{}, a, b));
                continue;
            case op::divide:
                v.push_back(ops::call(ops::div{}, a, b));
                continue;
            case op::power:
                v.push_back(ops::call(ops::pow{}, a, b));
                continue;
            case op::maximum:
                v.push_back(ops::call(ops::maximum{}, a, b));
                continue;
            case op::minimum:
                v.push_back(ops::call(ops::minimum{}, a, b));
                continue;
            case op::less:
                v.push_back(ops::call(ops::less{}, a, b));
                continue;
            case op::less_equal:
                v.push_back(ops::call(ops::less_equal{}, a, b));
                continue;
            case op::greater:
                v.push_back(ops::call(ops::greater{}, a, b));
                continue;
            case op::greater_equal:
                v.push_back(ops::call(ops::greater_equal{}, a, b));
                continue;
            case op::equal:
                v.push_back(ops::call(ops::equal{}, a, b));
                continue;
            case op::not_equal:
                v.push_back(ops::call(ops::not_equal{}, a, b));
                continue;
            case op::where:
                v.push_back(simd::select(simd::not_equal(a, X(T(0))), b, v[n.c]));
                continue;
            case op::exp:
                v.push_back(ops::call(ops::exp{}, a));
                continue;
            case op::log:
                v.push_back(ops::call(ops::log{}, a));
                continue;
            case op::log1p:
                v.push_back(ops::call(ops::log1p{}, a));
                continue;
            case op::expm1:
                v.push_back(ops::call(ops::expm1{}, a));
                continue;
            case op::sqrt:
                v.push_back(ops::call(ops::sqrt{}, a));
                continue;
            case op::rsqrt:
                v.push_back(ops::call(ops::rsqrt{}, a));
                continue;
            case op::square:
                v.push_back(ops::call(ops::square{}, a));
                continue;
            case op::abs:
                v.push_back(ops::call(ops::abs{}, a));
                continue;
            case op::sin:
                v.push_back(ops::call(ops::sin{}, a));
                continue;
            case op::cos:
                v.push_back(ops::call(ops::cos{}, a));
                continue;
            case op::tanh:
                v.push_back(ops::call(ops::tanh{}, a));
                continue;
            case op::sigmoid:
                v.push_back(ops::call(ops::sigmoid{}, a));
                continue;
            case op::softplus:
                v.push_back(ops::call(ops::softplus{}, a));
                continue;
            case op::relu:
                v.push_back(ops::call(ops::relu{}, a));
                continue;
            case op::erf:
                v.push_back(ops::call(ops::erf{}, a));
                continue;
            case op::builtin: {
                constexpr std::size_t count = std::tuple_size_v<decltype(builtin_activations())>;
                v.push_back(detail::apply_builtin(n.index, a, std::make_index_sequence<count>{}));
                continue;
            }
        }
    }
    return v.back();
}

}  // namespace dendrite::inline DENDRITE_TARGET::nn
