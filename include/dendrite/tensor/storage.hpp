#pragma once
// Reference-counted aligned buffers shared by a tensor and its views.

#include <atomic>
#include <cstddef>
#include <new>
#include <utility>

#include "dendrite/config.hpp"
#include "dendrite/simd/aligned.hpp"

namespace dendrite::inline DENDRITE_TARGET::detail {

/// One allocation holding a reference count and `bytes` of 64-byte aligned data. Intrusive rather
/// than a std::shared_ptr so that a tensor costs one allocation, not two.
class storage {
  public:
    storage() noexcept = default;
    explicit storage(std::size_t bytes) {
        void* p = simd::aligned_malloc(header_bytes + bytes);
        block_ = ::new (p) header{1, bytes};
    }
    storage(const storage& o) noexcept : block_(o.block_) { retain(); }
    storage(storage&& o) noexcept : block_(std::exchange(o.block_, nullptr)) {}
    storage& operator=(const storage& o) noexcept {
        if (block_ != o.block_) {
            release();
            block_ = o.block_;
            retain();
        }
        return *this;
    }
    storage& operator=(storage&& o) noexcept {
        if (this != &o) {
            release();
            block_ = std::exchange(o.block_, nullptr);
        }
        return *this;
    }
    ~storage() { release(); }

    void* data() const noexcept {
        return block_ ? static_cast<void*>(reinterpret_cast<std::byte*>(block_) + header_bytes)
                      : nullptr;
    }
    std::size_t bytes() const noexcept { return block_ ? block_->bytes : 0; }
    bool unique() const noexcept {
        return block_ && block_->refs.load(std::memory_order_acquire) == 1;
    }
    explicit operator bool() const noexcept { return block_ != nullptr; }

  private:
    struct header {
        std::atomic<std::size_t> refs;
        std::size_t bytes;
    };
    static constexpr std::size_t header_bytes = simd::alignment;
    static_assert(sizeof(header) <= header_bytes);

    void retain() noexcept {
        if (block_) block_->refs.fetch_add(1, std::memory_order_relaxed);
    }
    void release() noexcept {
        if (block_ && block_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            block_->~header();
            simd::aligned_free(block_);
        }
        block_ = nullptr;
    }

    header* block_ = nullptr;
};

}  // namespace dendrite::inline DENDRITE_TARGET::detail
