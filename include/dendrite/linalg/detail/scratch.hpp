#pragma once
// Per-thread packing buffers that grow and are then reused, so steady-state products do not
// allocate. The pool's worker threads persist between regions, and so do their buffers.

#include <cstddef>

#include "dendrite/config.hpp"
#include "dendrite/simd/aligned.hpp"

namespace dendrite::inline DENDRITE_TARGET::linalg::detail {

class scratch_buffer {
  public:
    scratch_buffer() = default;
    scratch_buffer(const scratch_buffer&) = delete;
    scratch_buffer& operator=(const scratch_buffer&) = delete;
    ~scratch_buffer() { simd::aligned_free(data_); }

    /// At least `bytes` of 64-byte aligned storage; the contents are not kept across growth.
    void* get(std::size_t bytes) {
        if (bytes > size_) {
            simd::aligned_free(data_);
            data_ = nullptr;
            data_ = simd::aligned_malloc(bytes);
            size_ = bytes;
        }
        return data_;
    }

  private:
    void* data_ = nullptr;
    std::size_t size_ = 0;
};

/// The calling thread's buffer number `slot` (0: packed A, 1: packed B), as `count` T's.
template <class T>
T* scratch(int slot, std::size_t count) {
    thread_local scratch_buffer buffers[2];
    return static_cast<T*>(buffers[slot].get(count * sizeof(T)));
}

}  // namespace dendrite::inline DENDRITE_TARGET::linalg::detail
