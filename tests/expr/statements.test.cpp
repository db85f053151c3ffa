// Statements over registers (expr::run): several tensors written in one pass, later statements
// reading the registers earlier ones assigned, temporaries, variants by `when`, threads, and the
// errors a caller can make.

#include <cmath>
#include <cstddef>
#include <cstring>
#include <stdexcept>

#include <catch2/catch.hpp>

#include "check.hpp"
#include "dendrite/expr/evaluate.hpp"
#include "dendrite/expr/statements.hpp"
#include "dendrite/simd/parallel.hpp"

using namespace dendrite;
using expr::assign;
using expr::when;

namespace {

template <class T>
tensor<T> ramp(std::size_t n, T scale, T offset) {
    tensor<T> t = tensor<T>::uninitialized(shape{n});
    for (std::size_t i = 0; i < n; ++i)
        t.data()[i] = static_cast<T>(i % 97) * scale + offset;
    return t;
}

struct thread_guard {
    int saved = num_threads();
    ~thread_guard() { set_num_threads(saved); }
};

}  // namespace

TEMPLATE_TEST_CASE("statements write several tensors in one pass, in order", "[expr][statements]",
                   float, double) {
    using T = TestType;
    for (std::size_t n : check::awkward_sizes) {
        // Small integers: every operation below is exact, so the results are too.
        tensor<T> a = ramp<T>(n, 1, 0), b = ramp<T>(n, 2, 1), c(shape{n}, T(5));
        const tensor<T> x = ramp<T>(n, 1, 3);
        const tensor<T> a0 = a.clone(), b0 = b.clone();
        auto [ra, rb, rc, t] = expr::hold(a, b, c, expr::temporary);
        expr::run(assign(t, x - 1),         // a temporary
                  assign(ra, ra + t),       // a = a + x - 1
                  assign(rb, rb * 2 + ra),  // reads the new a from its register
                  assign(ra, ra - 1),       // a register assigned twice
                  assign(rc, t * rb));      // c is never read: assigned only
        INFO("n = " << n);
        for (std::size_t i = 0; i < n; ++i) {
            const T tt = x.data()[i] - 1, a1 = a0.data()[i] + tt, b1 = b0.data()[i] * 2 + a1;
            CHECK(a.data()[i] == a1 - 1);
            CHECK(b.data()[i] == b1);
            CHECK(c.data()[i] == tt * b1);
        }
    }
}

TEMPLATE_TEST_CASE("statements compute as the same expressions evaluated one by one",
                   "[expr][statements]", float, double) {
    using T = TestType;
    const T b1 = T(0.9), c1 = T(0.1), b2 = T(0.999), c2 = T(0.001), lr = T(0.01), eps = T(1e-8);
    for (std::size_t n : check::awkward_sizes) {
        tensor<T> w = check::uniform_values<T>(n, -1, 1, 1),
                  m = check::uniform_values<T>(n, -1, 1, 2);
        tensor<T> v = check::uniform_values<T>(n, 0, 1, 3);
        const tensor<T> g = check::uniform_values<T>(n, -1, 1, 4);
        tensor<T> w1 = w.clone(), m1 = m.clone(), v1 = v.clone();
        auto [rw, rm, rv] = expr::hold(w, m, v);
        expr::run(assign(rm, b1 * rm + c1 * g), assign(rv, b2 * rv + c2 * (g * g)),
                  assign(rw, rw - lr * rm / (sqrt(rv) + eps)));
        m1.assign(b1 * m1 + c1 * g);
        v1.assign(b2 * v1 + c2 * (g * g));
        w1.assign(w1 - lr * m1 / (sqrt(v1) + eps));
        INFO("n = " << n);
        // The single-output evaluator runs the same operations; only the compiler's fusing of a
        // multiply into an add may differ between the two loops.
        for (std::size_t i = 0; i < n; ++i) {
            CHECK(check::ulp_distance(m.data()[i], m1.data()[i]) <= 1);
            CHECK(check::ulp_distance(v.data()[i], v1.data()[i]) <= 1);
            CHECK(check::ulp_distance(w.data()[i], w1.data()[i]) <= 4);
        }
    }
}

TEMPLATE_TEST_CASE("when keeps or drops a statement; unused registers cost nothing",
                   "[expr][statements]", float, double) {
    using T = TestType;
    tensor<T> a(shape{19}, T(1)), b(shape{19}, T(1));
    auto [ra, rb, unused] = expr::hold(a, b, static_cast<tensor<T>*>(nullptr));
    expr::run(when<true>(assign(ra, ra * 3)), when<false>(assign(rb, rb * 5)),
              when<false>(assign(unused, unused + 1)), assign(rb, rb + ra));
    for (std::size_t i = 0; i < 19; ++i) {
        CHECK(a.data()[i] == T(3));
        CHECK(b.data()[i] == T(4));
    }
    // A number is an expression too.
    expr::run(assign(ra, 2));
    CHECK(a.data()[18] == T(2));
}

TEMPLATE_TEST_CASE("statements give the same bits on any thread count", "[expr][statements]", float,
                   double) {
    using T = TestType;
    thread_guard guard;
    const std::size_t n = simd::parallel_threshold * 3 + 5;
    const tensor<T> g = check::uniform_values<T>(n, -1, 1, 9);
    auto step = [&](int threads) {
        set_num_threads(threads);
        tensor<T> w = check::uniform_values<T>(n, -1, 1, 8), s(shape{n}, T(0.1));
        auto [rw, rs, d] = expr::hold(w, s, expr::temporary);
        expr::run(assign(d, g + T(0.01) * rw), assign(rs, rs + d * d),
                  assign(rw, rw - T(0.1) * d / (sqrt(rs) + T(1e-6))));
        return w;
    };
    const tensor<T> one = step(1), two = step(2);
    CHECK(std::memcmp(one.data(), two.data(), n * sizeof(T)) == 0);
}

TEMPLATE_TEST_CASE("statements reject tensors they cannot run over", "[expr][statements]", float,
                   double) {
    using T = TestType;
    tensor<T> a(shape{6}, T(1)), b(shape{7}, T(1)), m(shape{3, 4}, T(1));
    const tensor<T> x(shape{7}, T(1));
    SECTION("held tensors of different shapes") {
        auto [ra, rb] = expr::hold(a, b);
        CHECK_THROWS_AS(expr::run(assign(ra, 1), assign(rb, 2)), shape_error);
    }
    SECTION("an expression over a tensor of another shape") {
        auto [ra] = expr::hold(a);
        CHECK_THROWS_AS(expr::run(assign(ra, ra + x)), shape_error);
    }
    SECTION("a strided view") {
        tensor<T> column = m.slice(1, 1, 2);
        auto [rc] = expr::hold(column);
        CHECK_THROWS_AS(expr::run(assign(rc, 1)), shape_error);
        tensor<T> row(shape{3}, T(0));
        auto [rr] = expr::hold(row);
        CHECK_THROWS_AS(expr::run(assign(rr, m.transpose().slice(0, 0, 1).reshape({4}))),
                        shape_error);
    }
    SECTION("a register held as a null pointer and assigned") {
        auto [ra, none] = expr::hold(a, static_cast<tensor<T>*>(nullptr));
        CHECK_THROWS_AS(expr::run(assign(ra, 1), assign(none, 2)), std::invalid_argument);
    }
    SECTION("one register standing for two tensors") {
        tensor<T> c(shape{6}, T(0));
        auto [ra] = expr::hold(a);
        auto [rc] = expr::hold(c);
        CHECK_THROWS_AS(expr::run(assign(ra, 1), assign(rc, 2)), std::invalid_argument);
    }
    // Nothing was written by a statement list that threw.
    for (std::size_t i = 0; i < 6; ++i)
        CHECK(a.data()[i] == T(1));
}
