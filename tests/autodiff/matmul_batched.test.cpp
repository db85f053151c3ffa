// Batched matmul: products of rank 2 to 4 with broadcast leading axes and transposes, against a
// plain reference, gradient-checked and HVP-checked in double.

#include "../support/hvp_check.hpp"
#include "helpers.hpp"

#include <catch2/catch.hpp>
#include <dendrite/dendrite.hpp>

#include <cmath>
#include <string>
#include <vector>

using namespace dendrite;
using dendrite::testing::require_gradcheck;

namespace {

/// Element [i0, i1, r, c] of a tensor whose leading axes broadcast onto a 2-axis batch.
double at(const tensor<double>& t, std::size_t b0, std::size_t b1, std::size_t r, std::size_t c) {
    const shape& s = t.shape();
    const std::size_t rank = s.rank();
    std::size_t idx[2] = {0, 0}, ext[2] = {1, 1};
    for (std::size_t i = 0; i + 2 < rank; ++i)
        ext[2 - (rank - 2) + i] = s[i];
    idx[0] = ext[0] == 1 ? 0 : b0;
    idx[1] = ext[1] == 1 ? 0 : b1;
    const std::size_t rows = s[rank - 2], cols = s[rank - 1];
    return t.data()[((idx[0] * ext[1] + idx[1]) * rows + r) * cols + c];
}

/// The product by loops, for any broadcasting pair.
tensor<double> reference(const tensor<double>& a, const tensor<double>& b, bool ta, bool tb,
                         const shape& out) {
    tensor<double> c(out, 0.0);
    const std::size_t r = out.rank(), m = out[r - 2], n = out[r - 1];
    const std::size_t k = ta ? a.shape()[a.shape().rank() - 2] : a.shape()[a.shape().rank() - 1];
    const std::size_t d0 = r == 4 ? out[0] : 1, d1 = r >= 3 ? out[r - 3] : 1;
    for (std::size_t b0 = 0; b0 < d0; ++b0)
        for (std::size_t b1 = 0; b1 < d1; ++b1)
            for (std::size_t i = 0; i < m; ++i)
                for (std::size_t j = 0; j < n; ++j) {
                    double s = 0;
                    for (std::size_t l = 0; l < k; ++l)
                        s += (ta ? at(a, b0, b1, l, i) : at(a, b0, b1, i, l)) *
                             (tb ? at(b, b0, b1, j, l) : at(b, b0, b1, l, j));
                    c.data()[((b0 * d1 + b1) * m + i) * n + j] = s;
                }
    return c;
}

struct pair_case {
    shape a, b;
    bool ta = false, tb = false;
    shape out;
};

std::vector<pair_case> cases() {
    return {
        {{7, 5}, {5, 3}, false, false, {7, 3}},                    // matrices
        {{2, 7, 5}, {2, 5, 3}, false, false, {2, 7, 3}},           // a batch
        {{3, 7, 5}, {5, 17}, false, false, {3, 7, 17}},            // [B, T, D] x [D, E]: folded
        {{2, 3, 7, 5}, {5, 4}, false, false, {2, 3, 7, 4}},        // folded over two axes
        {{7, 5}, {3, 5, 4}, false, false, {3, 7, 4}},              // a shared left matrix
        {{2, 1, 7, 5}, {1, 3, 5, 4}, false, false, {2, 3, 7, 4}},  // both broadcast
        {{2, 3, 7, 5}, {2, 3, 4, 5}, false, true, {2, 3, 7, 4}},   // Q K^T
        {{2, 5, 7}, {2, 5, 3}, true, false, {2, 7, 3}},            // A^T B
        {{3, 5, 7}, {4, 5}, true, true, {3, 7, 4}},                // transposed, no fold
        {{1, 1}, {4, 1, 1}, false, false, {4, 1, 1}},              // extents of 1
        {{2, 17, 33}, {1, 33, 15}, false, false, {2, 17, 15}},     // awkward sizes
    };
}

}  // namespace

TEST_CASE("batched matmul equals the product by loops", "[matmul][batched]") {
    rng g(11);
    for (const pair_case& c : cases()) {
        INFO(c.a.str() << (c.ta ? "^T" : "") << " x " << c.b.str() << (c.tb ? "^T" : ""));
        const tensor<double> a = uniform<double>(c.a, -1.0, 1.0, g);
        const tensor<double> b = uniform<double>(c.b, -1.0, 1.0, g);
        tape t;
        const var<double> y = matmul(variable(t, a), variable(t, b), c.ta, c.tb);
        REQUIRE(y.shape() == c.out);
        const tensor<double> want = reference(a, b, c.ta, c.tb, c.out);
        for (std::size_t i = 0; i < want.size(); ++i)
            REQUIRE(std::abs(y.value().data()[i] - want.data()[i]) < 1e-13);
    }
}

TEST_CASE("batched matmul of empty extents", "[matmul][batched]") {
    tape t;
    // k = 0: every product is a sum of nothing.
    const var<double> zero = matmul(variable(t, tensor<double>(shape{2, 3, 0}, 0.0)),
                                    variable(t, tensor<double>(shape{2, 0, 4}, 0.0)));
    REQUIRE(zero.shape() == shape{2, 3, 4});
    for (std::size_t i = 0; i < zero.size(); ++i)
        CHECK(zero.value().data()[i] == 0);
    // An empty batch.
    const var<double> none = matmul(variable(t, tensor<double>(shape{0, 3, 5}, 1.0)),
                                    variable(t, tensor<double>(shape{5, 2}, 1.0)));
    CHECK(none.shape() == shape{0, 3, 2});
    sum(none).backward();
}

TEST_CASE("batched matmul passes gradcheck, shared operands summing their products",
          "[matmul][batched]") {
    rng g(12);
    for (const pair_case& c : cases()) {
        INFO(c.a.str() << (c.ta ? "^T" : "") << " x " << c.b.str() << (c.tb ? "^T" : ""));
        const tensor<double> a = uniform<double>(c.a, -1.0, 1.0, g);
        const tensor<double> b = uniform<double>(c.b, -1.0, 1.0, g);
        const bool ta = c.ta, tb = c.tb;
        require_gradcheck(
            gradcheck([&](auto x, auto y) { return sum(square(matmul(x, y, ta, tb))); }, a, b),
            1e-7);
    }
}

TEST_CASE("batched matmul has a second-order rule", "[matmul][batched][hvp]") {
    rng g(13);
    for (const pair_case& c : {cases()[2], cases()[4], cases()[6], cases()[8]}) {
        INFO(c.a.str() << " x " << c.b.str());
        nn::parameter_list<double> ps;
        ps.emplace_back(c.a, "a");
        ps.emplace_back(c.b, "b");
        for (auto& p : ps)
            p.value.assign(normal<double>(p.value.shape(), 0.0, 0.5, g));
        const bool ta = c.ta, tb = c.tb;
        auto loss = [&](tape& t) {
            const var<double> a = parameter(t, ps[0].value, ps[0].grad);
            const var<double> b = parameter(t, ps[1].value, ps[1].grad);
            return sum(tanh(matmul(a, b, ta, tb)));
        };
        dendrite::testing::require_hvp_matches_differences(loss, ps, 40);
    }
}

TEST_CASE("batched matmul names the shapes it cannot multiply", "[matmul][batched]") {
    tape t;
    auto v = [&](const shape& s) { return variable(t, tensor<double>(s, 1.0)); };
    CHECK_THROWS_WITH(
        matmul(v({2, 3, 4}), v({3, 5, 6})),
        Catch::Contains("matmul: shapes [2, 3, 4] and [3, 5, 6] do not chain (4 vs 5)"));
    CHECK_THROWS_WITH(matmul(v({2, 3, 4}), v({3, 4, 6})),
                      Catch::Contains("have leading axes that do not broadcast (2 vs 3)"));
    CHECK_THROWS_WITH(matmul(v({4}), v({4, 2})), Catch::Contains("each operand needs rank 2 to 4"));
    CHECK_THROWS_WITH(matmul(v({3, 4}), v({3, 4}), false, false),
                      Catch::Contains("[3, 4] and [3, 4] do not chain (4 vs 3)"));
    CHECK_THROWS_WITH(matmul(v({3, 4}), v({3, 4}), true, true),
                      Catch::Contains("[3, 4]^T and [3, 4]^T do not chain (3 vs 4)"));
}
