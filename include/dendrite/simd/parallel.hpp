#pragma once
// Threads for large element-wise work, reductions and GEMM macro-loops.
//
// OpenMP rather than a hand-written pool: GCC and Clang ship it, its team of threads is created
// once and parked between regions (no allocation per region in steady state), and a region costs
// about a microsecond, which the size thresholds below amortise. Built without OpenMP, every
// region runs on the calling thread and the results are identical.

#include <algorithm>
#include <cstddef>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace dendrite {

/// Sets the number of threads every parallel kernel of the library uses (>= 1).
void set_num_threads(int n);

/// The number of threads parallel kernels use.
int num_threads() noexcept;

namespace simd {

/// Elements below which an element-wise pass stays on one thread: a region's start-up cost is
/// about the time of streaming this many floats.
inline constexpr std::size_t parallel_threshold = std::size_t{1} << 16;

/// Runs `body(begin, end)` over [0, n) split into at most num_threads() contiguous chunks whose
/// boundaries are multiples of `grain`. Runs inline when n < min_parallel or one thread is set.
template <class Body>
void parallel_for(std::size_t n, std::size_t grain, std::size_t min_parallel, Body&& body) {
#if defined(_OPENMP)
    const int threads = num_threads();
    if (threads > 1 && n >= min_parallel && !omp_in_parallel()) {
        const std::size_t chunks = static_cast<std::size_t>(threads);
        std::size_t per = (n + chunks - 1) / chunks;
        per = (per + grain - 1) / grain * grain;
#pragma omp parallel num_threads(threads)
        {
            const std::size_t t = static_cast<std::size_t>(omp_get_thread_num());
            const std::size_t b = std::min(n, t * per);
            const std::size_t e = std::min(n, b + per);
            if (b < e) body(b, e);
        }
        return;
    }
#else
    (void)grain;
    (void)min_parallel;
#endif
    if (n > 0) body(std::size_t{0}, n);
}

/// Reduces [0, n): each chunk computes `body(begin, end)`, chunks are combined in order with
/// `combine`, so the result is the same for a given thread count and independent of scheduling.
template <class R, class Body, class Combine>
R parallel_reduce(std::size_t n, std::size_t grain, std::size_t min_parallel, R identity, Body&& body,
                  Combine&& combine) {
#if defined(_OPENMP)
    constexpr int max_chunks = 64;
    const int threads = std::min(num_threads(), max_chunks);
    if (threads > 1 && n >= min_parallel && !omp_in_parallel()) {
        R partial[max_chunks];
        for (int t = 0; t < threads; ++t) partial[t] = identity;
        const std::size_t chunks = static_cast<std::size_t>(threads);
        std::size_t per = (n + chunks - 1) / chunks;
        per = (per + grain - 1) / grain * grain;
#pragma omp parallel num_threads(threads)
        {
            const int t = omp_get_thread_num();
            const std::size_t b = std::min(n, static_cast<std::size_t>(t) * per);
            const std::size_t e = std::min(n, b + per);
            if (b < e) partial[t] = body(b, e);
        }
        R r = identity;
        for (int t = 0; t < threads; ++t) r = combine(r, partial[t]);
        return r;
    }
#else
    (void)grain;
    (void)min_parallel;
#endif
    return n > 0 ? combine(identity, body(std::size_t{0}, n)) : identity;
}

}  // namespace simd
}  // namespace dendrite
