#pragma once
// The register-blocked inner product: an R x (V * width) tile of C accumulated in registers
// over kc rank-1 updates, then scaled, merged with C, passed through the epilogue and stored.

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <utility>

#include "dendrite/config.hpp"
#include "dendrite/linalg/detail/blocking.hpp"
#include "dendrite/simd/loop.hpp"
#include "dendrite/simd/simd.hpp"

namespace dendrite::inline DENDRITE_TARGET::linalg::detail {

/// Arguments of one micro-kernel call. `a` holds kc steps of (at least) R rows, `lda` apart
/// (blocking::mr when packed, the row stride of a transposed A read in place), `b` holds kc rows of
/// (at least) V * width values, `ldb` apart (nr when packed, the row stride of B when read in
/// place).
template <class T>
struct tile_args {
    std::size_t kc;
    const T* a;
    std::size_t lda;
    const T* b;
    std::size_t ldb;
    T* c;
    std::size_t ldc;
    std::size_t cols;  // valid columns of the tile, <= V * width
    T alpha;
    T beta;         // 0: C is not read
    bool last;      // the last k block: apply the epilogue
    std::size_t i;  // global row and column of the tile, for the epilogue
    std::size_t j;
};

/// How a finished tile leaves the registers: `fn(acc, rows, regs, args, epi)` writes the
/// rows x regs accumulators (row-major in `acc`) to C. The micro-kernels reach it through this
/// pointer, so that they are compiled once per value type and tile shape, not once per
/// epilogue: one indirect call per tile of up to 14 x 32 products.
template <class T>
struct tile_store {
    void (*fn)(const simd::batch<T>* acc, std::size_t rows, std::size_t regs, const tile_args<T>& t,
               const void* epi);
    const void* epi;
};

/// True when `epi(v, i, j, n)` takes a register whose first n lanes only are columns of C.
template <class Epilogue, class T>
concept edge_aware_epilogue = requires(const Epilogue& e, simd::batch<T> v, std::size_t i) {
    { e(v, i, i, i) } -> std::convertible_to<simd::batch<T>>;
};

/// Writes a rows x regs register tile: C = epi(alpha acc + beta C) on the last k block, else
/// C = alpha acc + beta C. Kept out of line: inlined, its partial-tile path made GCC keep one
/// accumulator of the k loop in memory, a store-to-load chain on every step.
template <class T, class Epilogue>
[[gnu::noinline]] void store_tile(const simd::batch<T>* acc, std::size_t rows, std::size_t regs,
                                  const tile_args<T>& t, const void* epi_ptr) {
    using B = simd::batch<T>;
    constexpr std::size_t w = simd::width<T>;
    const Epilogue& epi = *static_cast<const Epilogue*>(epi_ptr);
    const B alpha(t.alpha), beta(t.beta);
    const bool read_c = t.beta != T(0);
    const std::size_t cols = std::min(t.cols, regs * w);
    for (std::size_t r = 0; r < rows; ++r) {
        T* crow = t.c + r * t.ldc;
        const B* a = acc + r * regs;
        simd::for_registers<T>(0, cols, [&](std::size_t j, auto lanes) {
            if constexpr (!decltype(lanes)::partial) {
                B x = a[j / w] * alpha;
                if (read_c) x = simd::fma(beta, simd::load(crow + j), x);
                if (t.last) x = epi(x, t.i + r, t.j + j);
                simd::store(crow + j, x);
            } else if constexpr (edge_aware_epilogue<Epilogue, T>) {
                // The right edge as one masked register: the epilogue (an activation's vector
                // code) runs once rather than once per column.
                const std::size_t n = lanes.count();
                B x = a[j / w] * alpha;
                if (read_c) x = simd::fma(beta, lanes.load(crow + j), x);
                if (t.last) x = epi(x, t.i + r, t.j + j, n);
                lanes.store(crow + j, x);
            } else {
                alignas(simd::alignment) T tmp[w];
                simd::store_aligned(tmp, a[j / w]);
                for (std::size_t l = 0; l < lanes.count(); ++l) {
                    T x = tmp[l] * t.alpha;
                    if (read_c) x = t.beta * crow[j + l] + x;
                    if (t.last) x = epi(x, t.i + r, t.j + j + l);
                    crow[j + l] = x;
                }
            }
        });
    }
}

/// C tile += a sliver (R rows) times b (V registers wide) over kc steps, then the tile store.
template <class T, std::size_t R, std::size_t V>
void micro_kernel(const tile_args<T>& t, const tile_store<T>& store) {
    using B = simd::batch<T>;
    constexpr std::size_t w = simd::width<T>;
    B acc[R][V];
#pragma GCC unroll 16
    for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (std::size_t v = 0; v < V; ++v)
            acc[r][v] = B(T(0));

    const T* DENDRITE_RESTRICT a = t.a;
    const T* DENDRITE_RESTRICT b = t.b;
    const std::size_t lda = t.lda, ldb = t.ldb;
    for (std::size_t p = 0; p < t.kc; ++p) {
        B bv[V];
#pragma GCC unroll 4
        for (std::size_t v = 0; v < V; ++v)
            bv[v] = simd::load(b + v * w);
#pragma GCC unroll 16
        for (std::size_t r = 0; r < R; ++r) {
            const B ar(a[r]);
#pragma GCC unroll 4
            for (std::size_t v = 0; v < V; ++v)
                acc[r][v] = simd::fma(ar, bv[v], acc[r][v]);
        }
        a += lda;
        b += ldb;
    }
    // The accumulators leave through a copy: were their own address passed on, GCC would keep
    // them in memory throughout the k loop.
    B out[R * V];
#pragma GCC unroll 16
    for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (std::size_t v = 0; v < V; ++v)
            out[r * V + v] = acc[r][v];
    store.fn(out, R, V, t, store.epi);
}

template <class T>
using kernel_fn = void (*)(const tile_args<T>&, const tile_store<T>&);

template <class T, std::size_t... I>
constexpr auto make_kernel_table(std::index_sequence<I...>) {
    constexpr std::size_t nv = blocking<T>::nv;
    return std::array<kernel_fn<T>, sizeof...(I)>{&micro_kernel<T, I / nv + 1, I % nv + 1>...};
}

/// Kernels for every tile shape: entry (rows - 1) * nv + (registers - 1). Edge tiles run a
/// kernel of their own size rather than a padded full tile, so the m = 32 of a small batch
/// wastes no flops on padding rows. Compiled once for float and double (src/linalg/gemm.cpp).
template <class T>
const kernel_fn<T>* kernel_table() noexcept {
    static constexpr auto table =
        make_kernel_table<T>(std::make_index_sequence<blocking<T>::mr * blocking<T>::nv>{});
    return table.data();
}
extern template const kernel_fn<float>* kernel_table<float>() noexcept;
extern template const kernel_fn<double>* kernel_table<double>() noexcept;

}  // namespace dendrite::inline DENDRITE_TARGET::linalg::detail
