#pragma once
// The macro-loops of the packed GEMM (BLIS order: nc columns of B, kc depth, mc rows of A,
// then nr x mr micro-tiles) and their split over threads.

#include <algorithm>
#include <cstddef>

#include "dendrite/config.hpp"
#include "dendrite/linalg/detail/blocking.hpp"
#include "dendrite/linalg/detail/microkernel.hpp"
#include "dendrite/linalg/detail/pack.hpp"
#include "dendrite/linalg/detail/scratch.hpp"
#include "dendrite/linalg/operand.hpp"
#include "dendrite/simd/parallel.hpp"

namespace dendrite::inline DENDRITE_TARGET::linalg::detail {

/// Rows of op(A) at or below which a row-major op(B) is read in place instead of packed: each
/// element of B then serves too few rows for the copy to pay for itself.
template <class T>
inline constexpr std::size_t unpacked_b_rows = 10 * blocking<T>::mr;

/// Products below this many multiply-adds stay on one thread.
inline constexpr std::size_t parallel_madds = std::size_t{1} << 18;

/// C[i0..i1, j0..j1) of the product on the calling thread. `sums`, when given, receives the
/// column sums of op(B) for columns [j0, j1) (indexed by global column).
template <class T, class SA, class SB, class Epilogue>
void gemm_block(std::size_t i0, std::size_t i1, std::size_t j0, std::size_t j1, std::size_t k,
                T alpha, const operand<SA>& a, const operand<SB>& b, T beta, T* c, std::size_t ldc,
                const Epilogue& epi, T* sums) {
    using bk = blocking<T>;
    constexpr std::size_t mr = bk::mr, nr = bk::nr, w = bk::w, nv = bk::nv;
    const std::size_t m = i1 - i0;
    const bool in_place_b = is_view<SB> && !b.trans && sums == nullptr && m <= unpacked_b_rows<T>;
    // A transposed A already has each depth step's rows contiguous; with a single sliver of
    // columns each element is used once per step, so packing would only add a copy.
    const bool in_place_a = is_view<SA> && a.trans && j1 - j0 <= nr;
    const std::size_t kc_max = std::min(bk::kc, k);
    T* abuf = scratch<T>(0, (std::min(bk::mc, m) + mr - 1) / mr * mr * kc_max + w);
    T* bbuf =
        scratch<T>(1, (in_place_b ? nr : (std::min(bk::nc, j1 - j0) + nr - 1) / nr * nr) * kc_max);
    const kernel_fn<T>* table = kernel_table<T>();
    const tile_store<T> store{&store_tile<T, Epilogue>, &epi};

    for (std::size_t jc = j0; jc < j1; jc += bk::nc) {
        const std::size_t nc = std::min(bk::nc, j1 - jc);
        const std::size_t full_nc = in_place_b ? nc / nr * nr : nc;
        for (std::size_t pc = 0; pc < k; pc += bk::kc) {
            const std::size_t kc = std::min(bk::kc, k - pc);
            const bool last = pc + kc == k;
            const T beta_k = pc == 0 ? beta : T(1);
            if (!in_place_b)
                pack_b(b, pc, kc, jc, nc, bbuf, sums ? sums + jc : nullptr);
            else if (full_nc < nc)
                pack_b(b, pc, kc, jc + full_nc, nc - full_nc, bbuf, static_cast<T*>(nullptr));
            for (std::size_t ic = i0; ic < i1; ic += bk::mc) {
                const std::size_t mc = std::min(bk::mc, i1 - ic);
                if (!in_place_a) pack_a(a, ic, mc, pc, kc, abuf);
                for (std::size_t jr = 0; jr < nc; jr += nr) {
                    const std::size_t cols = std::min(nr, nc - jr);
                    tile_args<T> t{kc,   nullptr, mr,     nullptr, nr, nullptr, ldc,
                                   cols, alpha,   beta_k, last,    0,  jc + jr};
                    if (!in_place_b) {
                        t.b = bbuf + jr * kc;
                    } else if (jr < full_nc) {
                        if constexpr (is_view<SB>) {
                            t.b = b.src.p + pc * b.src.ld + jc + jr;
                            t.ldb = b.src.ld;
                        }
                    } else {
                        t.b = bbuf;
                    }
                    const std::size_t regs = (cols + w - 1) / w;
                    for (std::size_t ir = 0; ir < mc; ir += mr) {
                        const std::size_t rows = std::min(mr, mc - ir);
                        if (!in_place_a) {
                            t.a = abuf + ir * kc;
                        } else if constexpr (is_view<SA>) {
                            t.a = a.src.p + pc * a.src.ld + ic + ir;
                            t.lda = a.src.ld;
                        }
                        t.c = c + (ic + ir) * ldc + jc + jr;
                        t.i = ic + ir;
                        table[(rows - 1) * nv + regs - 1](t, store);
                    }
                }
            }
        }
    }
}

/// C = epi(alpha op(A) op(B) + beta C) for operands of any source; `sums` (length n, may be
/// null) becomes beta * sums + the column sums of op(B).
template <class T, class SA, class SB, class Epilogue>
void gemm_driver(std::size_t m, std::size_t n, std::size_t k, T alpha, const operand<SA>& a,
                 const operand<SB>& b, T beta, T* c, std::size_t ldc, const Epilogue& epi,
                 T* sums) {
    using bk = blocking<T>;
    if (sums)
        for (std::size_t j = 0; j < n; ++j)
            sums[j] = beta == T(0) ? T(0) : beta * sums[j];
    if (n == 0) return;
    if (m == 0 || k == 0 || (alpha == T(0) && sums == nullptr)) {
        for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = 0; j < n; ++j) {
                T& x = c[i * ldc + j];
                x = epi(beta == T(0) ? T(0) : beta * x, i, j);
            }
        if (sums && m == 0)
            for (std::size_t p = 0; p < k; ++p)
                for (std::size_t j = 0; j < n; ++j)
                    sums[j] += b.trans ? b.src.template get<T>(j, p) : b.src.template get<T>(p, j);
        return;
    }
    const auto threads = static_cast<std::size_t>(num_threads());
    if (threads > 1 && m * n * k >= parallel_madds) {
        // Split C into independent stripes, one per thread: no barriers, and each thread packs
        // its own panels into its own L2. Columns are preferred: the threads then share A,
        // the smaller packed operand when n is wide.
        const std::size_t mblocks = (m + bk::mr - 1) / bk::mr;
        const std::size_t nblocks = (n + bk::nr - 1) / bk::nr;
        const bool split_n = nblocks >= threads * 2 || nblocks * bk::nr >= mblocks * bk::mr;
        const std::size_t blocks = split_n ? nblocks : mblocks;
        const std::size_t unit = split_n ? bk::nr : bk::mr;
        const std::size_t extent = split_n ? n : m;
        const std::size_t used = std::min(threads, blocks);
        if (used > 1) {
            simd::parallel_run(used, [&](std::size_t t) {
                const std::size_t b0 = std::min(extent, blocks * t / used * unit);
                const std::size_t b1 = std::min(extent, blocks * (t + 1) / used * unit);
                if (b0 < b1) {
                    if (split_n)
                        gemm_block(0, m, b0, b1, k, alpha, a, b, beta, c, ldc, epi, sums);
                    else
                        gemm_block(b0, b1, 0, n, k, alpha, a, b, beta, c, ldc, epi,
                                   t == 0 ? sums : nullptr);
                }
            });
            return;
        }
    }
    gemm_block(0, m, 0, n, k, alpha, a, b, beta, c, ldc, epi, sums);
}

}  // namespace dendrite::inline DENDRITE_TARGET::linalg::detail
