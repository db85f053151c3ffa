#pragma once
// Counting heap allocations in tests. Linking tests/support/counting_new.cpp into a test
// executable replaces every global operator new (plain, array, aligned, nothrow) with one that
// increments `allocations` while `counting` is set, from any thread.

#include <atomic>
#include <cstddef>

namespace dendrite_test {

extern std::atomic<bool> counting;
extern std::atomic<std::size_t> allocations;

/// Heap allocations made while running f().
template <class F>
std::size_t allocations_during(F&& f) {
    allocations.store(0);
    counting.store(true);
    f();
    counting.store(false);
    return allocations.load();
}

}  // namespace dendrite_test
