// Every unary op against the C library, evaluated in long double and rounded to T, at awkward sizes
// and over each op's whole useful range; special values in SIMD lanes and in the scalar tail.
//
// Tolerances are what the xsimd 8.1 kernels behind the vector body reach (measured over millions
// of points), with no slack beyond that: exactly rounded ops must match exactly, transcendentals
// are within 1-3 ulp; the exceptions are said where they are.

#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "check.hpp"
#include "dendrite/expr/evaluate.hpp"
#include "dendrite/expr/functions.hpp"

using dendrite::tensor;
using ld = long double;

namespace {

template <class T>
struct unary_case {
    std::string name;
    std::function<tensor<T>(const tensor<T>&)> apply;
    std::function<ld(ld)> reference;
    std::uint64_t max_ulp;
    // Inputs: uniform on [lo, hi), or log-uniform magnitudes e^[lo, hi) when log_scale.
    double lo, hi;
    bool log_scale = false, signed_values = true;
};

template <class T>
std::vector<unary_case<T>> unary_cases() {
    using L = std::numeric_limits<T>;
    constexpr bool is_float = sizeof(T) == 4;
    // From the smallest subnormal to the largest finite value, in the exponent.
    const double log_min = std::log(static_cast<double>(L::denorm_min())),
                 log_max = std::log(static_cast<double>(L::max()));
    return {
        // Exactly rounded in IEEE arithmetic: the reference is the same operation in T.
        {"neg", [](const tensor<T>& x) { return tensor<T>(-x); },
         [](ld v) { return -static_cast<T>(v); }, 0, log_min, log_max, true},
        {"abs", [](const tensor<T>& x) { return tensor<T>(abs(x)); },
         [](ld v) { return std::fabs(static_cast<T>(v)); }, 0, log_min, log_max, true},
        {"sqrt", [](const tensor<T>& x) { return tensor<T>(sqrt(x)); },
         [](ld v) { return std::sqrt(static_cast<T>(v)); }, 0, log_min, log_max, true},
        {"rsqrt", [](const tensor<T>& x) { return tensor<T>(rsqrt(x)); },
         [](ld v) { return T(1) / std::sqrt(static_cast<T>(v)); }, 0, log_min, log_max, true},
        {"square", [](const tensor<T>& x) { return tensor<T>(square(x)); },
         [](ld v) { return static_cast<T>(v) * static_cast<T>(v); }, 0, log_min, log_max, true},
        {"relu", [](const tensor<T>& x) { return tensor<T>(relu(x)); },
         [](ld v) { return v != v || v > 0 ? v : 0; }, 0, log_min, log_max, true},
        // exp covers results from subnormal to overflow: 1 ulp in float on AVX-512 (simd.hpp's
        // exp_scalef) and inside xsimd's own range, 3 ulp where the double result is (e^(x/2))^2.
        {"exp", [](const tensor<T>& x) { return tensor<T>(exp(x)); },
         [](ld v) { return std::exp(v); }, is_float && dendrite::simd::width<T> == 16 ? 1 : 3,
         log_min - 1, log_max + 1},
        // log over every positive magnitude including subnormals, and negatives (NaN).
        {"log", [](const tensor<T>& x) { return tensor<T>(log(x)); },
         [](ld v) { return std::log(v); }, 1, log_min, log_max, true},
        {"log1p", [](const tensor<T>& x) { return tensor<T>(log1p(x)); },
         [](ld v) { return std::log1p(v); }, 1, log_min, std::log(1e30), true, false},
        {"log1p near -1", [](const tensor<T>& x) { return tensor<T>(log1p(x)); },
         [](ld v) { return std::log1p(v); }, 1, -1, 2},
        // expm1 saturates to -1 about 2 ulp early (x < -36 in double, -16 in float).
        {"expm1", [](const tensor<T>& x) { return tensor<T>(expm1(x)); },
         [](ld v) { return std::expm1(v); }, 2, -60, log_max + 1},
        {"expm1 near 0", [](const tensor<T>& x) { return tensor<T>(expm1(x)); },
         [](ld v) { return std::expm1(v); }, 1, log_min, 0, true},
        // Arguments up to 1e4: the range reduction stays within 2 ulp there.
        {"sin", [](const tensor<T>& x) { return tensor<T>(sin(x)); },
         [](ld v) { return std::sin(v); }, 2, -1e4, 1e4},
        {"cos", [](const tensor<T>& x) { return tensor<T>(cos(x)); },
         [](ld v) { return std::cos(v); }, 2, -1e4, 1e4},
        {"sin small", [](const tensor<T>& x) { return tensor<T>(sin(x)); },
         [](ld v) { return std::sin(v); }, 1, log_min, 0, true},
        {"tanh", [](const tensor<T>& x) { return tensor<T>(tanh(x)); },
         [](ld v) { return std::tanh(v); }, 1, -30, 30},
        {"tanh small", [](const tensor<T>& x) { return tensor<T>(tanh(x)); },
         [](ld v) { return std::tanh(v); }, 1, log_min, 0, true},
        // sigmoid as 1 / (1 + e^-x): defined to be 0 once e^-x overflows, so the range stops there.
        // e^-x within 1 ulp, then the sum and the quotient each round: 3 ulp.
        {"sigmoid", [](const tensor<T>& x) { return tensor<T>(sigmoid(x)); },
         [](ld v) { return 1 / (1 + std::exp(-v)); }, 3, -log_max + 0.5, log_max},
        {"softplus", [](const tensor<T>& x) { return tensor<T>(softplus(x)); },
         [](ld v) { return v > 0 ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v)); }, 2,
         log_min, log_max - 1},
        // xsimd's double erf is a boost.simd kernel accurate to 7e-15 relative near |x| = 2.2-3,
        // where it switches from erfc2 to erfc3: up to 68 ulp, still far below float's epsilon.
        {"erf", [](const tensor<T>& x) { return tensor<T>(erf(x)); },
         [](ld v) { return std::erf(v); }, is_float ? 2 : 72, -7, 7},
        {"erf small", [](const tensor<T>& x) { return tensor<T>(erf(x)); },
         [](ld v) { return std::erf(v); }, is_float ? 2 : 24, log_min, 0, true},
    };
}

template <class T>
tensor<T> inputs_for(const unary_case<T>& c, std::size_t n, std::uint64_t seed) {
    return c.log_scale ? check::log_uniform_values<T>(n, c.lo, c.hi, c.signed_values, seed)
                       : check::uniform_values<T>(n, c.lo, c.hi, seed);
}

template <class T>
void check_case(const unary_case<T>& c, const tensor<T>& x) {
    const tensor<T> y = c.apply(x);
    REQUIRE(y.shape() == x.shape());
    std::uint64_t worst = 0;
    T worst_x = 0, worst_y = 0, worst_ref = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const T ref = static_cast<T>(c.reference(static_cast<ld>(x.data()[i])));
        const std::uint64_t d = check::ulp_distance(y.data()[i], ref);
        if (d > worst) {
            worst = d;
            worst_x = x.data()[i];
            worst_y = y.data()[i];
            worst_ref = ref;
        }
    }
    INFO(c.name << " over " << x.size() << " values: worst " << worst << " ulp at x = " << +worst_x
                << ": got " << +worst_y << ", expected " << +worst_ref);
    CHECK(worst <= c.max_ulp);
}

}  // namespace

TEMPLATE_TEST_CASE("unary ops match the C library within a few ulp", "[expr][unary]", float,
                   double) {
    Catch::StringMaker<TestType>::precision = std::numeric_limits<TestType>::max_digits10;
    for (const auto& c : unary_cases<TestType>()) {
        SECTION(c.name) {
            for (std::size_t n : check::awkward_sizes)
                check_case(c, inputs_for(c, n, 1 + n));
            // Many more points for the accuracy claim itself.
            check_case(c, inputs_for(c, 1 << 15, 99));
        }
    }
}

TEMPLATE_TEST_CASE("special values give the C library's result in SIMD lanes and in the tail",
                   "[expr][unary]", float, double) {
    using T = TestType;
    using L = std::numeric_limits<T>;
    constexpr std::size_t w = dendrite::simd::width<T>;
    const T specials[] = {T(0),           -T(0),           L::infinity(),    -L::infinity(),
                          L::quiet_NaN(), L::denorm_min(), -L::denorm_min(), L::min() / 4,
                          L::min(),       L::max(),        L::lowest(),      T(1),
                          T(-1)};
    const auto cases = unary_cases<T>();
    for (const auto& c : cases) {
        SECTION(c.name) {
            for (T s : specials) {
                // Element 0 goes through the vector body, element w through the scalar tail.
                const tensor<T> x(dendrite::shape{w + 1}, s);
                const tensor<T> y = c.apply(x);
                const T ref = static_cast<T>(c.reference(static_cast<ld>(s)));
                INFO(c.name << "(" << +s << "): lane " << +y.data()[0] << ", tail " << +y.data()[w]
                            << ", expected " << +ref);
                // Signs of zero count here: -(+0) = -0, sqrt(-0) = -0, expm1(-0) = -0, relu(-0) =
                // +0.
                const auto matches = [&](T v) {
                    return check::same_value(v, ref) ||
                           (v != 0 && check::ulp_distance(v, ref) <= c.max_ulp);
                };
                CHECK(matches(y.data()[0]));
                CHECK(matches(y.data()[w]));
            }
        }
    }
}

TEST_CASE("exp is exact in the ranges xsimd 8.1 flushes or overflows", "[expr][unary]") {
    // Results that are subnormal, and finite results just below the overflow threshold.
    const tensor<float> xf{-87.5f, -90.f, -100.f, -103.9f, -104.f, 88.5f, 88.72f, 88.73f};
    const tensor<float> yf = exp(xf);
    for (std::size_t i = 0; i < xf.size(); ++i) {
        INFO("exp(" << xf.data()[i] << ")");
        CHECK(check::ulp_distance(yf.data()[i], static_cast<float>(std::exp(
                                                    static_cast<double>(xf.data()[i])))) <= 1);
    }
    const tensor<double> xd{-708.5, -720.0, -744.4, -746.0, 709.5, 709.78, 709.79, -1.0,
                            -2.0,   -3.0,   -4.0,   -5.0,   -6.0,  -7.0,   -8.0,   -9.0};
    const tensor<double> yd = exp(xd);
    for (std::size_t i = 0; i < xd.size(); ++i) {
        INFO("exp(" << xd.data()[i] << ")");
        CHECK(check::ulp_distance(
                  yd.data()[i], static_cast<double>(std::exp(static_cast<ld>(xd.data()[i])))) <= 3);
    }
}

TEST_CASE("log of subnormal doubles is right in SIMD lanes", "[expr][unary]") {
    // xsimd 8.1 read the exponent bits before rescaling: log(5e-324) came out as -746.5.
    tensor<double> x = tensor<double>::uninitialized({8});
    const double v[8] = {5e-324, 1e-310, 1e-320, 2e-308, 1e-300, 1e-308, 3e-315, 0};
    for (int i = 0; i < 8; ++i)
        x.data()[i] = v[i];
    const tensor<double> y = log(x);
    for (int i = 0; i < 8; ++i) {
        INFO("log(" << v[i] << ") = " << y.data()[i]);
        CHECK(check::ulp_distance(y.data()[i], std::log(v[i])) <= 1);
    }
}
