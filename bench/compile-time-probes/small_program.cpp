// A small program: one 3-layer sequential network with a custom activation, trained with fit and
// evaluated (what a researcher rebuilds after editing an activation).
#include <dendrite/dendrite.hpp>

#include <cstdio>

using namespace dendrite;

int main() {
    auto act = [](auto x) { return x * tanh(softplus(x)); };
    auto net =
        nn::sequential(nn::input<784>, nn::dense<128>, act, nn::dense<64>, nn::relu, nn::dense<10>);
    optim::adamw<float> opt({.lr = 1e-3});
    const data::train_test_data d = data::mnist_or_synthetic("", 1);
    train::fit(net, opt, d.train, {.epochs = 1});
    std::printf("%f\n", train::evaluate(net, d.test).accuracy);
}
