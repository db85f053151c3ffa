// Gradient checks of every element-wise op of expr/ops.hpp through the tape: unary functions,
// binary ops with vars on either side or both, pow both ways, min/max, where, comparisons.
#include <functional>
#include <tuple>
#include <utility>
#include <vector>

#include "helpers.hpp"

using namespace dendrite;
using namespace dendrite::testing;

namespace {

struct unary_case {
    const char* name;
    std::function<var<double>(var<double>)> f;
    double lo, hi;     // magnitudes of the inputs
    bool either_sign;  // random signs (inputs still at least lo from 0)
};

// Inputs stay away from kinks (0 for abs and relu) and from domain edges (log, sqrt, rsqrt).
const std::vector<unary_case> unary_cases{
    {"neg", [](auto x) { return -x; }, 0.1, 2.0, true},
    {"abs", [](auto x) { return abs(x); }, 0.1, 2.0, true},
    {"exp", [](auto x) { return exp(x); }, 0.0, 2.0, true},
    {"log", [](auto x) { return log(x); }, 0.2, 3.0, false},
    {"log1p", [](auto x) { return log1p(x); }, 0.0, 0.8, true},
    {"expm1", [](auto x) { return expm1(x); }, 0.0, 2.0, true},
    {"sqrt", [](auto x) { return sqrt(x); }, 0.2, 3.0, false},
    {"rsqrt", [](auto x) { return rsqrt(x); }, 0.2, 3.0, false},
    {"square", [](auto x) { return square(x); }, 0.0, 2.0, true},
    {"sin", [](auto x) { return sin(x); }, 0.0, 3.0, true},
    {"cos", [](auto x) { return cos(x); }, 0.0, 3.0, true},
    {"tanh", [](auto x) { return tanh(x); }, 0.0, 3.0, true},
    {"sigmoid", [](auto x) { return sigmoid(x); }, 0.0, 5.0, true},
    {"softplus", [](auto x) { return softplus(x); }, 0.0, 5.0, true},
    {"relu", [](auto x) { return relu(x); }, 0.1, 2.0, true},
    {"erf", [](auto x) { return erf(x); }, 0.0, 2.0, true},
    // composites: the chain rule through several ops in one fused node
    {"x*sigmoid(1.702x)", [](auto x) { return x * sigmoid(1.702 * x); }, 0.0, 3.0, true},
    {"gelu(tanh)",
     [](auto x) { return 0.5 * x * (1.0 + tanh(0.7978845608 * (x + 0.044715 * x * x * x))); }, 0.0,
     3.0, true},
    {"1/(1+x^2)", [](auto x) { return 1.0 / (1.0 + square(x)); }, 0.0, 3.0, true},
};

}  // namespace

TEST_CASE("every unary op passes gradcheck at shapes that are not SIMD multiples",
          "[autodiff][gradcheck][unary]") {
    rng g(101);
    for (const auto& c : unary_cases)
        for (const shape& s : odd_shapes) {
            INFO(c.name << " at " << s.str());
            const tensor<double> x = c.either_sign ? away_from_zero(s, c.lo, c.hi, g)
                                                   : uniform<double>(s, c.lo, c.hi, g);
            require_gradcheck(gradcheck(c.f, x), 1e-6);
        }
}

namespace {

/// Checks op(a, b) with vars on both sides, a var on the left only (right a constant tensor, then
/// a scalar), and on the right only. `make` draws (a, b) for a shape; `c_right` / `c_left` are
/// the scalars used for the one-var forms (chosen clear of the op's kinks).
template <class Op, class Make>
void check_binary(const char* name, Op op, Make make, double c_right, double c_left) {
    rng g(202);
    for (const shape& s : odd_shapes) {
        tensor<double> a, b;  // the lambdas below capture them: no structured binding
        std::tie(a, b) = make(s, g);
        INFO(name << " at " << s.str());
        require_gradcheck(gradcheck([&](auto x, auto y) { return op(x, y); }, a, b), 1e-6);
        require_gradcheck(gradcheck([&](auto x) { return op(x, b); }, a), 1e-6);
        require_gradcheck(gradcheck([&](auto y) { return op(a, y); }, b), 1e-6);
        require_gradcheck(gradcheck([&](auto x) { return op(x, c_right); }, a), 1e-6);
        require_gradcheck(gradcheck([&](auto y) { return op(c_left, y); }, b), 1e-6);
    }
}

std::pair<tensor<double>, tensor<double>> any_pair(const shape& s, rng& g) {
    return {uniform<double>(s, -2, 2, g), uniform<double>(s, -2, 2, g)};
}
std::pair<tensor<double>, tensor<double>> nonzero_divisor(const shape& s, rng& g) {
    return {uniform<double>(s, -2, 2, g), away_from_zero(s, 0.4, 2, g)};
}
std::pair<tensor<double>, tensor<double>> positive_base(const shape& s, rng& g) {
    return {uniform<double>(s, 0.4, 2.5, g), uniform<double>(s, -1.5, 2, g)};
}
// Operands at least 0.2 apart and at least 0.3 from 0 (the scalar used on the other side): b is
// -a or a scaled past itself, chosen per element.
std::pair<tensor<double>, tensor<double>> separated(const shape& s, rng& g) {
    tensor<double> a = away_from_zero(s, 0.3, 2, g);
    tensor<double> b = tensor<double>::uninitialized(s);
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double u = g.uniform();
        b.data()[i] = a.data()[i] * (g.below(2) ? -(1.0 + u) : 1.7 + 0.5 * u);
    }
    return {a, b};
}

}  // namespace

TEST_CASE("add, sub, mul, div pass gradcheck with vars on either side",
          "[autodiff][gradcheck][binary]") {
    check_binary(
        "add", [](const auto& a, const auto& b) { return a + b; }, any_pair, 0.7, -1.3);
    check_binary(
        "sub", [](const auto& a, const auto& b) { return a - b; }, any_pair, 0.7, -1.3);
    check_binary(
        "mul", [](const auto& a, const auto& b) { return a * b; }, any_pair, 0.7, -1.3);
    check_binary(
        "div", [](const auto& a, const auto& b) { return a / b; }, nonzero_divisor, 0.7, -1.3);
}

TEST_CASE("pow passes gradcheck in its base and its exponent", "[autodiff][gradcheck][binary]") {
    check_binary(
        "pow", [](const auto& a, const auto& b) { return pow(a, b); }, positive_base, 2.5, 1.3);
    // integer and fractional constant exponents, and a constant base below 1
    rng g(5);
    const tensor<double> a = uniform<double>({3, 7}, 0.4, 2.5, g);
    require_gradcheck(gradcheck([](auto x) { return pow(x, 3.0); }, a), 1e-6);
    require_gradcheck(gradcheck([](auto x) { return pow(x, -0.5); }, a), 1e-6);
    require_gradcheck(gradcheck([](auto x) { return pow(0.6, x); }, a), 1e-6);
}

TEST_CASE("max and min pass gradcheck away from ties", "[autodiff][gradcheck][binary]") {
    check_binary(
        "max", [](const auto& a, const auto& b) { return max(a, b); }, separated, 0.0, 0.0);
    check_binary(
        "min", [](const auto& a, const auto& b) { return min(a, b); }, separated, 0.0, 0.0);
}

TEST_CASE("max and min send a tie's gradient to the left operand only", "[autodiff][binary]") {
    tape t;
    auto a = variable(t, tensor<double>{1.0, 2.0, 3.0});
    auto b = variable(t, tensor<double>{1.0, 5.0, 0.0});
    sum(max(a, b) + min(a, b)).backward();
    // ties: max and min both pick a, so a gets 2 and b 0; elsewhere each gets one contribution
    CHECK(a.grad()(0) == 2.0);
    CHECK(b.grad()(0) == 0.0);
    CHECK(a.grad()(1) == 1.0);
    CHECK(b.grad()(1) == 1.0);
}

TEST_CASE("comparisons give zero gradients and pass gradcheck", "[autodiff][gradcheck][binary]") {
    rng g(9);
    tensor<double> a, b;
    std::tie(a, b) = separated({3, 7}, g);
    auto check = [&](auto cmp) {
        require_gradcheck(gradcheck([&](auto x, auto y) { return cmp(x, y) * 1.0 + x * y; }, a, b),
                          1e-6);
        tape t;
        auto x = variable(t, a);
        auto y = variable(t, b);
        sum(cmp(x, y)).backward();
        CHECK(sum(abs(x.grad())) == 0.0);
        CHECK(sum(abs(y.grad())) == 0.0);
    };
    check([](const auto& x, const auto& y) { return x < y; });
    check([](const auto& x, const auto& y) { return x <= y; });
    check([](const auto& x, const auto& y) { return x > y; });
    check([](const auto& x, const auto& y) { return x >= y; });
    check([](const auto& x, const auto& y) { return x == y; });
    check([](const auto& x, const auto& y) { return x != y; });
}

TEST_CASE("where routes the gradient to the chosen branch", "[autodiff][gradcheck][where]") {
    rng g(11);
    for (const shape& s : odd_shapes) {
        INFO(s.str());
        tensor<double> a, b;
        std::tie(a, b) = separated(s, g);
        const tensor<double> mask = uniform<double>(s, 0, 1, g) > 0.5;
        // condition a constant tensor; then computed from the vars themselves (it gets no gradient)
        require_gradcheck(
            gradcheck([&](auto x, auto y) { return where(mask, sin(x), y * y); }, a, b), 1e-6);
        require_gradcheck(
            gradcheck([](auto x, auto y) { return where(x > y, x * 2.0, exp(y)); }, a, b), 1e-6);
        require_gradcheck(gradcheck([](auto x) { return where(x > 0.0, x, 0.1 * x); }, a), 1e-6);
        require_gradcheck(gradcheck([](auto x) { return where(x < 0.0, 0.5, square(x)); }, a),
                          1e-6);
    }
    // a var read only by the condition receives a zero gradient; the branches get theirs
    tape t;
    auto x = variable(t, tensor<double>{-1.0, 2.0, -3.0});
    auto c = variable(t, tensor<double>{1.0, 0.0, 1.0});
    sum(where(c, x, 2.0 * x)).backward();
    CHECK(x.grad()(0) == 1.0);
    CHECK(x.grad()(1) == 2.0);
    CHECK(x.grad()(2) == 1.0);
    CHECK(sum(abs(c.grad())) == 0.0);
}
