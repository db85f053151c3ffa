// Each kind of layer is defined once: its static spec and its run-time description build the same
// layer (same parameters, values, summary line and output), for every built-in kind and for a
// user's own kind and activation registered at run time.
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "dendrite/nn/activation_expression.hpp"
#include "helpers.hpp"

using namespace dendrite;

namespace {

// A user's layer and its kind, written as docs/adding-a-layer.md shows: a learnable scale per
// feature.
template <class T>
class scale_layer {
  public:
    using value_type = T;
    scale_layer(std::size_t features, double start)
        : scale(shape{features}, "scale.weight", false, static_cast<T>(start)), start_(start) {}
    var<T> forward(const nn::context& ctx, const var<T>& x) {
        auto [s] = nn::bind(ctx, scale);
        return var<T>(x * s);
    }
    void init(rng&) { scale.value.fill(static_cast<T>(start_)); }
    template <class F>
    void for_each_parameter(F&& f) {
        f(scale);
    }
    std::string describe() const { return "scale(" + std::to_string(scale.size()) + ")"; }

    nn::parameter<T> scale;

  private:
    double start_;
};

struct scale_options {
    double init = 1;
};

struct scale_kind {
    static constexpr const char* name = "scale";
    using options = scale_options;
    static constexpr auto arguments() {
        return std::tuple{nn::argument("init", &scale_options::init)};
    }
    static constexpr nn::layer_output output(const options& o, const nn::sample_dims& in) {
        if (in.is_image()) return nn::layer_output::needs_features();
        if (!(o.init > 0)) return nn::layer_output::bad_options("the scale must start positive");
        return in;
    }
    template <class T>
    static scale_layer<T> make(const options& o, const nn::sample_dims& in) {
        return scale_layer<T>(in.size(), o.init);
    }
};

constexpr nn::valued_layer<scale_kind> scale_from(double init) {
    return {{init}};
}

// A user's activation.
const auto cube_fn = [](const auto& x) { return x * x * x * 0.1 + x; };

template <class Fixed>
void require_same_network(
    Fixed fixed, const shape& sample, const std::string& description, const tensor<double>& x,
    const nn::layer_registry<double>& kinds = nn::layer_registry<double>::builtin()) {
    INFO(description);
    nn::network<double> runtime(sample, nn::parse_network(description), 5, kinds);
    fixed.init(5);
    CHECK(runtime.summary() == fixed.summary());
    auto rp = runtime.parameters(), fp = fixed.parameters();
    REQUIRE(rp.size() == fp.size());
    for (std::size_t i = 0; i < rp.size(); ++i) {
        CHECK(rp[i].name == fp[i].name);
        CHECK(rp[i].decay == fp[i].decay);
        CHECK(nn_testing::bit_identical(rp[i].value, fp[i].value));
    }
    tape t;
    CHECK(nn_testing::bit_identical(runtime(t, x).value(), fixed(t, x).value()));
}

}  // namespace

TEST_CASE("every built-in kind builds the same layer from its spec and from its description",
          "[nn][registry]") {
    rng g(3);
    const tensor<double> flat = uniform<double>(shape{3, 6}, -1.0, 1.0, g);
    const tensor<double> image = uniform<double>(shape{2, 2, 7, 7}, -1.0, 1.0, g);
    const tensor<double> ids(shape{4, 1}, {3, 0, 7, 3});
    using nn::input;
    require_same_network(nn::sequential_of<double>(input<6>, nn::dense<5>, nn::tanh), shape{6},
                         "dense:5,tanh", flat);
    require_same_network(nn::sequential_of<double>(input<6>, nn::dense_no_bias<4>), shape{6},
                         "dense_no_bias:4", flat);
    require_same_network(nn::sequential_of<double>(input<6>, nn::linear<6, 4>), shape{6}, "dense:4",
                         flat);
    require_same_network(
        nn::sequential_of<double>(input<2, 7, 7>,
                                  nn::conv2d<4, 3, nn::conv_options{.stride = 2, .padding = 1}>,
                                  nn::relu),
        shape{2, 7, 7}, "conv:4:3:2:1,relu", image);
    require_same_network(
        nn::sequential_of<double>(input<2, 7, 7>,
                                  nn::conv2d<4, 3, nn::conv_options{.groups = 2, .bias = false}>),
        shape{2, 7, 7}, "conv_no_bias:4:3:1:0:1:2", image);
    require_same_network(
        nn::sequential_of<double>(input<2, 7, 7>,
                                  nn::max_pool2d<3, nn::pool_options{.stride = 2, .padding = 1}>),
        shape{2, 7, 7}, "maxpool:3:2:1", image);
    require_same_network(
        nn::sequential_of<double>(
            input<2, 7, 7>,
            nn::avg_pool2d<3, nn::pool_options{.stride = 1, .count_include_pad = false}>),
        shape{2, 7, 7}, "avg_pool2d:3:1:0:0", image);
    require_same_network(nn::sequential_of<double>(input<2, 7, 7>, nn::global_avg_pool2d),
                         shape{2, 7, 7}, "global_avg_pool2d", image);
    require_same_network(nn::sequential_of<double>(input<2, 7, 7>, nn::batch_norm), shape{2, 7, 7},
                         "batch_norm", image);
    require_same_network(
        nn::sequential_of<double>(input<6>, nn::batch_norm_with({.momentum = 0.3, .eps = 1e-3})),
        shape{6}, "batch_norm:0.3:0.001", flat);
    require_same_network(nn::sequential_of<double>(input<6>, nn::layer_norm), shape{6},
                         "layer_norm", flat);
    require_same_network(nn::sequential_of<double>(input<6>, nn::dropout(0.25)), shape{6},
                         "dropout:0.25", flat);
    require_same_network(nn::sequential_of<double>(input<2, 7, 7>, nn::flatten, nn::dense<3>),
                         shape{2, 7, 7}, "flatten,dense:3", image);
    require_same_network(nn::sequential_of<double>(input<1>, nn::embedding<8, 3>), shape{1},
                         "embedding:8:3", ids);
    require_same_network(nn::sequential_of<double>(input<6>, nn::softmax), shape{6}, "softmax",
                         flat);
    require_same_network(nn::sequential_of<double>(input<6>, nn::log_softmax), shape{6},
                         "log_softmax", flat);
    require_same_network(
        nn::sequential_of<double>(input<6>, nn::dense<4>, nn::leaky_relu_with(0.2)), shape{6},
        "dense:4,leaky_relu:0.2", flat);
    require_same_network(nn::sequential_of<double>(input<6>, nn::dense<4>, nn::prelu), shape{6},
                         "dense:4,prelu", flat);
    require_same_network(nn::sequential_of<double>(input<2, 7, 7>, nn::prelu_with(true, 0.1)),
                         shape{2, 7, 7}, "prelu:1:0.1", image);
    require_same_network(nn::sequential_of<double>(input<6>, nn::pau), shape{6}, "pau", flat);
    require_same_network(nn::sequential_of<double>(input<6>, nn::pau_with(true)), shape{6}, "pau:1",
                         flat);
}

TEST_CASE("a user's kind is a layer of both builders, with its shape rule in both",
          "[nn][registry]") {
    auto kinds = nn::layer_registry<double>::builtin();
    kinds.add<scale_kind>();
    rng g(4);
    const tensor<double> x = uniform<double>(shape{3, 6}, -1.0, 1.0, g);
    require_same_network(nn::sequential_of<double>(nn::input<6>, nn::dense<5>, nn::relu,
                                                   scale_from(0.5), nn::dense<2>),
                         shape{6}, "dense:5,relu,scale:0.5,dense:2", x, kinds);

    nn::network<double> net(shape{6}, "dense:5,tanh,scale:2,dense:2", 7, kinds);
    CHECK(net.summary().find("scale(5) -> 5") != std::string::npos);
    CHECK(net.parameters()[2].name == "2.scale.weight");
    nn_testing::require_model_gradients(net, x, 1e-6);

    // Its rule rejects what it rejects, by layer, in the run-time form...
    CHECK_THROWS_WITH(nn::network<double>(shape{6}, "dense:5,scale:-1", 0, kinds),
                      Catch::Contains("layer 2 'scale': the scale must start positive"));
    CHECK_THROWS_WITH(nn::network<double>(shape{1, 4, 4}, "scale", 0, kinds),
                      Catch::Contains("layer 1 'scale': works on features but receives images"));
    // ... and in the static one for its run-time options.
    CHECK_THROWS_WITH(nn::sequential_of<double>(nn::input<6>, scale_from(-1)),
                      Catch::Contains("layer 1 'scale': the scale must start positive"));
    // JSON takes its argument by name; the help text lists it.
    const auto json = nn::parse_network_json(R"([{"type": "scale", "init": 3}])", kinds.catalog());
    CHECK(json[0].args == std::vector<double>{3});
    CHECK(nn::network_layer_kinds(kinds.catalog()).find("scale[:INIT]") != std::string::npos);
    // The builtin registry is not changed by a copy's additions.
    CHECK_THROWS_WITH(nn::network<double>(shape{6}, "scale"),
                      Catch::Contains("layer 1 'scale': unknown kind"));
    CHECK_THROWS_WITH(kinds.add<scale_kind>(), Catch::Contains("'scale' is already taken"));
}

TEST_CASE("a user's activation registered at run time is absorbed by dense layers",
          "[nn][registry]") {
    auto kinds = nn::layer_registry<double>::builtin();
    kinds.add_activation(nn::activation{cube_fn, "cube"});
    rng g(8);
    const tensor<double> x = uniform<double>(shape{4, 3}, -1.0, 1.0, g);
    require_same_network(nn::sequential_of<double>(nn::input<3>, nn::dense<5>,
                                                   nn::activation{cube_fn, "cube"}, nn::dense<2>),
                         shape{3}, "dense:5,cube,dense:2", x, kinds);
    nn::network<double> net(shape{3}, "dense:5,cube,dense:2", 2, kinds);
    CHECK(net.summary().find("dense(3 -> 5) + cube (fused) -> 5") != std::string::npos);
    nn_testing::require_model_gradients(net, x, 1e-6);
    // After a layer that takes no activation it is a layer of its own.
    nn::network<double> alone(shape{3}, "layer_norm,cube", 2, kinds);
    CHECK(alone.summary().find("\ncube -> 3") != std::string::npos);
}

TEST_CASE("descriptions: the syntax every kind derives from its arguments", "[nn][registry]") {
    const nn::layer_catalog& c = nn::builtin_catalog();
    const auto conv = c.find("conv_no_bias");
    REQUIRE(conv);
    CHECK(c[conv->index].synopsis() ==
          "conv:FILTERS:KERNEL[:STRIDE[:PADDING[:DILATION[:GROUPS[:BIAS]]]]]");
    CHECK(conv->preset_argument == 6);
    CHECK(c[c.find("maxpool")->index].takes == nn::input_kind::images);
    CHECK(c[c.find("dense")->index].takes == nn::input_kind::features);
    CHECK(c[c.find("dropout")->index].takes == nn::input_kind::any);
    CHECK(nn::network_layer_kinds().find("leaky_relu[:SLOPE]") != std::string::npos);
    CHECK(nn::starts_on_images(nn::parse_network("dropout:0.1,conv:3:3,flatten")));
    CHECK_FALSE(nn::starts_on_images(nn::parse_network("relu,dense:3,conv:3:3")));

    const auto bad = [](const char* description) {
        try {
            nn::network<float> net(shape{1, 8, 8}, description);
        } catch (const nn::network_error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK_THAT(bad("maxpool:2:1:0:1"),
               Catch::Contains("layer 1 'maxpool': takes at most 3 arguments "
                               "(maxpool:KERNEL[:STRIDE[:PADDING]])"));
    CHECK_THAT(bad("conv:2:3:1:0:1:1:2"),
               Catch::Contains("layer 1 'conv': the bias is 0 or 1 (false or true), not 2"));
    CHECK_THAT(bad("flatten:3"), Catch::Contains("layer 1 'flatten': takes no argument"));
    CHECK_THAT(bad("flatten,dropout:1.5"),
               Catch::Contains("layer 2 'dropout': needs a probability in [0, 1)"));
    CHECK_THAT(bad("flatten,embedding:10:4,embedding:10:4"),
               Catch::Contains("layer 3 'embedding': works on features but receives a sequence "
                               "[64, 4]; put 'last' (or 'flatten') before it"));
    CHECK_THROWS_WITH(nn::parse_network_json(R"([{"type": "dense", "unit": 3}])"),
                      Catch::Contains("JSON layer 1 'dense': unknown key \"unit\" (its keys: "
                                      "\"units\", \"bias\")"));
    CHECK_THROWS_WITH(nn::parse_network_json(R"([{"type": "dense", "units": "3"}])"),
                      Catch::Contains("\"units\" must be a number"));
    CHECK(nn::parse_network_json(R"([{"type": "dense", "units": 3, "bias": false}])")[0].args ==
          std::vector<double>{3, 0});
}

TEST_CASE("an activation written at run time trains like the compiled one", "[nn][registry]") {
    // Mish written out, registered under a name of its own: dense layers absorb it, convolutions
    // too, and values and gradients are those of the compiled Mish.
    auto kinds = nn::layer_registry<double>::builtin();
    kinds.add_activation(
        nn::activation{nn::activation_expression("x * tanh(softplus(x))"), "written_mish"});
    rng g(9);
    const tensor<double> flat = uniform<double>(shape{3, 6}, -2.0, 2.0, g);
    const tensor<double> image = uniform<double>(shape{2, 1, 6, 6}, -2.0, 2.0, g);
    for (const auto& [sample, x, written, compiled] :
         {std::tuple{shape{6}, flat, "dense:5,written_mish,dense:2", "dense:5,mish,dense:2"},
          std::tuple{shape{1, 6, 6}, image, "conv:3:3,written_mish,flatten,dense:2",
                     "conv:3:3,mish,flatten,dense:2"},
          std::tuple{shape{6}, flat, "layer_norm,written_mish", "layer_norm,mish"}}) {
        INFO(written);
        nn::network<double> a(sample, written, 4, kinds), b(sample, compiled, 4);
        tape t;
        const var<double> ya = a(t, x), yb = b(t, x);
        const tensor<double> va = ya.value(), vb = yb.value();
        REQUIRE(va.size() == vb.size());
        for (std::size_t i = 0; i < va.size(); ++i)
            CHECK(std::abs(va.data()[i] - vb.data()[i]) <= 1e-13 * (1 + std::abs(vb.data()[i])));
        nn_testing::require_model_gradients(a, x, 1e-6);
    }
    nn::network<double> fused(shape{6}, "dense:5,written_mish,dense:2", 4, kinds);
    CHECK(fused.summary().find("dense(6 -> 5) + written_mish (fused) -> 5") != std::string::npos);
}

TEST_CASE("sequence kinds build the same layers from specs and descriptions",
          "[nn][registry][sequence]") {
    rng g(4);
    const tensor<double> ids(shape{3, 5}, {1, 4, 6, 0, 2, 2, 5, 3, 3, 1, 0, 0, 6, 6, 5});
    const tensor<double> steps = uniform<double>(shape{2, 5, 8}, -1.0, 1.0, g);
    require_same_network(nn::sequential_of<double>(nn::input<5>, nn::embedding<7, 4>), shape{5},
                         "embedding:7:4", ids);
    require_same_network(nn::sequential_of<double>(nn::input<5>, nn::embedding<7, 4>, nn::lstm<6>,
                                                   nn::last, nn::dense<3>),
                         shape{5}, "embedding:7:4,lstm:6,last,dense:3", ids);
    require_same_network(
        nn::sequential_of<double>(nn::input<5, 8>, nn::gru<4>, nn::dense<2>, nn::tanh), shape{5, 8},
        "gru:4,dense:2,tanh", steps);
    require_same_network(
        nn::sequential_of<double>(nn::input<5, 8>, nn::learned_positions,
                                  nn::multi_head_attention<2, true>, nn::layer_norm),
        shape{5, 8}, "positions,attention:2:1,layer_norm", steps);
    require_same_network(
        nn::sequential_of<double>(nn::input<5, 8>, nn::sine_positions, nn::transformer_block<4, 12>,
                                  nn::flatten, nn::dense<2>),
        shape{5, 8}, "positions:0,transformer:4:12,flatten,dense:2", steps);
}

TEST_CASE("sequence networks: shapes, gradients and what a wrong input is told",
          "[nn][registry][sequence]") {
    SECTION("a sequence classifier from ids passes gradcheck in both builders") {
        const tensor<double> ids(shape{2, 4}, {1, 4, 6, 0, 2, 2, 5, 3});
        auto fixed =
            nn::sequential_of<double>(nn::input<4>, nn::embedding<7, 3>, nn::gru<4>, nn::dense<4>,
                                      nn::relu, nn::lstm<3>, nn::last, nn::dense<2>);
        STATIC_REQUIRE(std::is_same_v<decltype(fixed)::output_dims, nn::dims<2>>);
        nn::network<double> runtime(shape{4},
                                    "embedding:7:3,gru:4,dense:4,relu,lstm:3,last,dense:2", 3);
        CHECK(runtime.output_dims() == shape{2});
        CHECK(runtime.summary().find("lstm(4 -> 3)") != std::string::npos);
        nn_testing::require_model_gradients(fixed, ids, 1e-6, false);
        nn_testing::require_model_gradients(runtime, ids, 1e-6, false);
    }
    SECTION("a causal transformer over [steps, features] samples given as flat rows") {
        rng g(5);
        nn::network<double> net(shape{3, 4}, "positions,transformer:2:6:1,dense:5", 2);
        CHECK(net.output_dims() == shape{3, 5});
        tape t;
        const tensor<double> rows = uniform<double>(shape{2, 12}, -1.0, 1.0, g);
        CHECK(net(t, rows).shape() == shape{2, 3, 5});
        nn_testing::require_model_gradients(net, rows.reshape(shape{2, 3, 4}));
    }
    SECTION("kinds refuse the inputs they cannot take, naming what to do") {
        const auto bad = [](const shape& sample, const char* description) {
            try {
                nn::network<float> net(sample, description);
            } catch (const nn::network_error& e) {
                return std::string(e.what());
            }
            return std::string("no error");
        };
        CHECK_THAT(bad(shape{8}, "dense:4,lstm:3"),
                   Catch::Contains("layer 2 'lstm': works on a sequence [steps, features] but "
                                   "receives [4]; give the network a [steps, features] input, "
                                   "or ids through 'embedding'"));
        CHECK_THAT(bad(shape{5, 8}, "attention:3"),
                   Catch::Contains("layer 1 'attention': the heads must divide the features"));
        CHECK_THAT(bad(shape{5, 8}, "gru:4,batch_norm"),
                   Catch::Contains("layer 2 'batch_norm': works on features but receives a "
                                   "sequence [5, 4]; put 'last'"));
        CHECK_THAT(bad(shape{1, 8, 8}, "last"),
                   Catch::Contains("layer 1 'last': works on a sequence [steps, features] but "
                                   "receives images [1, 8, 8]"));
        CHECK_THAT(bad(shape{2, 3, 4, 5}, "dense:2"),
                   Catch::Contains("a sample is [features], [steps, features] or [channels, "
                                   "height, width], not [2, 3, 4, 5]"));
    }
}
