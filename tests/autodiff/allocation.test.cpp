// A steady-state training step allocates nothing: recording the same graph again after
// tape.clear() reuses the node arena and the pooled value and gradient buffers.
//
// Every global operator new of this executable is replaced by a counting one; it counts only
// while `counting` is set, from any thread (OpenMP workers included).
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

#include <vector>
#include "../support/counting_new.hpp"

#include "helpers.hpp"

using dendrite_test::allocations;
using dendrite_test::counting;

using namespace dendrite;

namespace {

/// Heap allocations made by `step()`, after two warm-up calls.
template <class F>
std::size_t allocations_in_steady_state(F&& step) {
    step();
    step();
    allocations = 0;
    counting = true;
    step();
    counting = false;
    return allocations.load();
}

}  // namespace

TEST_CASE("the counting operator new sees allocations", "[autodiff][allocation]") {
    const std::size_t n = allocations_in_steady_state([] { tensor<float> t(shape{100}); });
    CHECK(n == 1);
}

TEST_CASE("recording and differentiating an MLP step again allocates nothing",
          "[autodiff][allocation]") {
    rng g(701);
    const std::size_t batch = 32, in = 20, hidden = 16, classes = 10;
    const tensor<float> x = uniform<float>({batch, in}, -1, 1, g);
    std::vector<std::int32_t> labels(batch);
    for (auto& l : labels)
        l = static_cast<std::int32_t>(g.below(classes));
    tensor<float> w1 = uniform<float>({in, hidden}, -0.3f, 0.3f, g), w1_grad(shape{in, hidden});
    tensor<float> b1(shape{hidden}), b1_grad(shape{hidden});
    tensor<float> w2 = uniform<float>({hidden, classes}, -0.3f, 0.3f, g),
                  w2_grad(shape{hidden, classes});
    tensor<float> b2(shape{classes}), b2_grad(shape{classes});
    tape t;
    float loss_value = 0;
    auto step = [&] {
        t.clear();
        w1_grad.fill(0);
        b1_grad.fill(0);
        w2_grad.fill(0);
        b2_grad.fill(0);
        auto input = constant(t, x);
        auto h = relu(matmul(input, parameter(t, w1, w1_grad)) + parameter(t, b1, b1_grad));
        auto w2v = parameter(t, w2, w2_grad);
        auto logits = matmul(h, w2v) + parameter(t, b2, b2_grad);
        var<float> loss = softmax_cross_entropy(logits, labels) + 1e-4f * sum(w2v * w2v);
        loss.backward();
        loss_value = loss.item();
    };
    const std::size_t n = allocations_in_steady_state(step);
    CHECK(n == 0);
    CHECK(std::isfinite(loss_value));
    CHECK(sum(abs(w1_grad)) > 0);
}

TEST_CASE("the other ops record and differentiate again without allocating",
          "[autodiff][allocation]") {
    rng g(702);
    const tensor<double> xv = uniform<double>({6, 9}, -1, 1, g);
    const tensor<double> probs = uniform<double>({6, 9}, 0, 1, g);
    const std::vector<int> labels{0, 1, 2, 3, 4, 5};
    tape t;
    auto step = [&] {
        t.clear();
        auto x = variable(t, xv);
        auto joined = concat({slice(x, 1, 0, 4), slice(x, 1, 4, 9)}, 1);
        auto r = reshape(joined, shape{3, 18});
        auto y = sum(softmax(x, 0) * log_softmax(x, 1)) + mean(amax(x, 1)) + sum(amin(r, 0, true)) +
                 mean(x, 0, false) * 0.5 + sum(flatten(r), 0) +
                 nll_loss(log_softmax(x, 1), labels) + binary_cross_entropy_with_logits(x, probs) +
                 mse_loss(x, probs) + softmax_cross_entropy(x, probs) +
                 softmax_cross_entropy(x, labels, 0.1) + amax(x);
        sum(y).backward(/*retain_graph=*/true);
        var<double> z = x * 2.0;
        z.backward(xv);  // a seed tensor is used in place, not copied
    };
    CHECK_NOTHROW(step());
    CHECK(allocations_in_steady_state(step) == 0);
}
