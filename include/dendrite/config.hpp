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
