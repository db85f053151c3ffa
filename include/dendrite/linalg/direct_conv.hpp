#pragma once
// Direct 2-d convolution, forward and weight gradient, for layers whose output rows are one or
// two registers wide: the products read the image's shifted rows in place, with no unfolded
// matrix.
//
// Through im2col, a layer with few output channels (LeNet's first: 6, over 25 taps) spends more
// time moving data than multiplying: every unfolded element is written, packed and read again
// for only O multiply-adds. Here, forward, each tap's input is two masked loads shared by a block
// of up to 8 output channels (16 accumulators); the weight gradient multiplies dZ by the same
// shifted loads, one accumulator per tap. Padding, strides between rows and dilation are masks
// and offsets; columns must be unit-stride, so that a register of outputs reads a contiguous run.

#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "dendrite/config.hpp"
#include "dendrite/linalg/conv_geometry.hpp"
#include "dendrite/linalg/detail/microkernel.hpp"
#include "dendrite/linalg/detail/unfold_blocks.hpp"
#include "dendrite/simd/simd.hpp"

namespace dendrite::inline DENDRITE_TARGET::linalg {

namespace detail {

/// How a step's masks are formed: `border` steps check each tap's input row; `interior` ones
/// (every tap row inside the image) take the plan's column masks; `full` ones, in a geometry
/// without column padding, the units' live lanes for every tap.
enum class step_kind { border, interior, full };

/// Where the taps of a geometry read, for the direct convolution. One step computes two
/// registers ("units") of output positions: two consecutive output rows when a row fits in a
/// register, the two halves of one row otherwise. Taps are (i, j) of the window, row-major,
/// padded with empty taps (no lanes, offset 0) to a whole number of the weight gradient's pairs.
template <class T>
struct direct_plan {
    static constexpr std::size_t w = simd::width<T>;
    static constexpr std::size_t max_taps = 64;
    static constexpr std::size_t capacity = max_taps + 1;  // an empty tap after an odd count

    std::size_t taps = 0, padded_taps = 0;
    std::size_t row_step = 1;  // output rows per step
    std::size_t col0[2] = {0, 0};
    unsigned live[2] = {0, 0};  // lanes of each unit that are output positions
    std::size_t live_count[2] = {0, 0};
    bool full_cols = true;  // every tap's column mask is the unit's live lanes
    // Steps starting at output rows [interior_begin, interior_end) read no padding row.
    std::size_t interior_begin = 0, interior_end = 0;
    std::ptrdiff_t offset[capacity] = {};   // tap's input offset from its unit's base
    std::ptrdiff_t tap_row[capacity] = {};  // i * dilation_h
    unsigned cols[capacity][2] = {};        // lanes whose input column is inside the image

    conv_geometry geometry;

    explicit direct_plan(const conv_geometry& g) : geometry(g) {
        const std::size_t ow = g.out_w(), oh = g.out_h();
        taps = g.kernel_h * g.kernel_w;
        if (g.stride_w != 1 || ow == 0 || ow > 2 * w || oh == 0 || taps > max_taps)
            throw std::invalid_argument(
                "direct convolution: needs unit column stride, 1 to " + std::to_string(2 * w) +
                " output columns and at most " + std::to_string(max_taps) +
                " taps; got column stride " + std::to_string(g.stride_w) + ", output " +
                std::to_string(oh) + "x" + std::to_string(ow) + ", window " +
                std::to_string(g.kernel_h) + "x" + std::to_string(g.kernel_w));
        padded_taps = (taps + 1) / 2 * 2;
        const bool two_rows = ow <= w;
        row_step = two_rows ? 2 : 1;
        for (std::size_t u = 0; u < 2; ++u) {
            col0[u] = two_rows ? 0 : u * w;
            live_count[u] = two_rows ? ow : (u == 0 ? w : ow - w);
            live[u] = simd::range_bits(0, live_count[u]);
        }
        const auto width = static_cast<std::ptrdiff_t>(g.width);
        for (std::size_t i = 0; i < g.kernel_h; ++i)
            for (std::size_t j = 0; j < g.kernel_w; ++j) {
                const std::size_t t = i * g.kernel_w + j;
                const auto dj = static_cast<std::ptrdiff_t>(j * g.dilation_w);
                tap_row[t] = static_cast<std::ptrdiff_t>(i * g.dilation_h);
                offset[t] = tap_row[t] * width + dj;
                for (std::size_t u = 0; u < 2; ++u) {
                    // Lane l reads column col0 + l + dj - pad_w.
                    const std::ptrdiff_t first = static_cast<std::ptrdiff_t>(col0[u]) + dj -
                                                 static_cast<std::ptrdiff_t>(g.pad_w);
                    cols[t][u] =
                        simd::range_bits(lane_clamp<w>(-first), lane_clamp<w>(width - first)) &
                        live[u];
                    full_cols = full_cols && cols[t][u] == live[u];
                }
            }
        // A step is interior when both units hold rows whose whole window is inside the image;
        // input rows grow with the output row, so those steps are one run.
        const auto last = static_cast<std::ptrdiff_t>((g.kernel_h - 1) * g.dilation_h);
        const auto height = static_cast<std::ptrdiff_t>(g.height);
        bool found = false;
        for (std::size_t r = 0; r < oh; r += row_step) {
            const std::size_t r1 = r + row_step - 1;
            const auto top =
                static_cast<std::ptrdiff_t>(r * g.stride_h) - static_cast<std::ptrdiff_t>(g.pad_h);
            const auto bottom = static_cast<std::ptrdiff_t>(r1 * g.stride_h) -
                                static_cast<std::ptrdiff_t>(g.pad_h) + last;
            if (r1 < oh && top >= 0 && bottom < height) {
                if (!found) interior_begin = r;
                interior_end = r + row_step;
                found = true;
            }
        }
    }
};

/// One step's two units: output row, input row of tap row 0, input offset of tap (0, 0) for
/// lane 0 (before the plane's start when padded), and whether the unit holds positions at all.
struct direct_step {
    std::size_t out_row[2];
    std::ptrdiff_t in_row[2];
    std::ptrdiff_t base[2];
    bool active[2];
};

template <class T>
DENDRITE_ALWAYS_INLINE direct_step step_at(const direct_plan<T>& plan, std::size_t oh) {
    const conv_geometry& g = plan.geometry;
    direct_step s;
    const std::size_t out_h = g.out_h();
    for (std::size_t u = 0; u < 2; ++u) {
        s.out_row[u] = oh + (plan.row_step == 2 ? u : 0);
        s.active[u] = s.out_row[u] < out_h;
        s.in_row[u] = static_cast<std::ptrdiff_t>(s.out_row[u] * g.stride_h) -
                      static_cast<std::ptrdiff_t>(g.pad_h);
        s.base[u] = s.in_row[u] * static_cast<std::ptrdiff_t>(g.width) +
                    static_cast<std::ptrdiff_t>(plan.col0[u]) -
                    static_cast<std::ptrdiff_t>(g.pad_w);
    }
    return s;
}

/// The lanes unit u of step s loads for tap t: its columns inside the image, none when the
/// tap's row is outside it or the unit is past the last output row.
template <step_kind Kind, class T>
DENDRITE_ALWAYS_INLINE unsigned tap_lanes(const direct_plan<T>& plan, const direct_step& s,
                                          std::size_t height, std::size_t t, std::size_t u) {
    if constexpr (Kind == step_kind::full) {
        return plan.live[u];
    } else if constexpr (Kind == step_kind::interior) {
        return plan.cols[t][u];
    } else {
        const std::ptrdiff_t row = s.in_row[u] + plan.tap_row[t];
        const bool inside = s.active[u] && row >= 0 && row < static_cast<std::ptrdiff_t>(height);
        return inside ? plan.cols[t][u] : 0u;
    }
}

/// Runs fn.template operator()<kind>(oh) over the steps starting at output rows
/// [begin, end), the interior ones as `interior` (or `full`) steps, the others as `border`.
template <class T, class Fn>
DENDRITE_ALWAYS_INLINE void for_each_step(const direct_plan<T>& plan, std::size_t out_h, Fn&& fn) {
    const std::size_t ib = plan.interior_begin, ie = plan.interior_end;
    for (std::size_t oh = 0; oh < ib; oh += plan.row_step)
        fn.template operator()<step_kind::border>(oh);
    if (plan.full_cols)
        for (std::size_t oh = ib; oh < ie; oh += plan.row_step)
            fn.template operator()<step_kind::full>(oh);
    else
        for (std::size_t oh = ib; oh < ie; oh += plan.row_step)
            fn.template operator()<step_kind::interior>(oh);
    for (std::size_t oh = ie; oh < out_h; oh += plan.row_step)
        fn.template operator()<step_kind::border>(oh);
}

/// One step of the forward pass for OB output channels: acc[b][u] = the sum over channels and
/// taps of W[b] times unit u's shifted input.
template <std::size_t OB, step_kind Kind, class T>
DENDRITE_ALWAYS_INLINE void direct_forward_step(const direct_plan<T>& plan, const direct_step& s,
                                                const T* x, const T* w, std::size_t k,
                                                simd::batch<T> (&acc)[OB][2]) {
    const conv_geometry& g = plan.geometry;
    using B = simd::batch<T>;
    const std::size_t taps = plan.taps;
    const auto plane = static_cast<std::ptrdiff_t>(g.height * g.width);
#pragma GCC unroll 8
    for (std::size_t b = 0; b < OB; ++b)
        acc[b][0] = acc[b][1] = B(T(0));
    for (std::size_t c = 0; c < g.channels; ++c) {
        const T* wc = w + c * taps;
        const std::ptrdiff_t from = static_cast<std::ptrdiff_t>(c) * plane;
        const std::ptrdiff_t b0 = from + s.base[0], b1 = from + s.base[1];
        for (std::size_t t = 0; t < taps; ++t) {
            const B x0 = simd::load_masked(masked_address(x, b0 + plan.offset[t]),
                                           tap_lanes<Kind>(plan, s, g.height, t, 0));
            const B x1 = simd::load_masked(masked_address(x, b1 + plan.offset[t]),
                                           tap_lanes<Kind>(plan, s, g.height, t, 1));
#pragma GCC unroll 8
            for (std::size_t b = 0; b < OB; ++b) {
                const B wt(wc[b * k + t]);
                acc[b][0] = simd::fma(x0, wt, acc[b][0]);
                acc[b][1] = simd::fma(x1, wt, acc[b][1]);
            }
        }
    }
}

/// Where a step of the forward pass leaves its sums: `fn(ctx, tile, count, co0, j, n)` with
/// tile[b * width .. + width) the sum of output channel co0 + b (b < count) for positions
/// j .. j + n. Reached through this pointer, the kernels are compiled once per value type and
/// block size, not once per epilogue: one indirect call per register row of up to 8 channels.
template <class T>
struct direct_sink {
    void (*fn)(const void* ctx, const T* tile, std::size_t count, std::size_t co0, std::size_t j,
               std::size_t n);
    const void* ctx;
};

/// Forward for OB output channels starting at co0: the sums of each step go to the sink.
template <std::size_t OB, class T>
void direct_forward_block(const direct_plan<T>& plan, const T* x, const T* w, std::size_t co0,
                          direct_sink<T> sink) {
    const conv_geometry& g = plan.geometry;
    using B = simd::batch<T>;
    constexpr std::size_t wd = simd::width<T>;
    const std::size_t k = g.channels * plan.taps;
    for_each_step(plan, g.out_h(), [&]<step_kind Kind>(std::size_t oh) {
        const direct_step s = step_at(plan, oh);
        B acc[OB][2];
        direct_forward_step<OB, Kind>(plan, s, x, w + co0 * k, k, acc);
        // Out of the registers once per step: indexed by a runtime unit, the accumulators
        // themselves would live in memory through the whole tap loop.
        alignas(simd::alignment) T out[2][OB][wd];
#pragma GCC unroll 8
        for (std::size_t b = 0; b < OB; ++b) {
            simd::store_aligned(out[0][b], acc[b][0]);
            simd::store_aligned(out[1][b], acc[b][1]);
        }
        for (std::size_t u = 0; u < 2; ++u)
            if (s.active[u])
                sink.fn(sink.ctx, &out[u][0][0], OB, co0, s.out_row[u] * g.out_w() + plan.col0[u],
                        plan.live_count[u]);
    });
}

/// Applies the epilogue to a step's sums and stores them to Y [channels x P].
template <class T, class Epilogue>
struct direct_epilogue_store {
    const Epilogue* epi;
    T* y;
    std::size_t p;

    static void store(const void* ctx, const T* tile, std::size_t count, std::size_t co0,
                      std::size_t j, std::size_t n) {
        using B = simd::batch<T>;
        constexpr std::size_t wd = simd::width<T>;
        const auto& self = *static_cast<const direct_epilogue_store*>(ctx);
        for (std::size_t b = 0; b < count; ++b) {
            T* dst = self.y + (co0 + b) * self.p + j;
            const B v = simd::load_aligned(tile + b * wd);
            if (n == wd)
                simd::store(dst, B((*self.epi)(v, co0 + b, j)));
            else
                simd::store_partial(dst, B((*self.epi)(v, co0 + b, j, n)), n);
        }
    }
};

/// dW partials for OB output channels from co0, input channel c and the two taps from t0: over
/// every step, acc[b][tt] += dZ[co0 + b] times the input shifted by tap t0 + tt, lane by lane
/// (summed across lanes at the end). Each shifted load serves OB channels, each dZ register
/// two taps: 2 OB FMAs per load of the input.
template <std::size_t OB, class T>
void direct_weight_taps(const direct_plan<T>& plan, const T* x, std::size_t c, const T* dz,
                        std::size_t co0, std::size_t t0, T* partial) {
    const conv_geometry& g = plan.geometry;
    using B = simd::batch<T>;
    constexpr std::size_t wd = simd::width<T>;
    const std::size_t p = g.positions(), ow = g.out_w();
    const std::ptrdiff_t from = static_cast<std::ptrdiff_t>(c * g.height * g.width);
    B acc[OB][2];
#pragma GCC unroll 8
    for (std::size_t b = 0; b < OB; ++b)
        acc[b][0] = acc[b][1] = B(T(0));
    for_each_step(plan, g.out_h(), [&]<step_kind Kind>(std::size_t oh) {
        const direct_step s = step_at(plan, oh);
        B xv[2][2];
#pragma GCC unroll 2
        for (std::size_t tt = 0; tt < 2; ++tt)
#pragma GCC unroll 2
            for (std::size_t u = 0; u < 2; ++u)
                xv[tt][u] =
                    simd::load_masked(masked_address(x, from + s.base[u] + plan.offset[t0 + tt]),
                                      tap_lanes<Kind>(plan, s, g.height, t0 + tt, u));
#pragma GCC unroll 2
        for (std::size_t u = 0; u < 2; ++u) {
            const unsigned live = s.active[u] ? plan.live[u] : 0u;
            const auto at = static_cast<std::ptrdiff_t>(s.out_row[u] * ow + plan.col0[u]);
#pragma GCC unroll 8
            for (std::size_t b = 0; b < OB; ++b) {
                const B d = simd::load_masked(
                    masked_address(dz, static_cast<std::ptrdiff_t>((co0 + b) * p) + at), live);
                acc[b][0] = simd::fma(d, xv[0][u], acc[b][0]);
                acc[b][1] = simd::fma(d, xv[1][u], acc[b][1]);
            }
        }
    });
    const std::size_t padded = plan.padded_taps;
#pragma GCC unroll 8
    for (std::size_t b = 0; b < OB; ++b)
#pragma GCC unroll 2
        for (std::size_t tt = 0; tt < 2; ++tt) {
            T* dst = partial + (((co0 + b) * g.channels + c) * padded + t0 + tt) * wd;
            simd::store(dst, simd::load(dst) + acc[b][tt]);
        }
}

template <std::size_t OB, class T>
void direct_weight_block(const direct_plan<T>& plan, const T* x, const T* dz, std::size_t co0,
                         T* partial) {
    for (std::size_t c = 0; c < plan.geometry.channels; ++c)
        for (std::size_t t0 = 0; t0 < plan.taps; t0 += 2)
            direct_weight_taps<OB>(plan, x, c, dz, co0, t0, partial);
}

/// Splits n channels into equal blocks of at most `most` (12 into two of 6, not 8 and 4) and
/// runs fn(first, count) on each.
template <class Fn>
void for_each_channel_block(std::size_t n, std::size_t most, Fn&& fn) {
    const std::size_t blocks = (n + most - 1) / most;
    for (std::size_t bl = 0, first = 0; bl < blocks; ++bl) {
        const std::size_t next = n * (bl + 1) / blocks;
        fn(first, next - first);
        first = next;
    }
}

template <class Fn, std::size_t... I>
void with_block_size(std::size_t n, Fn& fn, std::index_sequence<I...>) {
    (void)((n == I + 1 ? (fn.template operator()<I + 1>(), true) : false) || ...);
}

/// Calls fn.template operator()<B>() with B = n, a block size known at compile time
/// (1 <= n <= Most).
template <std::size_t Most, class Fn>
void with_block_size(std::size_t n, Fn&& fn) {
    with_block_size(n, fn, std::make_index_sequence<Most>{});
}

}  // namespace detail

/// True when the direct convolution serves geometry g for element type T: AVX-512 (masked loads
/// are single instructions), unit column stride, output rows of more than half a register and at
/// most two, and at most 96 taps per output (channels x window). Narrower rows would leave most
/// lanes idle (the register-block unfolding serves them). Deep windows are what im2col and the
/// GEMM do well: at 32 channels x 3x3 (288 taps, 64 outputs, 14x14) the GEMM path is 1.2x faster
/// forward and 1.9x backward, while the direct one is 1.3-1.8x faster at 9, 25 and 75 taps
/// (bench/conv.bench.cpp's first layers).
template <class T>
bool use_direct_conv(const conv_geometry& g) {
#if defined(__AVX512F__)
    if constexpr (detail::has_block_unfold<T>) {
        constexpr std::size_t w = simd::width<T>;
        const std::size_t ow = g.out_w(), window = g.kernel_h * g.kernel_w;
        return g.stride_w == 1 && 2 * ow > w && ow <= 2 * w && g.out_h() > 0 &&
               window <= detail::direct_plan<T>::max_taps && g.channels * window <= 96;
    }
#endif
    (void)g;
    return false;
}

/// Where the taps of geometry g read, for the functions below: built once per layer call, not
/// per image. Throws std::invalid_argument for a geometry they cannot take.
template <class T>
using direct_conv_plan = detail::direct_plan<T>;

/// Y [out_channels x P] = epi(W [out_channels x K] unfold(X)) for one image X [C, H, W] of
/// the plan's geometry, without unfolding: epi(v, r, j) / epi(v, r, j, n) as a GEMM epilogue sees
/// it (r the output channel, j the first position of the register, n its live lanes at a row's
/// end), its result stored to Y. Any geometry with unit column stride and rows at most two
/// registers wide (use_direct_conv tells when it pays).
template <class T, class Epilogue>
void conv_direct(const direct_conv_plan<T>& plan, const T* x, const T* w, std::size_t out_channels,
                 T* y, const Epilogue& epi) {
    static_assert(detail::edge_aware_epilogue<Epilogue, T>,
                  "conv_direct: the epilogue must take (v, r, j) and (v, r, j, n)");
    const conv_geometry& g = plan.geometry;
    const detail::direct_epilogue_store<T, Epilogue> store{&epi, y, g.positions()};
    const detail::direct_sink<T> sink{&detail::direct_epilogue_store<T, Epilogue>::store, &store};
    detail::for_each_channel_block(out_channels, 8, [&](std::size_t co0, std::size_t count) {
        detail::with_block_size<8>(count, [&]<std::size_t OB>() {
            detail::direct_forward_block<OB>(plan, x, w, co0, sink);
        });
    });
}

/// Scratch of direct_weight_grad: one register per (output channel, input channel, tap).
template <class T>
std::size_t direct_weight_partials(const direct_conv_plan<T>& plan, std::size_t out_channels) {
    return out_channels * plan.geometry.channels * plan.padded_taps * simd::width<T>;
}

/// dW += dZ unfold(X)^T for one image, as lane-wise partial sums: partial (direct_weight_partials
/// elements, zeroed before the first image) accumulates over images, and
/// direct_weight_grad_finish adds its lane sums to dW [out_channels x K].
template <class T>
void direct_weight_grad(const direct_conv_plan<T>& plan, const T* x, const T* dz,
                        std::size_t out_channels, T* partial) {
    // Six channels by two taps: 12 accumulators, 12 dZ registers and four shifted loads.
    detail::for_each_channel_block(out_channels, 6, [&](std::size_t co0, std::size_t count) {
        detail::with_block_size<6>(count, [&]<std::size_t OB>() {
            detail::direct_weight_block<OB>(plan, x, dz, co0, partial);
        });
    });
}

/// dW [out_channels x K] += the lane sums of direct_weight_grad's partials.
template <class T>
void direct_weight_grad_finish(const direct_conv_plan<T>& plan, std::size_t out_channels,
                               const T* partial, T* dw) {
    constexpr std::size_t wd = simd::width<T>;
    const std::size_t taps = plan.taps, padded = plan.padded_taps;
    for (std::size_t r = 0; r < out_channels * plan.geometry.channels; ++r)
        for (std::size_t t = 0; t < taps; ++t)
            dw[r * taps + t] += simd::hsum(simd::load(partial + (r * padded + t) * wd));
}

/// The same for one image without a plan at hand (each call describes the geometry again).
template <class T, class Epilogue>
void conv_direct(const conv_geometry& g, const T* x, const T* w, std::size_t out_channels, T* y,
                 const Epilogue& epi) {
    conv_direct(direct_conv_plan<T>(g), x, w, out_channels, y, epi);
}
template <class T>
std::size_t direct_weight_partials(const conv_geometry& g, std::size_t out_channels) {
    return direct_weight_partials(direct_conv_plan<T>(g), out_channels);
}
template <class T>
void direct_weight_grad(const conv_geometry& g, const T* x, const T* dz, std::size_t out_channels,
                        T* partial) {
    direct_weight_grad(direct_conv_plan<T>(g), x, dz, out_channels, partial);
}
template <class T>
void direct_weight_grad_finish(const conv_geometry& g, std::size_t out_channels, const T* partial,
                               T* dw) {
    direct_weight_grad_finish(direct_conv_plan<T>(g), out_channels, partial, dw);
}

}  // namespace dendrite::inline DENDRITE_TARGET::linalg
