#pragma once
// im2col and col2im for unit-stride, undilated windows, a register of output positions at a
// time (AVX-512).
//
// The general unfolding copies one run per (tap, output row): a LeNet layer's rows are 8 to 28
// elements, so the time goes into the bookkeeping of about a thousand short runs per image. With
// unit stride, the W positions of one register read, for every tap, the same pattern of input
// offsets shifted by the tap's offset (a position's input is (oh + i - pad_h, ow + j - pad_w)).
// When that pattern spans at most two registers of the input, each (tap, register) is two masked
// loads and one two-source permute; for col2im, the inverse permutes add into the same window.
// Lanes whose input falls in the padding (or wraps to a neighbouring row) are zeroed by a mask.

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "dendrite/config.hpp"
#include "dendrite/linalg/conv_geometry.hpp"
#include "dendrite/simd/loop.hpp"
#include "dendrite/simd/simd.hpp"

namespace dendrite::inline DENDRITE_TARGET::linalg::detail {

#if defined(__AVX512F__)

template <class T>
inline constexpr bool has_block_unfold = (std::is_same_v<T, float> && simd::width<T> == 16) ||
                                         (std::is_same_v<T, double> && simd::width<T> == 8);

/// Clamps a window offset to a lane index in [0, w].
template <std::size_t w>
DENDRITE_ALWAYS_INLINE std::size_t lane_clamp(std::ptrdiff_t v) noexcept {
    return v < 0 ? 0 : v > static_cast<std::ptrdiff_t>(w) ? w : static_cast<std::size_t>(v);
}

/// One register of output positions p0 .. p0 + w: where each lane's input lies relative to the
/// first lane's (rel, increasing), which lanes are positions at all (live), and for each tap row
/// i / column j the lanes whose input row / column is inside the image.
template <class T>
struct position_block {
    static constexpr std::size_t w = simd::width<T>;
    static constexpr std::size_t max_kernel = 32;
    using index = simd::lane_index<T>;

    alignas(64) index rel[w];
    alignas(64) index inv[2 * w];  // window element e <- lane inv[e], where hit has bit e
    std::uint32_t hit = 0;
    unsigned live = 0;
    unsigned row_ok[max_kernel];
    unsigned col_ok[max_kernel];
    std::ptrdiff_t oh0 = 0, ow0 = 0;
    std::size_t p0 = 0;
};

/// True when a register of positions spans several output rows, each register reads within
/// two registers of the input, and the kernel fits position_block: when the block unfolding
/// pays (3.7x im2col and 2.3x col2im on LeNet's second layer, 8-wide rows).
template <class T>
bool block_unfold_applies(std::size_t in_w, std::size_t out_w, std::size_t positions,
                          std::size_t kh, std::size_t kw) {
    constexpr std::size_t w = simd::width<T>;
    // Rows as wide as a register are already whole-register copies in the general unfolding,
    // which measured faster there (LeNet's 24- and 28-wide first layer: 1.4x).
    if (out_w == 0 || out_w >= w || out_w > in_w || kh > 32 || kw > 32) return false;
    bool fits = true;
    simd::for_registers<T>(0, positions, [&](std::size_t p0, auto lanes) {
        const std::size_t last = p0 + lanes.count() - 1;
        const std::size_t span = (last / out_w - p0 / out_w) * in_w + last % out_w - p0 % out_w;
        fits = fits && span < 2 * w;
    });
    return fits;
}

template <class T>
void describe_block(position_block<T>& b, std::size_t p0, std::size_t positions, std::size_t out_w,
                    std::size_t in_h, std::size_t in_w, std::size_t kh, std::size_t kw,
                    std::size_t pad_h, std::size_t pad_w) {
    constexpr std::size_t w = position_block<T>::w;
    b.p0 = p0;
    b.oh0 = static_cast<std::ptrdiff_t>(p0 / out_w);
    b.ow0 = static_cast<std::ptrdiff_t>(p0 % out_w);
    b.live = 0;
    b.hit = 0;
    for (std::size_t i = 0; i < kh; ++i)
        b.row_ok[i] = 0;
    for (std::size_t j = 0; j < kw; ++j)
        b.col_ok[j] = 0;
    for (std::size_t e = 0; e < 2 * w; ++e)
        b.inv[e] = 0;
    const auto h = static_cast<std::ptrdiff_t>(in_h), wd = static_cast<std::ptrdiff_t>(in_w);
    for (std::size_t l = 0; l < w; ++l) {
        b.rel[l] = 0;
        const std::size_t p = p0 + l;
        if (p >= positions) continue;
        const auto oh = static_cast<std::ptrdiff_t>(p / out_w);
        const auto ow = static_cast<std::ptrdiff_t>(p % out_w);
        const std::ptrdiff_t rel = (oh - b.oh0) * wd + (ow - b.ow0);
        b.rel[l] = static_cast<typename position_block<T>::index>(rel);
        b.inv[rel] = static_cast<typename position_block<T>::index>(l);
        b.hit |= 1u << rel;
        b.live |= 1u << l;
        for (std::size_t i = 0; i < kh; ++i) {
            const std::ptrdiff_t r =
                oh + static_cast<std::ptrdiff_t>(i) - static_cast<std::ptrdiff_t>(pad_h);
            if (r >= 0 && r < h) b.row_ok[i] |= 1u << l;
        }
        for (std::size_t j = 0; j < kw; ++j) {
            const std::ptrdiff_t c =
                ow + static_cast<std::ptrdiff_t>(j) - static_cast<std::ptrdiff_t>(pad_w);
            if (c >= 0 && c < wd) b.col_ok[j] |= 1u << l;
        }
    }
}

/// The address `offset` elements from p, for a masked access: the offset may lead outside p's
/// buffer (only lanes inside it are touched), where pointer arithmetic is undefined, so it is
/// taken on the integer address.
template <class T>
DENDRITE_ALWAYS_INLINE T* masked_address(T* p, std::ptrdiff_t offset) noexcept {
    const auto bytes = offset * static_cast<std::ptrdiff_t>(sizeof(T));
    return reinterpret_cast<T*>(reinterpret_cast<std::uintptr_t>(p) +
                                static_cast<std::uintptr_t>(bytes));
}

/// The registers of positions of geometry g, described once per thread and kept for the next
/// call with the same geometry: a network alternates a few geometries, forward and backward, and
/// describing a register costs about as much as unfolding it.
template <class T>
const std::vector<position_block<T>>& position_blocks(const conv_geometry& g) {
    struct entry {
        conv_geometry g;
        std::vector<position_block<T>> blocks;
        bool used = false;
    };
    constexpr std::size_t entries = 8;
    thread_local entry cache[entries];
    thread_local std::size_t next = 0;
    for (const entry& e : cache)
        if (e.used && e.g == g) return e.blocks;
    entry& e = cache[next++ % entries];
    e.g = g;
    e.used = true;
    const std::size_t positions = g.positions(), w = position_block<T>::w;
    e.blocks.resize((positions + w - 1) / w);
    for (std::size_t b = 0; b < e.blocks.size(); ++b)
        describe_block(e.blocks[b], b * w, positions, g.out_w(), g.height, g.width, g.kernel_h,
                       g.kernel_w, g.pad_h, g.pad_w);
    return e.blocks;
}

/// Where one tap of one register of positions reads: `m` the lanes whose input is in the image,
/// `base` the offset of lane 0's input from the plane (possibly outside it, never dereferenced
/// unmasked), `first` / `second` the elements of the two-register window inside the plane.
struct tap_window {
    unsigned m, first, second;
    std::ptrdiff_t base;
};

/// The walk shared by both directions: for each register of positions and each tap (i, j),
/// `fn(block, window, tap0)`, tap0 the row of col of channel 0's tap (channel c's is
/// tap0 + c * KH * KW).
template <class T, class Fn>
void for_each_block_tap(const conv_geometry& g, Fn&& fn) {
    constexpr std::size_t w = position_block<T>::w;
    constexpr unsigned all = (1u << w) - 1u;
    const auto wd = static_cast<std::ptrdiff_t>(g.width);
    const auto area = static_cast<std::ptrdiff_t>(g.height * g.width);
    const auto wide = static_cast<std::ptrdiff_t>(w);
    const auto range = [](std::ptrdiff_t from, std::ptrdiff_t to) {
        return simd::range_bits(lane_clamp<w>(from), lane_clamp<w>(to));
    };
    for (const position_block<T>& b : position_blocks<T>(g))
        for (std::size_t i = 0; i < g.kernel_h; ++i) {
            const std::ptrdiff_t row =
                (b.oh0 + static_cast<std::ptrdiff_t>(i) - static_cast<std::ptrdiff_t>(g.pad_h)) *
                    wd +
                b.ow0 - static_cast<std::ptrdiff_t>(g.pad_w);
            for (std::size_t j = 0; j < g.kernel_w; ++j) {
                tap_window t;
                t.m = b.row_ok[i] & b.col_ok[j];
                t.base = row + static_cast<std::ptrdiff_t>(j);
                if (t.base >= 0 && t.base + 2 * wide <= area) {
                    t.first = t.second = all;
                } else {
                    t.first = range(-t.base, area - t.base);
                    t.second = range(-t.base - wide, area - t.base - wide);
                }
                fn(b, t, i * g.kernel_w + j);
            }
        }
}

/// im2col (see linalg/conv.hpp) for a geometry block_unfold_applies to.
template <class T>
void im2col_blocks(const conv_geometry& g, const T* x, T* col) {
    constexpr std::size_t w = position_block<T>::w;
    const std::size_t positions = g.positions(), plane = g.height * g.width;
    const std::size_t channels = g.channels, channel_rows = g.kernel_h * g.kernel_w * positions;
    constexpr auto wide = static_cast<std::ptrdiff_t>(w);
    const auto step = static_cast<std::ptrdiff_t>(plane);
    const auto unfold = [=](const position_block<T>& b, const tap_window& t, std::size_t tap0) {
        const bool full = b.live == (1u << w) - 1u;
        // Running offsets rather than pointers: the input window may start before channel 0's
        // plane or end past the last one (see masked_address).
        std::ptrdiff_t from = t.base;
        std::size_t to = tap0 * positions + b.p0;
        for (std::size_t c = 0; c < channels; ++c, from += step, to += channel_rows) {
            simd::batch<T> v(T(0));
            if (t.m)
                v = simd::permute2(simd::load_masked(masked_address(x, from), t.first), b.rel,
                                   simd::load_masked(masked_address(x, from + wide), t.second),
                                   t.m);
            if (full)
                simd::store(col + to, v);
            else
                simd::store_masked(col + to, v, b.live);
        }
    };
    for_each_block_tap<T>(g, unfold);
}

/// col2im (see linalg/conv.hpp) for a geometry block_unfold_applies to: each lane's value is
/// added to its input element through the inverse permutes, lanes in the padding dropped.
template <class T>
void col2im_blocks(const conv_geometry& g, const T* col, T* dx) {
    constexpr std::size_t w = position_block<T>::w;
    constexpr unsigned all = (1u << w) - 1u;
    const std::size_t positions = g.positions(), plane = g.height * g.width;
    const std::size_t channels = g.channels, channel_rows = g.kernel_h * g.kernel_w * positions;
    const auto fold = [=](const position_block<T>& b, const tap_window& t, std::size_t tap0) {
        if (!t.m) return;
        // The window's two registers: the elements each receives (hit), and from which lanes.
        const unsigned hit[2] = {b.hit & all & t.first, (b.hit >> w) & all & t.second};
        for (std::size_t c = 0; c < channels; ++c) {
            const T* in = col + c * channel_rows + tap0 * positions + b.p0;
            const simd::batch<T> v = simd::load_masked(in, b.live & t.m);
            for (std::size_t half = 0; half < 2; ++half) {
                if (!hit[half]) continue;
                T* dst =
                    masked_address(dx + c * plane, t.base + static_cast<std::ptrdiff_t>(half * w));
                const simd::batch<T> moved = simd::permute2(v, b.inv + half * w, v, hit[half]);
                simd::store_masked(dst, simd::load_masked(dst, hit[half]) + moved, hit[half]);
            }
        }
    };
    for_each_block_tap<T>(g, fold);
}

#endif

/// True when the register-block unfolding serves geometry g for element type T: AVX-512, unit
/// stride and dilation, and every register of positions within two registers of the input.
template <class T>
bool use_block_unfold(const conv_geometry& g) {
#if defined(__AVX512F__)
    if constexpr (has_block_unfold<T>)
        return g.stride_h == 1 && g.stride_w == 1 && g.dilation_h == 1 && g.dilation_w == 1 &&
               block_unfold_applies<T>(g.width, g.out_w(), g.positions(), g.kernel_h, g.kernel_w);
#endif
    (void)g;
    return false;
}

}  // namespace dendrite::inline DENDRITE_TARGET::linalg::detail
