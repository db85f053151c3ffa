// A steady-state training step of a LeNet-like network (conv, max-pool, conv, max-pool, dense
// layers) allocates nothing: convolution scratch, pooling indices and values all come from the
// tape's pools.
//
// Every global operator new of this executable (all forms: plain, array, aligned, nothrow) is
// replaced by a counting one; it counts only while `counting` is set, from any thread.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

#include <span>
#include <vector>
#include "../support/counting_new.hpp"

#include "reference.hpp"

using dendrite_test::allocations;
using dendrite_test::counting;

using namespace dendrite;

namespace {

template <class F>
std::size_t allocations_in_steady_state(F&& step, int steps) {
    step();
    step();
    allocations = 0;
    counting = true;
    for (int i = 0; i < steps; ++i)
        step();
    counting = false;
    return allocations.load();
}

}  // namespace

TEST_CASE("a steady-state LeNet-like training step allocates nothing", "[conv][allocation]") {
    using relu_t = decltype(nn::relu);
    nn::conv2d_layer<float, relu_t> c1(1, 6, 5, 1, 0, 1, 1, true, nn::relu);
    nn::max_pool2d_layer<float> p1(2);
    nn::conv2d_layer<float, relu_t> c2(6, 16, 5, 1, 0, 1, 1, true, nn::relu);
    nn::max_pool2d_layer<float> p2(2);
    nn::dense_layer<float, relu_t> d1(256, 120, true, nn::relu);
    nn::dense_layer<float, relu_t> d2(120, 84, true, nn::relu);
    nn::dense_layer<float> d3(84, 10);
    rng g(801);
    c1.init(g);
    c2.init(g);
    d1.init(g);
    d2.init(g);
    d3.init(g);
    std::vector<nn::parameter<float>> params;
    const auto collect = [&](auto& p) { params.push_back(p); };
    c1.for_each_parameter(collect);
    c2.for_each_parameter(collect);
    d1.for_each_parameter(collect);
    d2.for_each_parameter(collect);
    d3.for_each_parameter(collect);
    const std::size_t batch = 16;
    const tensor<float> x = uniform<float>(shape{batch, 1, 28, 28}, 0, 1, g);
    std::vector<int> labels(batch);
    for (auto& l : labels)
        l = static_cast<int>(g.below(10));
    tape t;
    float first_loss = 0, loss_value = 0;
    for (int threads : {1, 2}) {
        const int saved = num_threads();
        set_num_threads(threads);
        auto step = [&] {
            nn::context ctx{t};
            auto h = p1.forward(ctx, c1.forward(ctx, constant(t, x)));
            h = p2.forward(ctx, c2.forward(ctx, h));
            h = reshape(h, shape{batch, 256});
            auto logits = d3.forward(ctx, d2.forward(ctx, d1.forward(ctx, h)));
            auto loss = softmax_cross_entropy(logits, std::span<const int>(labels));
            loss.backward();
            loss_value = loss.item();
            for (auto& p : params)
                p.value.assign(p.value - 0.05f * p.grad);
            t.clear();
            for (auto& p : params)
                p.zero_grad();
        };
        step();
        if (threads == 1) first_loss = loss_value;
        INFO("threads " << threads);
        CHECK(allocations_in_steady_state(step, 3) == 0);
        set_num_threads(saved);
    }
    CHECK(std::isfinite(loss_value));
    CHECK(loss_value < first_loss);
}

TEST_CASE("steady-state steps of declarative CNNs allocate nothing", "[conv][allocation]") {
    // Rows [batch, 784] are viewed as images by the network; batch norm per channel keeps its
    // running statistics in place; AdamW's moments are allocated on its first step only.
    constexpr nn::conv_options same{.padding = 1, .bias = false};
    auto net = nn::sequential(nn::input<1, 12, 12>, nn::conv2d<4, 3, same>, nn::batch_norm,
                              nn::relu, nn::max_pool2d<2>, nn::conv2d<8, 3>, nn::relu,
                              nn::avg_pool2d<2>, nn::flatten, nn::dropout(0.2), nn::dense<10>);
    auto params = net.parameters();
    optim::adamw<float> opt({.lr = 1e-3});
    rng g(5);
    const std::size_t batch = 8;
    const tensor<float> x = uniform<float>(shape{batch, 144}, 0, 1, g);
    std::vector<std::int32_t> labels(batch);
    for (auto& l : labels)
        l = static_cast<std::int32_t>(g.below(10));
    tape t;
    for (int threads : {1, 2}) {
        const int saved = num_threads();
        set_num_threads(threads);
        auto step = [&] {
            t.clear();
            net.zero_grad();
            auto loss = softmax_cross_entropy(net(t, x), labels);
            loss.backward();
            opt.step(params);
        };
        INFO("threads " << threads);
        CHECK(allocations_in_steady_state(step, 3) == 0);
        set_num_threads(saved);
    }
}
