// The primitives sequence models are written in: permute and transpose, strided slices, stack
// and split, integer indexing, masks, masked softmax and the sequence cross-entropy. Values
// against plain loops, gradients against finite differences in double, at awkward sizes.

#include "../support/hvp_check.hpp"
#include "helpers.hpp"

#include <catch2/catch.hpp>
#include <dendrite/dendrite.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

using namespace dendrite;
using dendrite::testing::require_gradcheck;

namespace {

/// Flat row-major offset of `idx` in `s`.
std::size_t offset(const shape& s, const std::array<std::size_t, 4>& idx) {
    std::size_t off = 0;
    for (std::size_t a = 0; a < s.rank(); ++a)
        off = off * s[a] + idx[a];
    return off;
}

/// Calls f(idx) for every index of `s` in row-major order.
template <class F>
void for_each_index(const shape& s, F&& f) {
    std::array<std::size_t, 4> idx{};
    for (std::size_t flat = 0; flat < s.size(); ++flat) {
        std::size_t rest = flat;
        for (std::size_t a = s.rank(); a-- > 0;) {
            idx[a] = rest % s[a];
            rest /= s[a];
        }
        f(idx);
    }
}

/// A loss that weighs every output element differently, so a gradient sent to the wrong place
/// cannot pass.
template <class V>
auto probe(const V& y) {
    tensor<double> w(y.shape(), 0.0);
    for (std::size_t i = 0; i < w.size(); ++i)
        w.data()[i] = 0.5 + 0.37 * static_cast<double>(i % 11);
    return sum(square(y) * w + y);
}

}  // namespace

TEST_CASE("permute reorders axes as the index map says", "[sequence][permute]") {
    rng g(1);
    struct permute_case {
        shape in;
        axis_order order;
    };
    const permute_case cases[] = {
        {{7, 3}, {1, 0}},       {{2, 17, 3, 5}, {0, 2, 1, 3}},  // [B, T, H, d] -> [B, H, T, d]
        {{3, 5, 7}, {2, 0, 1}}, {{2, 3, 4, 5}, {3, 2, 1, 0}},  {{1, 0, 4}, {2, 1, 0}},
    };
    for (const auto& c : cases) {
        INFO(c.in.str() << " by " << c.order.str());
        const tensor<double> x = uniform<double>(c.in, -1.0, 1.0, g);
        tape t;
        const var<double> y = permute(variable(t, x), c.order);
        for (std::size_t i = 0; i < c.order.rank; ++i)
            REQUIRE(y.shape()[i] == c.in[c.order.axes[i]]);
        for_each_index(y.shape(), [&](const std::array<std::size_t, 4>& idx) {
            std::array<std::size_t, 4> src{};
            for (std::size_t i = 0; i < c.order.rank; ++i)
                src[c.order.axes[i]] = idx[i];
            REQUIRE(y.value().data()[offset(y.shape(), idx)] == x.data()[offset(c.in, src)]);
        });
        const axis_order order = c.order;
        require_gradcheck(gradcheck([&](auto v) { return probe(permute(v, order)); }, x), 1e-7);
    }
}

TEST_CASE("transpose of a var, and permute's errors", "[sequence][permute]") {
    rng g(2);
    const tensor<double> x = uniform<double>({3, 4, 5}, -1.0, 1.0, g);
    require_gradcheck(gradcheck([](auto v) { return probe(transpose(sin(v), 0, 2)); }, x), 1e-7);
    tape t;
    const var<double> v = variable(t, x);
    CHECK(transpose(v, 1, 2).shape() == shape{3, 5, 4});
    CHECK_THROWS_WITH(permute(v, {0, 0, 1}),
                      Catch::Contains("axes (0, 0, 1) are not a permutation of the 3 axes"));
    CHECK_THROWS_WITH(permute(v, {1, 0}), Catch::Contains("not a permutation"));
    CHECK_THROWS_WITH(transpose(v, 0, 3), Catch::Contains("out of range for shape [3, 4, 5]"));
}

TEST_CASE("permute has a second-order rule", "[sequence][permute][hvp]") {
    rng g(3);
    nn::parameter_list<double> ps;
    ps.emplace_back(shape{2, 3, 5}, "x");
    ps[0].value.assign(normal<double>(ps[0].value.shape(), 0.0, 0.7, g));
    auto loss = [&](tape& t) {
        const var<double> x = parameter(t, ps[0].value, ps[0].grad);
        return probe(tanh(permute(x * x, {2, 0, 1})));
    };
    dendrite::testing::require_hvp_matches_differences(loss, ps, 30);
}

TEST_CASE("slices with a step pick every step-th index", "[sequence][slice]") {
    rng g(4);
    const tensor<double> x = uniform<double>({17, 3}, -1.0, 1.0, g);
    for (const auto& r : {std::array<std::size_t, 3>{0, 17, 2},
                          {1, 17, 3},
                          {5, 6, 4},
                          {3, 3, 2},
                          {0, 17, 1},
                          {16, 17, 7}}) {
        const std::size_t begin = r[0], end = r[1], step = r[2];
        INFO(begin << ":" << end << ":" << step);
        tape t;
        const var<double> y = slice(variable(t, x), 0, begin, end, step);
        const std::size_t n = (end - begin + step - 1) / step;
        REQUIRE(y.shape() == shape{n, 3});
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < 3; ++j)
                REQUIRE(y.value()(i, j) == x(begin + i * step, j));
        require_gradcheck(
            gradcheck([&](auto v) { return probe(slice(v, 0, begin, end, step)); }, x), 1e-7);
    }
    const tensor<double> x3 = uniform<double>({2, 3, 15}, -1.0, 1.0, g);
    require_gradcheck(gradcheck([](auto v) { return probe(slice(v, 2, 1, 14, 4)); }, x3), 1e-7);
    tape t;
    CHECK_THROWS_WITH(slice(variable(t, x), 0, 0, 4, 0),
                      Catch::Contains("step must be at least 1"));
    CHECK_THROWS_WITH(slice(variable(t, x), 0, 0, 18, 2), Catch::Contains("out of bounds"));
}

TEST_CASE("stack joins along a new axis, split and chunk cut along one", "[sequence][stack]") {
    rng g(5);
    const tensor<double> a = uniform<double>({7, 3}, -1.0, 1.0, g);
    const tensor<double> b = uniform<double>({7, 3}, -1.0, 1.0, g);
    for (std::size_t axis = 0; axis <= 2; ++axis) {
        INFO("axis " << axis);
        tape t;
        const var<double> s = stack({variable(t, a), variable(t, b)}, axis);
        const shape want = axis == 0 ? shape{2, 7, 3} : axis == 1 ? shape{7, 2, 3} : shape{7, 3, 2};
        REQUIRE(s.shape() == want);
        for (std::size_t i = 0; i < 7; ++i)
            for (std::size_t j = 0; j < 3; ++j) {
                const double sa = axis == 0   ? s.value()(0, i, j)
                                  : axis == 1 ? s.value()(i, 0, j)
                                              : s.value()(i, j, 0);
                const double sb = axis == 0   ? s.value()(1, i, j)
                                  : axis == 1 ? s.value()(i, 1, j)
                                              : s.value()(i, j, 1);
                REQUIRE(sa == a(i, j));
                REQUIRE(sb == b(i, j));
            }
        require_gradcheck(
            gradcheck(
                [&](auto u, auto v) {
                    return probe(stack({var<double>(u * v), var<double>(exp(u))}, axis));
                },
                a, b),
            1e-7);
    }
    // More parts than a node holds inline.
    std::vector<tensor<double>> many;
    for (int i = 0; i < 11; ++i)
        many.push_back(uniform<double>({5}, -1.0, 1.0, g));
    tape t;
    std::vector<var<double>> vars;
    for (const auto& m : many)
        vars.push_back(variable(t, m));
    const var<double> s = stack(vars, 1);
    REQUIRE(s.shape() == shape{5, 11});
    CHECK(s.value()(4, 10) == many[10](4));

    const tensor<double> x = uniform<double>({4, 17}, -1.0, 1.0, g);
    require_gradcheck(gradcheck(
                          [](auto v) {
                              const auto parts = split(v, 1, {5, 0, 12});
                              return probe(parts[0]) + 2.0 * sum(parts[2] * parts[2]);
                          },
                          x),
                      1e-7);
    const auto thirds = chunk(variable(t, uniform<double>({2, 9}, -1.0, 1.0, g)), 3, 1);
    REQUIRE(thirds.size() == 3);
    CHECK(thirds[2].shape() == shape{2, 3});
    CHECK_THROWS_WITH(split(variable(t, x), 1, {5, 5}),
                      Catch::Contains("sizes add up to 10, axis 1 of [4, 17] has 17"));
    CHECK_THROWS_WITH(chunk(variable(t, x), 3, 1),
                      Catch::Contains("does not divide into 3 equal parts"));
    CHECK_THROWS_WITH(stack({variable(t, a), variable(t, x)}, 0),
                      Catch::Contains("stack: shapes [7, 3] and [4, 17] differ"));
}

TEST_CASE("index_select picks slices by integer ids and scatters gradients back",
          "[sequence][indexing]") {
    rng g(6);
    const tensor<double> table = uniform<double>({7, 5}, -1.0, 1.0, g);
    const tensor<std::int32_t> ids(shape{2, 3}, {3, 0, 3, 6, 1, 3});  // repeats sum
    tape t;
    const var<double> e = embedding_lookup(variable(t, table), ids);
    REQUIRE(e.shape() == shape{2, 3, 5});
    for (std::size_t b = 0; b < 2; ++b)
        for (std::size_t s = 0; s < 3; ++s)
            for (std::size_t d = 0; d < 5; ++d)
                REQUIRE(e.value()(b, s, d) == table(static_cast<std::size_t>(ids(b, s)), d));
    require_gradcheck(gradcheck([&](auto v) { return probe(embedding_lookup(v, ids)); }, table),
                      1e-7);

    // Along a middle axis, with a rank-0 id and an id list of length 17.
    const tensor<double> x = uniform<double>({2, 9, 3}, -1.0, 1.0, g);
    tensor<std::int64_t> many(shape{17}, std::int64_t(0));
    for (std::size_t i = 0; i < 17; ++i)
        many(i) = static_cast<std::int64_t>((i * 5) % 9);
    const var<double> y = index_select(variable(t, x), 1, many);
    REQUIRE(y.shape() == shape{2, 17, 3});
    CHECK(y.value()(1, 4, 2) == x(1, 2, 2));
    require_gradcheck(gradcheck([&](auto v) { return probe(index_select(v, 1, many)); }, x), 1e-7);
    const tensor<std::int64_t> one(shape{}, std::int64_t(4));
    CHECK(index_select(variable(t, x), 1, one).shape() == shape{2, 3});

    CHECK_THROWS_WITH(
        index_select(variable(t, x), 1, tensor<std::int32_t>(shape{2}, {1, 9})),
        Catch::Contains("index_select: index 9 at position 1 of [2] is outside [0, 9)"));
    CHECK_THROWS_WITH(index_select(variable(t, x), 3, ids), Catch::Contains("index_select"));
}

TEST_CASE("gather reads one index per output element", "[sequence][indexing]") {
    rng g(7);
    const tensor<double> x = uniform<double>({3, 7, 2}, -1.0, 1.0, g);
    tensor<std::int32_t> index(shape{3, 4, 2}, 0);
    for (std::size_t i = 0; i < index.size(); ++i)
        index.data()[i] = static_cast<std::int32_t>((i * 3 + 1) % 7);
    tape t;
    const var<double> y = gather(variable(t, x), 1, index);
    REQUIRE(y.shape() == shape{3, 4, 2});
    for (std::size_t a = 0; a < 3; ++a)
        for (std::size_t b = 0; b < 4; ++b)
            for (std::size_t c = 0; c < 2; ++c)
                REQUIRE(y.value()(a, b, c) == x(a, static_cast<std::size_t>(index(a, b, c)), c));
    require_gradcheck(gradcheck([&](auto v) { return probe(gather(v, 1, index)); }, x), 1e-7);
    CHECK_THROWS_WITH(gather(variable(t, x), 1, tensor<std::int32_t>(shape{3, 4, 3}, 0)),
                      Catch::Contains("must match the input [3, 7, 2] outside axis 1"));
}

TEST_CASE("one_hot marks each id's class", "[sequence][indexing]") {
    const tensor<std::int32_t> ids(shape{2, 2}, {0, 4, 2, 4});
    const tensor<float> h = one_hot<float>(ids, 5);
    REQUIRE(h.shape() == shape{2, 2, 5});
    for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t j = 0; j < 2; ++j)
            for (std::size_t c = 0; c < 5; ++c)
                CHECK(h(i, j, c) == (static_cast<std::size_t>(ids(i, j)) == c ? 1.0f : 0.0f));
    CHECK_THROWS_WITH(one_hot<float>(ids, 4),
                      Catch::Contains("one_hot: id 4 at position 1 is outside [0, 4)"));
}

TEST_CASE("causal masks and masked_fill", "[sequence][masks]") {
    const tensor<double> m = causal_mask<double>(3, 5);
    for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t j = 0; j < 5; ++j)
            CHECK(m(i, j) == (j > i + 2 ? 1.0 : 0.0));
    CHECK_THROWS_WITH(causal_mask<double>(4, 3), Catch::Contains("4 queries but only 3 keys"));
    rng g(8);
    const tensor<double> x = uniform<double>({2, 7, 7}, -1.0, 1.0, g);
    const tensor<double> c = causal_mask<double>(7);
    tape t;
    const var<double> y = masked_fill(variable(t, x), c, -5.0);
    CHECK(y.value()(1, 2, 3) == -5.0);
    CHECK(y.value()(1, 3, 2) == x(1, 3, 2));
    require_gradcheck(gradcheck([&](auto v) { return probe(masked_fill(v * v, c, 2.0)); }, x),
                      1e-7);
}

TEST_CASE("masked_softmax equals softmax of the scaled scores with masked entries at -inf",
          "[sequence][softmax]") {
    rng g(9);
    for (const shape& s : {shape{2, 3, 7, 7}, shape{17, 17}, shape{1, 1}}) {
        INFO(s.str());
        const std::size_t n = s[s.rank() - 1];
        const tensor<double> x = uniform<double>(s, -3.0, 3.0, g);
        const tensor<double> mask = causal_mask<double>(n);
        const double scale = 0.37;
        tape t;
        const var<double> y = masked_softmax(variable(t, x), mask, s.rank() - 1, scale);
        const var<double> want =
            softmax(where(mask, -std::numeric_limits<double>::infinity(), variable(t, x) * scale),
                    s.rank() - 1);
        for (std::size_t i = 0; i < y.size(); ++i)
            REQUIRE(std::abs(y.value().data()[i] - want.value().data()[i]) < 1e-15);
        const std::size_t axis = s.rank() - 1;
        require_gradcheck(
            gradcheck([&](auto v) { return probe(masked_softmax(v, mask, axis, scale)); }, x),
            1e-7);
    }
    // Over a leading axis, and a row masked entirely gives zeros.
    const tensor<double> x = uniform<double>({5, 3}, -1.0, 1.0, g);
    const tensor<double> mask(shape{5, 1}, {1, 1, 1, 1, 1});
    tape t;
    const var<double> y = masked_softmax(variable(t, x), mask, 0);
    for (std::size_t i = 0; i < y.size(); ++i)
        CHECK(y.value().data()[i] == 0);
    const tensor<double> some(shape{5, 1}, {0, 1, 0, 0, 1});
    require_gradcheck(gradcheck([&](auto v) { return probe(masked_softmax(v, some, 0, 2.0)); }, x),
                      1e-7);
    CHECK_THROWS_WITH(masked_softmax(variable(t, x), tensor<double>(shape{3, 3}, 0.0), 1),
                      Catch::Contains("masked_softmax"));
}

TEST_CASE("masked_softmax has a second-order rule", "[sequence][softmax][hvp]") {
    rng g(10);
    nn::parameter_list<double> ps;
    ps.emplace_back(shape{2, 5, 5}, "x");
    ps[0].value.assign(normal<double>(ps[0].value.shape(), 0.0, 1.0, g));
    const tensor<double> mask = causal_mask<double>(5);
    auto loss = [&](tape& t) {
        const var<double> x = parameter(t, ps[0].value, ps[0].grad);
        return probe(masked_softmax(x * x, mask, 2, 0.8));
    };
    dendrite::testing::require_hvp_matches_differences(loss, ps, 31);
}

TEST_CASE("sequence cross-entropy over [B, T, V] with an ignore index", "[sequence][loss]") {
    rng g(11);
    const tensor<double> logits = uniform<double>({2, 5, 7}, -2.0, 2.0, g);
    const tensor<std::int32_t> targets(shape{2, 5}, {1, 6, -100, 0, 3, 2, -100, -100, 5, 4});
    tape t;
    const var<double> loss =
        softmax_cross_entropy(variable(t, logits), targets, {.ignore_index = -100});
    double total = 0;
    int counted = 0;
    for (std::size_t b = 0; b < 2; ++b)
        for (std::size_t s = 0; s < 5; ++s) {
            if (targets(b, s) == -100) continue;
            double z = 0;
            for (std::size_t v = 0; v < 7; ++v)
                z += std::exp(logits(b, s, v));
            total += std::log(z) - logits(b, s, static_cast<std::size_t>(targets(b, s)));
            ++counted;
        }
    CHECK(loss.value().item() == Approx(total / counted).epsilon(1e-13));
    require_gradcheck(gradcheck(
                          [&](auto v) {
                              return softmax_cross_entropy(
                                  v * v, targets, {.label_smoothing = 0.1, .ignore_index = -100});
                          },
                          logits),
                      1e-7);
    // Every row ignored: no loss, no gradient.
    const tensor<std::int32_t> none(shape{2, 5}, -1);
    const var<double> x = variable(t, logits);
    const var<double> zero = softmax_cross_entropy(x, none, {.ignore_index = -1});
    CHECK(zero.value().item() == 0);
    zero.backward();
    for (std::size_t i = 0; i < logits.size(); ++i)
        CHECK(x.grad().data()[i] == 0);
    CHECK_THROWS_WITH(softmax_cross_entropy(variable(t, logits), tensor<std::int32_t>(shape{9}, 0)),
                      Catch::Contains("9 labels for [2, 5, 7] logits (10 rows)"));
}

TEST_CASE("sequence cross-entropy has a second-order rule that skips ignored rows",
          "[sequence][loss][hvp]") {
    rng g(12);
    nn::parameter_list<double> ps;
    ps.emplace_back(shape{2, 3, 4}, "x");
    ps[0].value.assign(normal<double>(ps[0].value.shape(), 0.0, 1.0, g));
    const tensor<std::int32_t> targets(shape{2, 3}, {1, -1, 3, 0, 2, -1});
    auto loss = [&](tape& t) {
        const var<double> x = parameter(t, ps[0].value, ps[0].grad);
        return softmax_cross_entropy(tanh(x), targets, {.ignore_index = -1});
    };
    dendrite::testing::require_hvp_matches_differences(loss, ps, 32);
}

TEST_CASE("causal multi-head attention written from primitives passes gradcheck",
          "[sequence][attention]") {
    // [B, T, D] -> q, k, v heads [B, H, T, d] -> masked softmax of q k^T / sqrt(d) -> [B, T, D].
    const std::size_t B = 2, T = 5, D = 6, H = 2, d = D / H;
    rng g(13);
    const tensor<double> x = uniform<double>({B, T, D}, -1.0, 1.0, g);
    const tensor<double> wqkv = uniform<double>({D, 3 * D}, -0.5, 0.5, g);
    const tensor<double> wo = uniform<double>({D, D}, -0.5, 0.5, g);
    const tensor<double> mask = causal_mask<double>(T);
    auto attention = [&](auto in, auto w_qkv, auto w_o) {
        const auto qkv = split(matmul(in, w_qkv), 2, {D, D, D});
        auto heads = [&](const var<double>& m) {
            return permute(reshape(m, {B, T, H, d}), {0, 2, 1, 3});
        };
        const var<double> q = heads(qkv[0]), k = heads(qkv[1]), v = heads(qkv[2]);
        const var<double> weights =
            masked_softmax(matmul(q, k, false, true), mask, 3, 1 / std::sqrt(double(d)));
        const var<double> out = reshape(permute(matmul(weights, v), {0, 2, 1, 3}), {B, T, D});
        return matmul(out, w_o);
    };
    require_gradcheck(
        gradcheck([&](auto a, auto b, auto c) { return probe(attention(a, b, c)); }, x, wqkv, wo),
        1e-7);
    // Causality: the first position's output does not depend on later inputs.
    tape t;
    tensor<double> x2 = x.clone();
    x2(0, 4, 1) += 1;
    const var<double> y1 = attention(variable(t, x), constant(t, wqkv), constant(t, wo));
    const var<double> y2 = attention(variable(t, x2), constant(t, wqkv), constant(t, wo));
    for (std::size_t j = 0; j < D; ++j)
        CHECK(y1.value()(0, 0, j) == y2.value()(0, 0, j));
    CHECK(y1.value()(0, 4, 0) != y2.value()(0, 4, 0));
}
