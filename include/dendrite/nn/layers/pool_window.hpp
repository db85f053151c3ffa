#pragma once
// What max and average pooling share: their options and the rule for their output's extents.

#include <cstddef>
#include <tuple>

#include "dendrite/config.hpp"
#include "dendrite/linalg/conv_geometry.hpp"
#include "dendrite/nn/kind.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// A pooling window's stride (0: the window's size) and zero padding:
/// `nn::max_pool2d<3, nn::pool_options{.stride = 2, .padding = 1}>`.
struct pool_options {
    std::size_t stride = 0;
    std::size_t padding = 0;
    /// Average pooling only: whether padded taps count in the divisor.
    bool count_include_pad = true;
};

/// What a pooling layer's description sets.
struct pool_kind_options {
    std::size_t kernel = 0;
    std::size_t stride = 0;
    std::size_t padding = 0;
    bool count_include_pad = true;
};

namespace detail {

/// [C, OH, OW] from [C, H, W] for a kernel x kernel window; OH = (H + 2 padding - kernel) / stride
/// + 1 with stride = kernel when 0.
constexpr layer_output pool_output(const pool_kind_options& o, const sample_dims& in) {
    if (!in.is_image()) return layer_output::needs_image();
    if (2 * o.padding > o.kernel)
        return layer_output::bad_options("the padding must be at most half the window");
    const std::size_t s = o.stride ? o.stride : o.kernel;
    const std::size_t h = linalg::conv_geometry::out_extent(in.height(), o.kernel, s, o.padding, 1);
    const std::size_t w = linalg::conv_geometry::out_extent(in.width(), o.kernel, s, o.padding, 1);
    if (h == 0 || w == 0) return layer_output::window_too_large(o.kernel, o.padding);
    return sample_dims::image(in.channels(), h, w);
}

/// "KIND:KERNEL[:STRIDE[:PADDING]]": the stride defaults to the kernel.
constexpr auto pool_arguments() {
    return std::tuple{argument("kernel", &pool_kind_options::kernel).required(),
                      argument("stride", &pool_kind_options::stride).at_least(0),
                      argument("padding", &pool_kind_options::padding).at_least(0)};
}

}  // namespace detail

}  // namespace dendrite::inline DENDRITE_TARGET::nn
