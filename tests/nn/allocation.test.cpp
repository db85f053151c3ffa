// A steady-state training step of an nn::sequential MLP makes no heap allocation: forward,
// loss, backward, SGD update, tape.clear() and zero_grad() all reuse the tape's arena and pooled
// buffers and the model's own tensors.
//
// Every global operator new of this executable (all forms: plain, array, aligned, nothrow) is
// replaced by a counting one; it counts only while `counting` is set, from any thread.
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

#include <span>
#include <vector>
#include "../support/counting_new.hpp"

#include "helpers.hpp"

using dendrite_test::allocations;
using dendrite_test::counting;

using namespace dendrite;

namespace {

/// Heap allocations made by `steps` calls of `step()` after two warm-up calls.
template <class F>
std::size_t allocations_in_steady_state(F&& step, int steps) {
    step();
    step();
    allocations = 0;
    counting = true;
    for (int i = 0; i < steps; ++i)
        step();
    counting = false;
    return allocations.load();
}

}  // namespace

TEST_CASE("the counting operator new sees every form of allocation", "[nn][allocation]") {
    const std::size_t n = allocations_in_steady_state(
        [] {
            // Calls, not new-expressions: the compiler may elide a new-expression whose result
            // is unused.
            ::operator delete(::operator new(sizeof(int)));
            ::operator delete[](::operator new[](3 * sizeof(double)));
            ::operator delete (::operator new (64, std::align_val_t{64}), std::align_val_t{64});
            ::operator delete(::operator new(8, std::nothrow));
            tensor<float> t({100});
        },
        3);
    CHECK(n == 3 * 5);
}

TEST_CASE("a steady-state training step of a 784-256-128-10 MLP allocates nothing",
          "[nn][allocation]") {
    auto net = nn::sequential(nn::input<784>, nn::dense<256>, nn::relu, nn::dense<128>, nn::relu,
                              nn::dense<10>);
    rng g(801);
    const std::size_t batch = 32;
    const tensor<float> x = uniform<float>(shape{batch, 784}, 0, 1, g);
    std::vector<int> labels(batch);
    for (auto& l : labels)
        l = static_cast<int>(g.below(10));
    auto params = net.parameters();
    const float lr = 0.01f;
    tape t;
    float first_loss = 0, loss_value = 0;
    auto step = [&] {
        auto logits = net(t, x);
        auto loss = softmax_cross_entropy(logits, std::span<const int>(labels));
        loss.backward();
        loss_value = loss.item();
        for (auto& p : params)
            p.value.assign(p.value - lr * p.grad);
        t.clear();
        net.zero_grad();
    };
    step();
    first_loss = loss_value;
    const std::size_t n = allocations_in_steady_state(step, 3);
    CHECK(n == 0);
    // The steps did train: finite, decreasing loss.
    CHECK(std::isfinite(loss_value));
    CHECK(loss_value < first_loss);
}
