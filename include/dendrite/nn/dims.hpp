#pragma once
// The extents of one sample as a type, so that a static network checks shapes while compiling:
// dims<784> for a feature vector, dims<6, 24, 24> for the channels, height and width of an image.

#include <array>
#include <cstddef>
#include <string>

#include "dendrite/config.hpp"
#include "dendrite/tensor/shape.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

template <std::size_t... D>
struct dims {
    static_assert(sizeof...(D) >= 1 && sizeof...(D) <= 3,
                  "nn: a sample has 1 to 3 extents ([features] or [channels, height, width]); "
                  "tensors hold at most 4 with the batch");
    static constexpr std::size_t rank = sizeof...(D);
    static constexpr std::size_t size = (D * ... * std::size_t{1});
    static constexpr std::array<std::size_t, sizeof...(D)> extents{D...};

    /// [batch, D...].
    static shape batched(std::size_t batch) { return shape{batch, D...}; }
    /// "[6, 24, 24]".
    static std::string str() { return shape{D...}.str(); }
};

}  // namespace dendrite::inline DENDRITE_TARGET::nn
