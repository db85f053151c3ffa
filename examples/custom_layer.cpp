// A custom layer with no gradient code: a gated linear unit, (x W + b) * sigmoid(x V + c), and a
// learnable-slope activation (PReLU). Their parameters are found by reflection, initialised,
// trained, and composed with built-in layers like any other.
#include <dendrite/dendrite.hpp>

#include <cstdio>
#include <exception>
#include <iostream>

using namespace dendrite;

template <std::size_t In, std::size_t Out>
struct gated_linear_unit {
    static constexpr std::size_t in_features = In, out_features = Out;
    nn::parameter<float> w{shape{In, Out}, "w"}, v{shape{In, Out}, "v"};
    nn::parameter<float> b{shape{Out}, "b", false}, c{shape{Out}, "c", false};

    var<float> forward(const nn::context& ctx, const var<float>& x) {
        auto [W, V, B, C] = nn::bind(ctx, w, v, b, c);
        return var<float>((matmul(x, W) + B) * sigmoid(matmul(x, V) + C));
    }
};

template <std::size_t N>
struct learnable_slope {
    static constexpr std::size_t in_features = N, out_features = N;
    nn::parameter<float> slope{shape{N}, "slope", false, 0.25f};  // PReLU's usual start

    var<float> forward(const nn::context& ctx, const var<float>& x) {
        auto [a] = nn::bind(ctx, slope);
        return var<float>(where(x > 0, x, a * x));
    }
};

int main() try {
    auto net = nn::sequential(nn::input<2>, gated_linear_unit<2, 32>{}, learnable_slope<32>{},
                              nn::dense<1>);
    std::cout << net.summary();
    for (const auto& p : net.parameters())
        std::cout << "  " << p.name << " " << p.value.shape() << "\n";

    // Learn a ring: y = 1 inside radius 0.7, else 0 (not linearly separable).
    rng gen(1);
    const tensor<float> x = uniform<float>({512, 2}, -1, 1, gen);
    tensor<float> y({512, 1});
    for (std::size_t i = 0; i < 512; ++i)
        y(i, 0) = x(i, 0) * x(i, 0) + x(i, 1) * x(i, 1) < 0.49f ? 1.0f : 0.0f;

    tape t;
    for (int step = 0; step <= 600; ++step) {
        t.clear();
        net.zero_grad();
        auto loss = binary_cross_entropy_with_logits(net(t, x), y);
        loss.backward();
        for (auto& p : net.parameters())
            p.value.assign(p.value - 0.5f * p.grad);
        if (step % 100 == 0) std::printf("step %3d  loss %.4f\n", step, loss.item());
    }
    net.eval();
    t.clear();
    const tensor<float> slope = net.parameters()[4].value;
    const tensor<float> logits = net(t, x).value();
    const float accuracy = mean((logits > 0) == (y > 0.5f));  // comparisons give 1 or 0
    std::printf("training accuracy %.3f, learned slope[0..3] = %.3f %.3f %.3f\n", accuracy,
                slope(0), slope(1), slope(2));
    return accuracy > 0.9f ? 0 : 1;
} catch (const std::exception& e) {
    std::fprintf(stderr, "custom_layer: %s\n", e.what());
    return 1;
}
