// L1 and Huber losses, and softmax / log_softmax as layers of static and run-time networks.
#include <catch2/catch.hpp>
#include <cmath>
#include <dendrite/dendrite.hpp>

using namespace dendrite;

TEST_CASE("l1_loss and huber_loss: values and derived gradients", "[nn][losses][gradcheck]") {
    const tensor<double> pred(shape{2, 3}, {0.3, -1.7, 2.4, 0.9, -0.2, 4.0});
    const tensor<double> target(shape{2, 3}, {0.1, 0.5, -0.4, 0.2, 0.3, 1.1});
    double l1 = 0, huber = 0;
    for (std::size_t i = 0; i < 6; ++i) {
        const double d = pred.data()[i] - target.data()[i];
        l1 += std::abs(d);
        huber += std::abs(d) <= 1.0 ? 0.5 * d * d : std::abs(d) - 0.5;
    }
    tape t;
    const auto p = variable(t, pred);
    CHECK(l1_loss(p, target).item() == Approx(l1 / 6).epsilon(1e-14));
    CHECK(huber_loss(p, target).item() == Approx(huber / 6).epsilon(1e-14));
    CHECK(huber_loss(p, target, 0.5).item() != Approx(huber / 6));
    // Differences are kept away from 0 (L1's kink) and from +-delta (Huber's switch).
    CHECK(gradcheck([&](auto x) { return l1_loss(x, target); }, pred).passed(1e-7));
    CHECK(gradcheck([&](auto x) { return huber_loss(x, target); }, pred).passed(1e-7));
    CHECK(gradcheck([&](auto x) { return huber_loss(x, target, 2.5); }, pred).passed(1e-7));
}

TEST_CASE("softmax and log_softmax layers end a network", "[nn][softmax]") {
    auto net =
        nn::sequential_of<double>(nn::input<5>, nn::dense<4>, nn::tanh, nn::dense<3>, nn::softmax);
    auto log_net = nn::sequential_of<double>(nn::input<5>, nn::dense<4>, nn::tanh, nn::dense<3>,
                                             nn::log_softmax);
    STATIC_REQUIRE(decltype(net)::out_features == 3);
    rng g(2);
    const auto x = uniform<double>({6, 5}, -1, 1, g);
    tape t;
    const tensor<double> p = net(t, x).value();
    const tensor<double> lp = log_net(t, x).value();
    for (std::size_t i = 0; i < 6; ++i) {
        double row = 0;
        for (std::size_t c = 0; c < 3; ++c) {
            row += p(i, c);
            CHECK(std::exp(lp(i, c)) == Approx(p(i, c)).epsilon(1e-12));  // same weights: same seed
        }
        CHECK(row == Approx(1.0).epsilon(1e-14));
    }
    CHECK(gradcheck([&](auto v) { return log_net(v.tape(), v); }, x).passed(1e-7));
    CHECK(net.summary().find("softmax") != std::string::npos);

    nn::network<double> runtime(5, "dense:4,tanh,dense:3,log_softmax");
    t.clear();
    CHECK(runtime.out_features() == 3);
    const tensor<double> q = runtime(t, x).value();
    CHECK(std::exp(q(0, 0)) + std::exp(q(0, 1)) + std::exp(q(0, 2)) == Approx(1.0).epsilon(1e-14));
}
