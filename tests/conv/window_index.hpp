#pragma once
// The defining index arithmetic of a convolution window, shared by the kernel tests that compare
// against it (unfolding, direct convolution).

#include <dendrite/linalg/conv_geometry.hpp>

#include <cstddef>

namespace dendrite::conv_testing {

/// Where output (r, s) of tap (c, i, j) reads its input: the index into x [channels, height,
/// width], or -1 in the padding.
inline long input_index(const linalg::conv_geometry& g, std::size_t c, std::size_t i, std::size_t j,
                        std::size_t r, std::size_t s) {
    const long ih =
        static_cast<long>(r * g.stride_h + i * g.dilation_h) - static_cast<long>(g.pad_h);
    const long iw =
        static_cast<long>(s * g.stride_w + j * g.dilation_w) - static_cast<long>(g.pad_w);
    if (ih < 0 || iw < 0 || ih >= static_cast<long>(g.height) || iw >= static_cast<long>(g.width))
        return -1;
    return (static_cast<long>(c * g.height) + ih) * static_cast<long>(g.width) + iw;
}

}  // namespace dendrite::conv_testing
