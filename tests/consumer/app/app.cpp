// A consumer of the installed or subproject library: trains a 2-8-1 network on XOR for a few
// hundred steps and prints its loss before and after, and the target it was compiled for, for
// the test that built it to check.
#include <dendrite/dendrite.hpp>

#include <cstdio>
#include <exception>

#define DENDRITE_CONSUMER_STR_(x) #x
#define DENDRITE_CONSUMER_STR(x) DENDRITE_CONSUMER_STR_(x)

using namespace dendrite;

int main() try {
    const tensor<float> x(shape{4, 2}, {0, 0, 0, 1, 1, 0, 1, 1});
    const tensor<float> y(shape{4, 1}, {0, 1, 1, 0});
    auto net = nn::sequential(nn::input<2>, nn::dense<8>, nn::tanh, nn::dense<1>);
    net.init(3);
    optim::sgd<float> opt({.lr = 0.5, .momentum = 0.9});
    auto params = net.parameters();
    tape t;
    float first = 0, last = 0;
    for (int step = 0; step < 300; ++step) {
        t.clear();
        net.zero_grad();
        auto loss = binary_cross_entropy_with_logits(net(t, x), y);
        loss.backward();
        opt.step(params);
        (step == 0 ? first : last) = loss.item();
    }
    std::printf("target %s, threads %d, loss %.4f -> %.4f\n",
                DENDRITE_CONSUMER_STR(DENDRITE_TARGET), num_threads(), first, last);
    if (!(last < 0.1f * first)) {
        std::fprintf(stderr, "app: the loss did not fall to a tenth\n");
        return 1;
    }
    std::printf("trained\n");
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "app: %s\n", e.what());
    return 1;
}
