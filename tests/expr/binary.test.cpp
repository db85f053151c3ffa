// Binary ops, comparisons and where() against scalar std:: references, at awkward sizes and on
// special values in SIMD lanes and in the scalar tail.

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

namespace {

template <class T>
struct binary_case {
    std::string name;
    std::function<tensor<T>(const tensor<T>&, const tensor<T>&)> apply;
    std::function<T(T, T)> reference;
};

// All of these are exactly rounded (or exact) in IEEE arithmetic, so lanes must equal the
// reference bit for bit, signs of zero included.
template <class T>
std::vector<binary_case<T>> exact_cases() {
    return {
        {"add", [](const tensor<T>& a, const tensor<T>& b) { return tensor<T>(a + b); },
         [](T a, T b) { return a + b; }},
        {"sub", [](const tensor<T>& a, const tensor<T>& b) { return tensor<T>(a - b); },
         [](T a, T b) { return a - b; }},
        {"mul", [](const tensor<T>& a, const tensor<T>& b) { return tensor<T>(a * b); },
         [](T a, T b) { return a * b; }},
        {"div", [](const tensor<T>& a, const tensor<T>& b) { return tensor<T>(a / b); },
         [](T a, T b) { return a / b; }},
        // NaN-propagating on either side, like PyTorch (std::fmax is not); of two equal values
        // (+0 and -0) the right-hand one, in lanes and tail alike.
        {"max", [](const tensor<T>& a, const tensor<T>& b) { return tensor<T>(max(a, b)); },
         [](T a, T b) {
             return std::isnan(a) || std::isnan(b) ? std::numeric_limits<T>::quiet_NaN()
                    : a > b                        ? a
                                                   : b;
         }},
        {"min", [](const tensor<T>& a, const tensor<T>& b) { return tensor<T>(min(a, b)); },
         [](T a, T b) {
             return std::isnan(a) || std::isnan(b) ? std::numeric_limits<T>::quiet_NaN()
                    : a < b                        ? a
                                                   : b;
         }},
        {"less", [](const tensor<T>& a, const tensor<T>& b) { return tensor<T>(a < b); },
         [](T a, T b) { return T(a < b); }},
        {"less_equal", [](const tensor<T>& a, const tensor<T>& b) { return tensor<T>(a <= b); },
         [](T a, T b) { return T(a <= b); }},
        {"greater", [](const tensor<T>& a, const tensor<T>& b) { return tensor<T>(a > b); },
         [](T a, T b) { return T(a > b); }},
        {"greater_equal", [](const tensor<T>& a, const tensor<T>& b) { return tensor<T>(a >= b); },
         [](T a, T b) { return T(a >= b); }},
        {"equal", [](const tensor<T>& a, const tensor<T>& b) { return tensor<T>(a == b); },
         [](T a, T b) { return T(a == b); }},
        {"not_equal", [](const tensor<T>& a, const tensor<T>& b) { return tensor<T>(a != b); },
         [](T a, T b) { return T(a != b); }},
        {"where(a > b, a, b)",
         [](const tensor<T>& a, const tensor<T>& b) { return tensor<T>(where(a > b, a, b)); },
         [](T a, T b) { return a > b ? a : b; }},
        {"where(a, a, b)",
         [](const tensor<T>& a, const tensor<T>& b) { return tensor<T>(where(a, a, b)); },
         [](T a, T b) { return a != 0 ? a : b; }},  // NaN is non-zero: it selects a
    };
}

template <class T>
void expect_matches(const binary_case<T>& c, const tensor<T>& a, const tensor<T>& b) {
    const tensor<T> y = c.apply(a, b);
    REQUIRE(y.size() == a.size());
    std::size_t bad = 0, first = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!check::same_value(y.data()[i], c.reference(a.data()[i], b.data()[i])) && bad++ == 0)
            first = i;
    if (bad != 0)
        FAIL_CHECK(c.name << ": " << bad << " of " << a.size() << " differ; first at " << first
                          << ": (" << +a.data()[first] << ", " << +b.data()[first] << ") gives "
                          << +y.data()[first] << ", expected "
                          << +c.reference(a.data()[first], b.data()[first]));
}

}  // namespace

TEMPLATE_TEST_CASE("binary ops and comparisons match IEEE arithmetic exactly", "[expr][binary]",
                   float, double) {
    using T = TestType;
    using L = std::numeric_limits<T>;
    for (const auto& c : exact_cases<T>()) {
        SECTION(c.name) {
            for (std::size_t n : check::awkward_sizes) {
                tensor<T> a = check::uniform_values<T>(n, -4, 4, n + 1),
                          b = check::uniform_values<T>(n, -4, 4, n + 2);
                // Some equal pairs, so that ties in comparisons and max/min are exercised.
                for (std::size_t i = 0; i < n; i += 5)
                    b.data()[i] = a.data()[i];
                expect_matches(c, a, b);
            }
            // Every pair of special values, laid out so that each pair is seen in both paths.
            const std::vector<T> s{T(0),           -T(0),           L::infinity(), -L::infinity(),
                                   L::quiet_NaN(), L::denorm_min(), -L::min() / 2, L::min(),
                                   L::max(),       L::lowest(),     T(1),          T(-1),
                                   T(2.5)};
            const std::size_t pairs = s.size() * s.size();
            tensor<T> a = tensor<T>::uninitialized({2 * pairs}),
                      b = tensor<T>::uninitialized({2 * pairs});
            for (std::size_t i = 0; i < s.size(); ++i)
                for (std::size_t j = 0; j < s.size(); ++j)
                    for (std::size_t k : {i * s.size() + j, 2 * pairs - 1 - (i * s.size() + j)}) {
                        a.data()[k] = s[i];
                        b.data()[k] = s[j];
                    }
            expect_matches(c, a, b);
        }
    }
}

TEMPLATE_TEST_CASE("scalar operands on either side adopt the tensor's type", "[expr][binary]",
                   float, double) {
    using T = TestType;
    const tensor<T> x = check::uniform_values<T>(33, 0.5, 4, 3);
    const tensor<T> y = (2 - x) * 3 + 1 / x - x / 2;
    STATIC_REQUIRE(std::is_same_v<typename decltype(2.0 * x)::value_type, T>);
    for (std::size_t i = 0; i < x.size(); ++i) {
        const T v = x.data()[i];
        // Within a few roundings: whether a product is fused into the next sum (FMA) is the
        // compiler's choice, in the test's scalar code and in the library's registers alike.
        CHECK(y.data()[i] == Approx((T(2) - v) * T(3) + T(1) / v - v / T(2))
                                 .epsilon(4 * std::numeric_limits<T>::epsilon())
                                 .margin(32 * std::numeric_limits<T>::epsilon()));
    }
    const tensor<T> w = where(x > 2, x, T(-1));
    const tensor<T> z = where(x > 2, T(7), x);
    for (std::size_t i = 0; i < x.size(); ++i) {
        CHECK(w.data()[i] == (x.data()[i] > 2 ? x.data()[i] : T(-1)));
        CHECK(z.data()[i] == (x.data()[i] > 2 ? T(7) : x.data()[i]));
    }
}

TEMPLATE_TEST_CASE("pow matches std::pow: special cases exactly, values within |y log x| + 2 ulp",
                   "[expr][binary]", float, double) {
    using T = TestType;
    using L = std::numeric_limits<T>;
    SECTION("every special case of C's pow") {
        // xsimd 8.1 got many of these wrong (pow(0, 0) = 0, pow(0, -1) = 0, pow(nan, 0) = nan...).
        const std::vector<T> s{T(0),           -T(0),           L::infinity(), -L::infinity(),
                               L::quiet_NaN(), L::denorm_min(), T(1),          T(-1),
                               T(2),           T(-2),           T(0.5),        T(-0.5),
                               T(3),           T(-3),           T(1e30)};
        const std::size_t pairs = s.size() * s.size();
        tensor<T> a = tensor<T>::uninitialized({2 * pairs}),
                  b = tensor<T>::uninitialized({2 * pairs});
        for (std::size_t i = 0; i < s.size(); ++i)
            for (std::size_t j = 0; j < s.size(); ++j)
                for (std::size_t k : {i * s.size() + j, 2 * pairs - 1 - (i * s.size() + j)}) {
                    a.data()[k] = s[i];
                    b.data()[k] = s[j];
                }
        const tensor<T> y = pow(a, b);
        for (std::size_t k = 0; k < 2 * pairs; ++k) {
            const T x = a.data()[k], e = b.data()[k], ref = std::pow(x, e);
            INFO("pow(" << +x << ", " << +e << ") = " << +y.data()[k] << ", expected " << +ref);
            // Finite non-trivial results carry e^(y log x)'s error, bounded as below.
            const bool exact = !std::isfinite(ref) || ref == 0 || ref == 1 || std::isnan(ref);
            if (exact)
                CHECK(check::same_value(y.data()[k], ref));
            else
                CHECK(check::ulp_distance(y.data()[k], ref) <=
                      2 + 2 * std::abs(e * std::log(std::abs(x))));
        }
    }
    SECTION("random bases and exponents") {
        for (std::size_t n : check::awkward_sizes) {
            const tensor<T> a = check::log_uniform_values<T>(n, -20, 20, false, n + 5);
            const tensor<T> b = check::uniform_values<T>(n, -4, 4, n + 6);
            const tensor<T> y = pow(a, b);
            for (std::size_t i = 0; i < n; ++i) {
                const T x = a.data()[i], e = b.data()[i];
                const T ref = static_cast<T>(
                    std::pow(static_cast<long double>(x), static_cast<long double>(e)));
                // The result is e^(y log x) with y log x rounded: its error grows like |y log x|
                // ulp.
                const double bound =
                    2 + 2 * std::abs(static_cast<double>(e) * std::log(static_cast<double>(x)));
                INFO("pow(" << +x << ", " << +e << ") = " << +y.data()[i] << ", expected " << +ref);
                CHECK(check::ulp_distance(y.data()[i], ref) <= bound);
            }
        }
    }
}

TEST_CASE("functions run eagerly on plain scalars and on SIMD batches", "[expr][binary]") {
    using dendrite::simd::batch;
    CHECK(dendrite::max(2.0f, 3) == 3.0f);
    CHECK(dendrite::pow(2.0, 10) == 1024.0);
    CHECK(std::isnan(dendrite::max(std::nanf(""), 1.0f)));
    alignas(64) float f[dendrite::simd::width<float>];
    dendrite::max(batch<float>(-1.0f), batch<float>(0.5f)).store_aligned(f);
    CHECK(f[0] == 0.5f);
    alignas(64) double d[dendrite::simd::width<double>];
    dendrite::pow(batch<double>(3.0), 2.0).store_aligned(d);
    CHECK(check::ulp_distance(d[0], 9.0) <= 4);  // e^(2 log 3), not exact (see above)
}
