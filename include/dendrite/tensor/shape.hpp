#pragma once
// Shapes of rank 0 to 4 and NumPy broadcasting between them.

#include <array>
#include <cstddef>
#include <initializer_list>
#include <ostream>
#include <stdexcept>
#include <string>

#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET {

/// Highest rank a tensor may have: enough for NCHW images, and it keeps index arithmetic static.
inline constexpr std::size_t max_rank = 4;

/// Thrown on any shape mismatch; the message names the operation and the shapes involved.
class shape_error : public std::invalid_argument {
  public:
    using std::invalid_argument::invalid_argument;
};

/// An ordered list of up to `max_rank` extents. Rank 0 is a scalar (one element).
class shape {
  public:
    constexpr shape() noexcept = default;
    shape(std::initializer_list<std::size_t> dims) {
        if (dims.size() > max_rank)
            throw shape_error("shape: rank " + std::to_string(dims.size()) +
                              " exceeds the maximum of 4");
        for (std::size_t d : dims)
            dims_[rank_++] = d;
    }
    template <class It>
    shape(It first, It last) {
        for (; first != last; ++first) {
            if (rank_ == max_rank) throw shape_error("shape: rank exceeds the maximum of 4");
            dims_[rank_++] = static_cast<std::size_t>(*first);
        }
    }

    constexpr std::size_t rank() const noexcept { return rank_; }
    constexpr std::size_t operator[](std::size_t axis) const noexcept { return dims_[axis]; }
    constexpr std::size_t& operator[](std::size_t axis) noexcept { return dims_[axis]; }
    constexpr const std::size_t* begin() const noexcept { return dims_.data(); }
    constexpr const std::size_t* end() const noexcept { return dims_.data() + rank_; }

    /// Number of elements: the product of the extents (1 for rank 0).
    constexpr std::size_t size() const noexcept {
        std::size_t n = 1;
        for (std::size_t i = 0; i < rank_; ++i)
            n *= dims_[i];
        return n;
    }

    /// The extent of `axis` counted from the end (-1 is the last), 1 past the front.
    constexpr std::size_t from_back(std::size_t k) const noexcept {
        return k < rank_ ? dims_[rank_ - 1 - k] : 1;
    }

    /// A copy with `axis` removed (keepdims = false) or set to 1 (keepdims = true).
    shape without(std::size_t axis, bool keepdims = false) const {
        shape s;
        for (std::size_t i = 0; i < rank_; ++i) {
            if (i != axis)
                s.dims_[s.rank_++] = dims_[i];
            else if (keepdims)
                s.dims_[s.rank_++] = 1;
        }
        return s;
    }

    friend constexpr bool operator==(const shape& a, const shape& b) noexcept {
        if (a.rank_ != b.rank_) return false;
        for (std::size_t i = 0; i < a.rank_; ++i)
            if (a.dims_[i] != b.dims_[i]) return false;
        return true;
    }

    /// "[32, 784]"; "[]" for a scalar.
    std::string str() const {
        std::string s = "[";
        for (std::size_t i = 0; i < rank_; ++i) {
            if (i) s += ", ";
            s += std::to_string(dims_[i]);
        }
        return s + "]";
    }

    friend std::ostream& operator<<(std::ostream& os, const shape& s) { return os << s.str(); }

  private:
    std::array<std::size_t, max_rank> dims_{};
    std::size_t rank_ = 0;
};

/// NumPy broadcasting: align at the last axis; extents must match or one of them be 1.
/// Throws shape_error naming `what` and both shapes.
inline shape broadcast_shapes(const shape& a, const shape& b, const char* what = "broadcast") {
    const std::size_t r = a.rank() > b.rank() ? a.rank() : b.rank();
    std::array<std::size_t, max_rank> out{};
    for (std::size_t k = 0; k < r; ++k) {
        const std::size_t da = a.from_back(k), db = b.from_back(k);
        if (da != db && da != 1 && db != 1)
            throw shape_error(std::string(what) + ": shapes " + a.str() + " and " + b.str() +
                              " cannot be broadcast (axis -" + std::to_string(k + 1) + ": " +
                              std::to_string(da) + " vs " + std::to_string(db) + ")");
        out[r - 1 - k] = da == 1 ? db : da;
    }
    return shape(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(r));
}

}  // namespace dendrite::inline DENDRITE_TARGET
