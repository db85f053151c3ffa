// Fused nodes whose every var leaf is one var (x * sigmoid(x), a user's one-line activation): the
// backward sweep sums that var's contributions in registers and writes its gradient once. Each
// case checks values and gradients against the formulas, at sizes around the SIMD width and one
// split over threads, writing a fresh gradient and adding to one that holds contributions already,
// and the layouts left to the general sweep (a broadcast var, two distinct vars).
#include "helpers.hpp"

#include <cmath>
#include <type_traits>
#include <vector>

using namespace dendrite;
using namespace dendrite::testing;

namespace {

const std::vector<std::size_t> sizes{0, 1, 7, 15, 17, 33, 257, 90'300};

double swish(double x) {
    return x / (1 + std::exp(-1.702 * x));
}
double swish_derivative(double x) {
    const double s = 1 / (1 + std::exp(-1.702 * x));
    return s + 1.702 * x * s * (1 - s);
}

/// Relative and absolute: the derivative crosses zero.
template <class T>
Approx near(double want) {
    const double tol = std::is_same_v<T, float> ? 2e-6 : 1e-13;
    return Approx(want).epsilon(tol).margin(tol);
}

}  // namespace

TEMPLATE_TEST_CASE("one var at two places: value and gradient, deferred and eager",
                   "[autodiff][single-var]", float, double) {
    using T = TestType;
    rng g(3);
    for (const std::size_t n : sizes) {
        for (const bool eager : {false, true}) {
            INFO("n = " << n << (eager ? ", value read first" : ", deferred"));
            const tensor<T> xs = uniform<T>(shape{n}, T(-4), T(4), g);
            const tensor<T> seed = uniform<T>(shape{n}, T(-1), T(1), g);
            tape t;
            auto x = variable(t, xs);
            var<T> y = x * sigmoid(T(1.702) * x);
            if (eager) (void)y.value();
            y.backward(seed);
            for (std::size_t i = 0; i < n; ++i) {
                REQUIRE(y.value()(i) == near<T>(swish(xs(i))));
                REQUIRE(x.grad()(i) == near<T>(seed(i) * swish_derivative(xs(i))));
            }
        }
    }
}

TEST_CASE("a single-var sweep adds to a gradient that already holds contributions",
          "[autodiff][single-var]") {
    rng g(7);
    for (const std::size_t n : sizes) {
        INFO("n = " << n);
        const tensor<double> xs = uniform<double>(shape{n}, -2, 2, g);
        tape t;
        auto x = variable(t, xs);
        var<double> b = x * tanh(x);  // swept last, after exp(x) has written x's gradient
        var<double> a = exp(x);
        var<double> c = a + b;
        c.backward(tensor<double>(shape{n}, 1.0));
        for (std::size_t i = 0; i < n; ++i) {
            const double v = xs(i), th = std::tanh(v);
            REQUIRE(x.grad()(i) ==
                    Approx(std::exp(v) + th + v * (1 - th * th)).epsilon(1e-13).margin(1e-14));
        }
    }
}

TEST_CASE("a parameter's gradient accumulates over single-var recordings",
          "[autodiff][single-var]") {
    rng g(9);
    const tensor<double> w = uniform<double>(shape{33}, -2, 2, g);
    tensor<double> dw(shape{33}, 0.5);
    for (int step = 0; step < 2; ++step) {
        tape t;
        auto p = parameter(t, w, dw);
        var<double> y = p * p * p - 3.0 * p;
        y.backward(tensor<double>(shape{33}, 1.0));
    }
    for (std::size_t i = 0; i < 33; ++i)
        CHECK(dw(i) == Approx(0.5 + 2 * (3 * w(i) * w(i) - 3)).epsilon(1e-13).margin(1e-14));
}

TEST_CASE("a var in a where condition and both branches", "[autodiff][single-var]") {
    rng g(13);
    const tensor<double> xs = away_from_zero(shape{257}, 0.1, 3, g);
    tape t;
    auto x = variable(t, xs);
    var<double> y = where(x > 0.0, x * x, -x);
    y.backward(tensor<double>(shape{257}, 2.0));
    for (std::size_t i = 0; i < 257; ++i) {
        const double v = xs(i);
        REQUIRE(y.value()(i) == (v > 0 ? v * v : -v));
        REQUIRE(x.grad()(i) == (v > 0 ? 4 * v : -2.0));
    }
}

TEST_CASE("one var with constant tensors, contiguous and broadcast", "[autodiff][single-var]") {
    rng g(17);
    const tensor<double> xs = uniform<double>(shape{15, 17}, -2, 2, g);
    const tensor<double> full = uniform<double>(shape{15, 17}, -1, 1, g);
    const tensor<double> row = uniform<double>(shape{1, 17}, -1, 1, g);
    for (const bool broadcast : {false, true}) {
        INFO((broadcast ? "broadcast constant" : "contiguous constant"));
        const tensor<double>& c = broadcast ? row : full;
        tape t;
        auto x = variable(t, xs);
        var<double> y = x * c + sin(x) * x;
        y.backward(tensor<double>(shape{15, 17}, 1.0));
        for (std::size_t i = 0; i < 15; ++i)
            for (std::size_t j = 0; j < 17; ++j) {
                const double v = xs(i, j), k = broadcast ? row(0, j) : full(i, j);
                REQUIRE(y.value()(i, j) ==
                        Approx(v * k + std::sin(v) * v).epsilon(1e-13).margin(1e-14));
                REQUIRE(x.grad()(i, j) ==
                        Approx(k + std::cos(v) * v + std::sin(v)).epsilon(1e-13).margin(1e-14));
            }
    }
}

// Layouts the single-var sweep does not take: a var broadcast along rows (its gradient is a sum
// over them) and two distinct vars; the general sweep gives them.
TEST_CASE("a broadcast var and two distinct vars take the general sweep",
          "[autodiff][single-var]") {
    rng g(19);
    const tensor<double> rs = uniform<double>(shape{1, 17}, -2, 2, g);
    const tensor<double> c = uniform<double>(shape{7, 17}, -1, 1, g);
    {
        tape t;
        auto r = variable(t, rs);
        var<double> y = r * sigmoid(r) + c;
        y.backward(tensor<double>(shape{7, 17}, 1.0));
        for (std::size_t j = 0; j < 17; ++j) {
            const double v = rs(0, j), s = 1 / (1 + std::exp(-v));
            REQUIRE(r.grad()(0, j) ==
                    Approx(7 * (s + v * s * (1 - s))).epsilon(1e-13).margin(1e-14));
        }
    }
    {
        const tensor<double> as = uniform<double>(shape{33}, -2, 2, g);
        const tensor<double> bs = uniform<double>(shape{33}, -2, 2, g);
        tape t;
        auto a = variable(t, as);
        auto b = variable(t, bs);
        var<double> y = a * sigmoid(b) + b * a;
        y.backward(tensor<double>(shape{33}, 1.0));
        for (std::size_t i = 0; i < 33; ++i) {
            const double s = 1 / (1 + std::exp(-bs(i)));
            REQUIRE(a.grad()(i) == Approx(s + bs(i)).epsilon(1e-13).margin(1e-14));
            REQUIRE(b.grad()(i) ==
                    Approx(as(i) * s * (1 - s) + as(i)).epsilon(1e-13).margin(1e-14));
        }
    }
}

// The slot's gradient starts at -0, the identity of +: a zero gradient keeps the sign its
// contributions give it, as in the general sweep, which stores a first contribution as it is.
TEST_CASE("signs of zero in single-var gradients are the contributions'",
          "[autodiff][single-var]") {
    const tensor<double> xs{-0.0, 0.0,  -0.0, 0.0,  -0.0, 0.0,  -0.0, 0.0, -0.0,
                            0.0,  -0.0, 0.0,  -0.0, 0.0,  -0.0, 0.0,  -0.0};
    tape t;
    auto x = variable(t, xs);
    var<double> y = x * x;  // d/dx = 2x: -0 at -0
    y.backward(tensor<double>(xs.shape(), 1.0));
    for (std::size_t i = 0; i < xs.size(); ++i) {
        INFO("x = " << (std::signbit(xs(i)) ? "-0" : "+0"));
        REQUIRE(x.grad()(i) == 0.0);
        REQUIRE(std::signbit(x.grad()(i)) == std::signbit(xs(i)));
    }
    tape u;
    auto z = variable(u, tensor<double>(shape{17}, -1.0));
    var<double> w = where(z > 0.0, z * z, 2.0);  // the branch with z is never taken: +0
    w.backward(tensor<double>(shape{17}, 1.0));
    for (std::size_t i = 0; i < 17; ++i)
        REQUIRE((z.grad()(i) == 0.0 && !std::signbit(z.grad()(i))));
    // The same through derive(): the derivative of x * x at -0 is -0.
    const auto square = [](auto v) { return v * v; };
    CHECK(std::signbit(derive(square)(-0.0)));
    CHECK_FALSE(std::signbit(derive(square)(0.0)));
}
