// The classic: a 2-4-1 network learns XOR, which no linear model can.
#include <dendrite/dendrite.hpp>

#include <cstdio>
#include <exception>

using namespace dendrite;

int main() try {
    const tensor<float> x(shape{4, 2}, {0, 0, 0, 1, 1, 0, 1, 1});
    const tensor<float> y(shape{4, 1}, {0, 1, 1, 0});
    auto net = nn::sequential(nn::input<2>, nn::dense<4>, nn::tanh, nn::dense<1>);
    net.init(3);
    optim::sgd<float> opt({.lr = 0.5, .momentum = 0.9});
    auto params = net.parameters();
    tape t;
    for (int step = 0; step <= 500; ++step) {
        t.clear();
        net.zero_grad();
        auto loss = binary_cross_entropy_with_logits(net(t, x), y);
        loss.backward();
        opt.step(params);
        if (step % 100 == 0) std::printf("step %3d  loss %.5f\n", step, loss.item());
    }
    t.clear();
    const tensor<float> p = sigmoid(net(t, x).value());
    int correct = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        std::printf("%g xor %g -> %.3f\n", x(i, 0), x(i, 1), p(i, 0));
        correct += (p(i, 0) > 0.5f) == (y(i, 0) > 0.5f);
    }
    std::printf("accuracy: %d/4\n", correct);
    return correct == 4 ? 0 : 1;
} catch (const std::exception& e) {
    std::fprintf(stderr, "xor: %s\n", e.what());
    return 1;
}
