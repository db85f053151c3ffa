// Broadcasting, strided operands and destinations, assignment semantics, lifetimes, threads, and
// user-written activations.

#include <cmath>
#include <cstddef>
#include <string>

#include <catch2/catch.hpp>

#include "check.hpp"
#include "dendrite/expr/derive.hpp"
#include "dendrite/expr/evaluate.hpp"
#include "dendrite/expr/functions.hpp"
#include "dendrite/simd/parallel.hpp"

// As users write it: the library's functions join the overload set of the C library's.
using namespace dendrite;

namespace {

/// A tensor of the given shape holding 0, 1, 2, ... (row-major) times `scale`, plus `offset`.
template <class T>
tensor<T> iota(const shape& s, T scale = 1, T offset = 0) {
    tensor<T> t = tensor<T>::uninitialized(s);
    for (std::size_t i = 0; i < t.size(); ++i)
        t.data()[i] = static_cast<T>(i) * scale + offset;
    return t;
}

// Restores the thread count a test changed, even when it fails.
struct thread_guard {
    int saved = num_threads();
    ~thread_guard() { set_num_threads(saved); }
};

}  // namespace

TEMPLATE_TEST_CASE("broadcasting follows NumPy", "[expr][broadcast]", float, double) {
    using T = TestType;
    SECTION("scalar tensor onto a matrix") {
        const tensor<T> m = iota<T>({3, 17}), s(shape{}, T(2));
        const tensor<T> y = m * s;
        REQUIRE(y.shape() == shape{3, 17});
        for (std::size_t i = 0; i < y.size(); ++i)
            CHECK(y.data()[i] == m.data()[i] * 2);
    }
    SECTION("row vector onto a matrix, and column vector [n, 1]") {
        const tensor<T> m = iota<T>({5, 33}), row = iota<T>({33}, 10), col = iota<T>({5, 1}, 1000);
        const tensor<T> y = m + row - col;
        REQUIRE(y.shape() == shape{5, 33});
        for (std::size_t i = 0; i < 5; ++i)
            for (std::size_t j = 0; j < 33; ++j)
                CHECK(y(i, j) == m(i, j) + row(j) - col(i, 0));
    }
    SECTION("both sides broadcast: [3, 1] + [1, 4] is [3, 4]") {
        const tensor<T> a = iota<T>({3, 1}), b = iota<T>({1, 4}, 10);
        const tensor<T> y = a + b;
        REQUIRE(y.shape() == shape{3, 4});
        for (std::size_t i = 0; i < 3; ++i)
            for (std::size_t j = 0; j < 4; ++j)
                CHECK(y(i, j) == T(i) + T(10 * j));
    }
    SECTION("size-1 axes in rank 3 and rank 4") {
        const tensor<T> a = iota<T>({2, 1, 19}), b = iota<T>({3, 1}, 100);
        const tensor<T> y3 = a * b;  // [2, 1, 19] * [3, 1] -> [2, 3, 19]
        REQUIRE(y3.shape() == shape{2, 3, 19});
        for (std::size_t i = 0; i < 2; ++i)
            for (std::size_t j = 0; j < 3; ++j)
                for (std::size_t k = 0; k < 19; ++k)
                    CHECK(y3(i, j, k) == a(i, 0, k) * b(j, 0));
        const tensor<T> c = iota<T>({2, 1, 3, 1}), d = iota<T>({1, 4, 1, 17}, T(0.5));
        const tensor<T> y4 = c - d;
        REQUIRE(y4.shape() == shape{2, 4, 3, 17});
        for (std::size_t i = 0; i < 2; ++i)
            for (std::size_t j = 0; j < 4; ++j)
                for (std::size_t k = 0; k < 3; ++k)
                    for (std::size_t l = 0; l < 17; ++l)
                        CHECK(y4(i, j, k, l) == c(i, 0, k, 0) - d(0, j, 0, l));
    }
    SECTION("a mismatch throws shape_error naming both shapes") {
        const tensor<T> a(shape{3, 4}), b(shape{5});
        try {
            (void)(a + b);
            FAIL("no exception");
        } catch (const dendrite::shape_error& e) {
            const std::string what = e.what();
            CHECK_THAT(what, Catch::Contains("[3, 4]") && Catch::Contains("[5]"));
        }
        CHECK_THROWS_AS(where(a > 0, a, tensor<T>(shape{2, 1})), dendrite::shape_error);
        CHECK_THROWS_AS(tensor<T>(shape{2, 3}).assign(a), dendrite::shape_error);
        // assign broadcasts the expression onto the destination, never the other way.
        CHECK_THROWS_AS(tensor<T>(shape{4}).assign(a), dendrite::shape_error);
    }
}

TEMPLATE_TEST_CASE("strided views as operands and as destinations", "[expr][strided]", float,
                   double) {
    using T = TestType;
    const tensor<T> m = iota<T>({19, 23});
    SECTION("a transpose as an operand") {
        const tensor<T> t = m.transpose();
        const tensor<T> y = t * 2 + t;
        REQUIRE(y.shape() == shape{23, 19});
        REQUIRE(y.is_contiguous());
        for (std::size_t i = 0; i < 23; ++i)
            for (std::size_t j = 0; j < 19; ++j)
                CHECK(y(i, j) == m(j, i) * 3);
    }
    SECTION("a slice along the inner axis as an operand, broadcast against a column") {
        const tensor<T> s = m.slice(1, 2, 5);
        const tensor<T> y = s - iota<T>({19, 1});
        REQUIRE(y.shape() == shape{19, 3});
        for (std::size_t i = 0; i < 19; ++i)
            for (std::size_t j = 0; j < 3; ++j)
                CHECK(y(i, j) == m(i, j + 2) - T(i));
    }
    SECTION("assign writes through a view and nowhere else") {
        tensor<T> base = iota<T>({19, 23});
        tensor<T> cols = base.slice(1, 2, 5);
        cols.assign(cols * -1);
        tensor<T> tr = base.rows(10, 12).transpose();  // [23, 2]
        tr.assign(iota<T>({23, 1}, 1, 5000));          // broadcast along the view's last axis
        for (std::size_t i = 0; i < 19; ++i)
            for (std::size_t j = 0; j < 23; ++j) {
                T expected = m(i, j);
                if (i >= 10 && i < 12)
                    expected = T(5000 + j);
                else if (j >= 2 && j < 5)
                    expected = -m(i, j);
                CHECK(base(i, j) == expected);
            }
    }
    SECTION("operator= on a view rebinds it to new storage and leaves the parent alone") {
        tensor<T> base = iota<T>({19, 23});
        tensor<T> view = base.slice(0, 3, 4);
        view = view + 1;
        CHECK(view(0, 0) == m(3, 0) + 1);
        CHECK(base(3, 0) == m(3, 0));
        CHECK_FALSE(view.shares_storage_with(base));
    }
    SECTION("a strided destination with many rows on two threads") {
        thread_guard g;
        tensor<T> big = iota<T>({600, 300});
        tensor<T> view = big.transpose();  // inner stride 300
        set_num_threads(2);
        view.assign(view * 2 + 1);
        bool ok = true;
        for (std::size_t i = 0; i < big.size(); ++i)
            ok = ok && big.data()[i] == T(i) * 2 + 1;
        CHECK(ok);
    }
}

TEMPLATE_TEST_CASE("assignment reuses unshared storage and never writes through a copy",
                   "[expr][assign]", float, double) {
    using T = TestType;
    const tensor<T> a = iota<T>({7, 17}), b = iota<T>({7, 17}, 2);
    SECTION("y = a * b into a unique y of the same shape writes in place") {
        tensor<T> y(shape{7, 17});
        const T* before = y.data();
        y = a * b;
        CHECK(y.data() == before);
        for (std::size_t i = 0; i < y.size(); ++i)
            CHECK(y.data()[i] == a.data()[i] * b.data()[i]);
    }
    SECTION("y = x; y = x * 2 leaves x unchanged") {
        tensor<T> x = a.clone();
        tensor<T> y = x;
        y = x * 2;
        CHECK_FALSE(y.shares_storage_with(x));
        for (std::size_t i = 0; i < x.size(); ++i) {
            CHECK(x.data()[i] == a.data()[i]);
            CHECK(y.data()[i] == a.data()[i] * 2);
        }
    }
    SECTION("y = y * 2 and y = y.transpose() * 1 give the right values") {
        // The expression holds y as a leaf, so y's storage is shared and the result goes to fresh
        // storage: no element is read after it was overwritten.
        tensor<T> y = iota<T>({9, 9});
        y = y * 2;
        tensor<T> z = iota<T>({9, 9});
        z = z.transpose() * 1;
        for (std::size_t i = 0; i < 9; ++i)
            for (std::size_t j = 0; j < 9; ++j) {
                CHECK(y(i, j) == T(2 * (9 * i + j)));
                CHECK(z(i, j) == T(9 * j + i));
            }
    }
    SECTION("a shape change allocates") {
        tensor<T> y(shape{3});
        y = a + 1;
        CHECK(y.shape() == shape{7, 17});
        CHECK(y(6, 16) == a(6, 16) + 1);
    }
}

namespace {
template <class T>
auto make_expression() {
    const tensor<T> a = iota<T>({33}), b = iota<T>({33}, 2);
    return a * b + 1;  // a and b go out of scope here; the expression holds their storage
}
}  // namespace

TEMPLATE_TEST_CASE("an expression outlives the tensors it was built from", "[expr][lifetime]",
                   float, double) {
    using T = TestType;
    auto e = make_expression<T>();
    auto f = exp(-e / 1000) * make_expression<T>();
    const tensor<T> y = e, z = f;
    for (std::size_t i = 0; i < 33; ++i) {
        const T v = T(i) * T(2 * i) + 1;
        CHECK(y.data()[i] == v);
        CHECK(check::ulp_distance(z.data()[i], std::exp(-v / 1000) * v) <= 2);
    }
}

TEMPLATE_TEST_CASE("fused evaluation gives identical results on one and two threads",
                   "[expr][threads]", float, double) {
    using T = TestType;
    thread_guard g;
    // Above the parallel threshold (1 << 16), with a remainder that is no multiple of the width.
    const std::size_t n = (std::size_t{1} << 17) + 37;
    const tensor<T> a = check::uniform_values<T>(n, -3, 3, 1),
                    b = check::uniform_values<T>(n, -3, 3, 2);
    const tensor<T> row = check::uniform_values<T>(4099, -1, 1, 3);
    const tensor<T> m = check::uniform_values<T>(64 * 4099, -1, 1, 4).reshape({64, 4099});
    set_num_threads(1);
    const tensor<T> y1 = a * sigmoid(b) + exp(a / 4), w1 = tanh(m) * row;
    set_num_threads(2);
    const tensor<T> y2 = a * sigmoid(b) + exp(a / 4), w2 = tanh(m) * row;
    for (std::size_t i = 0; i < n; ++i) {
        const T p = a.data()[i] * sigmoid(b.data()[i]), q = std::exp(a.data()[i] / 4);
        // The two terms may cancel: bound the error by their magnitudes, not the result's.
        const T tol = 8 * std::numeric_limits<T>::epsilon() * (std::abs(p) + q);
        if (!check::same_value(y1.data()[i], y2.data()[i]) ||
            std::abs(y1.data()[i] - (p + q)) > tol) {
            FAIL_CHECK("element " << i << ": " << +y1.data()[i] << " on 1 thread, " << +y2.data()[i]
                                  << " on 2, " << +(p + q) << " expected");
            break;
        }
    }
    CHECK(std::memcmp(w1.data(), w2.data(), w1.size() * sizeof(T)) == 0);
}

TEMPLATE_TEST_CASE("one generic lambda on a scalar, a batch and a tensor", "[expr][custom]", float,
                   double) {
    using T = TestType;
    constexpr std::size_t w = dendrite::simd::width<T>;
    auto mish = [](auto x) { return x * tanh(softplus(x)); };
    const tensor<T> x = check::uniform_values<T>(257, -20, 20, 5);
    const tensor<T> y = mish(x);
    for (std::size_t i = 0; i < x.size(); ++i) {
        const T xi = x.data()[i];
        const T s = mish(xi);
        STATIC_REQUIRE(std::is_same_v<decltype(mish(xi)), T>);
        // Same ops, lane kernels vs the C library: within the sum of their few-ulp errors.
        const T ref =
            xi * static_cast<T>(std::tanh(std::log1p(std::exp(static_cast<long double>(xi)))));
        CHECK(check::ulp_distance(y.data()[i], s) <= 4);
        CHECK(check::ulp_distance(y.data()[i], ref) <= 6);
    }
    alignas(64) T lanes[w];
    mish(dendrite::simd::load(x.data())).store_aligned(lanes);
    for (std::size_t k = 0; k < w; ++k)
        CHECK(lanes[k] == y.data()[k]);
}

TEMPLATE_TEST_CASE("with_derivative: the value on scalars and tensors, the given derivative",
                   "[expr][custom]", float, double) {
    using T = TestType;
    // A softsign with its closed-form derivative 1 / (1 + |x|)^2.
    const auto softsign =
        dendrite::with_derivative([](auto x) { return x / (1 + abs(x)); },
                                  [](auto x, auto) { return 1 / square(1 + abs(x)); });
    const tensor<T> x = check::uniform_values<T>(33, -5, 5, 6);
    const tensor<T> y = softsign(x);
    for (std::size_t i = 0; i < x.size(); ++i) {
        const T xi = x.data()[i];
        CHECK(y.data()[i] == xi / (1 + std::abs(xi)));
        CHECK(softsign(xi) == xi / (1 + std::abs(xi)));
        const auto [v, d] = dendrite::value_and_derivative(softsign, xi);
        CHECK(v == xi / (1 + std::abs(xi)));
        CHECK(d == T(1) / ((1 + std::abs(xi)) * (1 + std::abs(xi))));
    }
}
