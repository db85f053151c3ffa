#pragma once
// The geometry of a 2-d convolution or pooling window over an image.

#include <cstddef>

#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET::linalg {

/// The geometry of a 2-d convolution (or pooling) window over one image of `channels` planes
/// of height x width: output position (oh, ow) of tap (i, j) reads input row
/// oh * stride_h - pad_h + i * dilation_h and column ow * stride_w - pad_w + j * dilation_w;
/// positions outside the image read zero.
struct conv_geometry {
    std::size_t channels = 1, height = 1, width = 1;
    std::size_t kernel_h = 1, kernel_w = 1;
    std::size_t stride_h = 1, stride_w = 1;
    std::size_t pad_h = 0, pad_w = 0;
    std::size_t dilation_h = 1, dilation_w = 1;

    /// Output extent along one axis: floor((n + 2 pad - dilation (k - 1) - 1) / stride) + 1, or 0
    /// when the dilated window does not fit in the padded input.
    static constexpr std::size_t out_extent(std::size_t n, std::size_t k, std::size_t stride,
                                            std::size_t pad, std::size_t dilation) noexcept {
        const std::size_t span = dilation * (k - 1) + 1;
        return n + 2 * pad < span || stride == 0 ? 0 : (n + 2 * pad - span) / stride + 1;
    }
    constexpr std::size_t out_h() const noexcept {
        return out_extent(height, kernel_h, stride_h, pad_h, dilation_h);
    }
    constexpr std::size_t out_w() const noexcept {
        return out_extent(width, kernel_w, stride_w, pad_w, dilation_w);
    }
    /// Taps per output position: rows of col, K.
    constexpr std::size_t taps() const noexcept { return channels * kernel_h * kernel_w; }
    /// Output positions: columns of col, P.
    constexpr std::size_t positions() const noexcept { return out_h() * out_w(); }
    friend constexpr bool operator==(const conv_geometry&, const conv_geometry&) = default;

    /// True when col is the image itself (1x1 window, unit stride, no padding).
    constexpr bool is_pointwise() const noexcept {
        return kernel_h == 1 && kernel_w == 1 && stride_h == 1 && stride_w == 1 && pad_h == 0 &&
               pad_w == 0;
    }
};

}  // namespace dendrite::inline DENDRITE_TARGET::linalg
