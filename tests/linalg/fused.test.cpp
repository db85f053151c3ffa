// Products that read an operand through an element-wise formula, and the dense backward pass
// built on them, against references that form dZ explicitly.

#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "dendrite/linalg/fused.hpp"
#include "dendrite/simd/parallel.hpp"

using dendrite::linalg::trans;
namespace linalg = dendrite::linalg;
namespace simd = dendrite::simd;

namespace {

// relu'(z) dy: the gradient passes where the pre-activation is positive.
struct relu_backward {
    template <class X>
    X operator()(X dy, X z) const {
        return simd::select(z > X(0), dy, X(0));
    }
};

// A formula that is not zero where both operands are: the packing's zero padding past a right
// edge must not take its value.
struct affine_rule {
    template <class X>
    X operator()(X dy, X s) const {
        return X(1) + dy * s;
    }
};

// tanh'(z) dy from the saved output y = tanh(z).
struct tanh_backward {
    template <class X>
    X operator()(X dy, X y) const {
        return dy * (X(1) - y * y);
    }
};

template <class T>
std::vector<T> random(std::size_t count, std::mt19937& rng) {
    std::uniform_real_distribution<T> u(T(-1), T(1));
    std::vector<T> v(count);
    for (auto& x : v)
        x = u(rng);
    return v;
}

template <class T>
void require_close(T got, long double ref, long double magnitude, std::size_t k) {
    const long double tol = std::is_same_v<T, double>
                                ? 1e-12L * magnitude
                                : 4.0L * (k + 2) * std::numeric_limits<T>::epsilon() * magnitude;
    REQUIRE(std::fabs(got - ref) <= tol + 1e-30L);
}

template <class T, class D>
void check_dense_backward(std::size_t batch, std::size_t in, std::size_t out, const D& rule,
                          bool saved_is_output, T beta, bool with_dx, std::mt19937& rng) {
    const std::size_t ldx = in + 1, ldw = out + 2, ldy = out + 3, lds = out, lddw = out + 1,
                      lddx = in;
    auto x = random<T>(batch * ldx, rng), w = random<T>(in * ldw, rng);
    auto dy = random<T>(batch * ldy, rng), s = random<T>(batch * lds, rng);
    if (saved_is_output)
        for (auto& v : s)
            v = std::tanh(v);
    auto dw = random<T>(in * lddw, rng), db = random<T>(out, rng);
    auto dx = random<T>(batch * lddx, rng);
    const auto dw0 = dw, db0 = db, dx0 = dx;
    linalg::dense_backward(batch, in, out, x.data(), ldx, w.data(), ldw, dy.data(), ldy, s.data(),
                           lds, rule, dw.data(), lddw, db.data(), with_dx ? dx.data() : nullptr,
                           lddx, beta, beta);
    std::vector<long double> dz(batch * out);
    for (std::size_t r = 0; r < batch; ++r)
        for (std::size_t c = 0; c < out; ++c)
            dz[r * out + c] = rule(dy[r * ldy + c], s[r * lds + c]);
    for (std::size_t i = 0; i < in; ++i)
        for (std::size_t j = 0; j < out; ++j) {
            long double sum = beta * static_cast<long double>(dw0[i * lddw + j]),
                        mag = std::fabs(sum);
            for (std::size_t r = 0; r < batch; ++r) {
                sum += x[r * ldx + i] * dz[r * out + j];
                mag += std::fabs(x[r * ldx + i] * dz[r * out + j]);
            }
            require_close(dw[i * lddw + j], sum, mag, batch);
        }
    for (std::size_t j = 0; j < out; ++j) {
        long double sum = beta * static_cast<long double>(db0[j]), mag = std::fabs(sum);
        for (std::size_t r = 0; r < batch; ++r) {
            sum += dz[r * out + j];
            mag += std::fabs(dz[r * out + j]);
        }
        require_close(db[j], sum, mag, batch);
    }
    for (std::size_t r = 0; r < batch; ++r)
        for (std::size_t i = 0; i < in; ++i) {
            if (!with_dx) {
                REQUIRE(dx[r * lddx + i] == dx0[r * lddx + i]);
                continue;
            }
            long double sum = beta * static_cast<long double>(dx0[r * lddx + i]),
                        mag = std::fabs(sum);
            for (std::size_t j = 0; j < out; ++j) {
                sum += dz[r * out + j] * w[i * ldw + j];
                mag += std::fabs(dz[r * out + j] * w[i * ldw + j]);
            }
            require_close(dx[r * lddx + i], sum, mag, out);
        }
}

template <class T, class Rule>
void check_zipped_gemm(std::size_t m, std::size_t n, std::size_t k, trans ta, trans tb,
                       const Rule& rule, std::mt19937& rng) {
    const std::size_t ar = ta == trans::no ? m : k, ac = ta == trans::no ? k : m;
    const std::size_t br = tb == trans::no ? k : n, bc = tb == trans::no ? n : k;
    auto g = random<T>(std::max(ar * ac, br * bc), rng);
    auto s = random<T>(g.size(), rng);
    auto plain = random<T>(g.size(), rng);
    std::vector<long double> z(g.size());
    for (std::size_t e = 0; e < g.size(); ++e)
        z[e] = rule(g[e], s[e]);
    std::vector<T> c(m * n, std::numeric_limits<T>::quiet_NaN()), c2 = c;
    std::vector<T> sums(n, std::numeric_limits<T>::quiet_NaN());
    const auto zb = linalg::zip(g.data(), bc, s.data(), bc, rule);
    const auto za = linalg::zip(g.data(), ac, s.data(), ac, rule);
    linalg::gemm(ta, tb, m, n, k, T(1), plain.data(), ac, zb, T(0), c.data(), n, sums.data());
    linalg::gemm(ta, tb, m, n, k, T(1), za, plain.data(), bc, T(0), c2.data(), n);
    for (std::size_t j = 0; j < n; ++j) {
        long double sum = 0, mag = 0;
        for (std::size_t p = 0; p < k; ++p) {
            const long double v = tb == trans::no ? z[p * bc + j] : z[j * bc + p];
            sum += v;
            mag += std::fabs(v);
        }
        require_close(sums[j], sum, mag, k);
    }
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            long double s1 = 0, m1 = 0, s2 = 0, m2 = 0;
            for (std::size_t p = 0; p < k; ++p) {
                const std::size_t ia = ta == trans::no ? i * ac + p : p * ac + i;
                const std::size_t ib = tb == trans::no ? p * bc + j : j * bc + p;
                s1 += plain[ia] * z[ib];
                m1 += std::fabs(plain[ia] * z[ib]);
                s2 += z[ia] * plain[ib];
                m2 += std::fabs(z[ia] * plain[ib]);
            }
            require_close(c[i * n + j], s1, m1, k);
            require_close(c2[i * n + j], s2, m2, k);
        }
}

}  // namespace

TEMPLATE_TEST_CASE("dense_backward forms dZ in the packing and db in the same pass", "[linalg]",
                   float, double) {
    using T = TestType;
    std::mt19937 rng(11);
    for (int threads : {1, 2}) {
        dendrite::set_num_threads(threads);
        for (const auto [batch, in, out] : {std::array<std::size_t, 3>{32, 784, 256},
                                            {128, 256, 128},
                                            {33, 128, 10},
                                            {7, 17, 65},
                                            {300, 65, 300},
                                            {1, 1, 1},
                                            {0, 5, 6}}) {
            INFO("batch " << batch << " in " << in << " out " << out << " threads " << threads);
            check_dense_backward<T>(batch, in, out, relu_backward{}, false, T(0), true, rng);
            check_dense_backward<T>(batch, in, out, tanh_backward{}, true, T(1), true, rng);
            check_dense_backward<T>(batch, in, out, relu_backward{}, false, T(0), false, rng);
        }
    }
    dendrite::set_num_threads(1);
}

TEMPLATE_TEST_CASE("gemm through a zipped operand, every transposition, with column sums",
                   "[linalg]", float, double) {
    using T = TestType;
    std::mt19937 rng(5);
    for (int threads : {1, 2}) {
        dendrite::set_num_threads(threads);
        for (const auto [m, n, k] : {std::array<std::size_t, 3>{65, 33, 300},
                                     {17, 257, 31},
                                     {300, 7, 65},
                                     {2, 2, 1},
                                     {4, 8, 2},
                                     {15, 17, 7},
                                     {0, 9, 5}})
            for (trans ta : {trans::no, trans::yes})
                for (trans tb : {trans::no, trans::yes}) {
                    INFO("m " << m << " n " << n << " k " << k);
                    check_zipped_gemm<T>(m, n, k, ta, tb, relu_backward{}, rng);
                    check_zipped_gemm<T>(m, n, k, ta, tb, affine_rule{}, rng);
                }
    }
    dendrite::set_num_threads(1);
}
