// Dense layers and the compile-time composition of nn::sequential: an activation after a dense
// layer becomes its GEMM epilogue (the layer's type says so), consecutive activations merge, and
// sizes are resolved by the compiler. Every fused form is checked in double against a plain-loop
// forward and by gradients with respect to the input and every parameter.
#include <boost/hana/at.hpp>

#include <cmath>
#include <string>
#include <type_traits>

#include "helpers.hpp"

using namespace dendrite;
namespace hana = boost::hana;
using nn_testing::dense_reference;
using nn_testing::max_abs_difference;
using nn_testing::require_model_gradients;

namespace {

template <class A>
using act_t = std::remove_cvref_t<A>;
using relu_t = act_t<decltype(nn::relu)>;
using tanh_t = act_t<decltype(nn::tanh)>;
using softplus_t = act_t<decltype(nn::softplus)>;
using sigmoid_t = act_t<decltype(nn::sigmoid)>;
using identity_fn_t = act_t<decltype(nn::fn::identity)>;

/// The type of layer I of a model.
template <std::size_t I, class Model>
using layer_at = std::remove_cvref_t<decltype(hana::at_c<I>(std::declval<Model&>().layers()))>;

// A user's activation: swish with beta = 1.5, a lambda over one argument.
constexpr auto swish_beta = [](auto x) { return x * sigmoid(1.5 * x); };
using swish_beta_t = std::remove_cvref_t<decltype(swish_beta)>;

/// The weight and bias of the parameter list at positions i, i + 1 (bias empty when absent).
struct weights {
    tensor<double> w, b;
};

/// A [batch, 7] input with values of both signs.
tensor<double> input(std::size_t batch, std::size_t features, std::uint64_t seed) {
    rng g(seed);
    return uniform<double>(shape{batch, features}, -1.5, 1.5, g);
}

/// nn::input<7>, nn::dense<5>, act, nn::dense_no_bias<3>, act: each dense layer absorbs `act`,
/// with a bias and without. Checks the types, the forward values against act applied with plain
/// loops, and the gradients at batch 1 and 5.
template <class Act>
void check_fused_dense(const Act& act) {
    auto net =
        nn::sequential_of<double>(nn::input<7>, nn::dense<5>, act, nn::dense_no_bias<3>, act);
    using Net = decltype(net);
    STATIC_REQUIRE(Net::layer_count == 2);
    STATIC_REQUIRE(
        std::is_same_v<layer_at<0, Net>, nn::sized_layer<nn::dense_layer<double, Act>, 7, 5>>);
    STATIC_REQUIRE(
        std::is_same_v<layer_at<1, Net>, nn::sized_layer<nn::dense_layer<double, Act>, 5, 3>>);
    STATIC_REQUIRE(Net::in_features == 7);
    STATIC_REQUIRE(Net::out_features == 3);

    auto params = net.parameters();
    REQUIRE(params.size() == 3);  // weight, bias; weight
    CHECK(params[0].value.shape() == shape{7, 5});
    CHECK(params[1].value.shape() == shape{5});
    CHECK(params[2].value.shape() == shape{5, 3});
    // Non-zero biases, so that a bias the epilogue forgot would show.
    rng g(5);
    params[1].value.assign(uniform<double>(shape{5}, -0.5, 0.5, g));

    for (std::size_t batch : {std::size_t{1}, std::size_t{5}}) {
        DYNAMIC_SECTION("batch " << batch) {
            const tensor<double> x = input(batch, 7, 40 + batch);
            const auto f = [&](double z) { return static_cast<double>(act(z)); };
            const tensor<double> hidden = dense_reference(x, params[0].value, params[1].value, f);
            const tensor<double> expected =
                dense_reference(hidden, params[2].value, tensor<double>(), f);
            tape t;
            const tensor<double> y = net(t, x).value();
            INFO("forward differs from act(x W + b) with plain loops by "
                 << max_abs_difference(y, expected));
            CHECK(max_abs_difference(y, expected) <= 1e-13);
            require_model_gradients(net, x);
        }
    }
}

}  // namespace

TEST_CASE("an activation after nn::dense<256> fuses into a single dense layer",
          "[nn][composition]") {
    auto net = nn::sequential(nn::input<784>, nn::dense<256>, nn::relu);
    using Net = decltype(net);
    STATIC_REQUIRE(Net::layer_count == 1);
    STATIC_REQUIRE(std::is_same_v<layer_at<0, Net>,
                                  nn::sized_layer<nn::dense_layer<float, relu_t>, 784, 256>>);
    STATIC_REQUIRE(std::is_same_v<Net::value_type, float>);
    STATIC_REQUIRE(Net::in_features == 784);
    STATIC_REQUIRE(Net::out_features == 256);
    CHECK(hana::at_c<0>(net.layers()).layer.activation_name() == "relu");
    CHECK(hana::at_c<0>(net.layers()).layer.in_features() == 784);
    CHECK(hana::at_c<0>(net.layers()).layer.out_features() == 256);
}

TEST_CASE("sizes are resolved at compile time through every kind of layer", "[nn][composition]") {
    SECTION("an MLP: each dense layer's input is the previous output") {
        using Net = decltype(nn::sequential(nn::input<784>, nn::dense<256>, nn::relu,
                                            nn::dense<128>, nn::relu, nn::dense<10>));
        STATIC_REQUIRE(Net::layer_count == 3);
        STATIC_REQUIRE(std::is_same_v<layer_at<1, Net>,
                                      nn::sized_layer<nn::dense_layer<float, relu_t>, 256, 128>>);
        STATIC_REQUIRE(
            std::is_same_v<layer_at<2, Net>,
                           nn::sized_layer<nn::dense_layer<float, identity_fn_t>, 128, 10>>);
        STATIC_REQUIRE(Net::out_features == 10);
    }
    SECTION("several input extents multiply; flatten keeps the count") {
        using Net =
            decltype(nn::sequential_of<double>(nn::input<1, 28, 28>, nn::flatten, nn::dense<10>));
        STATIC_REQUIRE(Net::in_features == 784);
        STATIC_REQUIRE(layer_at<0, Net>::out_features == 784);
        STATIC_REQUIRE(std::is_same_v<Net::value_type, double>);
    }
    SECTION("linear<In, Out> states its input; norms and dropout keep the size") {
        using Net =
            decltype(nn::sequential(nn::input<6>, nn::linear<6, 9>, nn::batch_norm,
                                    nn::dropout(0.5), nn::layer_norm, nn::dense_no_bias<2>));
        STATIC_REQUIRE(Net::layer_count == 5);
        STATIC_REQUIRE(layer_at<1, Net>::in_features == 9);
        STATIC_REQUIRE(layer_at<3, Net>::out_features == 9);
        STATIC_REQUIRE(Net::out_features == 2);
    }
    SECTION("residual keeps the size, concat sums the branches, add keeps one branch's size") {
        using Net = decltype(nn::sequential(
            nn::input<6>, nn::residual(nn::dense<4>, nn::relu, nn::dense<6>),
            nn::concat(nn::dense<3>, nn::chain(nn::dense<5>, nn::tanh), nn::identity),
            nn::add(nn::dense<2>, nn::chain(nn::dense<7>, nn::dense<2>))));
        STATIC_REQUIRE(Net::layer_count == 3);
        STATIC_REQUIRE(layer_at<0, Net>::out_features == 6);
        STATIC_REQUIRE(layer_at<1, Net>::out_features == 3 + 5 + 6);
        STATIC_REQUIRE(Net::out_features == 2);
    }
    SECTION("an embedding takes one id and gives its dimension") {
        using Net = decltype(nn::sequential(nn::input<1>, nn::embedding<50, 8>, nn::dense<3>));
        STATIC_REQUIRE(layer_at<0, Net>::in_features == 1);
        STATIC_REQUIRE(layer_at<0, Net>::out_features == 8);
    }
}

TEST_CASE("consecutive activations merge into one element-wise function", "[nn][composition]") {
    SECTION("after a dense layer, into its epilogue") {
        using Net = decltype(nn::sequential(nn::input<4>, nn::dense<8>, nn::tanh, nn::softplus));
        STATIC_REQUIRE(Net::layer_count == 1);
        STATIC_REQUIRE(
            std::is_same_v<layer_at<0, Net>,
                           nn::sized_layer<
                               nn::dense_layer<float, nn::composed_fn<tanh_t, softplus_t>>, 4, 8>>);
    }
    SECTION("three in a row, a lambda among them") {
        using Net = decltype(nn::sequential(nn::input<4>, nn::dense<8>, nn::tanh, nn::softplus,
                                            swish_beta));
        using G = nn::composed_fn<nn::composed_fn<tanh_t, softplus_t>, swish_beta_t>;
        STATIC_REQUIRE(Net::layer_count == 1);
        STATIC_REQUIRE(
            std::is_same_v<layer_at<0, Net>, nn::sized_layer<nn::dense_layer<float, G>, 4, 8>>);
    }
    SECTION("after a layer that is not dense, into one activation layer") {
        using Net = decltype(nn::sequential(nn::input<4>, nn::layer_norm, nn::relu, nn::sigmoid));
        STATIC_REQUIRE(Net::layer_count == 2);
        STATIC_REQUIRE(
            std::is_same_v<
                layer_at<1, Net>,
                nn::sized_layer<nn::activation_layer<float, nn::composed_fn<relu_t, sigmoid_t>>, 4,
                                4>>);
    }
    SECTION("an activation first in the list stays an activation layer") {
        using Net = decltype(nn::sequential(nn::input<4>, nn::relu, nn::dense<2>));
        STATIC_REQUIRE(Net::layer_count == 2);
        STATIC_REQUIRE(std::is_same_v<layer_at<0, Net>,
                                      nn::sized_layer<nn::activation_layer<float, relu_t>, 4, 4>>);
    }
    SECTION("a dropout between a dense layer and an activation prevents fusion") {
        using Net =
            decltype(nn::sequential(nn::input<4>, nn::dense<8>, nn::dropout(0.1), nn::relu));
        STATIC_REQUIRE(Net::layer_count == 3);
        STATIC_REQUIRE(
            std::is_same_v<layer_at<0, Net>,
                           nn::sized_layer<nn::dense_layer<float, identity_fn_t>, 4, 8>>);
    }
}

TEST_CASE("summary names the fused activations", "[nn][composition]") {
    auto net = nn::sequential(nn::input<784>, nn::dense<256>, nn::relu, nn::dense<64>, nn::tanh,
                              nn::softplus, nn::dense_no_bias<10>, nn::sigmoid);
    const std::string s = net.summary();
    INFO(s);
    CHECK(s.find("input(784)") != std::string::npos);
    CHECK(s.find("dense(784 -> 256) + relu (fused) -> 256") != std::string::npos);
    CHECK(s.find("dense(256 -> 64) + tanh+softplus (fused) -> 64") != std::string::npos);
    CHECK(s.find("dense(64 -> 10, no bias) + sigmoid (fused) -> 10") != std::string::npos);
    CHECK(s.find(std::to_string(net.parameter_count()) + " parameters") != std::string::npos);
}

TEST_CASE("a plain dense layer computes x W + b, with and without bias", "[nn][dense][gradcheck]") {
    auto net = nn::sequential_of<double>(nn::input<7>, nn::dense<5>, nn::linear<5, 3>,
                                         nn::dense_no_bias<17>);
    auto params = net.parameters();
    REQUIRE(params.size() == 5);
    rng g(6);
    for (auto& p : params)
        if (p.value.rank() == 1) p.value.assign(uniform<double>(p.value.shape(), -1, 1, g));
    const tensor<double> x = input(5, 7, 7);
    const auto id = [](double z) { return z; };
    const tensor<double> h1 = dense_reference(x, params[0].value, params[1].value, id);
    const tensor<double> h2 = dense_reference(h1, params[2].value, params[3].value, id);
    const tensor<double> expected = dense_reference(h2, params[4].value, tensor<double>(), id);
    tape t;
    CHECK(max_abs_difference(net(t, x).value(), expected) <= 1e-13);
    require_model_gradients(net, x);
}

TEST_CASE("a dense layer fused with each activation computes act(x W + b) and its gradients",
          "[nn][dense][gradcheck]") {
    SECTION("relu") {
        check_fused_dense(nn::relu);
    }
    SECTION("leaky_relu") {
        check_fused_dense(nn::leaky_relu);
    }
    SECTION("leaky_relu_with(0.2)") {
        check_fused_dense(nn::leaky_relu_with(0.2));
    }
    SECTION("elu") {
        check_fused_dense(nn::elu);
    }
    SECTION("selu") {
        check_fused_dense(nn::selu);
    }
    SECTION("gelu") {
        check_fused_dense(nn::gelu);
    }
    SECTION("gelu_tanh") {
        check_fused_dense(nn::gelu_tanh);
    }
    SECTION("sigmoid") {
        check_fused_dense(nn::sigmoid);
    }
    SECTION("tanh") {
        check_fused_dense(nn::tanh);
    }
    SECTION("softplus") {
        check_fused_dense(nn::softplus);
    }
    SECTION("softsign") {
        check_fused_dense(nn::softsign);
    }
    SECTION("silu") {
        check_fused_dense(nn::silu);
    }
    SECTION("mish") {
        check_fused_dense(nn::mish);
    }
    SECTION("hard_sigmoid") {
        check_fused_dense(nn::hard_sigmoid);
    }
    SECTION("hard_swish") {
        check_fused_dense(nn::hard_swish);
    }
    SECTION("identity") {
        check_fused_dense(nn::identity);
    }
    SECTION("a user's lambda") {
        check_fused_dense(swish_beta);
    }
}

TEST_CASE("merged consecutive activations compute their composition, fused and unfused",
          "[nn][dense][gradcheck]") {
    const tensor<double> x = input(5, 3, 8);
    SECTION("dense + tanh + softplus + lambda: one epilogue computing lambda(softplus(tanh(z)))") {
        auto net = nn::sequential_of<double>(nn::input<3>, nn::dense<7>, nn::tanh, nn::softplus,
                                             swish_beta);
        STATIC_REQUIRE(decltype(net)::layer_count == 1);
        auto params = net.parameters();
        rng g(9);
        params[1].value.assign(uniform<double>(shape{7}, -1, 1, g));
        const tensor<double> expected =
            dense_reference(x, params[0].value, params[1].value, [](double z) {
                const double s = std::log1p(std::exp(std::tanh(z)));
                return s / (1 + std::exp(-1.5 * s));
            });
        tape t;
        CHECK(max_abs_difference(net(t, x).value(), expected) <= 1e-13);
        require_model_gradients(net, x);
    }
    SECTION("layer_norm + sigmoid + mish: one activation layer computing mish(sigmoid(x_hat))") {
        auto net = nn::sequential_of<double>(nn::input<3>, nn::layer_norm, nn::sigmoid, nn::mish);
        STATIC_REQUIRE(decltype(net)::layer_count == 2);
        tensor<double> expected(x.shape());
        for (std::size_t i = 0; i < x.dim(0); ++i) {
            const double mean = (x(i, 0) + x(i, 1) + x(i, 2)) / 3;
            double var = 0;
            for (std::size_t j = 0; j < 3; ++j)
                var += (x(i, j) - mean) * (x(i, j) - mean) / 3;
            for (std::size_t j = 0; j < 3; ++j) {
                const double s = 1 / (1 + std::exp(-(x(i, j) - mean) / std::sqrt(var + 1e-5)));
                expected(i, j) = s * std::tanh(std::log1p(std::exp(s)));
            }
        }
        tape t;
        CHECK(max_abs_difference(net(t, x).value(), expected) <= 1e-13);
        require_model_gradients(net, x);
    }
}
