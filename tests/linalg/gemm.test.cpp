// GEMM against a triple loop accumulated in long double, over all transpositions, edge sizes,
// strided views, alpha/beta and one or two threads.

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "dendrite/linalg/gemm.hpp"
#include "dendrite/simd/parallel.hpp"

using dendrite::linalg::trans;
namespace linalg = dendrite::linalg;

namespace {

struct shape {
    std::size_t m, n, k;
};

template <class T>
struct problem {
    shape s;
    trans ta, tb;
    std::size_t lda, ldb, ldc;
    std::vector<T> a, b, c;

    problem(shape sh, trans ta_, trans tb_, std::size_t pad, std::mt19937& rng)
        : s(sh), ta(ta_), tb(tb_) {
        std::uniform_real_distribution<T> u(T(-1), T(1));
        const std::size_t arows = ta == trans::no ? s.m : s.k, acols = ta == trans::no ? s.k : s.m;
        const std::size_t brows = tb == trans::no ? s.k : s.n, bcols = tb == trans::no ? s.n : s.k;
        lda = acols + pad;
        ldb = bcols + pad;
        ldc = s.n + pad;
        a.resize(arows * lda + 1);
        b.resize(brows * ldb + 1);
        c.resize(s.m * ldc + 1);
        for (auto& x : a)
            x = u(rng);
        for (auto& x : b)
            x = u(rng);
        for (auto& x : c)
            x = u(rng);
    }
    T opa(std::size_t i, std::size_t p) const {
        return ta == trans::no ? a[i * lda + p] : a[p * lda + i];
    }
    T opb(std::size_t p, std::size_t j) const {
        return tb == trans::no ? b[p * ldb + j] : b[j * ldb + p];
    }

    // op(A) op(B) in long double, and the sum of its terms' magnitudes (for the tolerance):
    // computed once per problem, which several checks compare against.
    std::vector<long double> ab, ab_magnitude;
    void reference_product() {
        if (!ab.empty() || s.m * s.n == 0) return;
        ab.assign(s.m * s.n, 0);
        ab_magnitude.assign(s.m * s.n, 0);
        for (std::size_t i = 0; i < s.m; ++i)
            for (std::size_t j = 0; j < s.n; ++j) {
                long double sum = 0, mag = 0;
                for (std::size_t p = 0; p < s.k; ++p) {
                    const long double x = static_cast<long double>(opa(i, p)) * opb(p, j);
                    sum += x;
                    mag += std::fabs(x);
                }
                ab[i * s.n + j] = sum;
                ab_magnitude[i * s.n + j] = mag;
            }
    }
};

// Tolerance of one element: a bound on the rounding of a k-term dot product and the update.
template <class T>
T tolerance(std::size_t k, long double magnitude) {
    const long double eps = std::numeric_limits<T>::epsilon();
    const long double rel = std::is_same_v<T, double> ? 1e-12L : 4.0L * (k + 2) * eps;
    return static_cast<T>(rel * magnitude + 10 * std::numeric_limits<T>::min());
}

// Runs gemm on a copy of c and compares with the reference C = post(alpha AB + beta C).
template <class T, class Post>
void check(problem<T>& pr, T alpha, T beta, bool nan_c, const Post& post, auto&& run) {
    const auto [m, n, k] = pr.s;
    std::vector<T> c = pr.c;
    if (nan_c) std::fill(c.begin(), c.end(), std::numeric_limits<T>::quiet_NaN());
    const std::vector<T> before_run = c;
    run(c);
    pr.reference_product();
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            long double ref = alpha * pr.ab[i * n + j];
            long double mag = std::fabs(alpha) * pr.ab_magnitude[i * n + j];
            if (beta != T(0)) {
                ref += static_cast<long double>(beta) * pr.c[i * pr.ldc + j];
                mag += std::fabs(beta * pr.c[i * pr.ldc + j]);
            }
            ref = post(ref, i, j);
            const T got = c[i * pr.ldc + j];
            // Reported only when it fails: a message per element dominated the test's time.
            const long double tol = tolerance<T>(k, mag + std::fabs(ref));
            if (!(std::fabs(static_cast<long double>(got) - ref) <= tol))
                FAIL("m " << m << " n " << n << " k " << k << ": C(" << i << ", " << j
                          << ") = " << got << ", expected " << ref << " within " << tol);
        }
    // Padding between rows and after the matrix is never written.
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = n; j < pr.ldc; ++j) {
            const T before = before_run[i * pr.ldc + j], after = c[i * pr.ldc + j];
            REQUIRE((before == after || (std::isnan(before) && std::isnan(after))));
        }
}

template <class T>
void check_gemm(problem<T>& pr, T alpha, T beta, bool nan_c = false) {
    check(
        pr, alpha, beta, nan_c, [](long double x, std::size_t, std::size_t) { return x; },
        [&](std::vector<T>& c) {
            linalg::gemm(pr.ta, pr.tb, pr.s.m, pr.s.n, pr.s.k, alpha, pr.a.data(), pr.lda,
                         pr.b.data(), pr.ldb, beta, c.data(), pr.ldc);
        });
}

constexpr std::size_t edge_sizes[] = {0, 1, 2, 7, 15, 17, 31, 33, 63, 65, 257};
constexpr trans both[] = {trans::no, trans::yes};

std::vector<shape> sampled_shapes() {
    std::vector<shape> out;
    constexpr std::size_t count = std::size(edge_sizes);
    for (std::size_t i = 0; i < count; ++i)
        for (std::size_t step : {1u, 5u})
            out.push_back({edge_sizes[i], edge_sizes[(i + step) % count],
                           edge_sizes[(i * 3 + step + 2) % count]});
    out.push_back({1000, 33, 65});
    out.push_back({17, 1000, 63});
    out.push_back({65, 31, 1000});
    return out;
}

}  // namespace

TEMPLATE_TEST_CASE("gemm matches the reference for every transposition and edge size", "[linalg]",
                   float, double) {
    using T = TestType;
    std::mt19937 rng(42);
    for (int threads : {1, 2}) {
        dendrite::set_num_threads(threads);
        for (const shape s : sampled_shapes())
            for (trans ta : both)
                for (trans tb : both) {
                    problem<T> pr(s, ta, tb, (s.m + s.n) % 3 == 0 ? 0 : 5, rng);
                    check_gemm<T>(pr, T(1), T(0), true);
                }
    }
    dendrite::set_num_threads(1);
}

TEMPLATE_TEST_CASE("gemm scales by alpha and merges beta C", "[linalg]", float, double) {
    using T = TestType;
    std::mt19937 rng(7);
    for (int threads : {1, 2}) {
        dendrite::set_num_threads(threads);
        for (const shape s : {shape{33, 65, 17}, shape{257, 63, 300}, shape{7, 1, 2},
                              shape{65, 257, 0}, shape{300, 300, 65}})
            for (trans ta : both)
                for (trans tb : both) {
                    problem<T> pr(s, ta, tb, 3, rng);
                    check_gemm<T>(pr, T(2.5), T(-0.5));
                    check_gemm<T>(pr, T(-1), T(1));
                    check_gemm<T>(pr, T(0), T(2));
                    check_gemm<T>(pr, T(0.75), T(0), true);
                }
    }
    dendrite::set_num_threads(1);
}

TEMPLATE_TEST_CASE("gemm epilogue: bias + relu and a lambda of the position", "[linalg]", float,
                   double) {
    using T = TestType;
    std::mt19937 rng(3);
    for (int threads : {1, 2}) {
        dendrite::set_num_threads(threads);
        for (const shape s :
             {shape{32, 256, 784}, shape{17, 33, 15}, shape{65, 10, 128}, shape{300, 129, 300},
              shape{4, 8, 2}, shape{7, 1, 257}, shape{5, 7, 0}})
            for (trans ta : both)
                for (trans tb : both) {
                    problem<T> pr(s, ta, tb, 1, rng);
                    std::vector<T> bias(s.n + 1);
                    for (std::size_t j = 0; j < bias.size(); ++j)
                        bias[j] = T(0.1) * T(j % 7) - T(0.3);
                    const T* bp = bias.data();
                    const auto relu = [bp](auto v, std::size_t, std::size_t j) {
                        using X = decltype(v);
                        return dendrite::simd::max(v + linalg::lanes<X>(bp + j), X(0));
                    };
                    // C = relu(AB + bias) through the epilogue `epi`.
                    const auto check_bias_relu = [&](const auto& epi) {
                        check(
                            pr, T(1), T(0), true,
                            [&](long double x, std::size_t, std::size_t j) {
                                return std::max(x + bias[j], 0.0L);
                            },
                            [&](std::vector<T>& c) {
                                linalg::gemm(pr.ta, pr.tb, s.m, s.n, s.k, T(1), pr.a.data(), pr.lda,
                                             pr.b.data(), pr.ldb, T(0), c.data(), pr.ldc, epi);
                            });
                    };
                    check_bias_relu(relu);
                    // A function of the row, and a count of the elements the epilogue sees (from
                    // every thread at once, hence atomic).
                    std::atomic<std::size_t> seen{0};
                    std::atomic<std::size_t>* counter = &seen;
                    const auto affine = [counter](auto v, std::size_t i, std::size_t) {
                        using X = decltype(v);
                        *counter += dendrite::simd::is_batch_v<X> ? dendrite::simd::width<T> : 1;
                        return v * X(T(2)) + X(T(i));
                    };
                    check(
                        pr, T(0.5), T(1), false,
                        [](long double x, std::size_t i, std::size_t) { return 2 * x + i; },
                        [&](std::vector<T>& c) {
                            linalg::gemm(pr.ta, pr.tb, s.m, s.n, s.k, T(0.5), pr.a.data(), pr.lda,
                                         pr.b.data(), pr.ldb, T(1), c.data(), pr.ldc, affine);
                        });
                    REQUIRE(seen == s.m * s.n);
                    // An edge-aware epilogue: right edges arrive as one register with n live
                    // lanes. It reads a bias and writes a side copy of the pre-activation, both
                    // exactly n columns wide (reading or writing past them is a sanitizer error
                    // and, for the copy, a changed guard value), and counts the lanes it owns.
                    std::vector<T> bias_n(bias.begin(), bias.begin() + s.n);
                    std::vector<T> side(s.m * s.n + 1, T(-7));
                    seen = 0;
                    const auto edge_relu = [counter, bn = bias_n.data(), sp = side.data(),
                                            ld = s.n](auto v, std::size_t i, std::size_t j,
                                                      auto... lanes) {
                        using X = decltype(v);
                        std::size_t live = 1;
                        if constexpr (dendrite::simd::is_batch_v<X>)
                            live = sizeof...(lanes) ? (std::size_t{0} + ... + lanes)
                                                    : dendrite::simd::width<T>;
                        *counter += live;
                        const X pre = v + linalg::lanes<X>(bn + j, lanes...);
                        linalg::store_lanes(sp + i * ld + j, pre, lanes...);
                        return dendrite::simd::max(pre, X(0));
                    };
                    check_bias_relu(edge_relu);
                    REQUIRE(seen == s.m * s.n);
                    REQUIRE(side.back() == T(-7));
                    pr.reference_product();
                    for (std::size_t i = 0; i < s.m; ++i)
                        for (std::size_t j = 0; j < s.n; ++j) {
                            const long double pre = pr.ab[i * s.n + j] + bias[j];
                            const long double mag =
                                pr.ab_magnitude[i * s.n + j] + std::fabs(bias[j]);
                            if (!(std::fabs(side[i * s.n + j] - pre) <= tolerance<T>(s.k, mag)))
                                FAIL("side output (" << i << ", " << j << ") = "
                                                     << side[i * s.n + j] << ", expected " << pre);
                        }
                }
    }
    dendrite::set_num_threads(1);
}
