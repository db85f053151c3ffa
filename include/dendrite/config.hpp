#pragma once
// The one home of the library's macros.

#define DENDRITE_VERSION_MAJOR 0
#define DENDRITE_VERSION_MINOR 1
#define DENDRITE_VERSION_PATCH 0

#if defined(__GNUC__) || defined(__clang__)
#define DENDRITE_ALWAYS_INLINE inline __attribute__((always_inline))
#define DENDRITE_RESTRICT __restrict__
#else
#define DENDRITE_ALWAYS_INLINE inline
#define DENDRITE_RESTRICT
#endif

// The instruction set this translation unit is compiled for, named as xsimd chooses its registers
// (xsimd's own feature macros, so the name changes exactly when the generated code does). Every
// entity of the library lives in the inline namespace dendrite::DENDRITE_TARGET: units compiled
// for different targets share no symbol, so they never silently break the one-definition rule,
// and a unit that does not match the compiled library fails to link (target_check.hpp names both
// targets). Users write dendrite::tensor, dendrite::nn::dense... as if the namespace were not
// there.
#include <xsimd/config/xsimd_config.hpp>
#if XSIMD_WITH_AVX512BW
#define DENDRITE_TARGET target_avx512bw
#elif XSIMD_WITH_AVX512DQ
#define DENDRITE_TARGET target_avx512dq
#elif XSIMD_WITH_AVX512CD
#define DENDRITE_TARGET target_avx512cd
#elif XSIMD_WITH_AVX512F
#define DENDRITE_TARGET target_avx512f
#elif XSIMD_WITH_FMA3_AVX2
#define DENDRITE_TARGET target_avx2_fma
#elif XSIMD_WITH_AVX2
#define DENDRITE_TARGET target_avx2
#elif XSIMD_WITH_FMA3_AVX
#define DENDRITE_TARGET target_avx_fma
#elif XSIMD_WITH_AVX
#define DENDRITE_TARGET target_avx
#elif XSIMD_WITH_FMA3_SSE
#define DENDRITE_TARGET target_sse4_2_fma
#elif XSIMD_WITH_SSE4_2
#define DENDRITE_TARGET target_sse4_2
#elif XSIMD_WITH_SSE4_1
#define DENDRITE_TARGET target_sse4_1
#elif XSIMD_WITH_SSSE3
#define DENDRITE_TARGET target_ssse3
#elif XSIMD_WITH_SSE3
#define DENDRITE_TARGET target_sse3
#elif XSIMD_WITH_SSE2
#define DENDRITE_TARGET target_sse2
#elif XSIMD_WITH_NEON64
#define DENDRITE_TARGET target_neon64
#elif XSIMD_WITH_NEON
#define DENDRITE_TARGET target_neon
#else
#define DENDRITE_TARGET target_scalar
#endif

namespace dendrite {
inline namespace DENDRITE_TARGET {}
}  // namespace dendrite
