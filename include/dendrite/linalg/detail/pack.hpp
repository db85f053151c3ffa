#pragma once
// Packing copies a block of op(A) or op(B) into the order the micro-kernel reads it, so the
// kernel streams contiguous, aligned memory whatever the operand's transposition and stride.
// Packing is also where an operand given as a formula (zipped) is evaluated, once per block.

#include <algorithm>
#include <cstddef>

#include "dendrite/config.hpp"
#include "dendrite/linalg/detail/blocking.hpp"
#include "dendrite/linalg/operand.hpp"
#include "dendrite/simd/loop.hpp"
#include "dendrite/simd/simd.hpp"

namespace dendrite::inline DENDRITE_TARGET::linalg::detail {

/// An operand of the product: its source and whether op() transposes it.
template <class S>
struct operand {
    S src;
    bool trans;
};

/// Writes S(r, c + l) to dst[l * stride] for l < n <= width (a run of one of S's rows into a
/// column of a packed block) and returns its sum: the formula of a zipped operand is evaluated
/// on the run as one register.
template <class S, class T>
DENDRITE_ALWAYS_INLINE T scatter_run(const S& src, std::size_t r, std::size_t c, std::size_t n,
                                     T* dst, std::size_t stride) {
    constexpr std::size_t w = simd::width<T>;
    const simd::batch<T> x =
        n == w ? src.template get<simd::batch<T>>(r, c) : src.get_first(r, c, n);
    alignas(simd::alignment) T run[w];
    simd::store_aligned(run, x);
    for (std::size_t l = 0; l < n; ++l)
        dst[l * stride] = run[l];
    return simd::hsum(x);
}

/// Elements (r, c) .. of S in the lanes of a register (simd::for_registers's `lanes`): a whole
/// register, or the first lanes.count() elements, zero past them.
template <class T, class S, class Lanes>
DENDRITE_ALWAYS_INLINE simd::batch<T> run_of(const S& src, std::size_t r, std::size_t c,
                                             Lanes lanes) {
    if constexpr (Lanes::partial)
        return src.get_first(r, c, lanes.count());
    else
        return src.template get<simd::batch<T>>(r, c);
}

/// Packs rows [i0, i0 + mc) x depth [p0, p0 + kc) of op(A) into slivers of mr rows:
/// dst[s * mr * kc + q * mr + r] = op(A)[i0 + s * mr + r][p0 + q]. Rows past mc are left unset
/// (the edge kernel does not read them); up to simd::width<T> elements past the block may be
/// written, so the buffer needs that much slack.
template <class T, class S>
void pack_a(const operand<S>& a, std::size_t i0, std::size_t mc, std::size_t p0, std::size_t kc,
            T* DENDRITE_RESTRICT dst) {
    using B = simd::batch<T>;
    constexpr std::size_t w = simd::width<T>;
    constexpr std::size_t mr = blocking<T>::mr;
    for (std::size_t s = 0; s < mc; s += mr, dst += mr * kc) {
        const std::size_t rows = std::min(mr, mc - s);
        const std::size_t i = i0 + s;
        if (a.trans) {
            // op(A)[i][p] = S(p, i): each depth step is a contiguous run of rows. One register
            // covers the sliver; its lanes past mr land in the next step's slot (rewritten
            // next) or in the buffer's slack.
            const bool one_store = rows <= w && i + w <= i0 + mc;
            for (std::size_t q = 0; q < kc; ++q) {
                T* d = dst + q * mr;
                if (one_store) {
                    simd::store(d, a.src.template get<B>(p0 + q, i));
                    continue;
                }
                simd::for_registers<T>(0, rows, [&](std::size_t r, auto lanes) {
                    lanes.store(d + r, run_of<T>(a.src, p0 + q, i + r, lanes));
                });
            }
        } else {
            // op(A)[i][p] = S(i, p): read w depths of w rows, transpose in registers, store w
            // depth steps. Stores spill past mr as above, so steps go in ascending order.
            constexpr std::size_t groups = (mr + w - 1) / w;
            simd::for_registers<T>(0, kc, [&](std::size_t q, auto lanes) {
                if constexpr (!decltype(lanes)::partial) {
                    B blk[groups][w];
                    for (std::size_t g = 0; g < groups; ++g) {
                        for (std::size_t l = 0; l < w; ++l)
                            blk[g][l] = g * w + l < rows
                                            ? a.src.template get<B>(i + g * w + l, p0 + q)
                                            : B(T(0));
                        simd::transpose(blk[g]);
                    }
                    for (std::size_t l = 0; l < w; ++l)
                        for (std::size_t g = 0; g < groups; ++g)
                            simd::store(dst + (q + l) * mr + g * w, blk[g][l]);
                } else {
                    // The last kc % w depths: each row's run in one register (an operand's
                    // formula evaluated once per register, not per element), scattered to its
                    // depth steps.
                    for (std::size_t r = 0; r < rows; ++r)
                        scatter_run(a.src, i + r, p0 + q, lanes.count(), dst + q * mr + r, mr);
                }
            });
        }
    }
}

/// Packs depth [p0, p0 + kc) x columns [j0, j0 + nc) of op(B) into slivers of nr columns:
/// dst[s * nr * kc + q * nr + c] = op(B)[p0 + q][j0 + s * nr + c], zero past nc. When `sums`
/// is given, sums[c] += sum over q of op(B)[p0 + q][j0 + c], for c in [0, nc).
template <class T, class S>
void pack_b(const operand<S>& b, std::size_t p0, std::size_t kc, std::size_t j0, std::size_t nc,
            T* DENDRITE_RESTRICT dst, T* DENDRITE_RESTRICT sums) {
    using B = simd::batch<T>;
    constexpr std::size_t w = simd::width<T>;
    constexpr std::size_t nv = blocking<T>::nv;
    constexpr std::size_t nr = blocking<T>::nr;
    for (std::size_t s = 0; s < nc; s += nr, dst += nr * kc) {
        const std::size_t cols = std::min(nr, nc - s);
        const std::size_t j = j0 + s;
        if (!b.trans) {
            // op(B)[p][j] = S(p, j): rows of the sliver are contiguous runs of S.
            B acc[nv];
            for (std::size_t v = 0; v < nv; ++v)
                acc[v] = B(T(0));
            if (cols == nr) {
                for (std::size_t q = 0; q < kc; ++q)
#pragma GCC unroll 4
                    for (std::size_t v = 0; v < nv; ++v) {
                        const B x = b.src.template get<B>(p0 + q, j + v * w);
                        acc[v] += x;
                        simd::store_aligned(dst + q * nr + v * w, x);
                    }
            } else {
                // The sliver's columns in registers, the last one masked; zeros past them.
                const std::size_t used = (cols + w - 1) / w;
                for (std::size_t q = 0; q < kc; ++q) {
                    simd::for_registers<T>(0, cols, [&](std::size_t c, auto lanes) {
                        const B x = run_of<T>(b.src, p0 + q, j + c, lanes);
                        acc[c / w] += x;
                        simd::store_aligned(dst + q * nr + c, x);
                    });
                    for (std::size_t v = used; v < nv; ++v)
                        simd::store_aligned(dst + q * nr + v * w, B(T(0)));
                }
            }
            if (sums) {
                alignas(simd::alignment) T tot[nr];
                for (std::size_t v = 0; v < nv; ++v)
                    simd::store_aligned(tot + v * w, acc[v]);
                for (std::size_t c = 0; c < cols; ++c)
                    sums[s + c] += tot[c];
            }
        } else if (cols == nr) {
            // op(B)[p][j] = S(j, p): w columns x w depths per register transpose.
            B acc[nv];
            for (std::size_t v = 0; v < nv; ++v)
                acc[v] = B(T(0));
            alignas(simd::alignment) T tot[nr];
            auto total = [&] {
                for (std::size_t v = 0; v < nv; ++v)
                    simd::store_aligned(tot + v * w, acc[v]);
            };
            bool totalled = false;
            simd::for_registers<T>(0, kc, [&](std::size_t q, auto lanes) {
                if constexpr (!decltype(lanes)::partial) {
                    for (std::size_t v = 0; v < nv; ++v) {
                        B blk[w];
                        for (std::size_t l = 0; l < w; ++l)
                            blk[l] = b.src.template get<B>(j + v * w + l, p0 + q);
                        simd::transpose(blk);
                        for (std::size_t l = 0; l < w; ++l) {
                            acc[v] += blk[l];
                            simd::store_aligned(dst + (q + l) * nr + v * w, blk[l]);
                        }
                    }
                } else {
                    // The registers' column sums first, then each column's last depths: the
                    // order of the additions a column's sum has always had.
                    total();
                    totalled = true;
                    for (std::size_t c = 0; c < nr; ++c)
                        tot[c] +=
                            scatter_run(b.src, j + c, p0 + q, lanes.count(), dst + q * nr + c, nr);
                }
            });
            if (!totalled) total();
            if (sums)
                for (std::size_t c = 0; c < nr; ++c)
                    sums[s + c] += tot[c];
        } else {
            // The last, partial sliver: column by column (each a run of S's row), zero past cols.
            for (std::size_t c = 0; c < nr; ++c) {
                T* d = dst + c;
                if (c >= cols) {
                    for (std::size_t q = 0; q < kc; ++q)
                        d[q * nr] = T(0);
                    continue;
                }
                T tot = 0;
                simd::for_registers<T>(0, kc, [&](std::size_t q, auto lanes) {
                    tot += scatter_run(b.src, j + c, p0 + q, lanes.count(), d + q * nr, nr);
                });
                if (sums) sums[s + c] += tot;
            }
        }
    }
}

}  // namespace dendrite::inline DENDRITE_TARGET::linalg::detail
