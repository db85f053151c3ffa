// Convolutional networks built at run time (nn::network): the same layers, values and gradients
// as the static ones, and errors that name the layer for descriptions that cannot work.
#include <string>

#include "../nn/helpers.hpp"

using namespace dendrite;

namespace {

const char* lenet_text =
    "conv:6:5,relu,maxpool:2,conv:16:5,relu,maxpool:2,flatten,dense:120,relu,dense:84,relu,dense:"
    "10";

std::string build_error(const shape& sample, const std::string& description) {
    try {
        nn::network<float> net(sample, description);
    } catch (const nn::network_error& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("a run-time LeNet equals the static one, parameter for parameter and output for output",
          "[conv][network]") {
    nn::network<float> runtime(shape{1, 28, 28}, lenet_text, 7);
    auto fixed = nn::sequential(nn::input<1, 28, 28>, nn::conv2d<6, 5>, nn::relu, nn::max_pool2d<2>,
                                nn::conv2d<16, 5>, nn::relu, nn::max_pool2d<2>, nn::flatten,
                                nn::dense<120>, nn::relu, nn::dense<84>, nn::relu, nn::dense<10>);
    fixed.init(7);
    CHECK(runtime.in_features() == 784);
    CHECK(runtime.output_dims() == shape{10});
    auto rp = runtime.parameters(), fp = fixed.parameters();
    REQUIRE(rp.size() == fp.size());
    for (std::size_t i = 0; i < rp.size(); ++i) {
        CHECK(rp[i].name == fp[i].name);
        CHECK(nn_testing::bit_identical(rp[i].value, fp[i].value));
    }
    const std::string summary = runtime.summary();
    CHECK(summary.find("input([1, 28, 28])") != std::string::npos);
    CHECK(summary.find("conv2d(1 -> 6, 5x5) + relu (fused) -> [6, 24, 24]") != std::string::npos);
    CHECK(summary.find("flatten(256) -> 256") != std::string::npos);
    CHECK(summary.find("44426 parameters") != std::string::npos);

    rng g(2);
    const tensor<float> x = uniform<float>(shape{3, 784}, 0.f, 1.f, g);
    tape t;
    const tensor<float> a = runtime(t, x).value(), b = fixed(t, x).value();
    CHECK(nn_testing::bit_identical(a, b));
}

TEST_CASE("run-time convolutional networks pass gradient checks", "[conv][network][gradcheck]") {
    nn::network<double> net(
        shape{2, 7, 6},
        "conv:4:3:1:1,tanh,batch_norm,avgpool:2:1,conv_no_bias:4:3:2:1:1:2,elu,maxpool:2,"
        "conv:3:1,global_avg_pool2d,dense:2",
        5);
    CHECK(net.output_dims() == shape{2});
    rng g(6);
    const tensor<double> x = uniform<double>(shape{3, 2, 7, 6}, -1.0, 1.0, g);
    nn_testing::require_model_gradients(net, x, 1e-6);
}

TEST_CASE("run-time convolutional networks from JSON", "[conv][network]") {
    const auto layers = nn::parse_network_json(R"({"layers": [
        {"type": "conv", "filters": 4, "kernel": 3, "padding": 1, "bias": false},
        {"type": "relu"},
        {"type": "maxpool", "kernel": 3, "stride": 2, "padding": 1},
        {"type": "flatten"},
        {"type": "dense", "units": 5}]})");
    REQUIRE(layers.size() == 5);
    CHECK(layers[0].kind == "conv");
    CHECK(layers[0].args == std::vector<double>{4, 3, 1, 1, 1, 1, 0});
    CHECK(layers[2].args == std::vector<double>{3, 2, 1});
    nn::network<float> net(shape{1, 9, 9}, layers);
    CHECK(net.summary().find("max_pool2d(3x3) -> [4, 5, 5]") != std::string::npos);
    CHECK(net.parameter_count() == 4 * 9 + 100 * 5 + 5);
    CHECK_THROWS_WITH(nn::parse_network_json(R"([{"type": "conv", "kernel": 3}])"),
                      Catch::Contains("JSON layer 1 'conv' needs \"filters\""));
}

TEST_CASE("run-time descriptions that cannot work on images are refused by layer",
          "[conv][network]") {
    CHECK_THAT(build_error(shape{784}, "conv:6:5,relu,dense:10"),
               Catch::Contains("layer 1 'conv': works on images [channels, height, width] but "
                               "receives [784]"));
    CHECK_THAT(
        build_error(shape{1, 28, 28}, "conv:6:5,relu,dense:10"),
        Catch::Contains("layer 3 'dense': works on features but receives images [6, 24, 24]; "
                        "put 'flatten'"));
    CHECK_THAT(build_error(shape{1, 12, 12}, "conv:6:5,maxpool:2,conv:16:5"),
               Catch::Contains("layer 3 'conv': its 5x5 window does not fit its input [6, 4, 4]"));
    CHECK_THAT(build_error(shape{3, 8, 8}, "conv:4:3:1:0:1:2"),
               Catch::Contains("layer 1 'conv': groups (2) must divide the input channels (3)"));
    CHECK_THAT(build_error(shape{1, 8, 8}, "conv:6"),
               Catch::Contains("layer 1 'conv': needs the kernel (conv:FILTERS:KERNEL[:STRIDE"));
    CHECK_THAT(
        build_error(shape{1, 8, 8}, "conv:6:2.5"),
        Catch::Contains("layer 1 'conv': the kernel must be a positive whole number, not 2.5"));
    CHECK_THAT(build_error(shape{1, 8, 8}, "maxpool:2:2:2"),
               Catch::Contains("padding must be at most half the window"));
    CHECK_THAT(build_error(shape{4, 4}, "conv:2:3"),
               Catch::Contains("layer 1 'conv': works on images [channels, height, width] but "
                               "receives [4, 4]"));
    CHECK_THAT(build_error(shape{2, 4, 4, 4}, "dense:2"),
               Catch::Contains("a sample is [features], [steps, features] or [channels, height, "
                               "width], not [2, 4, 4, 4]"));
    nn::network<float> net(shape{1, 8, 8}, "conv:2:3,flatten,dense:2");
    tape t;
    CHECK_THROWS_WITH(net(t, tensor<float>(shape{2, 60})),
                      Catch::Contains("expects input [batch, 1, 8, 8], got [2, 60]"));
}
