#pragma once
// describe(f): an element-wise function, or the derivative the library derives for it, written
// as a formula: `describe(derivative<1>(f))` prints what the backward pass computes.

#include <string>

#include "dendrite/config.hpp"
#include "dendrite/expr/derive.hpp"
#include "dendrite/expr/formula.hpp"
#include "dendrite/expr/taylor.hpp"

namespace dendrite::inline DENDRITE_TARGET::expr {

/// f(x) as a formula in x, simplified, with shared subexpressions named once:
/// `describe(derivative<1>([](auto x) { return x * sigmoid(1.702 * x); }))` is
/// `s + 1.702 x s (1 - s)   where s = sigmoid(1.702 x)`. `how` picks plain text or LaTeX.
template <class F>
std::string describe(const F& f, notation how = notation::text) {
    return apply_lanes(f, formula::variable("x")).str(how);
}

}  // namespace dendrite::inline DENDRITE_TARGET::expr

namespace dendrite::inline DENDRITE_TARGET {
using expr::describe;
using expr::formula;
using expr::notation;
}  // namespace dendrite::inline DENDRITE_TARGET
