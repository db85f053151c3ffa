// Convolutional networks written with nn::sequential: shapes resolved at compile time, a
// convolution absorbing its activations, batch norm per channel after a convolution, residual
// and concatenated image branches, and gradients of whole networks in double.
#include <type_traits>

#include "../nn/helpers.hpp"
#include "reference.hpp"

using namespace dendrite;
namespace hana = boost::hana;

namespace {

template <std::size_t I, class Net>
using layer_at = std::remove_cvref_t<decltype(hana::at_c<I>(std::declval<Net&>().layers()))>;

using relu_act = std::remove_cvref_t<decltype(nn::relu)>;

auto lenet() {
    return nn::sequential(nn::input<1, 28, 28>, nn::conv2d<6, 5>, nn::relu, nn::max_pool2d<2>,
                          nn::conv2d<16, 5>, nn::relu, nn::max_pool2d<2>, nn::flatten,
                          nn::dense<120>, nn::relu, nn::dense<84>, nn::relu, nn::dense<10>);
}

}  // namespace

TEST_CASE("a LeNet-5 network resolves every shape while compiling", "[conv][sequential]") {
    using Net = decltype(lenet());
    STATIC_REQUIRE(std::is_same_v<Net::input_dims, nn::dims<1, 28, 28>>);
    STATIC_REQUIRE(Net::in_features == 784);
    STATIC_REQUIRE(Net::layer_count == 8);  // each relu is absorbed by the layer before it
    STATIC_REQUIRE(
        std::is_same_v<layer_at<0, Net>, nn::sized_layer<nn::conv2d_layer<float, relu_act>, 784,
                                                         6 * 24 * 24, nn::dims<6, 24, 24>>>);
    STATIC_REQUIRE(std::is_same_v<layer_at<1, Net>::out_dims, nn::dims<6, 12, 12>>);
    STATIC_REQUIRE(std::is_same_v<layer_at<2, Net>::out_dims, nn::dims<16, 8, 8>>);
    STATIC_REQUIRE(std::is_same_v<layer_at<3, Net>::out_dims, nn::dims<16, 4, 4>>);
    STATIC_REQUIRE(std::is_same_v<layer_at<4, Net>::out_dims, nn::dims<256>>);
    STATIC_REQUIRE(std::is_same_v<layer_at<5, Net>,
                                  nn::sized_layer<nn::dense_layer<float, relu_act>, 256, 120>>);
    STATIC_REQUIRE(Net::out_features == 10);

    auto net = lenet();
    // 6*25+6 + 16*6*25+16 + 256*120+120 + 120*84+84 + 84*10+10
    CHECK(net.parameter_count() == 156 + 2416 + 30840 + 10164 + 850);
    const std::string summary = net.summary();
    CHECK(summary.find("input([1, 28, 28])") != std::string::npos);
    CHECK(summary.find("conv2d(1 -> 6, 5x5) + relu (fused) -> [6, 24, 24]") != std::string::npos);
    CHECK(summary.find("max_pool2d(2x2) -> [16, 4, 4]") != std::string::npos);
    CHECK(summary.find("flatten(256) -> 256") != std::string::npos);
    CHECK(net.parameters()[0].name == "1.conv2d.weight");
}

TEST_CASE("an image network takes rows or images and rejects other sizes", "[conv][sequential]") {
    auto net = lenet();
    rng g(3);
    const tensor<float> images = uniform<float>(shape{5, 1, 28, 28}, 0.f, 1.f, g);
    tape t;
    const var<float> from_images = net(t, images);
    const var<float> from_rows = net(t, images.reshape(shape{5, 784}));
    REQUIRE(from_images.shape() == shape{5, 10});
    REQUIRE(from_rows.shape() == shape{5, 10});
    for (std::size_t i = 0; i < 50; ++i)
        CHECK(from_images.value().data()[i] == from_rows.value().data()[i]);
    try {
        (void)net(t, tensor<float>(shape{5, 780}));
        FAIL("a [5, 780] input was accepted");
    } catch (const shape_error& e) {
        CHECK(std::string(e.what()).find("expects input [batch, 1, 28, 28], got [5, 780]") !=
              std::string::npos);
    }
}

TEST_CASE("a convolution fused with its activations computes the unfused layers' values",
          "[conv][sequential]") {
    // Two activations after the convolution compose into its epilogue.
    auto fused = nn::sequential_of<double>(nn::input<2, 7, 6>,
                                           nn::conv2d<3, 3, nn::conv_options{.padding = 1}>,
                                           nn::tanh, nn::softplus);
    using Net = decltype(fused);
    STATIC_REQUIRE(Net::layer_count == 1);
    STATIC_REQUIRE(std::is_same_v<Net::output_dims, nn::dims<3, 7, 6>>);
    auto plain = nn::sequential_of<double>(nn::input<2, 7, 6>,
                                           nn::conv2d<3, 3, nn::conv_options{.padding = 1}>);
    auto& conv = hana::at_c<0>(plain.layers()).layer;
    auto fp = fused.parameters(), pp = plain.parameters();
    REQUIRE(fp.size() == 2);
    for (std::size_t i = 0; i < fp.size(); ++i)
        pp[i].value.assign(fp[i].value);
    rng g(4);
    const tensor<double> x = uniform<double>(shape{3, 2, 7, 6}, -1.0, 1.0, g);
    tape t;
    const tensor<double> y = fused(t, x).value();
    const tensor<double> z = plain(t, x).value();
    tensor<double> expected = softplus(tanh(z));
    CHECK(nn_testing::max_abs_difference(y, expected) < 1e-14);
    CHECK(conv.out_channels() == 3);
}

TEST_CASE("convolutional networks pass gradient checks end to end",
          "[conv][sequential][gradcheck]") {
    SECTION("conv, strides, padding, dilation, groups, both poolings and dense") {
        auto net = nn::sequential_of<double>(
            nn::input<2, 9, 8>,
            nn::conv2d<4, 3, nn::conv_options{.stride = 1, .padding = 1, .dilation = 2}>, nn::tanh,
            nn::conv2d<4, 3, nn::conv_options{.stride = 2, .padding = 1, .groups = 2}>, nn::elu,
            nn::avg_pool2d<2, nn::pool_options{.stride = 1}>, nn::max_pool2d<2>, nn::flatten,
            nn::dense<3>);
        using Net = decltype(net);
        STATIC_REQUIRE(std::is_same_v<layer_at<0, Net>::out_dims, nn::dims<4, 7, 6>>);
        STATIC_REQUIRE(std::is_same_v<layer_at<1, Net>::out_dims, nn::dims<4, 4, 3>>);
        STATIC_REQUIRE(std::is_same_v<layer_at<2, Net>::out_dims, nn::dims<4, 3, 2>>);
        STATIC_REQUIRE(std::is_same_v<layer_at<3, Net>::out_dims, nn::dims<4, 1, 1>>);
        rng g(8);
        const tensor<double> x = uniform<double>(shape{2, 2, 9, 8}, -1.0, 1.0, g);
        nn_testing::require_model_gradients(net, x, 1e-6);
    }
    SECTION("batch norm per channel, a depthwise convolution without bias, global pooling") {
        auto net = nn::sequential_of<double>(
            nn::input<3, 6, 5>, nn::conv2d<6, 3, nn::conv_options{.padding = 1}>, nn::batch_norm,
            nn::silu, nn::conv2d<6, 3, nn::conv_options{.groups = 6, .bias = false}>,
            nn::global_avg_pool2d, nn::dense<2>);
        using Net = decltype(net);
        STATIC_REQUIRE(
            std::is_same_v<layer_at<1, Net>, nn::sized_layer<nn::batch_norm2d_layer<double>, 180,
                                                             180, nn::dims<6, 6, 5>>>);
        STATIC_REQUIRE(std::is_same_v<layer_at<3, Net>::out_dims, nn::dims<6, 4, 3>>);
        STATIC_REQUIRE(std::is_same_v<layer_at<4, Net>::out_dims, nn::dims<6>>);
        rng g(9);
        const tensor<double> x = uniform<double>(shape{4, 3, 6, 5}, -1.0, 1.0, g);
        nn_testing::require_model_gradients(net, x, 1e-6);
        std::vector<std::string> buffers;
        net.for_each_buffer(
            [&](const std::string& name, tensor<double>&) { buffers.push_back(name); });
        CHECK(buffers == std::vector<std::string>{"2.batch_norm2d.running_mean",
                                                  "2.batch_norm2d.running_var"});
    }
    SECTION("residual and concatenated image branches") {
        auto net = nn::sequential_of<double>(
            nn::input<2, 5, 5>, nn::conv2d<3, 1>,
            nn::residual(nn::conv2d<3, 3, nn::conv_options{.padding = 1}>, nn::relu),
            nn::concat(nn::conv2d<2, 3, nn::conv_options{.padding = 1}>,
                       nn::chain(nn::max_pool2d<3, nn::pool_options{.stride = 1, .padding = 1}>,
                                 nn::conv2d<1, 1>)),
            nn::add(nn::conv2d<2, 1>, nn::chain(nn::avg_pool2d<1>, nn::conv2d<2, 1>)), nn::flatten,
            nn::dense<2>);
        using Net = decltype(net);
        STATIC_REQUIRE(std::is_same_v<layer_at<1, Net>::out_dims, nn::dims<3, 5, 5>>);
        STATIC_REQUIRE(std::is_same_v<layer_at<2, Net>::out_dims, nn::dims<3, 5, 5>>);
        STATIC_REQUIRE(std::is_same_v<layer_at<3, Net>::out_dims, nn::dims<2, 5, 5>>);
        rng g(10);
        const tensor<double> x = uniform<double>(shape{2, 2, 5, 5}, -1.0, 1.0, g);
        nn_testing::require_model_gradients(net, x, 1e-6);
    }
}

TEST_CASE("a small CNN learns to tell horizontal from vertical bars", "[conv][sequential]") {
    // 8x8 images with one bright row (class 0) or column (class 1) plus noise.
    rng g(12);
    const std::size_t n = 64;
    tensor<float> x(shape{n, 1, 8, 8});
    std::vector<std::int32_t> labels(n);
    for (std::size_t i = 0; i < n; ++i) {
        labels[i] = static_cast<std::int32_t>(i % 2);
        const std::size_t line = g.below(8);
        for (std::size_t r = 0; r < 8; ++r)
            for (std::size_t c = 0; c < 8; ++c)
                x(i, 0, r, c) = static_cast<float>(g.uniform(0, 0.3)) +
                                ((labels[i] == 0 ? r : c) == line ? 1.f : 0.f);
    }
    auto net = nn::sequential(nn::input<1, 8, 8>, nn::conv2d<4, 3>, nn::relu, nn::max_pool2d<2>,
                              nn::flatten, nn::dense<2>);
    auto params = net.parameters();
    optim::adam<float> opt({.lr = 0.01});
    tape t;
    float first = 0, last = 0;
    for (int step = 0; step < 60; ++step) {
        t.clear();
        net.zero_grad();
        var<float> loss = softmax_cross_entropy(net(t, x), labels);
        loss.backward();
        opt.step(params);
        (step == 0 ? first : last) = loss.item();
    }
    INFO("loss " << first << " -> " << last);
    CHECK(last < 0.1f * first);
}
