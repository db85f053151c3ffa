#include <atomic>
#include <stdexcept>
#include <string>

#include "dendrite/simd/parallel.hpp"

namespace dendrite {

namespace {
int initial_threads() noexcept {
#if defined(_OPENMP)
    return omp_get_max_threads();
#else
    return 1;
#endif
}
std::atomic<int> configured_threads{initial_threads()};
}  // namespace

void set_num_threads(int n) {
    if (n < 1) throw std::invalid_argument("set_num_threads: need at least 1 thread, got " + std::to_string(n));
    configured_threads.store(n, std::memory_order_relaxed);
}

int num_threads() noexcept { return configured_threads.load(std::memory_order_relaxed); }

}  // namespace dendrite
