#pragma once
// The data movement that turns a 2-d convolution into matrix products: unfolding an image's
// receptive fields into the columns of a matrix (im2col), and folding such a matrix back onto an
// image with accumulation (col2im).
//
// With P = OH * OW output positions and K = C * KH * KW taps per output, a convolution of one
// image is the product W [O x K] times col [K x P]; its weight gradient dY [O x P] times
// col^T [P x K]; its input gradient col2im(W^T [K x O] times dY [O x P]). Each unfold costs
// K * P copies, small next to the 2 O K P flops of the product it feeds.

#include <algorithm>
#include <cstddef>

#include "dendrite/config.hpp"
#include "dendrite/linalg/conv_geometry.hpp"
#include "dendrite/linalg/detail/unfold_blocks.hpp"
#include "dendrite/simd/loop.hpp"
#include "dendrite/simd/simd.hpp"

namespace dendrite::inline DENDRITE_TARGET::linalg {

namespace detail {

/// The output columns [lo, hi) whose input column ow * stride + offset lies in [0, width).
struct valid_range {
    std::size_t lo, hi;
};
inline valid_range valid_columns(std::ptrdiff_t offset, std::size_t stride, std::size_t width,
                                 std::size_t out) noexcept {
    const auto s = static_cast<std::ptrdiff_t>(stride);
    const auto w = static_cast<std::ptrdiff_t>(width);
    const std::ptrdiff_t lo = offset >= 0 ? 0 : (-offset + s - 1) / s;
    const std::ptrdiff_t hi = w - 1 - offset < 0 ? 0 : (w - 1 - offset) / s + 1;
    const auto h = std::min(static_cast<std::size_t>(hi), out);
    return {std::min(static_cast<std::size_t>(lo), h), h};
}

/// Copies n elements: rows of an image are a few dozen elements, where a library memcpy call
/// costs more than the copy. Whole registers, then one masked register.
template <class T>
inline void copy_run(T* d, const T* s, std::size_t n) noexcept {
    simd::for_registers<T>(
        0, n, [&](std::size_t i, auto lanes) { lanes.store(d + i, lanes.load(s + i)); });
}

}  // namespace detail

/// col[(c * KH + i) * KW + j][oh * OW + ow] = x[c][ih][iw] (0 outside the image), for the image
/// x [channels, height, width]; col is K x P, row-major, rows P apart. Each row is written as
/// runs of contiguous copies (unit stride) or strided gathers, with the padding as fills.
template <class T>
void im2col(const conv_geometry& g, const T* x, T* col) {
    const std::size_t oh_n = g.out_h(), ow_n = g.out_w(), p = oh_n * ow_n;
#if defined(__AVX512F__)
    if constexpr (detail::has_block_unfold<T>)
        if (detail::use_block_unfold<T>(g)) return detail::im2col_blocks(g, x, col);
#endif
    for (std::size_t c = 0; c < g.channels; ++c) {
        const T* plane = x + c * g.height * g.width;
        for (std::size_t i = 0; i < g.kernel_h; ++i)
            for (std::size_t j = 0; j < g.kernel_w; ++j) {
                T* row = col + ((c * g.kernel_h + i) * g.kernel_w + j) * p;
                const std::ptrdiff_t off = static_cast<std::ptrdiff_t>(j * g.dilation_w) -
                                           static_cast<std::ptrdiff_t>(g.pad_w);
                const auto [lo, hi] = detail::valid_columns(off, g.stride_w, g.width, ow_n);
                for (std::size_t oh = 0; oh < oh_n; ++oh) {
                    T* d = row + oh * ow_n;
                    const std::ptrdiff_t ih =
                        static_cast<std::ptrdiff_t>(oh * g.stride_h + i * g.dilation_h) -
                        static_cast<std::ptrdiff_t>(g.pad_h);
                    if (ih < 0 || ih >= static_cast<std::ptrdiff_t>(g.height)) {
                        std::fill(d, d + ow_n, T(0));
                        continue;
                    }
                    // Index arithmetic stays signed: the row start plus `off` may precede the
                    // plane, although no element read does.
                    const T* s = plane + ih * static_cast<std::ptrdiff_t>(g.width);
                    // Guarded: most runs have no padding, and each fill is a library call.
                    if (lo) std::fill(d, d + lo, T(0));
                    if (g.stride_w == 1 && hi > lo)
                        detail::copy_run(d + lo, s + (static_cast<std::ptrdiff_t>(lo) + off),
                                         hi - lo);
                    else
                        for (std::size_t ow = lo; ow < hi; ++ow)
                            d[ow] = s[static_cast<std::ptrdiff_t>(ow * g.stride_w) + off];
                    if (hi < ow_n) std::fill(d + hi, d + ow_n, T(0));
                }
            }
    }
}

/// The adjoint of im2col: dx[c][ih][iw] += col[(c * KH + i) * KW + j][oh * OW + ow] over every
/// (tap, position) reading that pixel; taps in the padding are dropped. Cost: K * P adds.
template <class T>
void col2im(const conv_geometry& g, const T* col, T* dx) {
    const std::size_t oh_n = g.out_h(), ow_n = g.out_w(), p = oh_n * ow_n;
#if defined(__AVX512F__)
    if constexpr (detail::has_block_unfold<T>)
        if (detail::use_block_unfold<T>(g)) return detail::col2im_blocks(g, col, dx);
#endif
    for (std::size_t c = 0; c < g.channels; ++c) {
        T* plane = dx + c * g.height * g.width;
        for (std::size_t i = 0; i < g.kernel_h; ++i)
            for (std::size_t j = 0; j < g.kernel_w; ++j) {
                const T* row = col + ((c * g.kernel_h + i) * g.kernel_w + j) * p;
                const std::ptrdiff_t off = static_cast<std::ptrdiff_t>(j * g.dilation_w) -
                                           static_cast<std::ptrdiff_t>(g.pad_w);
                const auto [lo, hi] = detail::valid_columns(off, g.stride_w, g.width, ow_n);
                for (std::size_t oh = 0; oh < oh_n; ++oh) {
                    const std::ptrdiff_t ih =
                        static_cast<std::ptrdiff_t>(oh * g.stride_h + i * g.dilation_h) -
                        static_cast<std::ptrdiff_t>(g.pad_h);
                    if (ih < 0 || ih >= static_cast<std::ptrdiff_t>(g.height)) continue;
                    const T* s = row + oh * ow_n;
                    T* d = plane + ih * static_cast<std::ptrdiff_t>(g.width);
                    if (g.stride_w == 1) {
                        T* dd = d + (static_cast<std::ptrdiff_t>(lo) + off);
                        for (std::size_t ow = lo; ow < hi; ++ow)
                            dd[ow - lo] += s[ow];
                    } else {
                        for (std::size_t ow = lo; ow < hi; ++ow)
                            d[static_cast<std::ptrdiff_t>(ow * g.stride_w) + off] += s[ow];
                    }
                }
            }
    }
}

}  // namespace dendrite::inline DENDRITE_TARGET::linalg
