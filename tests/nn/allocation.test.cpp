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

#include "helpers.hpp"

namespace {
std::atomic<bool> counting{false};
std::atomic<std::size_t> allocations{0};

void* counted(std::size_t n, std::size_t align) noexcept {
    if (counting.load(std::memory_order_relaxed))
        allocations.fetch_add(1, std::memory_order_relaxed);
    if (n == 0) n = 1;
    if (align <= alignof(std::max_align_t)) return std::malloc(n);
    return std::aligned_alloc(align, (n + align - 1) / align * align);
}
void* counted_or_throw(std::size_t n, std::size_t align) {
    void* p = counted(n, align);
    if (!p) throw std::bad_alloc();
    return p;
}
}  // namespace

void* operator new(std::size_t n) {
    return counted_or_throw(n, 0);
}
void* operator new[](std::size_t n) {
    return counted_or_throw(n, 0);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    return counted(n, 0);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    return counted(n, 0);
}
void* operator new(std::size_t n, std::align_val_t a) {
    return counted_or_throw(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
    return counted_or_throw(n, static_cast<std::size_t>(a));
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return counted(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return counted(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
    std::free(p);
}

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
            delete new int(1);
            delete[] new double[3];
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
