// Hessian-vector products of whole networks against central differences of their gradients:
// declarative and run-time, dense and convolutional, normalised, with embeddings and custom
// layers, under each loss.

#include "../support/hvp_check.hpp"

#include <catch2/catch.hpp>
#include <dendrite/dendrite.hpp>

#include <cstdint>
#include <vector>

using namespace dendrite;
using dendrite::testing::require_hvp_matches_differences;

namespace {

std::vector<std::int32_t> random_labels(std::size_t n, std::size_t classes, rng& g) {
    std::vector<std::int32_t> labels;
    for (std::size_t i = 0; i < n; ++i)
        labels.push_back(static_cast<std::int32_t>(g.below(classes)));
    return labels;
}

/// Moves every parameter off its initial value (zero biases, unit scales), so that no term of
/// the Hessian vanishes by accident.
template <class Net>
nn::parameter_list<double> perturbed_parameters(Net& net, rng& g) {
    auto params = net.parameters();
    for (auto& p : params)
        p.value.assign(p.value + normal<double>(p.value.shape(), 0.0, 0.2, g));
    return params;
}

/// PReLU with one learnable slope per feature: a custom layer with no gradient code.
struct learnable_slope {
    static constexpr std::size_t in_features = 6, out_features = 6;
    nn::parameter<double> slope{shape{6}, "slope", false, 0.25};

    var<double> forward(const nn::context& ctx, const var<double>& x) {
        auto [a] = nn::bind(ctx, slope);
        return var<double>(where(x > 0, x, a * x) + 0.1 * a * square(x));
    }
};

}  // namespace

TEST_CASE("hvp of declarative dense networks with norms and custom layers", "[hvp][nn]") {
    rng g(11);
    auto net = nn::sequential_of<double>(nn::input<5>, nn::dense<6>, nn::gelu, nn::batch_norm,
                                         learnable_slope{}, nn::layer_norm, nn::dense<4>, nn::tanh,
                                         nn::dense<3>);
    auto params = perturbed_parameters(net, g);
    for (std::size_t batch : {2, 7, 17}) {
        const tensor<double> x = normal<double>(shape{batch, 5}, 0.0, 1.0, g);
        const auto labels = random_labels(batch, 3, g);
        auto ce = [&](tape& t) { return softmax_cross_entropy(net(t, x), labels); };
        require_hvp_matches_differences(ce, params, 100 + batch);
        auto nll = [&](tape& t) { return nll_loss(log_softmax(net(t, x), 1), labels); };
        require_hvp_matches_differences(nll, params, 110 + batch);
        const tensor<double> target = normal<double>(shape{batch, 3}, 0.0, 1.0, g);
        auto mse = [&](tape& t) { return mse_loss(net(t, x), target); };
        require_hvp_matches_differences(mse, params, 120 + batch);
        auto huber = [&](tape& t) { return huber_loss(net(t, x), target, 0.5); };
        require_hvp_matches_differences(huber, params, 130 + batch);
        const tensor<double> bits = uniform<double>(shape{batch, 3}, 0.0, 1.0, g);
        auto bce = [&](tape& t) { return binary_cross_entropy_with_logits(net(t, x), bits); };
        require_hvp_matches_differences(bce, params, 140 + batch);
    }
}

TEST_CASE("hvp of a declarative convolutional network", "[hvp][nn][conv]") {
    rng g(12);
    auto net = nn::sequential_of<double>(nn::input<2, 9, 8>, nn::conv2d<4, 3>, nn::softplus,
                                         nn::max_pool2d<2>, nn::conv2d<3, 2>, nn::sigmoid,
                                         nn::flatten, nn::dense<5>, nn::relu, nn::dense<3>);
    auto params = perturbed_parameters(net, g);
    const tensor<double> x = normal<double>(shape{3, 2, 9, 8}, 0.0, 1.0, g);
    const auto labels = random_labels(3, 3, g);
    auto loss = [&](tape& t) { return softmax_cross_entropy(net(t, x), labels, 0.1); };
    require_hvp_matches_differences(loss, params, 150);
}

TEST_CASE("hvp of run-time networks", "[hvp][nn][network]") {
    rng g(13);
    SECTION("convolutional, with batch norm, pooling and grouped convolutions") {
        nn::network<double> net(shape{2, 7, 6},
                                "conv:4:3:1:1,tanh,batch_norm,avgpool:2:1,"
                                "conv_no_bias:4:3:2:1:1:2,elu,maxpool:2,conv:3:1,"
                                "global_avg_pool2d,dense:2",
                                5);
        auto params = perturbed_parameters(net, g);
        const tensor<double> x = uniform<double>(shape{3, 2, 7, 6}, -1.0, 1.0, g);
        const auto labels = random_labels(3, 2, g);
        auto loss = [&](tape& t) { return softmax_cross_entropy(net(t, x), labels); };
        require_hvp_matches_differences(loss, params, 160);
    }
    SECTION("dense, with an embedding, dropout and a softmax layer") {
        nn::network<double> net(
            shape{1}, "embedding:11:6,dense:5,swish,dropout:0.3,layer_norm,dense:3,softmax", 6);
        auto params = perturbed_parameters(net, g);
        tensor<double> ids(shape{7, 1});
        for (std::size_t i = 0; i < 7; ++i)
            ids.data()[i] = static_cast<double>(g.below(11));
        const auto labels = random_labels(7, 3, g);
        // The same dropout mask at every evaluation: the loss is then one smooth function.
        auto loss = [&](tape& t) {
            net.random() = rng(21);
            return softmax_cross_entropy(net(t, ids), labels);
        };
        require_hvp_matches_differences(loss, params, 170);
    }
}

TEST_CASE("hvp of a network names an op without a second-order rule", "[hvp][nn]") {
    auto net = nn::sequential_of<double>(nn::input<3>, nn::dense<2>);
    auto params = net.parameters();
    std::vector<tensor<double>> v;
    for (const auto& p : params)
        v.emplace_back(p.value.shape(), 1.0);
    const tensor<double> x(shape{2, 3}, 0.5);
    auto loss = [&](tape& t) {
        const var<double> y = net(t, x);
        // An op recorded without a rule, as a user's own record_op would be.
        return record_op(t, "user_op", tensor<double>(shape{}, y.value().data()[0]), true,
                         [y](tape& tp, const tensor<double>& g) {
                             y.node().grad_accumulator(tp).data()[0] += g.item();
                         });
    };
    REQUIRE_THROWS_WITH(hvp(loss, params, v),
                        Catch::Contains("'user_op' has no second-order rule"));
}
