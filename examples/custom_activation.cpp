// A new activation in one line: its values, its derivative (derived by the compiler, never
// written), a gradient check, and its fused forward + backward on a million floats.
#include <dendrite/dendrite.hpp>

#include <chrono>
#include <cstdio>

using namespace dendrite;

int main() {
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
    return report.passed(1e-7) ? 0 : 1;
}
