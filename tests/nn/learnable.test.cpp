// Learnable activations: nn::learnable, PReLU and Padé activation units. Values against plain
// formulas, one fused node each, gradients and Hessian-vector products against finite
// differences, and training that moves their parameters.

#include "../support/hvp_check.hpp"
#include "helpers.hpp"

#include <catch2/catch.hpp>
#include <dendrite/dendrite.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

using namespace dendrite;

namespace {

const auto swish_beta = [](auto x, auto beta) { return x * sigmoid(beta * x); };

double pade(double x, const std::array<double, 10>& c) {
    double p = 0, q = 0;
    for (std::size_t j = 6; j-- > 0;)
        p = p * x + c[j];
    for (std::size_t k = 10; k-- > 6;)
        q = q * x + c[k];
    return p / (1 + std::abs(q * x));
}

}  // namespace

TEST_CASE("a learnable activation is one function of the input and its parameters",
          "[nn][learnable]") {
    auto net = nn::sequential_of<double>(nn::input<5>, nn::learnable(swish_beta, {1.5}));
    auto params = net.parameters();
    REQUIRE(params.size() == 1);
    CHECK(params[0].name == "1.learnable.p0");
    CHECK(params[0].value.shape() == shape{1});
    CHECK(params[0].value.data()[0] == 1.5);
    CHECK_FALSE(params[0].decay);

    rng g(1);
    const tensor<double> x = uniform<double>(shape{3, 5}, -4.0, 4.0, g);
    tape t;
    const var<double> y = net(t, x);
    // The input, the parameter and ONE fused node.
    CHECK(t.size() == 3);
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double v = x.data()[i];
        CHECK(y.value().data()[i] == Approx(v / (1 + std::exp(-1.5 * v))).epsilon(1e-14));
    }
}

TEST_CASE("PReLU and Padé units: values, initial shapes and names", "[nn][learnable]") {
    rng g(2);
    const tensor<double> x = uniform<double>(shape{4, 6}, -3.0, 3.0, g);
    SECTION("PReLU, one slope or one per feature") {
        auto shared = nn::sequential_of<double>(nn::input<6>, nn::prelu);
        CHECK(shared.parameters()[0].name == "1.prelu.weight");
        auto per = nn::sequential_of<double>(nn::input<6>, nn::prelu_with(true, 0.1));
        auto p = per.parameters();
        REQUIRE(p[0].value.shape() == shape{6});
        for (std::size_t j = 0; j < 6; ++j)
            p[0].value.data()[j] = 0.1 * static_cast<double>(j);
        tape t;
        const tensor<double> y = per(t, x).value();
        for (std::size_t i = 0; i < 4; ++i)
            for (std::size_t j = 0; j < 6; ++j) {
                const double v = x(i, j);
                CHECK(y(i, j) == (v > 0 ? v : 0.1 * static_cast<double>(j) * v));
            }
    }
    SECTION("PAU starts at leaky ReLU") {
        auto net = nn::sequential_of<double>(nn::input<6>, nn::pau);
        auto p = net.parameters();
        REQUIRE(p.size() == 10);
        CHECK(p[0].name == "1.pau.a0");
        CHECK(p[9].name == "1.pau.b4");
        tensor<double> grid(shape{601, 1});
        for (std::size_t i = 0; i < 601; ++i)
            grid.data()[i] = -3.0 + 0.01 * static_cast<double>(i);
        auto one = nn::sequential_of<double>(nn::input<1>, nn::pau);
        tape t;
        const tensor<double> y = one(t, grid).value();
        double worst = 0;
        for (std::size_t i = 0; i < 601; ++i) {
            const double v = grid.data()[i];
            CHECK(y.data()[i] == Approx(pade(v, nn::pau_leaky_relu_init)).epsilon(1e-13));
            worst = std::max(worst, std::abs(y.data()[i] - (v > 0 ? v : 0.01 * v)));
        }
        CHECK(worst < 0.065);
    }
}

TEST_CASE("learnable activations pass gradient and Hessian-vector checks", "[nn][learnable][hvp]") {
    rng g(3);
    auto net = nn::sequential_of<double>(nn::input<6>, nn::dense<7>,
                                         nn::learnable(swish_beta, {1.0}, true), nn::dense<5>,
                                         nn::prelu_with(true), nn::dense<4>, nn::pau, nn::dense<3>);
    for (auto& p : net.parameters())
        p.value.assign(p.value + normal<double>(p.value.shape(), 0.0, 0.1, g));
    const tensor<double> x = uniform<double>(shape{9, 6}, -1.0, 1.0, g);
    nn_testing::require_model_gradients(net, x);

    auto params = net.parameters();
    std::vector<std::int32_t> labels{0, 1, 2, 0, 1, 2, 2, 1, 0};
    auto loss = [&](tape& t) { return softmax_cross_entropy(net(t, x), labels); };
    dendrite::testing::require_hvp_matches_differences(loss, params, 5);

    SECTION("on images, per channel") {
        auto cnn = nn::sequential_of<double>(nn::input<2, 5, 5>, nn::conv2d<3, 3>,
                                             nn::pau_with(true), nn::flatten, nn::dense<2>);
        const tensor<double> images = uniform<double>(shape{2, 2, 5, 5}, -1.0, 1.0, g);
        CHECK(cnn.parameters()[2].value.shape() == shape{3, 1, 1});
        nn_testing::require_model_gradients(cnn, images);
    }
}

TEST_CASE("training moves a learnable activation's parameters", "[nn][learnable]") {
    // Targets made by Swish-beta with beta = 2 from a network that starts at beta = 1.
    rng g(4);
    auto net = nn::sequential_of<double>(nn::input<1>, nn::learnable(swish_beta, {1.0}));
    const tensor<double> x = uniform<double>(shape{64, 1}, -3.0, 3.0, g);
    tensor<double> target(shape{64, 1});
    for (std::size_t i = 0; i < 64; ++i)
        target.data()[i] = x.data()[i] / (1 + std::exp(-2 * x.data()[i]));
    auto params = net.parameters();
    optim::adam<double> opt({.lr = 0.05});
    for (int step = 0; step < 300; ++step) {
        net.zero_grad();
        tape t;
        mse_loss(net(t, x), target).backward();
        opt.step(params);
    }
    CHECK(params[0].value.data()[0] == Approx(2.0).epsilon(1e-3));
}
