#pragma once
// Cache-line aligned allocation for tensor buffers and scratch space.

#include <cstddef>
#include <cstdlib>
#include <limits>
#include <new>

#include "dendrite/config.hpp"
#include "dendrite/simd/simd.hpp"

namespace dendrite::inline DENDRITE_TARGET::simd {

/// Allocates `bytes` (rounded up to the alignment) aligned to `alignment`; throws std::bad_alloc.
inline void* aligned_malloc(std::size_t bytes) {
    const std::size_t rounded = (bytes + alignment - 1) / alignment * alignment;
    void* p = ::operator new (rounded == 0 ? alignment : rounded, std::align_val_t{alignment});
    return p;
}

inline void aligned_free(void* p) noexcept {
    ::operator delete (p, std::align_val_t{alignment});
}

/// std::allocator replacement whose storage is aligned for full-width SIMD loads.
template <class T>
struct aligned_allocator {
    using value_type = T;
    aligned_allocator() = default;
    template <class U>
    constexpr aligned_allocator(const aligned_allocator<U>&) noexcept {}

    T* allocate(std::size_t n) {
        if (n > std::numeric_limits<std::size_t>::max() / sizeof(T))
            throw std::bad_array_new_length();
        return static_cast<T*>(aligned_malloc(n * sizeof(T)));
    }
    void deallocate(T* p, std::size_t) noexcept { aligned_free(p); }

    template <class U>
    bool operator==(const aligned_allocator<U>&) const noexcept {
        return true;
    }
};

}  // namespace dendrite::inline DENDRITE_TARGET::simd
