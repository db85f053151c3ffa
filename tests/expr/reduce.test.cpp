// Reductions against plain loops accumulated in long double: over all elements and along each
// axis (keepdims or not), at awkward extents, with NaN, infinities and empty tensors.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include <catch2/catch.hpp>

#include "check.hpp"
#include "dendrite/expr/evaluate.hpp"
#include "dendrite/expr/functions.hpp"
#include "dendrite/expr/reduce.hpp"
#include "dendrite/simd/parallel.hpp"

using dendrite::shape;
using dendrite::tensor;
using ld = long double;

namespace {

// Summation error bound for n terms: n eps sum|x| (the blocked order does better, the bound is
// what can be promised).
template <class T>
ld sum_tolerance(std::size_t n, ld abs_sum) {
    return static_cast<ld>(n + 1) * std::numeric_limits<T>::epsilon() * abs_sum +
           std::numeric_limits<T>::min();
}

// Reference reduction of `t` (rank 3) along `axis` into a [d0, d1, d2] tensor with that axis 1.
template <class T, class F>
tensor<ld> reference_axis(const tensor<T>& t, std::size_t axis, ld init, F f) {
    shape s = t.shape();
    s[axis] = 1;
    tensor<ld> r(s, init);
    for (std::size_t i = 0; i < t.dim(0); ++i)
        for (std::size_t j = 0; j < t.dim(1); ++j)
            for (std::size_t k = 0; k < t.dim(2); ++k) {
                std::size_t idx[3] = {i, j, k};
                idx[axis] = 0;
                ld& acc = r(idx[0], idx[1], idx[2]);
                acc = f(acc, static_cast<ld>(t(i, j, k)));
            }
    return r;
}

}  // namespace

TEMPLATE_TEST_CASE("sum, mean, amax, amin over all elements at awkward sizes", "[expr][reduce]",
                   float, double) {
    using T = TestType;
    for (std::size_t n : check::awkward_sizes) {
        const tensor<T> x = check::uniform_values<T>(n, -2, 3, n + 17);
        ld s = 0, a = 0, mx = -INFINITY, mn = INFINITY;
        for (std::size_t i = 0; i < n; ++i) {
            const ld v = x.data()[i];
            s += v;
            a += std::fabs(v);
            mx = std::max(mx, v);
            mn = std::min(mn, v);
        }
        INFO("n = " << n);
        CHECK(std::fabs(sum(x) - s) <= sum_tolerance<T>(n, a));
        if (n > 0) {
            CHECK(std::fabs(mean(x) - s / n) <= sum_tolerance<T>(n, a) / n);
        } else {
            CHECK(sum(x) == 0);
            CHECK(std::isnan(mean(x)));
        }
        CHECK(amax(x) == static_cast<T>(mx));  // -inf when empty
        CHECK(amin(x) == static_cast<T>(mn));
        // Fused with an expression and over a strided view.
        ld sq = 0;
        for (std::size_t i = 0; i < n; ++i)
            sq += static_cast<ld>(x.data()[i]) * x.data()[i];
        CHECK(std::fabs(sum(x * x) - sq) <= sum_tolerance<T>(n, sq) * 2);
    }
    const tensor<T> m = check::uniform_values<T>(37 * 19, -1, 1, 3).reshape({37, 19});
    ld s = 0, a = 0;
    for (std::size_t i = 0; i < m.size(); ++i) {
        s += m.data()[i];
        a += std::fabs(m.data()[i]);
    }
    CHECK(std::fabs(sum(m.transpose()) - s) <= sum_tolerance<T>(m.size(), a));
    CHECK(std::fabs(sum(m.slice(1, 1, 18)) - (s - [&] {
                        ld e = 0;
                        for (std::size_t i = 0; i < 37; ++i)
                            e += static_cast<ld>(m(i, 0)) + m(i, 18);
                        return e;
                    }())) <= sum_tolerance<T>(m.size(), a));
}

TEMPLATE_TEST_CASE("reductions along each axis, with and without keepdims", "[expr][reduce]", float,
                   double) {
    using T = TestType;
    const std::size_t dims[][3] = {{3, 17, 33}, {7, 1, 15}, {2, 257, 1}, {1, 5, 1000}};
    for (const auto& d : dims) {
        const tensor<T> x =
            check::uniform_values<T>(d[0] * d[1] * d[2], -3, 3, d[1]).reshape({d[0], d[1], d[2]});
        for (std::size_t axis = 0; axis < 3; ++axis) {
            INFO("shape " << x.shape() << ", axis " << axis);
            const std::size_t len = d[axis];
            const tensor<ld> rs = reference_axis(x, axis, 0, [](ld a, ld v) { return a + v; });
            const tensor<ld> ra =
                reference_axis(x, axis, 0, [](ld a, ld v) { return a + std::fabs(v); });
            const tensor<ld> rmax =
                reference_axis(x, axis, -INFINITY, [](ld a, ld v) { return std::max(a, v); });
            const tensor<ld> rmin =
                reference_axis(x, axis, INFINITY, [](ld a, ld v) { return std::min(a, v); });
            const tensor<ld> rlse =
                reference_axis(x, axis, 0, [](ld a, ld v) { return a + std::exp(v); });
            const tensor<T> s = sum(x, axis, true), m = mean(x, axis, true),
                            hi = amax(x, axis, true), lo = amin(x, axis, true),
                            lse = logsumexp(x, axis, true);
            const tensor<T> s_flat = sum(x, axis);
            REQUIRE(s.shape() == rs.shape());
            REQUIRE(s_flat.shape() == x.shape().without(axis));
            bool ok = true;
            for (std::size_t i = 0; i < rs.size(); ++i) {
                const ld tol = sum_tolerance<T>(len, ra.data()[i]);
                ok = ok && std::fabs(s.data()[i] - rs.data()[i]) <= tol &&
                     s_flat.data()[i] == s.data()[i];
                ok = ok &&
                     std::fabs(m.data()[i] - rs.data()[i] / len) <=
                         tol / len + std::numeric_limits<T>::epsilon() * std::fabs(m.data()[i]);
                ok = ok && hi.data()[i] == static_cast<T>(rmax.data()[i]) &&
                     lo.data()[i] == static_cast<T>(rmin.data()[i]);
                ok = ok && std::fabs(lse.data()[i] - std::log(rlse.data()[i])) <=
                               8 * std::numeric_limits<T>::epsilon() *
                                   (std::fabs(lse.data()[i]) + std::log(ld(len) + 1));
                if (!ok) {
                    FAIL_CHECK("output " << i << ": sum " << +s.data()[i] << " vs "
                                         << (double)rs.data()[i] << ", mean " << +m.data()[i]
                                         << ", amax " << +hi.data()[i] << " vs "
                                         << (double)rmax.data()[i] << ", amin " << +lo.data()[i]
                                         << ", logsumexp " << +lse.data()[i] << " vs "
                                         << (double)std::log(rlse.data()[i]));
                    break;
                }
            }
            CHECK(ok);
        }
    }
    CHECK_THROWS_AS(sum(tensor<T>(shape{2, 3}), 2), dendrite::shape_error);
}

TEMPLATE_TEST_CASE("NaN propagates through sum, amax and amin from any position", "[expr][reduce]",
                   float, double) {
    using T = TestType;
    const T nan = std::numeric_limits<T>::quiet_NaN();
    for (std::size_t n : {1u, 17u, 33u, 257u, 1000u})
        for (std::size_t pos : {std::size_t{0}, n / 2, n - 1}) {
            tensor<T> x = check::uniform_values<T>(n, -1, 1, n);
            x.data()[pos] = nan;
            INFO("n = " << n << ", NaN at " << pos);
            CHECK(std::isnan(sum(x)));
            CHECK(std::isnan(amax(x)));
            CHECK(std::isnan(amin(x)));
            CHECK(std::isnan(logsumexp(x)));
            CHECK(argmax(x) == static_cast<std::int64_t>(pos));
            CHECK(argmin(x) == static_cast<std::int64_t>(pos));
        }
    // Along an axis, only the slice holding the NaN becomes NaN.
    tensor<T> m = check::uniform_values<T>(4 * 33, -1, 1, 9).reshape({4, 33});
    m(2, 20) = nan;
    const tensor<T> r = amax(m, 1), c = amin(m, 0);
    for (std::size_t i = 0; i < 4; ++i)
        CHECK(std::isnan(r(i)) == (i == 2));
    for (std::size_t j = 0; j < 33; ++j)
        CHECK(std::isnan(c(j)) == (j == 20));
}

TEMPLATE_TEST_CASE("logsumexp is stable and handles infinities and empty input", "[expr][reduce]",
                   float, double) {
    using T = TestType;
    const T inf = std::numeric_limits<T>::infinity();
    const tensor<T> big{T(1000), T(1000), T(999)};
    const T expected = T(1000) + static_cast<T>(std::log(2 + std::exp(-1.0L)));
    CHECK(check::ulp_distance(logsumexp(big), expected) <= 2);
    const tensor<T> big_rows =
        tensor<T>(dendrite::shape{2, 3}, {T(1000), T(1000), T(999), -inf, -inf, -inf});
    const tensor<T> r = logsumexp(big_rows, 1);
    CHECK(check::ulp_distance(r(0), expected) <= 2);
    CHECK(r(1) == -inf);
    CHECK(logsumexp(tensor<T>(shape{17}, -inf)) == -inf);
    CHECK(logsumexp(tensor<T>{T(1), inf, T(2)}) == inf);
    CHECK(logsumexp(tensor<T>(shape{0})) == -inf);  // log of an empty sum
    const tensor<T> small = check::uniform_values<T>(1000, -1000, -990, 4);
    ld s = 0;
    for (std::size_t i = 0; i < small.size(); ++i)
        s += std::exp(static_cast<ld>(small.data()[i]));
    CHECK(std::fabs(logsumexp(small) - std::log(s)) <=
          1e3L * 8 * std::numeric_limits<T>::epsilon());
}

TEMPLATE_TEST_CASE("empty tensors and axes of extent 0", "[expr][reduce]", float, double) {
    using T = TestType;
    const tensor<T> e(shape{3, 0});
    CHECK(sum(e) == 0);
    CHECK(amax(e) == -std::numeric_limits<T>::infinity());
    CHECK(amin(e) == std::numeric_limits<T>::infinity());
    const tensor<T> s = sum(e, 1);
    REQUIRE(s.shape() == shape{3});
    CHECK((s(0) == 0 && s(1) == 0 && s(2) == 0));
    CHECK(sum(e, 0).shape() == shape{0});
    CHECK(std::isnan(mean(e, 1)(0)));
    CHECK_THROWS_AS(argmax(e), dendrite::shape_error);
    CHECK_THROWS_AS(argmin(e, 1), dendrite::shape_error);
}

TEMPLATE_TEST_CASE("argmax and argmin: first of ties, over all and along an axis", "[expr][reduce]",
                   float, double) {
    using T = TestType;
    const tensor<T> x = tensor<T>(shape{3, 4}, {1, 5, 5, 0, 7, 7, -1, -1, 2, 2, 2, 2});
    CHECK(argmax(x) == 4);
    CHECK(argmin(x) == 6);
    const tensor<std::int64_t> r = argmax(x, 1), c = argmin(x, 0);
    REQUIRE(r.shape() == shape{3});
    CHECK((r(0) == 1 && r(1) == 0 && r(2) == 0));
    REQUIRE(c.shape() == shape{4});
    CHECK((c(0) == 0 && c(1) == 2 && c(2) == 1 && c(3) == 1));
    for (std::size_t n : check::awkward_sizes) {
        if (n == 0) continue;
        const tensor<T> v = check::uniform_values<T>(n, -1, 1, n + 3);
        std::int64_t hi = 0, lo = 0;
        for (std::size_t i = 1; i < n; ++i) {
            if (v.data()[i] > v.data()[hi]) hi = static_cast<std::int64_t>(i);
            if (v.data()[i] < v.data()[lo]) lo = static_cast<std::int64_t>(i);
        }
        CHECK(argmax(v) == hi);
        CHECK(argmin(-v) == hi);
        CHECK(argmin(v.transpose(0, 0)) == lo);
    }
}

TEMPLATE_TEST_CASE("reductions on two threads agree with one thread", "[expr][reduce][threads]",
                   float, double) {
    using T = TestType;
    const int saved = dendrite::num_threads();
    const std::size_t n = (std::size_t{1} << 18) + 5;
    const tensor<T> x = check::uniform_values<T>(n, -1, 2, 77);
    ld s = 0, a = 0;
    for (std::size_t i = 0; i < n; ++i) {
        s += x.data()[i];
        a += std::fabs(x.data()[i]);
    }
    dendrite::set_num_threads(1);
    const T s1 = sum(x), m1 = amax(x);
    const tensor<T> rows1 = sum(x.slice(0, 0, 1000 * 262).reshape({1000, 262}), 1);
    dendrite::set_num_threads(2);
    const T s2 = sum(x), s2_again = sum(x), m2 = amax(x);
    const tensor<T> rows2 = sum(x.slice(0, 0, 1000 * 262).reshape({1000, 262}), 1);
    dendrite::set_num_threads(saved);
    CHECK(std::fabs(s1 - s) <= sum_tolerance<T>(n, a));
    CHECK(std::fabs(s2 - s) <= sum_tolerance<T>(n, a));
    CHECK(s2 == s2_again);  // chunks combine in a fixed order: deterministic for a thread count
    CHECK(m1 == m2);
    CHECK(std::memcmp(rows1.data(), rows2.data(), rows1.size() * sizeof(T)) == 0);
}
