// Convolutional layers: output shapes, forward against the ops, gradients with respect to the
// input and to every parameter element, batch_norm2d's statistics.
#include <functional>

#include "reference.hpp"

using namespace dendrite;
using namespace dendrite::conv_testing;

namespace {

/// Max relative error of d sum(w * layer(x)) / d p against central differences, over every
/// element of every parameter of `l`.
template <class L>
double parameter_gradient_error(L& l, const tensor<double>& x, bool training = true) {
    rng g(5);
    tensor<double> weights;
    const auto loss = [&](bool backward) {
        tape t;
        nn::context ctx{t, training, nullptr};
        const var<double> y = l.forward(ctx, constant(t, x));
        if (weights.size() == 0) weights = uniform<double>(y.shape(), 0.5, 1.5, g);
        const var<double> s = sum(y * weights);
        if (backward) s.backward();
        return s.item();
    };
    l.for_each_parameter([](auto& p) { p.zero_grad(); });
    loss(true);
    double worst = 0;
    l.for_each_parameter([&](auto& p) {
        const tensor<double> analytic = p.grad.clone();
        for (std::size_t e = 0; e < p.size(); ++e) {
            double& v = p.value.data()[e];
            const double saved = v, h = 1e-5 * std::max(1.0, std::abs(saved));
            v = saved + h;
            const double fp = loss(false);
            v = saved - h;
            const double fm = loss(false);
            v = saved;
            const double num = (fp - fm) / (2 * h), a = analytic.data()[e];
            worst =
                std::max(worst, std::abs(num - a) / std::max({std::abs(num), std::abs(a), 1.0}));
        }
    });
    return worst;
}

}  // namespace

TEST_CASE("the kinds of convolutional layers state their output shapes at compile time",
          "[conv][layer]") {
    using nn::sample_dims;
    STATIC_REQUIRE(
        nn::conv2d_kind::output({.filters = 6, .kernel = 5}, sample_dims::image(1, 28, 28)).dims ==
        sample_dims::image(6, 24, 24));
    STATIC_REQUIRE(nn::conv2d_kind::output({.filters = 6, .kernel = 5, .padding = 2},
                                           sample_dims::image(1, 28, 28))
                       .dims == sample_dims::image(6, 28, 28));
    STATIC_REQUIRE(
        nn::conv2d_kind::output({4, 3, 2, 1, 2, 1, true}, sample_dims::image(3, 9, 7)).dims ==
        sample_dims::image(4, 4, 3));
    STATIC_REQUIRE(nn::max_pool2d_kind::output({.kernel = 2}, sample_dims::image(6, 24, 24)).dims ==
                   sample_dims::image(6, 12, 12));
    STATIC_REQUIRE(nn::avg_pool2d_kind::output({3, 2, 1}, sample_dims::image(6, 7, 7)).dims ==
                   sample_dims::image(6, 4, 4));
    STATIC_REQUIRE(nn::global_avg_pool2d_kind::output({}, sample_dims::image(16, 4, 4)).dims ==
                   sample_dims::features(16));
    STATIC_REQUIRE(nn::batch_norm_kind::output({}, sample_dims::image(16, 4, 4)).dims ==
                   sample_dims::image(16, 4, 4));
    // And why there is none: the problem and its facts, as diagnostics and errors report them.
    constexpr nn::layer_output too_large =
        nn::conv2d_kind::output({.filters = 16, .kernel = 5}, sample_dims::image(6, 4, 4));
    STATIC_REQUIRE(too_large.problem == nn::layer_problem::window_too_large);
    STATIC_REQUIRE(too_large.values[0] == 5);
    STATIC_REQUIRE(nn::conv2d_kind::output({.filters = 4, .kernel = 3, .groups = 2},
                                           sample_dims::image(3, 8, 8))
                       .problem == nn::layer_problem::groups);
    STATIC_REQUIRE(
        nn::conv2d_kind::output({.filters = 4, .kernel = 3}, sample_dims::features(64)).problem ==
        nn::layer_problem::needs_image);
    STATIC_REQUIRE(nn::max_pool2d_kind::output({2, 2, 2}, sample_dims::image(1, 8, 8)).problem ==
                   nn::layer_problem::options);
    STATIC_REQUIRE(
        nn::layer<
            nn::conv2d_layer<float, nn::activation<std::remove_cvref_t<decltype(nn::fn::relu)>>>,
            float>);
    STATIC_REQUIRE(nn::layer<nn::batch_norm2d_layer<double>, double>);
}

TEST_CASE("conv2d_layer: forward, init and gradients", "[conv][layer][gradcheck]") {
    rng g(31);
    nn::conv2d_layer<double, decltype(nn::relu)> relu_conv(3, 4, 3, 2, 1, 1, 1, true, nn::relu);
    relu_conv.init(g);
    CHECK(relu_conv.weight.value.shape() == shape{4, 3, 3, 3});
    // He uniform: bound sqrt(6 / fan_in), fan_in = 3 * 3 * 3.
    const double bound = std::sqrt(6.0 / 27.0);
    for (double v : relu_conv.weight.value.span())
        CHECK(std::abs(v) <= bound);
    CHECK(relu_conv.describe() == "conv2d(3 -> 4, 3x3, stride 2, padding 1)");

    const tensor<double> x = uniform<double>(shape{2, 3, 7, 6}, -1, 1, g);
    {
        tape t;
        nn::context ctx{t};
        const auto y = relu_conv.forward(ctx, constant(t, x));
        std::vector<tensor<double>> ps;
        relu_conv.for_each_parameter([&](auto& p) { ps.push_back(p.value); });
        REQUIRE(ps.size() == 2);
        tensor<double> want = reference_conv2d(x, ps[0], &ps[1], {2, 2, 1, 1, 1, 1, 1});
        for (double& v : want.span())
            v = std::max(v, 0.0);
        CHECK(max_abs_diff(y.value(), want) <= 1e-12);
    }
    // Parameter gradients (tanh: smooth, so finite differences are exact enough).
    nn::conv2d_layer<double, decltype(nn::tanh)> tanh_conv(4, 6, 3, 1, 1, 2, 2, true, nn::tanh);
    tanh_conv.init(g);
    for (double& v : tanh_conv.weight.value.span())
        v *= 0.5;  // stay off tanh's flat tails
    const tensor<double> x4 = uniform<double>(shape{2, 4, 6, 5}, -1, 1, g);
    CHECK(parameter_gradient_error(tanh_conv, x4) <= 1e-6);
    nn::conv2d_layer<double> depthwise(4, 4, 3, 1, 1, 1, 4, false);
    depthwise.init(g);
    CHECK(parameter_gradient_error(depthwise, x4) <= 1e-6);
    const auto fx = [&](const auto& v) {
        tape& t = v.tape();
        nn::context ctx{t};
        return tanh_conv.forward(ctx, v);
    };
    DENDRITE_CONV_REQUIRE_GRADCHECK(gradcheck(fx, x4), 1e-6);
}

TEST_CASE("pooling layers forward to the ops", "[conv][layer]") {
    rng g(37);
    const tensor<float> x = uniform<float>(shape{2, 3, 6, 6}, -1, 1, g);
    tape t;
    nn::context ctx{t};
    const auto xv = constant(t, x);
    nn::max_pool2d_layer<float> mp(2);
    nn::avg_pool2d_layer<float> ap(3, 1, 1, false);
    nn::global_avg_pool2d_layer<float> gp;
    CHECK(max_abs_diff(mp.forward(ctx, xv).value(), max_pool2d(xv, {2, 2, 0}).value()) == 0);
    CHECK(max_abs_diff(ap.forward(ctx, xv).value(), avg_pool2d(xv, {3, 1, 1}, false).value()) == 0);
    CHECK(gp.forward(ctx, xv).shape() == shape{2, 3});
}

TEST_CASE("batch_norm2d normalises each channel over N, H, W", "[conv][layer][batch_norm]") {
    rng g(41);
    const std::size_t n = 3, c = 2, h = 4, w = 5;
    tensor<double> x = uniform<double>(shape{n, c, h, w}, -1, 3, g);
    nn::batch_norm2d_layer<double> bn(c, 0.1, 1e-5);
    bn.gamma.value(0) = 2;
    bn.gamma.value(1) = 0.5;
    bn.beta.value(0) = -1;
    bn.beta.value(1) = 0.25;
    tape t;
    nn::context ctx{t};
    const auto y = bn.forward(ctx, constant(t, x));
    REQUIRE(y.shape() == x.shape());
    const double m = static_cast<double>(n * h * w);
    for (std::size_t ch = 0; ch < c; ++ch) {
        double mu = 0, var = 0;
        for (std::size_t a = 0; a < n; ++a)
            for (std::size_t i = 0; i < h; ++i)
                for (std::size_t j = 0; j < w; ++j)
                    mu += x(a, ch, i, j);
        mu /= m;
        for (std::size_t a = 0; a < n; ++a)
            for (std::size_t i = 0; i < h; ++i)
                for (std::size_t j = 0; j < w; ++j)
                    var += (x(a, ch, i, j) - mu) * (x(a, ch, i, j) - mu);
        var /= m;
        for (std::size_t a = 0; a < n; ++a)
            for (std::size_t i = 0; i < h; ++i)
                for (std::size_t j = 0; j < w; ++j)
                    CHECK(
                        y.value()(a, ch, i, j) ==
                        Approx(bn.gamma.value(ch) * (x(a, ch, i, j) - mu) / std::sqrt(var + 1e-5) +
                               bn.beta.value(ch))
                            .epsilon(1e-12));
        CHECK(bn.running_mean(ch) == Approx(0.1 * mu).epsilon(1e-12));
        CHECK(bn.running_var(ch) == Approx(0.9 + 0.1 * var * m / (m - 1)).epsilon(1e-12));
    }
    // Evaluation uses the running statistics.
    tape te;
    nn::context eval{te, false};
    const auto ye = bn.forward(eval, constant(te, x));
    CHECK(ye.value()(1, 1, 2, 3) ==
          Approx(0.5 * (x(1, 1, 2, 3) - bn.running_mean(1)) / std::sqrt(bn.running_var(1) + 1e-5) +
                 0.25)
              .epsilon(1e-12));
    std::vector<std::string> names;
    bn.gamma.name = "3.batch_norm2d.weight";
    bn.for_each_buffer([&](const std::string& name, tensor<double>&) { names.push_back(name); });
    CHECK(names ==
          std::vector<std::string>{"3.batch_norm2d.running_mean", "3.batch_norm2d.running_var"});
}

TEST_CASE("batch_norm2d gradients match finite differences",
          "[conv][layer][batch_norm][gradcheck]") {
    rng g(43);
    const tensor<double> x = uniform<double>(shape{2, 3, 3, 4}, -1, 1, g);
    nn::batch_norm2d_layer<double> bn(3);
    bn.gamma.value.assign(uniform<double>(shape{3}, 0.5, 1.5, g));
    bn.beta.value.assign(uniform<double>(shape{3}, -0.5, 0.5, g));
    CHECK(parameter_gradient_error(bn, x) <= 1e-6);
    const auto fx = [&](const auto& v) {
        nn::context ctx{v.tape()};
        return bn.forward(ctx, v);
    };
    DENDRITE_CONV_REQUIRE_GRADCHECK(gradcheck(fx, x), 1e-6);
    const auto fe = [&](const auto& v) {
        nn::context ctx{v.tape(), false};
        return bn.forward(ctx, v);
    };
    DENDRITE_CONV_REQUIRE_GRADCHECK(gradcheck(fe, x), 1e-6);
}
