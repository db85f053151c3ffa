#pragma once
// 2-d pooling over the spatial axes of [N, C, H, W]: max (with its argmax kept for backward),
// average, and global average.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "dendrite/autodiff/op_node.hpp"
#include "dendrite/autodiff/reductions.hpp"
#include "dendrite/autodiff/shape_ops.hpp"
#include "dendrite/config.hpp"
#include "dendrite/linalg/conv.hpp"
#include "dendrite/simd/loop.hpp"
#include "dendrite/simd/parallel.hpp"
#include "dendrite/simd/simd.hpp"

namespace dendrite::inline DENDRITE_TARGET {

/// A square pooling window: kernel x kernel, moved by `stride` (0: the kernel size), over the
/// input padded by `padding` on each side (padding <= kernel / 2, as in PyTorch, so every
/// window overlaps the image).
struct pool2d_options {
    std::size_t kernel = 2;
    std::size_t stride = 0;
    std::size_t padding = 0;
};

namespace detail {

inline linalg::conv_geometry pool_geometry(const char* op, const shape& xs,
                                           const pool2d_options& o) {
    const std::size_t s = o.stride ? o.stride : o.kernel;
    const linalg::conv_geometry g{1,
                                  xs.rank() == 4 ? xs[2] : 0,
                                  xs.rank() == 4 ? xs[3] : 0,
                                  o.kernel,
                                  o.kernel,
                                  s,
                                  s,
                                  o.padding,
                                  o.padding,
                                  1,
                                  1};
    if (xs.rank() != 4 || o.kernel == 0 || 2 * o.padding > o.kernel || g.out_h() == 0 ||
        g.out_w() == 0)
        throw shape_error(std::string(op) + ": input " + xs.str() + " does not fit a window " +
                          std::to_string(o.kernel) + "x" + std::to_string(o.kernel) + ", stride " +
                          std::to_string(s) + ", padding " + std::to_string(o.padding) +
                          " (expected [N, C, H, W], padding <= kernel/2)");
    return g;
}

/// The window of output (oh, ow) clipped to the image: rows [h0, h1), columns [w0, w1).
struct window {
    std::size_t h0, h1, w0, w1;
};
inline window clip(const linalg::conv_geometry& g, std::size_t oh, std::size_t ow) noexcept {
    const auto lo = [](std::size_t o, std::size_t s, std::size_t p) {
        return o * s >= p ? o * s - p : std::size_t{0};
    };
    const auto hi = [](std::size_t o, std::size_t s, std::size_t p, std::size_t k, std::size_t n) {
        return std::min(n, o * s + k > p ? o * s + k - p : std::size_t{0});
    };
    return {lo(oh, g.stride_h, g.pad_h), hi(oh, g.stride_h, g.pad_h, g.kernel_h, g.height),
            lo(ow, g.stride_w, g.pad_w), hi(ow, g.stride_w, g.pad_w, g.kernel_w, g.width)};
}

/// Calls f(q, r) for every plane q of `planes` and every output row r of `g`, the planes split
/// over the threads (each plane's input and output are its own).
template <class F>
void for_each_output_row(std::size_t planes, const linalg::conv_geometry& g, F&& f) {
    const std::size_t oh = g.out_h();
    const std::size_t min_planes =
        simd::parallel_threshold / std::max<std::size_t>(g.height * g.width, 1);
    simd::parallel_for(planes, 1, min_planes, [&](std::size_t p0, std::size_t p1) {
        for (std::size_t q = p0; q < p1; ++q)
            for (std::size_t r = 0; r < oh; ++r)
                f(q, r);
    });
}

/// Calls f(q, r, col) for every plane q and every output position (r, col) of `g`.
template <class F>
void for_each_window(std::size_t planes, const linalg::conv_geometry& g, F&& f) {
    const std::size_t ow = g.out_w();
    for_each_output_row(planes, g, [&](std::size_t q, std::size_t r) {
        for (std::size_t col = 0; col < ow; ++col)
            f(q, r, col);
    });
}

/// The 2x2 stride-2 unpadded window, the common one, row by row: each output reads two input
/// rows, and the choice among its four pixels (0, 1: top left, right; 2, 3: bottom) is kept as a
/// code (a T, to stay in the lanes of the values). A tournament with strict compares keeps the
/// first maximum in row-major order, as the general loop does; NaN wins as it does there.
template <class X, class T>
DENDRITE_ALWAYS_INLINE void max_of_four(const X& v0, const X& v1, const X& v2, const X& v3, X& y,
                                        X& code) noexcept {
    const auto right_top = v1 > v0;
    const auto right_bottom = v3 > v2;
    const X m01 = simd::select(right_top, v1, v0), m23 = simd::select(right_bottom, v3, v2);
    const auto lower = m23 > m01;
    y = simd::select(lower, m23, m01);
    code = simd::select(lower, simd::select(right_bottom, X(T(3)), X(T(2))),
                        simd::select(right_top, X(T(1)), X(T(0))));
}

/// Loads the 2 n (n <= width) elements p[0 .. 2n) as a deinterleaved pair; memory past them is
/// not read.
template <class T>
DENDRITE_ALWAYS_INLINE simd::lane_pair<T> load_pairs(const T* p, std::size_t n) noexcept {
    constexpr std::size_t w = simd::width<T>;
    if (n == w) return simd::deinterleave(simd::load(p), simd::load(p + w));
    const std::size_t m = 2 * n;
    return simd::deinterleave(simd::load_partial(p, std::min(m, w), T(0)),
                              simd::load_partial(p + w, m > w ? m - w : 0, T(0)));
}

/// Stores (or adds, unless `Overwrite`) the sequence `v` to p[0 .. 2n), n <= width.
template <bool Overwrite, class T>
DENDRITE_ALWAYS_INLINE void put_pairs(T* p, const simd::lane_pair<T>& v, std::size_t n) noexcept {
    constexpr std::size_t w = simd::width<T>;
    const std::size_t m = 2 * n, m0 = std::min(m, w), m1 = m > w ? m - w : 0;
    if constexpr (Overwrite) {
        simd::store_partial(p, v.first, m0);
        simd::store_partial(p + w, v.second, m1);
    } else {
        simd::store_partial(p, simd::load_partial(p, m0, T(0)) + v.first, m0);
        simd::store_partial(p + w, simd::load_partial(p + w, m1, T(0)) + v.second, m1);
    }
}

/// One row of 2x2 windows: outputs y[0 .. ow) and their codes from input rows top and bottom.
/// Whole registers of outputs, then one masked register for the rest (LeNet's rows are 14 and
/// 5 wide: narrower than a register).
template <class T>
void max_pool_2x2_rows(const T* top, const T* bottom, std::size_t ow, T* y, T* code) noexcept {
    using B = simd::batch<T>;
    simd::for_registers<T>(0, ow, [&](std::size_t c, auto lanes) {
        const simd::lane_pair<T> t = load_pairs(top + 2 * c, lanes.count());
        const simd::lane_pair<T> b = load_pairs(bottom + 2 * c, lanes.count());
        B m, k;
        max_of_four<B, T>(t.first, t.second, b.first, b.second, m, k);
        lanes.store(y + c, m);
        lanes.store(code + c, k);
    });
}

/// Backward of max_pool_2x2_rows: dy lands on the coded pixel of each window, the other three
/// receive nothing; contiguous reads and writes, no scatter. `Overwrite` stores instead of
/// adding (a fresh gradient whose every pixel some window covers).
template <bool Overwrite, class T>
void max_unpool_2x2_rows(const T* dy, const T* code, std::size_t ow, T* top, T* bottom) noexcept {
    using B = simd::batch<T>;
    const B zero(T(0));
    simd::for_registers<T>(0, ow, [&](std::size_t c, auto lanes) {
        const B g = lanes.load(dy + c, T(0));
        const B k = lanes.load(code + c, T(-1));
        put_pairs<Overwrite>(top + 2 * c,
                             simd::interleave(simd::select(k == B(T(0)), g, zero),
                                              simd::select(k == B(T(1)), g, zero)),
                             lanes.count());
        put_pairs<Overwrite>(bottom + 2 * c,
                             simd::interleave(simd::select(k == B(T(2)), g, zero),
                                              simd::select(k == B(T(3)), g, zero)),
                             lanes.count());
    });
}

}  // namespace detail

/// Max pooling: y[n, c, oh, ow] = max over the window (padding never wins). The position of
/// each maximum (the first one on ties, in row-major order) is kept in a pooled tape buffer;
/// backward adds dy there. The 2x2 stride-2 window runs vectorised row loops (detail::
/// max_pool_2x2_rows). Cost: N C OH OW k^2 compares forward, N C OH OW adds backward.
template <differentiable EX>
auto max_pool2d(const EX& ex, pool2d_options o = {}) {
    const auto x = as_var(ex);
    using T = typename decltype(x)::value_type;
    const shape& xs = x.shape();
    const linalg::conv_geometry g = detail::pool_geometry("max_pool2d", xs, o);
    tape& t = x.tape();
    const std::size_t planes = xs[0] * xs[1], hw = g.height * g.width;
    const std::size_t oh = g.out_h(), ow = g.out_w(), p = oh * ow;
    tensor<T> y = t.acquire_value<T>(shape{xs[0], xs[1], oh, ow});
    const bool pair = g.kernel_h == 2 && g.stride_h == 2 && g.pad_h == 0;
    // Per output: the pixel's offset in its plane, or for the 2x2 window its code (0-3).
    tensor<std::int32_t> arg =
        pair ? tensor<std::int32_t>() : t.acquire_value<std::int32_t>(shape{planes, p});
    tensor<T> codes = pair ? t.acquire_value<T>(shape{planes, p}) : tensor<T>();
    const T* xp = x.value().data();
    T* yp = y.data();
    std::int32_t* ap = pair ? nullptr : arg.data();
    T* cp = pair ? codes.data() : nullptr;
    const std::size_t wd = g.width;
    if (pair) {
        detail::for_each_output_row(planes, g, [&](std::size_t q, std::size_t r) {
            const T* top = xp + q * hw + 2 * r * wd;
            detail::max_pool_2x2_rows(top, top + wd, ow, yp + q * p + r * ow, cp + q * p + r * ow);
        });
    } else {
        detail::for_each_window(planes, g, [&](std::size_t q, std::size_t r, std::size_t col) {
            const T* src = xp + q * hw;
            const detail::window wn = detail::clip(g, r, col);
            std::size_t best = wn.h0 * wd + wn.w0;
            for (std::size_t i = wn.h0; i < wn.h1; ++i)
                for (std::size_t j = wn.w0; j < wn.w1; ++j)
                    if (src[i * wd + j] > src[best]) best = i * wd + j;
            yp[q * p + r * ow + col] = src[best];
            ap[q * p + r * ow + col] = static_cast<std::int32_t>(best);
        });
    }
    return record_op(
        t, "max_pool2d", y, x.requires_grad(),
        [=](tape& tp, const tensor<T>& gy) {
            const T* gp = gy.data();
            if (pair) {
                // Even extents: the windows tile the image, so a fresh gradient is written, not
                // zeroed and then added to.
                const bool tiled = g.height % 2 == 0 && g.width % 2 == 0 && !x.node().has_grad();
                T* dx = tiled ? x.node().grad_for_overwrite(tp).data()
                              : x.node().grad_accumulator(tp).data();
                detail::for_each_output_row(planes, g, [&](std::size_t q, std::size_t r) {
                    T* top = dx + q * hw + 2 * r * wd;
                    const T* dy = gp + q * p + r * ow;
                    const T* code = codes.data() + q * p + r * ow;
                    if (tiled)
                        detail::max_unpool_2x2_rows<true>(dy, code, ow, top, top + wd);
                    else
                        detail::max_unpool_2x2_rows<false>(dy, code, ow, top, top + wd);
                });
                return;
            }
            T* dx = x.node().grad_accumulator(tp).data();
            const std::int32_t* a = arg.data();
            detail::for_each_window(planes, g, [&](std::size_t q, std::size_t r, std::size_t col) {
                const std::size_t e = q * p + r * ow + col;
                dx[q * hw + static_cast<std::size_t>(a[e])] += gp[e];
            });
        },
        linear_in(x, [=](tape& tp, const tensor<T>& dx) {
            // Linear once the maxima are chosen: the tangent at each output is the input's at the
            // chosen pixel.
            tensor<T> dy = tp.acquire_value<T>(shape{xs[0], xs[1], oh, ow});
            const T* src = dx.data();
            T* dst = dy.data();
            for (std::size_t q = 0; q < planes; ++q)
                for (std::size_t e = 0; e < p; ++e) {
                    std::size_t at;
                    if (pair) {
                        const auto code = static_cast<std::size_t>(codes.data()[q * p + e]);
                        at = (2 * (e / ow) + code / 2) * wd + 2 * (e % ow) + code % 2;
                    } else {
                        at = static_cast<std::size_t>(arg.data()[q * p + e]);
                    }
                    dst[q * p + e] = src[q * hw + at];
                }
            return dy;
        }));
}

/// Average pooling: y = (sum over the window) / divisor, the divisor being k^2 when
/// `count_include_pad` (padding counts as zeros), else the number of pixels of the window inside
/// the image. Backward spreads dy / divisor over the window.
/// Cost: N C OH OW k^2 adds each way.
template <differentiable EX>
auto avg_pool2d(const EX& ex, pool2d_options o = {}, bool count_include_pad = true) {
    const auto x = as_var(ex);
    using T = typename decltype(x)::value_type;
    const shape& xs = x.shape();
    const linalg::conv_geometry g = detail::pool_geometry("avg_pool2d", xs, o);
    tape& t = x.tape();
    const std::size_t planes = xs[0] * xs[1], hw = g.height * g.width;
    const std::size_t oh = g.out_h(), ow = g.out_w(), p = oh * ow;
    tensor<T> y = t.acquire_value<T>(shape{xs[0], xs[1], oh, ow});
    const T* xp = x.value().data();
    T* yp = y.data();
    const T full = static_cast<T>(g.kernel_h * g.kernel_w);
    const auto divisor = [=](const detail::window& wn) {
        return count_include_pad ? full : static_cast<T>((wn.h1 - wn.h0) * (wn.w1 - wn.w0));
    };
    const auto pool = [=](const T* src, T* dst) {
        detail::for_each_window(planes, g, [&](std::size_t q, std::size_t r, std::size_t col) {
            const detail::window wn = detail::clip(g, r, col);
            T acc = 0;
            for (std::size_t i = wn.h0; i < wn.h1; ++i)
                for (std::size_t j = wn.w0; j < wn.w1; ++j)
                    acc += src[q * hw + i * g.width + j];
            dst[q * p + r * ow + col] = acc / divisor(wn);
        });
    };
    pool(xp, yp);
    const auto pool_tangent = [=](tape& tp, const tensor<T>& dx) {
        tensor<T> dy = tp.acquire_value<T>(shape{xs[0], xs[1], oh, ow});
        pool(dx.data(), dy.data());
        return dy;
    };
    return record_op(
        t, "avg_pool2d", y, x.requires_grad(),
        [=](tape& tp, const tensor<T>& gy) {
            T* dx = x.node().grad_accumulator(tp).data();
            const T* gp = gy.data();
            detail::for_each_window(planes, g, [&](std::size_t q, std::size_t r, std::size_t col) {
                const detail::window wn = detail::clip(g, r, col);
                const T v = gp[q * p + r * ow + col] / divisor(wn);
                for (std::size_t i = wn.h0; i < wn.h1; ++i)
                    for (std::size_t j = wn.w0; j < wn.w1; ++j)
                        dx[q * hw + i * g.width + j] += v;
            });
        },
        linear_in(x, pool_tangent));
}

/// Global average pooling: [N, C, H, W] -> [N, C], the mean of each plane. Composed as a mean
/// over the last axis of the [N, C, H W] view, so its backward is the reduction's.
/// Cost: one read of x forward, one pass over dx backward.
template <differentiable EX>
auto global_avg_pool2d(const EX& ex) {
    const auto x = as_var(ex);
    const shape& xs = x.shape();
    if (xs.rank() != 4)
        throw shape_error("global_avg_pool2d: expected [N, C, H, W], got " + xs.str());
    return as_var(mean(reshape(x, shape{xs[0], xs[1], xs[2] * xs[3]}), 2));
}

}  // namespace dendrite::inline DENDRITE_TARGET
