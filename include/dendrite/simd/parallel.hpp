#pragma once
// Threads for large element-wise work, reductions, GEMM and convolution macro-loops.
//
// A small pool of our own rather than OpenMP. Every parallel region of the library is a fork of
// independent chunks and one join, with no barrier inside; what decides its cost is how threads
// wait between regions. OpenMP's runtime spins for a long time before it sleeps (libgomp: 300000
// iterations, tunable only through environment variables read before main), and on a machine
// whose cores also run other work a spinning thread takes the time of the very thread it waits
// for: a two-thread training step measured 5-10x slower than one thread. The pool spins briefly
// (about the gap between the regions of a training step) and then sleeps on a futex
// (std::atomic::wait), so an idle machine keeps the fast hand-off and a loaded one degrades
// gracefully. Workers start on first use and are kept. Chunk t of a region always does the same
// arithmetic, so results depend on the thread count, never on scheduling.

#include <algorithm>
#include <cstddef>

#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET {

/// Sets the number of threads every parallel kernel of the library uses (>= 1). The default is
/// DENDRITE_NUM_THREADS, else OMP_NUM_THREADS, else the CPUs this process may run on.
void set_num_threads(int n);

/// The number of threads parallel kernels use.
int num_threads() noexcept;

namespace simd {

namespace detail {
/// A reference to `body(thread index)` without allocation.
struct region {
    void (*call)(const void* body, std::size_t thread);
    const void* body;
};
/// Runs the region on threads [0, used), 0 being the caller, and returns when all have finished.
/// Called from inside a region (or while another thread of the program holds the pool), it runs
/// the indices one after another on the caller instead.
void run_region(std::size_t used, region r);
}  // namespace detail

/// Calls body(t) for every t in [0, used), each on its own thread (t = 0 on the caller). The body
/// must not throw.
template <class Body>
void parallel_run(std::size_t used, const Body& body) {
    if (used == 1) body(std::size_t{0});
    if (used <= 1) return;
    detail::run_region(
        used, {[](const void* b, std::size_t t) { (*static_cast<const Body*>(b))(t); }, &body});
}

/// Elements below which an element-wise pass stays on one thread: a region's start-up cost is
/// about the time of streaming this many floats.
inline constexpr std::size_t parallel_threshold = std::size_t{1} << 16;

/// Runs `body(begin, end)` over [0, n) split into at most num_threads() contiguous chunks whose
/// boundaries are multiples of `grain`. Runs inline when n < min_parallel or one thread is set.
template <class Body>
void parallel_for(std::size_t n, std::size_t grain, std::size_t min_parallel, Body&& body) {
    const auto threads = static_cast<std::size_t>(num_threads());
    if (threads > 1 && n >= min_parallel) {
        std::size_t per = (n + threads - 1) / threads;
        per = (per + grain - 1) / grain * grain;
        parallel_run(threads, [&](std::size_t t) {
            const std::size_t b = std::min(n, t * per);
            const std::size_t e = std::min(n, b + per);
            if (b < e) body(b, e);
        });
        return;
    }
    if (n > 0) body(std::size_t{0}, n);
}

/// Reduces [0, n): each chunk computes `body(begin, end)`, chunks are combined in order with
/// `combine`, so the result is the same for a given thread count and independent of scheduling.
template <class R, class Body, class Combine>
R parallel_reduce(std::size_t n, std::size_t grain, std::size_t min_parallel, R identity,
                  Body&& body, Combine&& combine) {
    constexpr std::size_t max_chunks = 64;
    const std::size_t threads = std::min(static_cast<std::size_t>(num_threads()), max_chunks);
    if (threads > 1 && n >= min_parallel) {
        R partial[max_chunks];
        for (std::size_t t = 0; t < threads; ++t)
            partial[t] = identity;
        std::size_t per = (n + threads - 1) / threads;
        per = (per + grain - 1) / grain * grain;
        parallel_run(threads, [&](std::size_t t) {
            const std::size_t b = std::min(n, t * per);
            const std::size_t e = std::min(n, b + per);
            if (b < e) partial[t] = body(b, e);
        });
        R r = identity;
        for (std::size_t t = 0; t < threads; ++t)
            r = combine(r, partial[t]);
        return r;
    }
    return n > 0 ? combine(identity, body(std::size_t{0}, n)) : identity;
}

}  // namespace simd
}  // namespace dendrite::inline DENDRITE_TARGET
