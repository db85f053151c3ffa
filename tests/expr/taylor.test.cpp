// Derivatives of any order (expr/taylor.hpp, simd/jet.hpp): closed-form second derivatives of
// the built-in activations, orders 1-4 against finite differences, saturation at large
// arguments, PyTorch's conventions at kinks, the fused tensor forms, derivative<N> on the tape,
// user-given derivatives, and jets over SIMD registers.
//
// References are written with the C library in numerically stable forms (1 - sigmoid(x) as
// sigmoid(-x), 1 - tanh^2 as 1 / cosh^2), so a disagreement is the library's.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "check.hpp"
#include "dendrite/autodiff/fused.hpp"
#include "dendrite/autodiff/gradcheck.hpp"
#include "dendrite/expr/taylor.hpp"
#include "dendrite/nn/activations.hpp"

using namespace dendrite;

namespace {

// ---- references -------------------------------------------------------------------------------

double sigmoid_ref(double x) {
    return 1 / (1 + std::exp(-x));
}
/// 1 - tanh(x)^2 without the cancellation where tanh saturates.
double sech2(double x) {
    const double c = std::cosh(x);
    return 1 / (c * c);
}
double softplus_ref(double x) {
    return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x)));
}
double normal_pdf(double x) {
    return std::exp(-x * x / 2) / std::sqrt(2 * 3.14159265358979323846);
}

/// Derivatives 0..4 of sigmoid: with s = sigmoid(x) and p = s (1 - s), s' = p, s'' = p (1 - 2s),
/// s''' = p (1 - 6p), s'''' = p (1 - 2s) (1 - 12p); 1 - 2s is -tanh(x / 2).
std::array<double, 5> sigmoid_derivatives(double x) {
    const double s = sigmoid_ref(x), p = s * sigmoid_ref(-x), d = -std::tanh(x / 2);
    return {s, p, p * d, p * (1 - 6 * p), p * d * (1 - 12 * p)};
}
/// tanh: with t = tanh(x), q = 1 - t^2: q, -2 t q, -2 q (1 - 3 t^2), 8 t q (2 - 3 t^2).
std::array<double, 5> tanh_derivatives(double x) {
    const double t = std::tanh(x), q = sech2(x);
    return {t, q, -2 * t * q, -2 * q * (1 - 3 * t * t), 8 * t * q * (2 - 3 * t * t)};
}
/// softplus^(k) = sigmoid^(k-1).
std::array<double, 5> softplus_derivatives(double x) {
    const auto s = sigmoid_derivatives(x);
    return {softplus_ref(x), s[0], s[1], s[2], s[3]};
}
/// silu = x s: silu^(k) = x s^(k) + k s^(k-1).
std::array<double, 5> silu_derivatives(double x) {
    const auto s = sigmoid_derivatives(x);
    return {x * s[0], x * s[1] + s[0], x * s[2] + 2 * s[1], x * s[3] + 3 * s[2],
            x * s[4] + 4 * s[3]};
}
/// gelu = x Phi(x): Phi + x phi, phi (2 - x^2), phi (x^3 - 4x), phi (-x^4 + 7x^2 - 4).
std::array<double, 5> gelu_derivatives(double x) {
    const double phi = normal_pdf(x), cdf = 0.5 * std::erfc(-x / std::sqrt(2.0));
    return {x * cdf, cdf + x * phi, phi * (2 - x * x), phi * (x * x * x - 4 * x),
            phi * (-x * x * x * x + 7 * x * x - 4)};
}
/// mish = x g, g = tanh(softplus x): g' = (1 - g^2) s, g'' = -2 g g' s + (1 - g^2) s (1 - s),
/// mish' = g + x g', mish'' = 2 g' + x g''. Orders 3 and 4: no closed form here (NaN).
std::array<double, 5> mish_derivatives(double x) {
    const double sp = softplus_ref(x), g = std::tanh(sp), q = sech2(sp), s = sigmoid_ref(x);
    const double g1 = q * s, g2 = -2 * g * g1 * s + q * s * sigmoid_ref(-x);
    return {x * g, g + x * g1, 2 * g1 + x * g2, NAN, NAN};
}
/// gelu_tanh'' = sech^2(u) (u' - x tanh(u) u'^2 + x u'' / 2), u = c (x + a x^3).
double gelu_tanh_second(double x) {
    const double c = 0.7978845608028654, a = 0.044715;
    const double u = c * (x + a * x * x * x), u1 = c * (1 + 3 * a * x * x), u2 = 6 * a * c * x;
    return sech2(u) * (u1 - x * std::tanh(u) * u1 * u1 + 0.5 * x * u2);
}

/// |a - b| <= rtol |b|, or a == 0 where b is exactly 0 (up to a denormal-sized floor).
bool close_relative(double a, double b, double rtol) {
    return std::abs(a - b) <= rtol * std::abs(b) + (b == 0 ? 1e-300 : 0.0);
}

template <std::size_t N, class F>
double nth(const F& f, double x) {
    return value_and_derivatives<N>(f, x)[N];
}

}  // namespace

// ---- a. closed-form second derivatives --------------------------------------------------------

namespace {

struct second_derivative_case {
    const char* name;
    std::function<double(double)> library;  // f'' by value_and_derivatives<2>
    std::function<double(double)> reference;
};

std::vector<second_derivative_case> second_derivative_cases() {
    constexpr double selu_scale = 1.0507009873554805, selu_alpha = 1.6732632423543772;
    auto zero = [](double) { return 0.0; };
    return {
        {"relu", [](double x) { return nth<2>(nn::relu, x); }, zero},
        {"leaky_relu", [](double x) { return nth<2>(nn::leaky_relu, x); }, zero},
        {"elu", [](double x) { return nth<2>(nn::elu, x); },
         [](double x) { return x > 0 ? 0.0 : std::exp(x); }},
        {"selu", [](double x) { return nth<2>(nn::selu, x); },
         [=](double x) { return x > 0 ? 0.0 : selu_scale * selu_alpha * std::exp(x); }},
        {"gelu", [](double x) { return nth<2>(nn::gelu, x); },
         [](double x) { return normal_pdf(x) * (2 - x * x); }},
        {"gelu_tanh", [](double x) { return nth<2>(nn::gelu_tanh, x); }, gelu_tanh_second},
        {"sigmoid", [](double x) { return nth<2>(nn::sigmoid, x); },
         [](double x) { return sigmoid_derivatives(x)[2]; }},
        {"tanh", [](double x) { return nth<2>(nn::tanh, x); },
         [](double x) { return tanh_derivatives(x)[2]; }},
        {"softplus", [](double x) { return nth<2>(nn::softplus, x); },
         [](double x) { return softplus_derivatives(x)[2]; }},
        {"softsign", [](double x) { return nth<2>(nn::softsign, x); },
         [](double x) {
             const double d = 1 + std::abs(x);
             return -2 * (x > 0 ? 1.0 : -1.0) / (d * d * d);
         }},
        {"silu", [](double x) { return nth<2>(nn::silu, x); },
         [](double x) { return silu_derivatives(x)[2]; }},
        {"swish", [](double x) { return nth<2>(nn::swish, x); },
         [](double x) { return silu_derivatives(x)[2]; }},
        {"mish", [](double x) { return nth<2>(nn::mish, x); },
         [](double x) { return mish_derivatives(x)[2]; }},
        {"hard_sigmoid", [](double x) { return nth<2>(nn::hard_sigmoid, x); }, zero},
        {"hard_swish", [](double x) { return nth<2>(nn::hard_swish, x); },
         [](double x) { return std::abs(x) < 3 ? 1.0 / 3.0 : 0.0; }},
    };
}

}  // namespace

TEST_CASE("second derivatives of the activations match their closed forms",
          "[expr][taylor][activations]") {
    // 401 points at -20, -19.9, ..., 20 moved by 0.05: never on a kink (0, +-3).
    std::vector<double> points;
    for (int i = -200; i < 200; ++i)
        points.push_back(0.1 * i + 0.05);
    for (const auto& c : second_derivative_cases()) {
        // Relative, also where f saturates: the rules series use there never form 1 - y with y
        // near 1 (sigmoid''(20) is 2e-9, tanh''(-19.95) is -3.4e-17).
        for (const double x : points) {
            const double a = c.library(x), b = c.reference(x);
            INFO(c.name << "''(" << x << "): library " << a << ", reference " << b);
            REQUIRE(std::isfinite(a));
            CHECK(close_relative(a, b, 1e-12));
        }
    }
}

// ---- b. orders 1-4 against finite differences of the order below ------------------------------

namespace {

/// Checks derivative<K>(f) against the five-point central difference of derivative<K - 1>(f)
/// (truncation h^4 f^(K+4) / 30 with h = 1e-3, about 1e-12 here; rounding about eps / h).
template <std::size_t K, class F>
void check_against_differences(const char* name, const F& f, const std::vector<double>& points) {
    const auto d = derivative<K>(f);
    const auto below = derivative<K - 1>(f);
    constexpr double h = 1e-3;
    for (const double x : points) {
        const double a = d(x);
        const double fd =
            (below(x - 2 * h) - 8 * below(x - h) + 8 * below(x + h) - below(x + 2 * h)) / (12 * h);
        INFO(name << " order " << K << " at " << x << ": derivative " << a << ", differences "
                  << fd);
        // Relative 1e-6, with a floor of 1e-9 where the derivative crosses zero.
        CHECK(std::abs(a - fd) <= 1e-6 * std::max(std::abs(fd), 1e-3));
    }
}

}  // namespace

TEST_CASE("orders 1 to 4 of every built-in activation match finite differences",
          "[expr][taylor][activations]") {
    // -5.95, -5.85, ..., 5.95: at least 0.05 from the kinks at 0 and +-3, wider than the stencil.
    std::vector<double> points;
    for (int i = -60; i < 60; ++i)
        points.push_back(0.1 * i + 0.05);
    std::apply(
        [&](const auto&... f) {
            (
                [&] {
                    check_against_differences<1>(f.name, f, points);
                    check_against_differences<2>(f.name, f, points);
                    check_against_differences<3>(f.name, f, points);
                    check_against_differences<4>(f.name, f, points);
                }(),
                ...);
        },
        nn::builtin_activations());
}

TEST_CASE("derivative<0> is the function itself", "[expr][taylor]") {
    for (const double x : {-2.5, -0.25, 0.75, 4.0}) {
        CHECK(derivative<0>(nn::mish)(x) == Approx(nn::mish(x)).epsilon(1e-15));
        CHECK(derivative<0>(nn::elu)(x) == Approx(nn::elu(x)).epsilon(1e-15));
    }
}

// ---- c. large arguments ------------------------------------------------------------------------

namespace {

/// A function with its derivatives 0..4 in closed form (`known` of them) and the maximum of
/// |f^(k)| over the real line for k >= 1 (rounded up; measured on a 1e-3 grid of the closed form,
/// for mish's orders 3 and 4 of the library's values). f itself grows like |x| for the
/// unbounded ones (max[0] = 0): its scale is max(1, |x|).
template <class F>
struct large_argument_case {
    const char* name;
    F f;
    std::array<double, 5> (*reference)(double);
    std::size_t known;
    std::array<double, 5> max;
};
template <class F>
large_argument_case(const char*, F, std::array<double, 5> (*)(double), std::size_t,
                    std::array<double, 5>) -> large_argument_case<F>;

auto large_argument_cases() {
    return std::tuple{
        large_argument_case{
            "sigmoid", nn::sigmoid, sigmoid_derivatives, 5, {1, 0.25, 0.0963, 0.125, 0.1277}},
        large_argument_case{
            "softplus", nn::softplus, softplus_derivatives, 5, {0, 1, 0.25, 0.0963, 0.125}},
        large_argument_case{"tanh", nn::tanh, tanh_derivatives, 5, {1, 1, 0.770, 2, 4.086}},
        large_argument_case{
            "gelu", nn::gelu, gelu_derivatives, 5, {0, 1.129, 0.7979, 0.7788, 1.5958}},
        large_argument_case{
            "mish", nn::mish, mish_derivatives, 3, {0, 1.0886, 0.6443, 0.5885, 1.1010}},
        large_argument_case{"silu", nn::silu, silu_derivatives, 5, {0, 1.0999, 0.5, 0.3082, 0.5}},
    };
}

template <class T, class C>
void check_large(const C& c, double x, const std::array<T, 5>& got, const char* path) {
    const double tolerance = std::is_same_v<T, float> ? 1e-5 : 1e-12;
    const auto ref = c.reference(x);
    for (std::size_t k = 0; k <= 4; ++k) {
        INFO(c.name << " (" << path << ") order " << k << " at " << x << ": " << got[k]
                    << ", reference " << ref[k]);
        REQUIRE(std::isfinite(got[k]));
        if (k >= c.known) continue;
        const double scale = c.max[k] > 0 ? c.max[k] : std::max(1.0, std::abs(x));
        CHECK(std::abs(static_cast<double>(got[k]) - ref[k]) <= tolerance * scale);
    }
}

}  // namespace

TEMPLATE_TEST_CASE("derivatives stay finite and accurate at large arguments",
                   "[expr][taylor][saturation]", float, double) {
    using T = TestType;
    const std::array<double, 6> xs{20, -20, 40, -40, 80, -80};
    // The same points in whole SIMD registers and in the scalar tail (50 elements: 16 or 8 lanes
    // a register, 2 left over).
    tensor<T> xt = tensor<T>::uninitialized({50});
    for (std::size_t i = 0; i < 50; ++i)
        xt.data()[i] = static_cast<T>(xs[i % 6]);
    std::apply(
        [&](const auto&... c) {
            (
                [&] {
                    for (const double x : xs)
                        check_large<T>(c, x, value_and_derivatives<4>(c.f, static_cast<T>(x)),
                                       "number");
                    const auto d = value_and_derivatives<4>(c.f, xt);
                    for (std::size_t i = 0; i < 50; ++i) {
                        std::array<T, 5> got;
                        for (std::size_t k = 0; k <= 4; ++k)
                            got[k] = d[k].data()[i];
                        check_large<T>(c, xs[i % 6], got, "tensor");
                    }
                }(),
                ...);
        },
        large_argument_cases());
}

// ---- d. kinks ----------------------------------------------------------------------------------

TEMPLATE_TEST_CASE("derivatives at kinks follow PyTorch: relu'(0) = 0 and every order above is 0",
                   "[expr][taylor][kinks]", float, double) {
    using T = TestType;
    const auto relu_f = [](const auto& x) { return relu(x); };
    const auto abs_f = [](const auto& x) { return abs(x); };
    const auto square_right = [](const auto& x) { return where(x > 0, x * x, 0.0); };
    // 37 zeros (both signs): whole registers and the scalar tail.
    tensor<T> zeros = tensor<T>::uninitialized({37});
    for (std::size_t i = 0; i < 37; ++i)
        zeros.data()[i] = i % 2 ? T(-0.0) : T(0.0);
    const auto check = [&](const char* name, const auto& f) {
        for (const T x : {T(0.0), T(-0.0)}) {
            const auto d = value_and_derivatives<3>(f, x);
            INFO(name << " at " << (std::signbit(x) ? "-0" : "+0") << ": " << d[1] << ", " << d[2]
                      << ", " << d[3]);
            CHECK(d[0] == 0);
            CHECK(d[1] == 0);
            CHECK(d[2] == 0);
            CHECK(d[3] == 0);
            CHECK(derivative<1>(f)(x) == 0);
            CHECK(derivative<2>(f)(x) == 0);
        }
        const auto d = value_and_derivatives<3>(f, zeros);
        for (std::size_t k = 1; k <= 3; ++k)
            for (std::size_t i = 0; i < 37; ++i) {
                INFO(name << " order " << k << " on a tensor, element " << i);
                CHECK(d[k].data()[i] == 0);
            }
        // Just off the kink the derivatives are the smooth pieces' (each has slope 1 at 0.5).
        CHECK(derivative<1>(f)(T(0.5)) == 1);
    };
    check("relu", relu_f);
    check("abs", abs_f);
    check("square_right", square_right);
    CHECK(derivative<1>(abs_f)(T(-0.5)) == -1);
    CHECK(derivative<2>(square_right)(T(0.5)) == 2);
    CHECK(derivative<1>(square_right)(T(-0.5)) == 0);
    CHECK(derivative<1>(nn::relu)(T(0)) == 0);
    CHECK(derivative<1>(nn::relu)(T(1e-30)) == 1);
}

// ---- e. tensor forms ---------------------------------------------------------------------------

namespace {

/// a == b to rtol relative to max(|b|, 1), as gradcheck measures: where b crosses zero, the
/// rounding of the terms that cancel (of size about 1) is what is left.
template <class T>
bool close_elementwise(T a, T b, double rtol) {
    return std::abs(static_cast<double>(a) - static_cast<double>(b)) <=
           rtol * std::max(std::abs(static_cast<double>(b)), 1.0);
}

}  // namespace

TEMPLATE_TEST_CASE("value_and_derivatives on tensors equals the scalar form element by element",
                   "[expr][taylor][tensor]", float, double) {
    using T = TestType;
    const double rtol = std::is_same_v<T, float> ? 1e-6 : 1e-12;
    for (const std::size_t n : {0, 1, 7, 15, 17, 33, 257}) {
        const tensor<T> x = check::uniform_values<T>(n, -6, 6, 31 + n);
        const auto d = value_and_derivatives<3>(nn::mish, x);
        for (std::size_t k = 0; k <= 3; ++k) {
            REQUIRE(d[k].shape() == x.shape());
            for (std::size_t i = 0; i < n; ++i) {
                const T xi = x.data()[i];
                const T want = value_and_derivatives<3>(nn::mish, xi)[k];
                INFO("size " << n << ", order " << k << ", x = " << xi << ": tensor "
                             << d[k].data()[i] << ", scalar " << want);
                CHECK(close_elementwise(d[k].data()[i], want, rtol));
            }
        }
    }
}

TEMPLATE_TEST_CASE("value_and_derivatives reads strided views", "[expr][taylor][tensor]", float,
                   double) {
    using T = TestType;
    const double rtol = std::is_same_v<T, float> ? 1e-6 : 1e-12;
    const tensor<T> base = check::uniform_values<T>(17 * 19, -5, 5, 5).reshape({17, 19});
    // A transpose (column stride 19) and a column slice (rows of 11 with stride 19).
    for (const tensor<T>& x : {base.transpose(), base.slice(1, 3, 14)}) {
        REQUIRE_FALSE(x.is_contiguous());
        const auto d = value_and_derivatives<3>(nn::mish, x);
        for (std::size_t k = 0; k <= 3; ++k) {
            REQUIRE(d[k].shape() == x.shape());
            for (std::size_t i = 0; i < x.shape()[0]; ++i)
                for (std::size_t j = 0; j < x.shape()[1]; ++j) {
                    const T want = value_and_derivatives<3>(nn::mish, x(i, j))[k];
                    INFO("order " << k << " at (" << i << ", " << j << "): " << d[k](i, j)
                                  << ", scalar " << want);
                    CHECK(close_elementwise(d[k](i, j), want, rtol));
                }
        }
    }
}

TEMPLATE_TEST_CASE("jvp on tensors is {f(x), f'(x) v}, with v of x's shape or broadcast",
                   "[expr][taylor][tensor]", float, double) {
    using T = TestType;
    const double rtol = std::is_same_v<T, float> ? 1e-6 : 1e-12;
    for (const std::size_t n : {0, 1, 7, 15, 17, 33, 257}) {
        const tensor<T> x = check::uniform_values<T>(n, -6, 6, 3 + n);
        const tensor<T> v = check::uniform_values<T>(n, -2, 2, 4 + n);
        const tensor<T> v1{T(-1.5)};
        for (const tensor<T>* dir : {&v, &v1}) {
            const auto [y, dy] = jvp(nn::mish, x, *dir);
            REQUIRE(y.shape() == x.shape());
            REQUIRE(dy.shape() == x.shape());
            for (std::size_t i = 0; i < n; ++i) {
                const T vi = dir->data()[dir->size() == 1 ? 0 : i];
                const auto s = value_and_derivatives<1>(nn::mish, x.data()[i]);
                INFO("size " << n << (dir == &v1 ? " (broadcast)" : "") << ", x = " << x.data()[i]
                             << ", v = " << vi << ": " << y.data()[i] << ", " << dy.data()[i]);
                CHECK(close_elementwise(y.data()[i], s[0], rtol));
                CHECK(close_elementwise(dy.data()[i], T(s[1] * vi), rtol));
            }
        }
    }
    // On numbers, jvp is the same pair.
    const auto [y, dy] = jvp(nn::mish, T(0.75), T(-2));
    const auto s = value_and_derivatives<1>(nn::mish, T(0.75));
    CHECK(y == s[0]);
    CHECK(dy == Approx(-2 * s[1]).epsilon(std::is_same_v<T, float> ? 1e-6 : 1e-14));
}

// ---- f. derivative<N> on the tape --------------------------------------------------------------

namespace {

void require_gradcheck(const gradcheck_report& report, double tolerance) {
    INFO(report.str());
    REQUIRE(report.passed(tolerance));
}

}  // namespace

TEST_CASE("derivative<N> of an activation passes gradcheck as a function of vars",
          "[expr][taylor][autodiff][gradcheck]") {
    rng g(404);
    for (const shape& s : {shape{17}, shape{3, 7}}) {
        const tensor<double> x = uniform<double>(s, -4.0, 4.0, g);
        require_gradcheck(gradcheck([](auto v) { return derivative<1>(nn::mish)(v); }, x), 1e-6);
        require_gradcheck(gradcheck([](auto v) { return derivative<2>(nn::gelu)(v); }, x), 1e-6);
    }
}

TEST_CASE("the tape's gradient of derivative<1>(f) is derivative<2>(f)",
          "[expr][taylor][autodiff]") {
    // 19 points: two whole registers of doubles and a tail.
    tensor<double> x = tensor<double>::uninitialized({19});
    for (std::size_t i = 0; i < 19; ++i)
        x.data()[i] = -4.3 + 0.45 * static_cast<double>(i);
    const auto check = [&](const char* name, const auto& f) {
        tape t;
        auto v = variable(t, x);
        sum(derivative<1>(f)(v)).backward();
        REQUIRE(v.grad().shape() == x.shape());
        for (std::size_t i = 0; i < 19; ++i) {
            const double want = derivative<2>(f)(x.data()[i]);
            INFO(name << " at " << x.data()[i] << ": tape " << v.grad().data()[i]
                      << ", derivative<2> " << want);
            CHECK(close_elementwise(v.grad().data()[i], want, 1e-12));
        }
    };
    check("mish", nn::mish);
    check("gelu", nn::gelu);
    check("tanh", nn::tanh);
    check("silu", nn::silu);
    check("elu", nn::elu);
}

TEST_CASE("derivative<1>(derivative<1>(f)) is derivative<2>(f)", "[expr][taylor]") {
    STATIC_REQUIRE(std::is_same_v<decltype(derivative<1>(derivative<1>(nn::mish))),
                                  decltype(derivative<2>(nn::mish))>);
    STATIC_REQUIRE(std::is_same_v<decltype(derivative<2>(derivative<1>(nn::gelu))),
                                  decltype(derivative<3>(nn::gelu))>);
    for (const double x : {-3.7, -1.0, 0.0, 0.3, 2.2, 7.5}) {
        CHECK(derivative<1>(derivative<1>(nn::mish))(x) == derivative<2>(nn::mish)(x));
        CHECK(derivative<2>(derivative<1>(nn::gelu))(x) == derivative<3>(nn::gelu)(x));
        CHECK(derivative<2>(nn::mish)(x) == nth<2>(nn::mish, x));
    }
    // On tensors too, in one pass: the same values as on numbers.
    const tensor<double> x{-3.7, -1.0, 0.0, 0.3, 2.2, 7.5};
    const tensor<double> d2 = derivative<2>(nn::mish)(x);
    for (std::size_t i = 0; i < x.size(); ++i)
        CHECK(close_elementwise(d2.data()[i], derivative<2>(nn::mish)(x.data()[i]), 1e-12));
}

// ---- g. user-given derivatives -----------------------------------------------------------------

TEST_CASE("higher derivatives of a with_derivative function come from its hand-written rule",
          "[expr][taylor][custom]") {
    // A rule that is not sin's derivative: the orders above follow the rule, not sin.
    const auto odd =
        with_derivative([](auto x) { return sin(x); }, [](auto x, auto) { return 2.0 * x; });
    // softplus written naively with the stable derivative given by hand.
    const auto soft = with_derivative([](auto x) { return log1p(exp(x)); },
                                      [](auto x, auto) { return sigmoid(x); });
    // A rule in terms of y: exp, all of whose derivatives are y.
    const auto expo =
        with_derivative([](auto x) { return exp(x); }, [](auto, auto y) { return y; });
    for (const double x : {-2.5, -0.5, 0.25, 1.75, 6.0}) {
        INFO("x = " << x);
        const auto o = value_and_derivatives<3>(odd, x);
        CHECK(o[0] == std::sin(x));
        CHECK(o[1] == 2 * x);
        CHECK(o[2] == 2);
        CHECK(o[3] == 0);
        CHECK(derivative<2>(odd)(x) == 2);

        const auto s = value_and_derivatives<1>(nn::sigmoid, x);
        const auto sig = sigmoid_derivatives(x);
        CHECK(derivative<1>(soft)(x) == s[0]);
        CHECK(close_relative(derivative<2>(soft)(x), s[1], 1e-15));
        CHECK(close_relative(derivative<2>(soft)(x), sig[1], 1e-12));
        CHECK(close_relative(derivative<3>(soft)(x), sig[2], 1e-12));

        for (const double d : value_and_derivatives<4>(expo, x))
            CHECK(close_relative(d, std::exp(x), 1e-15));
    }
    // The same rule on the tape: the gradient of derivative<1>(odd) is 2 everywhere.
    tape t;
    auto v = variable(t, tensor<double>{-1.0, 0.5, 3.0});
    sum(derivative<1>(odd)(v)).backward();
    for (const double gi : v.grad().span())
        CHECK(gi == 2);
}

// ---- h. jets on SIMD registers -----------------------------------------------------------------

TEMPLATE_TEST_CASE("value_and_derivatives on a SIMD batch equals the scalar form in every lane",
                   "[expr][taylor][simd]", float, double) {
    using T = TestType;
    using B = simd::batch<T>;
    constexpr std::size_t w = simd::width<T>;
    // The batch runs xsimd's exp, log1p and tanh, the scalar the C library's: a few ulps apart,
    // amplified by the derivative rules (measured: within 5e-7 and 1e-15 of max(|y|, 1)).
    const double rtol = std::is_same_v<T, float> ? 1e-6 : 2e-15;
    // Lanes spread over [-7, 7], clear of 0 and +-3.
    std::array<T, w> lanes;
    for (std::size_t i = 0; i < w; ++i)
        lanes[i] = static_cast<T>(-7.0 + 14.0 * (static_cast<double>(i) + 0.37) / w);
    const B x = simd::load(lanes.data());
    std::apply(
        [&](const auto&... f) {
            (
                [&] {
                    const auto d = value_and_derivatives<2>(f, x);
                    for (std::size_t k = 0; k <= 2; ++k) {
                        std::array<T, w> got;
                        simd::store(got.data(), d[k]);
                        for (std::size_t i = 0; i < w; ++i) {
                            const T want = value_and_derivatives<2>(f, lanes[i])[k];
                            INFO(f.name << " order " << k << ", lane " << i << " (x = " << lanes[i]
                                        << "): batch " << got[i] << ", scalar " << want);
                            CHECK(close_elementwise(got[i], want, rtol));
                        }
                    }
                }(),
                ...);
        },
        nn::builtin_activations());
}

TEST_CASE("jvp in several arguments: numbers, and tensors that broadcast", "[expr][taylor][jvp]") {
    const auto f = [](auto x, auto y) { return x * sin(y) + exp(x * y); };
    const auto tangent = [](double x, double y, double dx, double dy) {
        return dx * (std::sin(y) + y * std::exp(x * y)) +
               dy * (x * std::cos(y) + x * std::exp(x * y));
    };
    const auto [value, slope] = jvp(f, std::array{0.7, -1.3}, std::array{0.25, 2.0});
    CHECK(value == Approx(0.7 * std::sin(-1.3) + std::exp(0.7 * -1.3)).epsilon(1e-15));
    CHECK(slope == Approx(tangent(0.7, -1.3, 0.25, 2.0)).epsilon(1e-14));

    rng g(77);
    const tensor<double> x = uniform<double>({3, 17}, -1, 1, g),
                         dx = uniform<double>({3, 17}, -1, 1, g);
    const tensor<double> y = uniform<double>({17}, -2, 2, g), dy = uniform<double>({17}, -1, 1, g);
    const auto [fv, tv] = jvp(f, std::array{x, y}, std::array{dx, dy});
    REQUIRE(fv.shape() == shape{3, 17});
    REQUIRE(tv.shape() == shape{3, 17});
    for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t j = 0; j < 17; ++j) {
            const double xi = x.data()[i * 17 + j], yj = y.data()[j];
            CHECK(fv.data()[i * 17 + j] ==
                  Approx(xi * std::sin(yj) + std::exp(xi * yj)).epsilon(1e-14));
            CHECK(tv.data()[i * 17 + j] ==
                  Approx(tangent(xi, yj, dx.data()[i * 17 + j], dy.data()[j])).epsilon(1e-13));
        }
    // A zero direction in one argument is the partial derivative in the other.
    const auto [fv2, partial] = jvp(f, std::array{x, y}, std::array{dx, tensor<double>(shape{17})});
    const double x0 = x.data()[0], y0 = y.data()[0];
    CHECK(partial.data()[0] == Approx(tangent(x0, y0, dx.data()[0], 0)).epsilon(1e-13));
}
