// Every layer type other than dense, each inside a model in double: forward values against a
// reference written here, then gradients with respect to the input (gradcheck) and to every
// parameter (central differences). Also the combinators (residual, concat, add, nested chains),
// awkward sizes, user-defined layers, and the losses applied to a model's output.
#include <boost/hana/at.hpp>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "helpers.hpp"

using namespace dendrite;
namespace hana = boost::hana;
using nn_testing::check_parameter_gradients;
using nn_testing::dense_reference;
using nn_testing::max_abs_difference;
using nn_testing::require_model_gradients;

namespace {

tensor<double> random_input(const shape& s, std::uint64_t seed, double lo = -1.5, double hi = 1.5) {
    rng g(seed);
    return uniform<double>(s, lo, hi, g);
}

/// Gives every parameter of rank 1 (biases, norm scales and shifts) random values, so that a
/// forgotten bias or scale shows in the forward values.
template <class Model>
void randomise_vectors(Model& net, std::uint64_t seed) {
    rng g(seed);
    for (auto& p : net.parameters())
        if (p.value.rank() == 1) p.value.assign(uniform<double>(p.value.shape(), 0.5, 1.5, g));
}

/// One plain SGD step on every parameter.
template <class Model>
void sgd_step(Model& net, double lr) {
    for (auto& p : net.parameters())
        p.value.assign(p.value - lr * p.grad);
}

/// Column means and biased / unbiased variances of x [batch, features].
struct column_statistics {
    std::vector<double> mean, biased, unbiased;
};
column_statistics statistics(const tensor<double>& x) {
    const std::size_t n = x.dim(0), f = x.dim(1);
    column_statistics s{std::vector<double>(f), std::vector<double>(f), std::vector<double>(f)};
    for (std::size_t j = 0; j < f; ++j) {
        double m = 0, ss = 0;
        for (std::size_t i = 0; i < n; ++i)
            m += x(i, j);
        m /= static_cast<double>(n);
        for (std::size_t i = 0; i < n; ++i)
            ss += (x(i, j) - m) * (x(i, j) - m);
        s.mean[j] = m;
        s.biased[j] = ss / static_cast<double>(n);
        s.unbiased[j] = n > 1 ? ss / static_cast<double>(n - 1) : s.biased[j];
    }
    return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Normalisation

TEST_CASE("batch_norm in training normalises each feature by the batch mean and biased variance",
          "[nn][batch_norm][gradcheck]") {
    auto net = nn::sequential_of<double>(nn::input<3>, nn::batch_norm);
    randomise_vectors(net, 1);
    auto& bn = hana::at_c<0>(net.layers()).layer;
    const tensor<double> x = random_input(shape{5, 3}, 2);
    const auto st = statistics(x);
    tape t;
    const tensor<double> y = net(t, x).value();
    tensor<double> expected(x.shape());
    for (std::size_t i = 0; i < 5; ++i)
        for (std::size_t j = 0; j < 3; ++j)
            expected(i, j) =
                bn.gamma.value(j) * (x(i, j) - st.mean[j]) / std::sqrt(st.biased[j] + 1e-5) +
                bn.beta.value(j);
    CHECK(max_abs_difference(y, expected) <= 1e-13);
}

TEST_CASE("batch_norm passes gradient checks in training and in evaluation",
          "[nn][batch_norm][gradcheck]") {
    auto net = nn::sequential_of<double>(nn::input<7>, nn::dense<3>, nn::batch_norm, nn::dense<2>,
                                         nn::tanh);
    randomise_vectors(net, 3);
    const tensor<double> x = random_input(shape{5, 7}, 4);
    SECTION("training: batch statistics, which depend on the whole batch") {
        require_model_gradients(net, x);
    }
    SECTION("evaluation: running statistics, a fixed affine map") {
        net.eval();
        require_model_gradients(net, x);
    }
}

TEST_CASE("batch_norm keeps running statistics with momentum and uses them in evaluation",
          "[nn][batch_norm]") {
    const auto run = [](auto net, double momentum) {
        randomise_vectors(net, 5);
        auto& bn = hana::at_c<0>(net.layers()).layer;
        CHECK(bn.running_mean(0) == 0.0);
        CHECK(bn.running_var(0) == 1.0);
        // Reference: r <- (1 - m) r + m stat, with the unbiased variance (as PyTorch).
        std::vector<double> mean(4, 0.0), var(4, 1.0);
        for (std::uint64_t step = 0; step < 4; ++step) {
            const tensor<double> x = random_input(shape{6, 4}, 10 + step, -2.0 + step, 3.0);
            const auto st = statistics(x);
            for (std::size_t j = 0; j < 4; ++j) {
                mean[j] = (1 - momentum) * mean[j] + momentum * st.mean[j];
                var[j] = (1 - momentum) * var[j] + momentum * st.unbiased[j];
            }
            tape t;
            (void)net(t, x);
        }
        for (std::size_t j = 0; j < 4; ++j) {
            INFO("feature " << j);
            CHECK(std::abs(bn.running_mean(j) - mean[j]) <= 1e-14);
            CHECK(std::abs(bn.running_var(j) - var[j]) <= 1e-14);
        }
        std::vector<std::string> buffers;
        net.for_each_buffer(
            [&](const std::string& name, tensor<double>&) { buffers.push_back(name); });
        CHECK(buffers ==
              std::vector<std::string>{"1.batch_norm.running_mean", "1.batch_norm.running_var"});

        net.eval();
        const tensor<double> x = random_input(shape{3, 4}, 20);
        tape t;
        const tensor<double> y = net(t, x).value();
        tensor<double> expected(x.shape());
        for (std::size_t i = 0; i < 3; ++i)
            for (std::size_t j = 0; j < 4; ++j)
                expected(i, j) =
                    bn.gamma.value(j) * (x(i, j) - mean[j]) / std::sqrt(var[j] + 1e-5) +
                    bn.beta.value(j);
        CHECK(max_abs_difference(y, expected) <= 1e-13);
        // Evaluation leaves the statistics alone.
        CHECK(std::abs(bn.running_mean(0) - mean[0]) <= 1e-14);
        CHECK(std::abs(bn.running_var(0) - var[0]) <= 1e-14);
        // So does the batch of one in evaluation, which training could not normalise.
        tape t1;
        CHECK(max_abs_difference(net(t1, x.rows(0, 1)).value(), expected.rows(0, 1).clone()) <=
              1e-13);
    };
    SECTION("default momentum 0.1") {
        run(nn::sequential_of<double>(nn::input<4>, nn::batch_norm), 0.1);
    }
    SECTION("momentum 0.25") {
        run(nn::sequential_of<double>(nn::input<4>, nn::batch_norm_with({.momentum = 0.25})), 0.25);
    }
}

TEST_CASE(
    "layer_norm normalises each sample over its features, the same in training and evaluation",
    "[nn][layer_norm][gradcheck]") {
    auto net = nn::sequential_of<double>(nn::input<17>, nn::layer_norm);
    randomise_vectors(net, 6);
    auto& ln = hana::at_c<0>(net.layers()).layer;
    const tensor<double> x = random_input(shape{5, 17}, 7);
    tensor<double> expected(x.shape());
    for (std::size_t i = 0; i < 5; ++i) {
        double m = 0, v = 0;
        for (std::size_t j = 0; j < 17; ++j)
            m += x(i, j) / 17;
        for (std::size_t j = 0; j < 17; ++j)
            v += (x(i, j) - m) * (x(i, j) - m) / 17;
        for (std::size_t j = 0; j < 17; ++j)
            expected(i, j) =
                ln.gamma.value(j) * (x(i, j) - m) / std::sqrt(v + 1e-5) + ln.beta.value(j);
    }
    tape t;
    CHECK(max_abs_difference(net(t, x).value(), expected) <= 1e-13);
    net.eval();
    tape t2;
    CHECK(max_abs_difference(net(t2, x).value(), expected) <= 1e-13);
    net.train();
    auto deeper =
        nn::sequential_of<double>(nn::input<7>, nn::dense<17>, nn::layer_norm, nn::dense<3>);
    randomise_vectors(deeper, 8);
    require_model_gradients(deeper, random_input(shape{5, 7}, 9));
}

// ---------------------------------------------------------------------------------------------
// Embedding

TEST_CASE("embedding looks up rows and scatter-adds their gradients",
          "[nn][embedding][gradcheck]") {
    const tensor<double> ids{3.0, 0.0, 10.0, 3.0, 7.0};  // 3 twice; rows 1, 2, 4, 5, 6, 8, 9 unused
    SECTION("forward: the rows of the table, for ids [batch] and [batch, 1]") {
        auto net = nn::sequential_of<double>(nn::input<1>, nn::embedding<11, 4>);
        auto& table = hana::at_c<0>(net.layers()).layer.table.value;
        for (const tensor<double>& in : {ids, ids.reshape(shape{5, 1})}) {
            tape t;
            const tensor<double> y = net(t, in).value();
            REQUIRE(y.shape() == shape{5, 4});
            for (std::size_t i = 0; i < 5; ++i)
                for (std::size_t j = 0; j < 4; ++j)
                    CHECK(y(i, j) == table(static_cast<std::size_t>(ids(i)), j));
        }
    }
    SECTION("backward: used rows get the summed upstream gradient, the others zero") {
        auto net = nn::sequential_of<double>(nn::input<1>, nn::embedding<11, 4>);
        tape t;
        auto y = net(t, ids);
        const tensor<double> w = random_input(shape{5, 4}, 11);
        sum(y * w).backward();
        const tensor<double>& grad = hana::at_c<0>(net.layers()).layer.table.grad;
        for (std::size_t row = 0; row < 11; ++row)
            for (std::size_t j = 0; j < 4; ++j) {
                double expected = 0;
                for (std::size_t i = 0; i < 5; ++i)
                    if (static_cast<std::size_t>(ids(i)) == row) expected += w(i, j);
                CHECK(grad(row, j) == Approx(expected).margin(1e-15));
            }
    }
    SECTION("gradients of every parameter through dense layers after it") {
        auto net =
            nn::sequential_of<double>(nn::input<1>, nn::embedding<11, 4>, nn::dense<3>, nn::tanh);
        require_model_gradients(net, ids, 1e-6, /*wrt_input=*/false);
    }
    SECTION("ids outside [0, vocabulary) or not integers throw std::out_of_range") {
        auto net = nn::sequential_of<double>(nn::input<1>, nn::embedding<11, 4>);
        for (double bad : {11.0, -1.0, 2.5}) {
            tape t;
            CHECK_THROWS_AS(net(t, tensor<double>{1.0, bad}), std::out_of_range);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Dropout

TEST_CASE("dropout is the identity in evaluation and when p is 0", "[nn][dropout]") {
    const tensor<double> x = random_input(shape{5, 17}, 12);
    auto net = nn::sequential_of<double>(nn::input<17>, nn::dropout(0.5));
    net.eval();
    tape t;
    CHECK(nn_testing::bit_identical(net(t, x).value(), x));
    auto none = nn::sequential_of<double>(nn::input<17>, nn::dropout(0.0));
    CHECK(nn_testing::bit_identical(none(t, x).value(), x));
}

TEST_CASE("dropout in training zeroes a proportion p and scales the rest by 1 / (1 - p)",
          "[nn][dropout]") {
    for (double p : {0.1, 0.3, 0.5, 0.8}) {
        DYNAMIC_SECTION("p = " << p) {
            auto net = nn::sequential_of<double>(nn::input<1000>, nn::dropout(p));
            const tensor<double> x = random_input(shape{100, 1000}, 13, 0.5, 1.5);  // never 0
            tape t;
            auto xv = variable(t, x);
            auto y = net(t, xv);
            std::size_t dropped = 0;
            double worst_scale_error = 0;
            for (std::size_t e = 0; e < x.size(); ++e) {
                const double out = y.value().data()[e];
                if (out == 0)
                    ++dropped;
                else
                    worst_scale_error =
                        std::max(worst_scale_error, std::abs(out / x.data()[e] * (1 - p) - 1));
            }
            // 1e5 Bernoulli(p) draws: the proportion's standard deviation is at most 0.0016.
            const double proportion = static_cast<double>(dropped) / static_cast<double>(x.size());
            INFO("dropped proportion " << proportion);
            CHECK(std::abs(proportion - p) <= 0.01);
            CHECK(worst_scale_error <= 1e-14);

            // The gradient with respect to the input is the mask: 0 or 1 / (1 - p).
            sum(y).backward();
            std::size_t mismatches = 0;
            for (std::size_t e = 0; e < x.size(); ++e) {
                const double g = xv.grad().data()[e];
                const double out = y.value().data()[e];
                const bool ok = out == 0 ? g == 0 : std::abs(g * (1 - p) - 1) <= 1e-14;
                mismatches += !ok;
            }
            CHECK(mismatches == 0);

            // Every forward pass draws a new mask.
            tape t2;
            CHECK_FALSE(nn_testing::bit_identical(net(t2, x).value(), y.value()));
        }
    }
}

TEST_CASE("dropout passes gradient checks in training with a fixed mask",
          "[nn][dropout][gradcheck]") {
    auto net =
        nn::sequential_of<double>(nn::input<7>, nn::dense<5>, nn::dropout(0.4), nn::dense<3>);
    require_model_gradients(net, random_input(shape{5, 7}, 14));
}

TEST_CASE("dropout rejects probabilities outside [0, 1)", "[nn][dropout]") {
    CHECK_THROWS_AS(nn::sequential_of<double>(nn::input<3>, nn::dropout(1.0)),
                    std::invalid_argument);
    CHECK_THROWS_AS(nn::sequential_of<double>(nn::input<3>, nn::dropout(-0.1)),
                    std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Shape and combinators

TEST_CASE("flatten turns [batch, 2, 3] into [batch, 6]", "[nn][flatten][gradcheck]") {
    const tensor<double> x = random_input(shape{5, 2, 3}, 15);
    auto flat = nn::sequential_of<double>(nn::input<2, 3>, nn::flatten);
    tape t;
    const tensor<double> y = flat(t, x).value();
    REQUIRE(y.shape() == shape{5, 6});
    CHECK(nn_testing::bit_identical(y, x.reshape(shape{5, 6})));
    auto net = nn::sequential_of<double>(nn::input<2, 3>, nn::flatten, nn::dense<4>, nn::softsign);
    require_model_gradients(net, x);
}

TEST_CASE("residual adds its input to the output of its body", "[nn][residual][gradcheck]") {
    // Same seed, same layers in the same order: the body has the chain's parameters.
    auto res =
        nn::sequential_of<double>(nn::input<7>, nn::residual(nn::dense<3>, nn::tanh, nn::dense<7>));
    auto body =
        nn::sequential_of<double>(nn::input<7>, nn::chain(nn::dense<3>, nn::tanh, nn::dense<7>));
    const tensor<double> x = random_input(shape{5, 7}, 16);
    tape t;
    const tensor<double> y = res(t, x).value();
    const tensor<double> f = body(t, x).value();
    const tensor<double> expected = x + f;
    CHECK(max_abs_difference(y, expected) <= 1e-15);
    require_model_gradients(res, x);
}

TEST_CASE("concat joins its branches' outputs along the features, in order",
          "[nn][concat][gradcheck]") {
    auto net = nn::sequential_of<double>(
        nn::input<7>, nn::concat(nn::chain(nn::dense<4>, nn::sigmoid), nn::dense<3>, nn::identity));
    randomise_vectors(net, 17);
    auto params = net.parameters();
    REQUIRE(params.size() == 4);
    const tensor<double> x = random_input(shape{5, 7}, 18);
    const tensor<double> a = dense_reference(x, params[0].value, params[1].value,
                                             [](double z) { return 1 / (1 + std::exp(-z)); });
    const tensor<double> b =
        dense_reference(x, params[2].value, params[3].value, [](double z) { return z; });
    tape t;
    const tensor<double> y = net(t, x).value();
    REQUIRE(y.shape() == shape{5, 14});
    double worst = 0;
    for (std::size_t i = 0; i < 5; ++i) {
        for (std::size_t j = 0; j < 4; ++j)
            worst = std::max(worst, std::abs(y(i, j) - a(i, j)));
        for (std::size_t j = 0; j < 3; ++j)
            worst = std::max(worst, std::abs(y(i, 4 + j) - b(i, j)));
        for (std::size_t j = 0; j < 7; ++j)
            worst = std::max(worst, std::abs(y(i, 7 + j) - x(i, j)));
    }
    CHECK(worst <= 1e-13);
    require_model_gradients(net, x);
}

TEST_CASE("add sums its branches' outputs", "[nn][add][gradcheck]") {
    auto net = nn::sequential_of<double>(
        nn::input<7>, nn::add(nn::dense<3>, nn::chain(nn::dense_no_bias<3>, nn::elu),
                              nn::chain(nn::dense<3>, nn::tanh)));
    randomise_vectors(net, 19);
    auto params = net.parameters();
    REQUIRE(params.size() == 5);
    const tensor<double> x = random_input(shape{5, 7}, 20);
    const tensor<double> a =
        dense_reference(x, params[0].value, params[1].value, [](double z) { return z; });
    const tensor<double> b = dense_reference(x, params[2].value, tensor<double>(),
                                             [](double z) { return z > 0 ? z : std::expm1(z); });
    const tensor<double> c =
        dense_reference(x, params[3].value, params[4].value, [](double z) { return std::tanh(z); });
    const tensor<double> expected = a + b + c;
    tape t;
    CHECK(max_abs_difference(net(t, x).value(), expected) <= 1e-13);
    require_model_gradients(net, x);
}

TEST_CASE("nested chains, residuals and branches pass gradient checks",
          "[nn][combinators][gradcheck]") {
    auto net = nn::sequential_of<double>(
        nn::input<6>, nn::dense<8>, nn::relu, nn::residual(nn::dense<8>, nn::tanh, nn::dense<8>),
        nn::concat(nn::chain(nn::dense<4>, nn::sigmoid), nn::dense<3>), nn::batch_norm,
        nn::dense<2>);
    STATIC_REQUIRE(decltype(net)::out_features == 2);
    require_model_gradients(net, random_input(shape{5, 6}, 21));

    auto deep = nn::sequential_of<double>(
        nn::input<3>,
        nn::concat(
            nn::chain(nn::dense<5>, nn::gelu, nn::chain(nn::dense<3>, nn::layer_norm, nn::silu)),
            nn::add(nn::dense<2>,
                    nn::chain(nn::residual(nn::dense<3>), nn::dense<2>, nn::softplus))),
        nn::residual(nn::chain(nn::dense<4>, nn::tanh), nn::dense<5>), nn::dense<1>);
    STATIC_REQUIRE(decltype(deep)::layer_count == 3);
    require_model_gradients(deep, random_input(shape{5, 3}, 22));
}

TEST_CASE("awkward sizes: 1, 3, 7 and 17 features at batch 1 and 5", "[nn][gradcheck]") {
    auto net = nn::sequential_of<double>(nn::input<1>, nn::dense<3>, nn::tanh, nn::dense<17>,
                                         nn::layer_norm, nn::dense<7>, nn::gelu, nn::batch_norm,
                                         nn::dense<1>, nn::dense<17>, nn::dense_no_bias<1>);
    randomise_vectors(net, 23);
    for (std::size_t batch : {std::size_t{1}, std::size_t{5}}) {
        DYNAMIC_SECTION("batch " << batch) {
            require_model_gradients(net, random_input(shape{batch, 1}, 24 + batch));
            net.eval();
            require_model_gradients(net, random_input(shape{batch, 1}, 30 + batch));
            net.train();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// User-defined layers

namespace {

nn::parameter<double> filled(const shape& s, double value, std::string name, bool decay = false) {
    nn::parameter<double> p(s, std::move(name), decay);
    p.value.fill(value);
    return p;
}

/// A gated linear unit (Dauphin et al. 2017): (x A) * sigmoid(x B + c).
struct gated_linear_unit {
    static constexpr std::size_t in_features = 6, out_features = 4;
    nn::parameter<double> value_weight{shape{6, 4}, "glu.value_weight"};
    nn::parameter<double> gate_weight{shape{6, 4}, "glu.gate_weight"};
    nn::parameter<double> gate_bias{shape{4}, "glu.gate_bias", false};

    var<double> forward(const nn::context& ctx, const var<double>& x) {
        auto [a, b, c] = nn::bind(ctx, value_weight, gate_weight, gate_bias);
        return var<double>(matmul(x, a) * sigmoid(matmul(x, b) + c));
    }
};

/// PReLU (He et al. 2015): x for x > 0, a x otherwise, one learnable slope a per feature,
/// starting at 0.25.
struct learnable_slope {
    static constexpr std::size_t in_features = 4, out_features = 4;
    nn::parameter<double> slope = filled(shape{4}, 0.25, "prelu.slope");

    var<double> forward(const nn::context& ctx, const var<double>& x) {
        auto [a] = nn::bind(ctx, slope);
        return var<double>(where(x > 0, x, a * x));
    }
};

/// A scale whose parameter enters the tape as a constant, so its gradient is lost: what the
/// parameter check must catch.
struct detached_scale {
    static constexpr std::size_t in_features = 3, out_features = 3;
    nn::parameter<double> scale = filled(shape{3}, 1.5, "scale");

    var<double> forward(const nn::context& ctx, const var<double>& x) {
        return var<double>(x * constant(ctx.tape, scale.value));
    }
};

}  // namespace

TEST_CASE("the parameter gradient check reports a parameter that receives no gradient",
          "[nn][custom]") {
    auto net = nn::sequential_of<double>(nn::input<3>, detached_scale{}, nn::dense<2>);
    const tensor<double> x = random_input(shape{5, 3}, 32);
    const auto p = nn_testing::check_parameter_gradients(
        net, [&](tape& t) { return var<double>(sum(net(t, x))); });
    INFO(p.str());
    CHECK(p.parameters == 3);
    CHECK(p.nonzero_grads == 2);
    CHECK(p.max_rel_error > 0.1);
    CHECK(p.worst.rfind("1.scale", 0) == 0);
}

TEST_CASE("custom aggregate layers: parameters discovered, initialised, trained and gradchecked",
          "[nn][custom][gradcheck]") {
    auto net = nn::sequential_of<double>(nn::input<6>, gated_linear_unit{}, learnable_slope{},
                                         nn::dense<2>);
    using Net = decltype(net);
    STATIC_REQUIRE(Net::layer_count == 3);
    STATIC_REQUIRE(Net::out_features == 2);

    auto params = net.parameters();
    std::vector<std::string> names;
    for (const auto& p : params)
        names.push_back(p.name);
    CHECK(names == std::vector<std::string>{"1.glu.value_weight", "1.glu.gate_weight",
                                            "1.glu.gate_bias", "2.prelu.slope", "3.dense.weight",
                                            "3.dense.bias"});
    CHECK(net.parameter_count() == 24 + 24 + 4 + 4 + 8 + 2);

    // Default initialisation: Glorot-uniform matrices, vectors keep their constructor's values.
    const double glorot = std::sqrt(6.0 / (6 + 4));
    for (std::size_t i : {0, 1}) {
        double largest = 0;
        for (double v : params[i].value.span())
            largest = std::max(largest, std::abs(v));
        CHECK(largest > 0);
        CHECK(largest <= glorot);
    }
    for (double v : params[2].value.span())
        CHECK(v == 0.0);
    for (double v : params[3].value.span())
        CHECK(v == 0.25);

    SECTION("forward values") {
        const tensor<double> x = random_input(shape{5, 6}, 25);
        randomise_vectors(net, 26);
        params[3].value.assign(tensor<double>{0.1, -0.2, 0.3, 0.7});
        const auto id = [](double z) { return z; };
        const tensor<double> value = dense_reference(x, params[0].value, tensor<double>(), id);
        const tensor<double> gate = dense_reference(
            x, params[1].value, params[2].value, [](double z) { return 1 / (1 + std::exp(-z)); });
        tensor<double> h(shape{5, 4});
        for (std::size_t i = 0; i < 5; ++i)
            for (std::size_t j = 0; j < 4; ++j) {
                const double u = value(i, j) * gate(i, j);
                h(i, j) = u > 0 ? u : params[3].value(j) * u;
            }
        const tensor<double> expected = dense_reference(h, params[4].value, params[5].value, id);
        tape t;
        CHECK(max_abs_difference(net(t, x).value(), expected) <= 1e-13);
    }
    SECTION("gradients with respect to the input and every parameter") {
        randomise_vectors(net, 27);
        params[3].value.assign(tensor<double>{0.1, -0.2, 0.3, 0.7});
        require_model_gradients(net, random_input(shape{5, 6}, 28));
    }
    SECTION("one SGD step changes every parameter") {
        std::vector<tensor<double>> before;
        for (const auto& p : params)
            before.push_back(p.value.clone());
        net.zero_grad();
        tape t;
        auto y = net(t, random_input(shape{5, 6}, 29));
        mse_loss(y, tensor<double>(shape{5, 2}, 0.5)).backward();
        sgd_step(net, 0.1);
        for (std::size_t i = 0; i < params.size(); ++i) {
            INFO(params[i].name);
            CHECK(max_abs_difference(params[i].value, before[i]) > 0);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Losses on a model's output

TEST_CASE("each loss applied to a model's output passes gradient checks", "[nn][loss][gradcheck]") {
    auto net = nn::sequential_of<double>(nn::input<7>, nn::dense<5>, nn::tanh, nn::dense<3>);
    const tensor<double> x = random_input(shape{5, 7}, 30);
    const std::vector<int> labels{2, 0, 1, 1, 2};
    rng g(31);
    const tensor<double> probs = uniform<double>(shape{5, 3}, 0, 1, g);
    tensor<double> distributions = probs.clone();
    for (std::size_t i = 0; i < 5; ++i) {
        const double row = distributions(i, 0) + distributions(i, 1) + distributions(i, 2);
        for (std::size_t j = 0; j < 3; ++j)
            distributions(i, j) /= row;
    }

    const auto check = [&](const char* name, auto loss, auto reference) {
        INFO(name);
        tape t;
        const tensor<double> logits = net(t, x).value();
        CHECK(loss(net(t, x)).item() == Approx(reference(logits)).epsilon(1e-12));
        const auto r = gradcheck([&](auto v) { return loss(net(v.tape(), v)); }, x);
        INFO("gradient with respect to the input: " << r.str());
        CHECK(r.passed(1e-6));
        const auto p =
            check_parameter_gradients(net, [&](tape& tp) { return var<double>(loss(net(tp, x))); });
        INFO("gradient with respect to the parameters: " << p.str());
        CHECK(p.max_rel_error <= 1e-6);
        CHECK(p.nonzero_grads == p.parameters);
    };
    // -log softmax(z)[label] = logsumexp(z) - z[label]; mean over the batch.
    const auto cross_entropy = [&](const tensor<double>& z, double smoothing) {
        double total = 0;
        for (std::size_t i = 0; i < 5; ++i) {
            const double lse = std::log(std::exp(z(i, 0)) + std::exp(z(i, 1)) + std::exp(z(i, 2)));
            for (std::size_t j = 0; j < 3; ++j) {
                const double target =
                    (j == static_cast<std::size_t>(labels[i]) ? 1 - smoothing : 0) + smoothing / 3;
                total += target * (lse - z(i, j));
            }
        }
        return total / 5;
    };
    check(
        "softmax_cross_entropy with integer labels",
        [&](const var<double>& z) { return softmax_cross_entropy(z, labels); },
        [&](const tensor<double>& z) { return cross_entropy(z, 0); });
    check(
        "softmax_cross_entropy with label smoothing 0.1",
        [&](const var<double>& z) {
            return softmax_cross_entropy(z, std::span<const int>(labels), 0.1);
        },
        [&](const tensor<double>& z) { return cross_entropy(z, 0.1); });
    check(
        "softmax_cross_entropy with target distributions",
        [&](const var<double>& z) { return softmax_cross_entropy(z, distributions); },
        [&](const tensor<double>& z) {
            double total = 0;
            for (std::size_t i = 0; i < 5; ++i) {
                const double lse =
                    std::log(std::exp(z(i, 0)) + std::exp(z(i, 1)) + std::exp(z(i, 2)));
                for (std::size_t j = 0; j < 3; ++j)
                    total += distributions(i, j) * (lse - z(i, j));
            }
            return total / 5;
        });
    check(
        "nll_loss of log_softmax",
        [&](const var<double>& z) { return nll_loss(log_softmax(z, 1), labels); },
        [&](const tensor<double>& z) { return cross_entropy(z, 0); });
    check(
        "binary_cross_entropy_with_logits",
        [&](const var<double>& z) { return binary_cross_entropy_with_logits(z, probs); },
        [&](const tensor<double>& z) {
            double total = 0;
            for (std::size_t e = 0; e < z.size(); ++e) {
                const double s = 1 / (1 + std::exp(-z.data()[e])), y = probs.data()[e];
                total -= y * std::log(s) + (1 - y) * std::log(1 - s);
            }
            return total / static_cast<double>(z.size());
        });
    check(
        "mse_loss", [&](const var<double>& z) { return mse_loss(z, probs); },
        [&](const tensor<double>& z) {
            double total = 0;
            for (std::size_t e = 0; e < z.size(); ++e)
                total += std::pow(z.data()[e] - probs.data()[e], 2);
            return total / static_cast<double>(z.size());
        });
}
