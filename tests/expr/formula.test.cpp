// describe(f) (expr/describe.hpp, expr/formula.hpp): the formulas of functions and of the
// derivatives the library derives for them, exactly as printed; simplification on construction;
// shared subexpressions named once; interning (equal formulas are one node).

#include <string>

#include <catch2/catch.hpp>

#include "dendrite/expr/describe.hpp"
#include "dendrite/nn/activations.hpp"

using namespace dendrite;

namespace {
// GELU's sigmoid approximation.
const auto gelu_sigmoid = [](auto x) { return x * sigmoid(1.702 * x); };
}  // namespace

TEST_CASE("describe prints the derivatives the library derives", "[expr][formula]") {
    CHECK(describe(derivative<1>(gelu_sigmoid)) ==
          "s + 1.702 x s (1 - s)   where s = sigmoid(1.702 x)");
    CHECK(describe(derivative<1>(nn::mish)) ==
          "t + x sigmoid(x) (1 - t^2)   where t = tanh(softplus(x))");
    CHECK(describe(derivative<3>(nn::tanh)) ==
          "2 v - 2 u^2   where t = tanh(x), u = 1 - t^2, v = 2 t^2 u");
    CHECK(describe(derivative<1>(nn::softsign)) ==
          "(1 - sign(x) (x / u)) / u   where u = 1 + abs(x)");
    CHECK(describe(derivative<1>(nn::sigmoid)) == "s (1 - s)   where s = sigmoid(x)");
    CHECK(describe(derivative<1>(nn::tanh)) == "1 - t^2   where t = tanh(x)");
    CHECK(describe(derivative<2>(nn::tanh)) == "-2 t (1 - t^2)   where t = tanh(x)");
    CHECK(describe(derivative<1>(nn::softplus)) == "sigmoid(x)");
    CHECK(describe(derivative<1>(nn::elu)) == "where(x > 0, 1, 1 + expm1(x))");
    CHECK(describe(derivative<1>(nn::leaky_relu)) == "where(x > 0, 1, 0.01)");
}

TEST_CASE("describe prints a function itself and names nothing used once", "[expr][formula]") {
    CHECK(describe(nn::mish) == "x tanh(softplus(x))");
    CHECK(describe(nn::gelu) == "0.5 x (1 + erf(0.7071067811865476 x))");
    CHECK(describe(gelu_sigmoid) == "x sigmoid(1.702 x)");
}

TEST_CASE("describe in LaTeX", "[expr][formula][latex]") {
    CHECK(
        describe(derivative<1>(gelu_sigmoid), notation::latex) ==
        R"(s + 1.702 \, x \, s \, \left(1 - s\right) \quad \text{where } s = \sigma\left(1.702 \, x\right))");
    CHECK(
        describe(derivative<1>(nn::softsign), notation::latex) ==
        R"(\frac{1 - \operatorname{sign}\left(x\right) \, \left(\frac{x}{u}\right)}{u} \quad \text{where } u = 1 + \left|x\right|)");
    CHECK(
        describe(derivative<3>(nn::tanh), notation::latex) ==
        R"(2 \, v - 2 \, u^{2} \quad \text{where } t = \tanh\left(x\right),\ u = 1 - t^{2},\ v = 2 \, t^{2} \, u)");
    CHECK(describe(derivative<1>(nn::relu), notation::latex) == "[x > 0]");
}

TEST_CASE("at kinks relu' is the indicator of x > 0 and every order above is 0",
          "[expr][formula][kinks]") {
    CHECK(describe(derivative<1>(nn::relu)) == "[x > 0]");
    CHECK(describe(derivative<2>(nn::relu)) == "0");
    CHECK(describe(derivative<3>(nn::relu)) == "0");
    CHECK(describe(derivative<2>(nn::leaky_relu)) == "0");
    CHECK(describe(derivative<2>(nn::hard_sigmoid)) == "0");
    CHECK(describe(derivative<1>([](auto x) { return abs(x); })) == "sign(x)");
    CHECK(describe(derivative<2>([](auto x) { return abs(x); })) == "0");
    CHECK(describe(derivative<1>([](auto x) { return where(x > 0.0, x * x, 0.0); })) ==
          "where(x > 0, 2 x, 0)");
}

TEST_CASE("formulas simplify as they are built", "[expr][formula][simplify]") {
    CHECK(describe([](auto x) { return x - x + 0 * x + 1 * x; }) == "x");
    CHECK(describe([](auto x) { return x * 1.0 / 1.0 + 0.0; }) == "x");
    CHECK(describe([](auto x) { return -(-x); }) == "x");
    CHECK(describe([](auto x) { return x + x; }) == "2 x");
    CHECK(describe([](auto x) { return x * x + x * x; }) == "2 x^2");
    CHECK(describe([](auto x) { return 2.0 * (0.5 * x + 1.0); }) == "2 + x");
    CHECK(describe([](auto x) { return sigmoid(x) / sigmoid(x); }) == "1");
    CHECK(describe([](auto x) { return (x + 1.0) - (1.0 + x); }) == "0");

    const formula x = formula::variable("x");
    CHECK((formula(2.0) * formula(3.0)).constant_value() == 6.0);
    CHECK((x - x).constant_value() == 0.0);
    CHECK(((x * x) / (x * x)).constant_value() == 1.0);
    CHECK_FALSE(x.constant_value().has_value());
    CHECK((2.0 * x + 3.0 * x).str() == "5 x");
    CHECK((x * x * x).str() == "x^3");
    CHECK((x / (x + 1.0)).str() == "x / (1 + x)");
    CHECK((x > 0.0).node_kind() == formula::kind::greater);
    CHECK(formula::select(x > 0.0, 1.0, 0.0).str() == "[x > 0]");
}

TEST_CASE("shared subexpressions are named once and defined after the formula",
          "[expr][formula][names]") {
    // A function's initial when it is free (s for sigmoid, t for tanh), else u, v, w, ...
    CHECK(describe([](auto x) { return exp(x) * exp(x) + exp(x); }) ==
          "u + u^2   where u = exp(x)");
    CHECK(describe([](auto x) { return exp(x) * exp(x) + exp(x); }, notation::latex) ==
          R"(u + u^{2} \quad \text{where } u = \exp\left(x\right))");
    // Each name is defined before the names that use it.
    CHECK(describe([](auto x) { return exp(x) + sigmoid(exp(x)) * sigmoid(exp(x)); }) ==
          "u + s^2   where u = exp(x), s = sigmoid(u)");
    CHECK(describe(derivative<2>(nn::sigmoid)) ==
          "u v - s v   where s = sigmoid(x), u = 1 - s, v = s u");
    // Used once: written out, no name. (x comes first: operands of + and * are ordered by when
    // their nodes were first built, and x is built before anything made from it.)
    CHECK(describe([](auto x) { return exp(sigmoid(x)) + x; }) == "x + exp(sigmoid(x))");
}

TEST_CASE("formulas are interned: equal formulas are one node", "[expr][formula][interning]") {
    const formula a = formula::variable("x");
    CHECK(formula::variable("x").id() == a.id());
    CHECK((a + a).id() == (2.0 * a).id());
    CHECK((a * 2.0).id() == (2.0 * a).id());
    CHECK((a * a).id() != (a + a).id());
    CHECK((a - a).id() == formula(0.0).id());
    CHECK(formula(-0.0).id() == formula(0.0).id());
    CHECK((-(-a)).id() == a.id());
    CHECK((exp(a) * sigmoid(a)).id() == (sigmoid(a) * exp(a)).id());  // one order for products
    CHECK((exp(a) + sigmoid(a)).id() == (sigmoid(a) + exp(a)).id());  // and for sums
    CHECK((a + exp(a)).id() != (a * exp(a)).id());
    // Describing the same function twice gives the same string.
    CHECK(describe(derivative<1>(nn::mish)) == describe(derivative<1>(nn::mish)));
}

TEST_CASE("a function with a hand-written derivative is described by its own rule",
          "[expr][formula][custom]") {
    const auto f =
        with_derivative([](auto x) { return sin(x); }, [](auto x, auto) { return 2.0 * x; });
    CHECK(describe(f) == "sin(x)");
    CHECK(describe(derivative<1>(f)) == "2 x");
    CHECK(describe(derivative<2>(f)) == "2");
    CHECK(describe(derivative<3>(f)) == "0");
}

// A formula names and orders its parts by what it holds, not by what the process built before.
TEST_CASE("names in a formula do not depend on unrelated formulas", "[expr][formula][names]") {
    const std::string before = describe(derivative<1>(gelu_sigmoid));
    const std::string sum_before = describe([](auto x) { return exp(x) + sigmoid(x); });
    const formula unrelated = formula::variable("s");
    (void)unrelated;
    (void)describe([](auto x) { return sigmoid(x) + exp(x) + tanh(x); });
    CHECK(describe(derivative<1>(gelu_sigmoid)) == before);
    CHECK(describe([](auto x) { return sigmoid(x) + exp(x); }) == sum_before);
}
