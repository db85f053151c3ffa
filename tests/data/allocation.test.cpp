// A steady-state epoch of batches allocates nothing: the loader gathers shuffled rows into a
// buffer it reuses, and batches are views.
//
// Every global operator new of this executable is replaced by a counting one; it counts only
// while `counting` is set.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

#include "dendrite/data/loader.hpp"
#include "dendrite/data/synthetic.hpp"

namespace {
std::atomic<bool> counting{false};
std::atomic<std::size_t> allocations{0};

void* counted(std::size_t n, std::size_t align) {
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

using namespace dendrite;

TEST_CASE("a steady-state epoch of batches allocates nothing", "[data][loader][allocation]") {
    const data::dataset ds = data::synthetic_digits(1000, 4);
    for (const bool shuffle : {true, false}) {
        data::batch_loader loader(ds, {.batch_size = 64, .shuffle = shuffle, .seed = 1});
        double checksum = 0;
        auto epoch = [&] {
            for (const data::batch& b : loader.next_epoch())
                checksum += b.x(0, 0) + b.y[0];
        };
        epoch();
        allocations = 0;
        counting = true;
        epoch();
        epoch();
        counting = false;
        CHECK(allocations.load() == 0);
        CHECK(checksum > 0);
    }
    {
        tensor<float> probe;
        allocations = 0;
        counting = true;
        probe = tensor<float>(shape{10});
        counting = false;
        CHECK(allocations.load() == 1);  // the counter does see allocations
    }
}
