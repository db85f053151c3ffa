#pragma once
// Formulas as a lane type: an element-wise function run on a formula writes itself down.
//
// A formula is a node of an expression graph over one variable x. Running a function's expression
// tree on formula lanes records each primitive op by name; running its derivative rules the same
// way (value_and_derivative, jets) records the derivative the library derived, so what `describe`
// prints is the computation itself, not a separate symbolic engine. Nodes are interned: equal
// subformulas are one node, which makes `x - x` simplify to 0 and lets the printer name each
// shared subexpression once. Construction simplifies as it goes (constants folded, x * 1 and 0
// terms dropped, constants in front of products).

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>

#include "dendrite/config.hpp"
#include "dendrite/simd/simd.hpp"

namespace dendrite::inline DENDRITE_TARGET::expr {

struct formula_access;

/// How a formula is written: plain text (`1.702 x s (1 - s)`) or LaTeX.
enum class notation { text, latex };

class formula {
  public:
    enum class kind : std::uint8_t {
        constant,
        variable,
        function,  // a named primitive of one argument: exp, sigmoid, ...
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
        logical_not,
        select,
    };

    /// The constant 0.
    formula() : formula(0.0) {}
    /// A constant (implicit: rules write `X(1)` and `1 - y * y`).
    formula(double c);  // NOLINT(google-explicit-constructor)
    /// The variable called `name`.
    static formula variable(const std::string& name);

    /// Applies a primitive op by its name, folding constants with the op itself; an op made of
    /// others (a user's function with its own derivative, a derivative<N>) is applied to the
    /// formula instead, so the formula shows what it computes.
    template <class Op>
    static formula apply_op(const Op& op, const formula& x) {
        if constexpr (requires { Op::composite; }) {
            return op.apply(x);
        } else {
            if (const auto c = x.constant_value()) return formula(op.apply(*c));
            return function(Op::name, x);
        }
    }
    template <class Op>
    static formula apply_op(const Op& op, const formula& a, const formula& b) {
        const auto ca = a.constant_value(), cb = b.constant_value();
        if (ca && cb) return formula(op.apply(*ca, *cb));
        return binary(Op::name, a, b);
    }
    static formula select(const formula& cond, const formula& a, const formula& b);

    /// The value, if the formula is a constant.
    std::optional<double> constant_value() const;
    kind node_kind() const;
    /// The node's identity: equal formulas have equal ids.
    std::uint32_t id() const noexcept { return id_; }

    /// The formula written out, each subexpression used more than once named and defined after
    /// the main formula (`s + 1.702 x s (1 - s)   where s = sigmoid(1.702 x)`).
    std::string str(notation how = notation::text) const;

    friend formula operator+(const formula& a, const formula& b);
    friend formula operator-(const formula& a, const formula& b);
    friend formula operator*(const formula& a, const formula& b);
    friend formula operator/(const formula& a, const formula& b);
    friend formula operator-(const formula& a);
    friend formula operator<(const formula& a, const formula& b);
    friend formula operator<=(const formula& a, const formula& b);
    friend formula operator>(const formula& a, const formula& b);
    friend formula operator>=(const formula& a, const formula& b);
    friend formula operator==(const formula& a, const formula& b);
    friend formula operator!(const formula& a);
    friend formula& operator+=(formula& a, const formula& b) { return a = a + b; }

  private:
    friend struct formula_access;
    explicit formula(std::uint32_t id, int) : id_(id) {}
    static formula function(const char* name, const formula& x);
    static formula binary(const char* name, const formula& a, const formula& b);
    std::uint32_t id_;
};

}  // namespace dendrite::inline DENDRITE_TARGET::expr

namespace dendrite::inline DENDRITE_TARGET::simd {
template <>
struct scalar_of<expr::formula> {
    using type = double;
};
template <>
inline constexpr bool is_lanes<expr::formula> = true;
}  // namespace dendrite::inline DENDRITE_TARGET::simd
