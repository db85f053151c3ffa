// A tour of dendrite: fused tensor expressions, a one-line activation differentiated by the
// compiler, and a small model fitted by gradient descent.
#include <dendrite/dendrite.hpp>

#include <cstdio>
#include <exception>
#include <iostream>

using namespace dendrite;

int main() try {
    // 1. Element-wise expressions are fused: this is ONE vectorised pass, no temporaries.
    rng gen(42);
    tensor<float> a = uniform<float>({4, 5}, -1, 1, gen);
    tensor<float> bias{0.1f, 0.2f, 0.3f, 0.4f, 0.5f};
    tensor<float> y = relu(a * 2 + bias);  // bias broadcasts over the rows
    std::cout << "relu(2a + bias) = " << y << "\n";
    std::cout << "row sums = " << sum(y, 1) << ", logsumexp = " << logsumexp(a) << "\n\n";

    // 2. A new activation in one line works on floats, tensors and autodiff variables alike.
    auto mish = [](auto x) { return x * tanh(softplus(x)); };
    std::printf("mish(1.0) = %.6f\n", mish(1.0));
    tape t;
    auto x = variable(t, tensor<double>{-2.0, -0.5, 0.0, 0.5, 2.0});
    sum(mish(x)).backward();  // one fused node forward, one fused pass backward
    std::cout << "d mish/dx at " << x.value() << " = " << x.grad() << "\n";
    std::cout << "gradcheck: " << gradcheck(mish, x.value()).str() << "\n";

    // 3. Fit y = 3 x0 - 2 x1 + 1 with a linear model, gradients from the tape.
    tensor<double> inputs = uniform<double>({256, 2}, -1, 1, gen);
    tensor<double> targets = inputs.slice(1, 0, 1) * 3.0 - inputs.slice(1, 1, 2) * 2.0 + 1.0;
    tensor<double> w({2, 1}), w_grad({2, 1}), b({1}), b_grad({1});
    for (int step = 0; step <= 200; ++step) {
        t.clear();
        w_grad.fill(0);
        b_grad.fill(0);
        auto pred = matmul(constant(t, inputs), parameter(t, w, w_grad)) + parameter(t, b, b_grad);
        auto loss = mean(square(pred - constant(t, targets)));
        loss.backward();
        w.assign(w - 0.5 * w_grad);
        b.assign(b - 0.5 * b_grad);
        if (step % 50 == 0) std::printf("step %3d  loss %.6f\n", step, loss.item());
    }
    std::printf("fitted: y = %.4f x0 + %.4f x1 + %.4f (exact: 3, -2, 1)\n", w(0, 0), w(1, 0), b(0));
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "tour: %s\n", e.what());
    return 1;
}
