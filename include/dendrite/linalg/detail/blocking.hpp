#pragma once
// Register and cache blocking of the packed GEMM, derived from the SIMD width so that an
// AVX-512, AVX2 or SSE build each get a tile that fits their register file.

#include <cstddef>

#include "dendrite/config.hpp"
#include "dendrite/simd/simd.hpp"

namespace dendrite::inline DENDRITE_TARGET::linalg::detail {

template <class T>
struct blocking {
    static constexpr std::size_t w = simd::width<T>;
    // 64-byte registers come with 32 of them (AVX-512); narrower ISAs have 16.
    static constexpr bool wide = w * sizeof(T) >= 64;
    /// Registers across one row of the micro-tile.
    static constexpr std::size_t nv = 2;
    /// Micro-tile rows: accumulators mr * nv plus nv B registers and a broadcast must fit the
    /// register file, and mr * nv >= 2 x FMA latency x FMA ports keeps both FMA units busy.
    static constexpr std::size_t mr = wide ? 14 : 6;
    static constexpr std::size_t nr = nv * w;
    /// Depth of a packed panel: a kc x nr sliver of B (32 KiB) stays in the 48 KiB L1.
    static constexpr std::size_t kc = 32768 / (nr * sizeof(T)) > 512 ? 512
                                                                     : 32768 / (nr * sizeof(T));
    /// Rows of A packed at once: an mc x kc block (~512 KiB) stays in L2.
    static constexpr std::size_t mc = (524288 / (kc * sizeof(T))) / mr * mr;
    /// Columns of B packed at once: a kc x nc panel (4 MiB for float) stays in L3.
    static constexpr std::size_t nc = 4096;
};

}  // namespace dendrite::inline DENDRITE_TARGET::linalg::detail
