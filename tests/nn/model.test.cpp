// The model API of nn::sequential: parameter names and counts, zero_grad, shared storage,
// seeded initialisation and its schemes, bit-identical training from the same seed, and a small
// learning sanity check (XOR).
#include <boost/hana/at.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "helpers.hpp"

using namespace dendrite;
namespace hana = boost::hana;
using nn_testing::bit_identical;

namespace {

template <class Model>
std::vector<std::string> parameter_names(Model& net) {
    std::vector<std::string> names;
    for (const auto& p : net.parameters())
        names.push_back(p.name);
    return names;
}

/// Copies of every parameter value and buffer, in order.
template <class Model>
std::vector<tensor<double>> snapshot(Model& net) {
    std::vector<tensor<double>> s;
    for (const auto& p : net.parameters())
        s.push_back(p.value.clone());
    net.for_each_buffer([&](const std::string&, tensor<double>& b) { s.push_back(b.clone()); });
    return s;
}

bool all_bit_identical(const std::vector<tensor<double>>& a, const std::vector<tensor<double>>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!bit_identical(a[i], b[i])) return false;
    return true;
}

template <class T>
double max_abs(const tensor<T>& t) {
    double m = 0;
    for (T v : t.span())
        m = std::max(m, std::abs(static_cast<double>(v)));
    return m;
}

// A model using every kind of state: dense weights and biases, batch-norm statistics, dropout's
// generator, branches.
auto make_mixed_model() {
    return nn::sequential_of<double>(
        nn::input<5>, nn::dense<8>, nn::relu, nn::dropout(0.25), nn::batch_norm,
        nn::concat(nn::chain(nn::dense<4>, nn::tanh), nn::dense<3>), nn::layer_norm, nn::dense<3>);
}

/// Trains `net` for `steps` full-batch SGD steps on a fixed problem; returns the losses.
template <class Model>
std::vector<double> train_steps(Model& net, int steps, double lr) {
    rng g(77);
    const tensor<double> x = uniform<double>(shape{16, 5}, -1, 1, g);
    std::vector<int> labels(16);
    for (auto& l : labels)
        l = static_cast<int>(g.below(3));
    auto params = net.parameters();
    std::vector<double> losses;
    tape t;
    for (int step = 0; step < steps; ++step) {
        t.clear();
        net.zero_grad();
        auto loss = softmax_cross_entropy(net(t, x), labels);
        loss.backward();
        losses.push_back(loss.item());
        for (auto& p : params)
            p.value.assign(p.value - lr * p.grad);
    }
    return losses;
}

}  // namespace

TEST_CASE("parameter names follow the layer positions, are unique and stable", "[nn][model]") {
    auto net = make_mixed_model();
    const std::vector<std::string> expected{
        "1.dense.weight",      "1.dense.bias",      "3.batch_norm.weight", "3.batch_norm.bias",
        "4.dense.weight",      "4.dense.bias",      "4.dense.weight.1",    "4.dense.bias.1",
        "5.layer_norm.weight", "5.layer_norm.bias", "6.dense.weight",      "6.dense.bias"};
    CHECK(parameter_names(net) == expected);
    const auto names = parameter_names(net);
    CHECK(std::set<std::string>(names.begin(), names.end()).size() == names.size());

    // Stable: another model of the same type, re-initialisation and training leave them alone.
    auto other = make_mixed_model();
    CHECK(parameter_names(other) == expected);
    net.init(3);
    train_steps(net, 2, 0.1);
    CHECK(parameter_names(net) == expected);
}

TEST_CASE("buffer names are unique across layers, as parameter names are", "[nn][model]") {
    // Running statistics are saved by name next to the parameters; two batch norms must not
    // collide.
    auto net = nn::sequential_of<double>(
        nn::input<4>, nn::batch_norm, nn::dense<3>, nn::batch_norm,
        nn::concat(nn::batch_norm, nn::chain(nn::dense<2>, nn::batch_norm)));
    std::vector<std::string> names;
    net.for_each_buffer([&](const std::string& name, tensor<double>&) { names.push_back(name); });
    INFO("buffer names: " << [&] {
        std::string all;
        for (const auto& n : names)
            all += n + " ";
        return all;
    }());
    CHECK(names.size() == 8);
    CHECK(std::set<std::string>(names.begin(), names.end()).size() == names.size());
}

TEST_CASE("parameter_count is the sum of the parameters' sizes", "[nn][model]") {
    auto net = make_mixed_model();
    std::size_t total = 0;
    for (const auto& p : net.parameters())
        total += p.size();
    CHECK(net.parameter_count() == total);
    // By hand: 5*8+8, 2*8, (8*4+4) + (8*3+3), 2*7, 7*3+3.
    CHECK(net.parameter_count() == 48 + 16 + 36 + 27 + 14 + 24);
    const std::string s = net.summary();
    CHECK(s.find(std::to_string(total) + " parameters") != std::string::npos);
}

TEST_CASE("parameters() shares storage with the layers; zero_grad clears every gradient",
          "[nn][model]") {
    auto net = make_mixed_model();
    auto params = net.parameters();
    auto& first = hana::at_c<0>(net.layers()).layer.weight;
    CHECK(params[0].value.shares_storage_with(first.value));
    CHECK(params[0].grad.shares_storage_with(first.grad));

    train_steps(net, 1, 0.0);  // one backward, no update
    for (const auto& p : params) {
        INFO(p.name);
        CHECK(max_abs(p.grad) > 0);
    }
    net.zero_grad();
    for (const auto& p : params) {
        INFO(p.name);
        CHECK(max_abs(p.grad) == 0);
    }
}

TEST_CASE("train() and eval() switch the mode", "[nn][model]") {
    auto net = make_mixed_model();
    CHECK(net.training());
    net.eval();
    CHECK_FALSE(net.training());
    net.train();
    CHECK(net.training());
    net.train(false);
    CHECK_FALSE(net.training());
}

TEST_CASE("init(seed) is reproducible bit for bit, and different seeds differ",
          "[nn][model][determinism]") {
    auto a = make_mixed_model();
    auto b = make_mixed_model();
    CHECK(all_bit_identical(snapshot(a), snapshot(b)));  // both seeded 0 on construction

    a.init(42);
    b.init(42);
    CHECK(all_bit_identical(snapshot(a), snapshot(b)));
    const auto at_42 = snapshot(a);

    b.init(43);
    CHECK_FALSE(all_bit_identical(snapshot(a), snapshot(b)));
    CHECK_FALSE(bit_identical(snapshot(a)[0], snapshot(b)[0]));

    // After training changed the parameters and the running statistics, init(42) restores them.
    train_steps(a, 3, 0.1);
    CHECK_FALSE(all_bit_identical(snapshot(a), at_42));
    a.init(42);
    CHECK(all_bit_identical(snapshot(a), at_42));
}

TEST_CASE("two copies trained from the same seed stay bit-identical for 20 SGD steps",
          "[nn][model][determinism]") {
    auto a = make_mixed_model();
    auto b = make_mixed_model();
    a.init(7);
    b.init(7);
    const auto losses_a = train_steps(a, 20, 0.05);
    const auto losses_b = train_steps(b, 20, 0.05);
    CHECK(losses_a == losses_b);
    CHECK(all_bit_identical(snapshot(a), snapshot(b)));
    // The run did move: the loss fell and the parameters left their initial values.
    CHECK(losses_a.back() < losses_a.front());
    auto c = make_mixed_model();
    c.init(7);
    CHECK_FALSE(all_bit_identical(snapshot(a), snapshot(c)));
}

TEST_CASE("dense layers start from the scheme suited to their activation, biases at 0",
          "[nn][init]") {
    // With 784 * 256 uniform draws the largest magnitude is within 0.1% of the bound.
    const auto check_uniform_bound = [](const auto& weight, double bound) {
        const double m = max_abs(weight);
        INFO("largest |w| " << m << ", bound " << bound);
        CHECK(m <= bound * (1 + 1e-6));  // float rounding of a draw near the bound
        CHECK(m >= 0.99 * bound);
    };
    SECTION("no activation: Glorot uniform, sqrt(6 / (in + out))") {
        auto net = nn::sequential(nn::input<784>, nn::dense<256>);
        check_uniform_bound(hana::at_c<0>(net.layers()).layer.weight.value,
                            std::sqrt(6.0 / (784 + 256)));
    }
    SECTION("sigmoid: Glorot uniform") {
        auto net = nn::sequential(nn::input<784>, nn::dense<256>, nn::sigmoid);
        check_uniform_bound(hana::at_c<0>(net.layers()).layer.weight.value,
                            std::sqrt(6.0 / (784 + 256)));
    }
    SECTION("relu: He uniform, sqrt(6 / in)") {
        auto net = nn::sequential(nn::input<784>, nn::dense<256>, nn::relu);
        check_uniform_bound(hana::at_c<0>(net.layers()).layer.weight.value, std::sqrt(6.0 / 784));
    }
    SECTION("leaky_relu: He uniform") {
        auto net = nn::sequential(nn::input<784>, nn::dense<256>, nn::leaky_relu_with(0.2));
        check_uniform_bound(hana::at_c<0>(net.layers()).layer.weight.value, std::sqrt(6.0 / 784));
    }
    SECTION("selu: LeCun normal, standard deviation sqrt(1 / in)") {
        auto net = nn::sequential_of<double>(nn::input<784>, nn::dense<256>, nn::selu);
        const auto& w = hana::at_c<0>(net.layers()).layer.weight.value;
        double ss = 0;
        for (double v : w.span())
            ss += v * v;
        const double sd = std::sqrt(ss / static_cast<double>(w.size()));
        // 2e5 draws: the sample deviation is within 1% of sqrt(1/784) = 0.0357 with overwhelming
        // odds.
        CHECK(std::abs(sd - std::sqrt(1.0 / 784)) <= 0.01 * std::sqrt(1.0 / 784));
        // Normal, not uniform: the tails reach beyond the LeCun-uniform bound sqrt(3 / in).
        CHECK(max_abs(w) > std::sqrt(3.0 / 784));
    }
    auto net = nn::sequential(nn::input<20>, nn::dense<30>, nn::relu, nn::dense<10>);
    for (const auto& p : net.parameters())
        if (p.value.rank() == 1) CHECK(max_abs(p.value) == 0);
}

TEST_CASE("a 2-8-1 tanh network learns XOR to 100% accuracy", "[nn][learning]") {
    auto net = nn::sequential_of<double>(nn::input<2>, nn::dense<8>, nn::tanh, nn::dense<1>);
    net.init(1);
    const tensor<double> x(shape{4, 2}, {0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0});
    const tensor<double> y(shape{4, 1}, {0.0, 1.0, 1.0, 0.0});
    auto params = net.parameters();
    tape t;
    double loss = 0;
    for (int step = 0; step < 500; ++step) {
        t.clear();
        net.zero_grad();
        auto l = binary_cross_entropy_with_logits(net(t, x), y);
        l.backward();
        loss = l.item();
        for (auto& p : params)
            p.value.assign(p.value - 0.5 * p.grad);
    }
    INFO("final loss " << loss);
    CHECK(loss < 0.05);
    t.clear();
    const tensor<double> logits = net(t, x).value();
    for (std::size_t i = 0; i < 4; ++i) {
        INFO("input (" << x(i, 0) << ", " << x(i, 1) << "): logit " << logits(i, 0));
        CHECK((logits(i, 0) > 0) == (y(i, 0) == 1.0));
    }
}
