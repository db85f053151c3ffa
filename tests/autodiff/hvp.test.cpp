// Hessian-vector products against central differences of gradients, and Hessians in closed form.

#include "../support/hvp_check.hpp"

#include <catch2/catch.hpp>
#include <dendrite/dendrite.hpp>

#include <cmath>
#include <vector>

using namespace dendrite;
using dendrite::testing::require_hvp_matches_differences;

namespace {

nn::parameter_list<double> random_parameters(std::initializer_list<shape> shapes, rng& g,
                                             double scale = 0.5) {
    nn::parameter_list<double> ps;
    int i = 0;
    for (const shape& s : shapes) {
        ps.emplace_back(s, "p" + std::to_string(i++));
        ps.back().value.assign(normal<double>(s, 0.0, scale, g));
    }
    return ps;
}

var<double> leaf(tape& t, nn::parameter<double>& p) {
    return parameter(t, p.value, p.grad);
}

}  // namespace

TEST_CASE("hessian of element-wise functions in closed form", "[hvp]") {
    // f = sum(x sigmoid(x)): H is diagonal with s'(x) (2 + x (1 - 2 s(x))).
    const tensor<double> x{-3.0, -0.5, 0.0, 0.25, 1.5, 4.0, 7.0};
    const tensor<double> h = hessian([](const var<double>& v) { return sum(v * sigmoid(v)); }, x);
    for (std::size_t i = 0; i < x.size(); ++i)
        for (std::size_t j = 0; j < x.size(); ++j) {
            const double xi = x.data()[i];
            const double s = 1 / (1 + std::exp(-xi));
            const double expected = i == j ? s * (1 - s) * (2 + xi * (1 - 2 * s)) : 0.0;
            CHECK(h.data()[i * x.size() + j] == Approx(expected).margin(1e-14));
        }

    // f = (sum x)^2 / 2 + sum(sin x): H = ones - diag(sin x), every entry coupled.
    const tensor<double> y{0.3, -1.2, 2.0};
    const tensor<double> hy = hessian(
        [](const var<double>& v) {
            const var<double> s = sum(v);
            return sum(0.5 * square(s) + 0 * s) + sum(sin(v));
        },
        y);
    for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t j = 0; j < 3; ++j)
            CHECK(hy.data()[i * 3 + j] ==
                  Approx(1.0 - (i == j ? std::sin(y.data()[i]) : 0.0)).margin(1e-14));
}

TEST_CASE("hvp of element-wise expressions over several parameters", "[hvp]") {
    rng g(3);
    for (const shape& s : {shape{1}, shape{7}, shape{3, 5}, shape{33}, shape{257}}) {
        auto ps = random_parameters({s, s, shape{s[s.rank() - 1]}}, g);
        auto loss = [&](tape& t) {
            const var<double> a = leaf(t, ps[0]), b = leaf(t, ps[1]), c = leaf(t, ps[2]);
            // Broadcast c along rows; a product of parameters couples their blocks.
            return sum(a * tanh(b) + softplus(a * c) - where(b > 0.1, square(b), exp(b)));
        };
        require_hvp_matches_differences(loss, ps, 10 + s.size());
    }
}

TEST_CASE("hvp through matmul, reductions and shape ops", "[hvp]") {
    rng g(4);
    for (std::size_t n : {1, 7, 17}) {
        auto ps = random_parameters({shape{n, 5}, shape{5, 3}, shape{3, 5}}, g);
        auto loss = [&](tape& t) {
            const var<double> a = leaf(t, ps[0]), b = leaf(t, ps[1]), c = leaf(t, ps[2]);
            const var<double> h = tanh(matmul(a, b));                       // [n, 3]
            const var<double> back = matmul(h, c, false, false);            // [n, 5]
            const var<double> both = concat({h, slice(back, 1, 1, 4)}, 1);  // [n, 6]
            const var<double> m = mean(square(reshape(both, shape{n * 6})));
            return m * sum(mean(both, 0)) + sum(matmul(a, c, false, true));
        };
        require_hvp_matches_differences(loss, ps, 20 + n);
    }
}

TEST_CASE("hvp of cross-entropy and nll losses", "[hvp]") {
    rng g(5);
    for (std::size_t batch : {1, 7, 15}) {
        auto ps = random_parameters({shape{batch, 4}, shape{4, 10}}, g, 1.0);
        std::vector<std::int32_t> labels;
        for (std::size_t i = 0; i < batch; ++i)
            labels.push_back(static_cast<std::int32_t>(g.below(10)));
        for (double smoothing : {0.0, 0.1}) {
            auto loss = [&](tape& t) {
                const var<double> logits = matmul(leaf(t, ps[0]), leaf(t, ps[1]));
                return softmax_cross_entropy(logits, labels, smoothing) +
                       nll_loss(0.5 * logits, labels);
            };
            require_hvp_matches_differences(loss, ps, 30 + batch);
        }
    }
}

TEST_CASE("hvp errors name what is wrong", "[hvp]") {
    rng g(6);
    auto ps = random_parameters({shape{3}}, g);
    const std::vector<tensor<double>> wrong{tensor<double>(shape{4}, 0.0)};
    auto loss = [&](tape& t) { return sum(square(leaf(t, ps[0]))); };
    REQUIRE_THROWS_WITH(hvp(loss, ps, wrong),
                        Catch::Contains("direction 0 of shape [4]") && Catch::Contains("'p0'"));
    auto vector_loss = [&](tape& t) { return var<double>(square(leaf(t, ps[0]))); };
    const std::vector<tensor<double>> v{tensor<double>(shape{3}, 1.0)};
    REQUIRE_THROWS_WITH(hvp(vector_loss, ps, v), Catch::Contains("not a single element"));
}

TEST_CASE("hvp through dense layers with their activations", "[hvp]") {
    rng g(7);
    const auto mish = [](auto x) { return x * tanh(softplus(x)); };
    for (std::size_t batch : {1, 7, 17}) {
        auto ps = random_parameters({shape{5, 9}, shape{9}, shape{9, 4}, shape{4}}, g);
        const tensor<double> x = normal<double>(shape{batch, 5}, 0.0, 1.0, g);
        std::vector<std::int32_t> labels;
        for (std::size_t i = 0; i < batch; ++i)
            labels.push_back(static_cast<std::int32_t>(g.below(4)));
        auto loss = [&](tape& t) {
            const var<double> h = dense(constant(t, x), leaf(t, ps[0]), leaf(t, ps[1]), mish);
            const var<double> logits = dense(h, leaf(t, ps[2]), leaf(t, ps[3]));
            return softmax_cross_entropy(logits, labels);
        };
        require_hvp_matches_differences(loss, ps, 40 + batch);
        // The input as a parameter too: the cross terms of X with W.
        nn::parameter_list<double> with_input = ps;
        with_input.emplace_back(x.shape(), "x");
        with_input.back().value.assign(x);
        auto input_loss = [&](tape& t) {
            const var<double> h =
                dense(leaf(t, with_input[4]), leaf(t, with_input[0]), leaf(t, with_input[1]), mish);
            return sum(square(dense(h, leaf(t, with_input[2]), leaf(t, with_input[3]),
                                    [](auto v) { return sigmoid(v); })));
        };
        require_hvp_matches_differences(input_loss, with_input, 50 + batch);
    }
}

TEST_CASE("hvp through convolutions and pooling", "[hvp]") {
    rng g(8);
    const auto gelu = [](auto x) { return 0.5 * x * (1 + erf(x * 0.7071067811865476)); };
    struct variant {
        conv2d_options o;
        std::size_t channels, out;
    };
    for (const variant& c :
         {variant{{}, 2, 3}, variant{{2, 2, 1, 1}, 3, 4}, variant{{1, 1, 1, 1, 1, 1, 2}, 2, 4}}) {
        auto ps = random_parameters(
            {shape{c.out, c.channels / c.o.groups, 3, 3}, shape{c.out}, shape{2, 7, 7, 1}}, g);
        ps[2] = nn::parameter<double>(shape{2, c.channels, 7, 7}, "x");
        ps[2].value.assign(normal<double>(ps[2].value.shape(), 0.0, 1.0, g));
        auto loss = [&](tape& t) {
            const var<double> y = conv2d(leaf(t, ps[2]), leaf(t, ps[0]), leaf(t, ps[1]), c.o, gelu);
            const var<double> m = max_pool2d(y, pool2d_options{2, 2});
            const var<double> a = avg_pool2d(y, pool2d_options{3, 2, 1}, false);
            const var<double> half = leaf(t, ps[0]) * 0.5;
            const var<double> z = conv2d(square(leaf(t, ps[2])), half, c.o);
            return sum(square(m)) + sum(a * a * a) * 0.1 + mean(softplus(z));
        };
        require_hvp_matches_differences(loss, ps, 60 + c.out);
    }
}

TEST_CASE("hvp through softmax, log-softmax and extrema", "[hvp]") {
    rng g(9);
    for (std::size_t rows : {1, 7, 33}) {
        auto ps = random_parameters({shape{rows, 5}}, g, 1.0);
        const tensor<double> w = normal<double>(shape{rows, 5}, 0.0, 1.0, g);
        auto loss = [&](tape& t) {
            const var<double> x = leaf(t, ps[0]);
            const var<double> s = softmax(x, 1);
            const var<double> l = log_softmax(x * 1.5, 0);
            return sum(s * s * w) + sum(l * w) + sum(square(amax(x, 1))) + square(amin(x)) +
                   sum(square(amax(x, 0, true)));
        };
        require_hvp_matches_differences(loss, ps, 70 + rows);
    }
}
