// A new activation in one line: its values, its derivative (derived by the compiler, never
// written), a gradient check, its fused forward + backward on a million floats, and a network
// trained with it beside the same network with ReLU.
#include <dendrite/dendrite.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>

using namespace dendrite;

int main() try {
    // "Smooth ReLU" x * sigmoid(2x) + 0.1 * tanh(x): a generic lambda over expressions.
    auto act = [](auto x) { return x * sigmoid(2.0 * x) + 0.1 * tanh(x); };

    // On plain numbers: the value, and the derivative derived from the same lambda.
    std::printf("     x      act(x)    act'(x)\n");
    for (double x = -3; x <= 3.001; x += 0.75) {
        const auto [value, slope] = value_and_derivative(act, x);
        std::printf("%6.2f  %10.6f %10.6f\n", x, value, slope);
    }

    // On variables: one fused tape node, checked against finite differences.
    rng gen(7);
    const tensor<double> probe = uniform<double>({3, 7}, -3, 3, gen);
    const gradcheck_report report = gradcheck(act, probe);
    std::printf("\ngradcheck: %s (max relative error %.2e)\n",
                report.passed(1e-7) ? "passed" : "FAILED", report.inputs[0].max_rel_error);

    // Fused forward + backward on 1M floats: record, backward with a seed, clear; best of 20.
    const std::size_t n = std::size_t{1} << 20;
    const tensor<float> xs = uniform<float>({n}, -4.0f, 4.0f, gen);
    const tensor<float> seed = uniform<float>({n}, -1.0f, 1.0f, gen);
    tape t;
    double best = 1e9;
    for (int rep = 0; rep < 20; ++rep) {
        const auto start = std::chrono::steady_clock::now();
        t.clear();
        auto x = variable(t, xs);
        var<float> y = act(x);
        y.backward(seed);
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
        best = took.count() < best ? took.count() : best;
    }
    std::printf("forward + backward of 1M floats: %.3f ms (%.1f GB/s of x, dy in and y, dx out)\n",
                best * 1e3, 16.0 * static_cast<double>(n) / best * 1e-9);

    // Training with it: the same MLP with ReLU and with the new activation, curves side by side
    // (also written as CSV and SVG charts to custom_activation_out/).
    const data::train_test_data d = data::mnist_or_synthetic("", 1);
    const auto split = data::train_validation_split(d.train, 1.0 / 12, 1);
    const data::dataset& train_part = split.first;
    const data::dataset& validation = split.second;
    std::filesystem::create_directories("custom_activation_out");
    auto train_with = [&](auto activation, const std::string& name) {
        auto net = nn::sequential(nn::input<784>, nn::dense<128>, activation, nn::dense<10>);
        net.init(1);
        optim::adam<float> opt({.lr = 1e-3});
        train::fit_options o;
        o.epochs = 2;
        o.validation = &validation;
        o.log = nullptr;
        o.history_csv = "custom_activation_out/" + name + ".csv";
        o.chart_svg = "custom_activation_out/" + name + ".svg";
        return train::fit(net, opt, train_part, o).history;
    };
    const auto relu_curve = train_with(nn::relu, "relu");
    const auto act_curve = train_with(act, "smooth_relu");
    std::printf("\n%s\nepoch   val_acc relu   val_acc smooth_relu\n", d.description.c_str());
    for (std::size_t e = 0; e < relu_curve.size(); ++e)
        std::printf("%5zu   %12.4f   %19.4f\n", e + 1, relu_curve[e].val_acc, act_curve[e].val_acc);
    return report.passed(1e-7) ? 0 : 1;
} catch (const std::exception& e) {
    std::fprintf(stderr, "custom_activation: %s\n", e.what());
    return 1;
}
