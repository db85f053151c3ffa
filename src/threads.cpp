// The thread pool behind simd::parallel_run (see simd/parallel.hpp for why it is not OpenMP).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>
#include <sched.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "dendrite/config.hpp"
#include "dendrite/simd/parallel.hpp"

namespace dendrite::inline DENDRITE_TARGET {

namespace {

int env_threads(const char* name) {
    const char* v = std::getenv(name);
    if (!v || !*v) return 0;
    char* end = nullptr;
    const long n = std::strtol(v, &end, 10);
    return *end == '\0' && n >= 1 && n <= 4096 ? static_cast<int>(n) : 0;
}

int initial_threads() noexcept {
    if (const int n = env_threads("DENDRITE_NUM_THREADS")) return n;
    if (const int n = env_threads("OMP_NUM_THREADS")) return n;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

std::atomic<int> configured_threads{initial_threads()};

void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
}

// How long a waiting thread polls before it sleeps: about the gap between two regions of a
// training step, so that consecutive regions hand over without a futex wake-up, yet short
// enough that a thread waiting for a descheduled one soon gives its core back.
constexpr auto spin_time = std::chrono::microseconds(50);

// Returns once value != old: polls for spin_time, then sleeps in std::atomic::wait.
std::uint32_t wait_for_change(const std::atomic<std::uint32_t>& value, std::uint32_t old) noexcept {
    std::uint32_t v = value.load(std::memory_order_acquire);
    if (v != old) return v;
    const auto deadline = std::chrono::steady_clock::now() + spin_time;
    for (unsigned i = 1;; ++i) {
        cpu_relax();
        v = value.load(std::memory_order_acquire);
        if (v != old) return v;
        if (i % 64 == 0 && std::chrono::steady_clock::now() >= deadline) break;
    }
    for (;;) {
        value.wait(old, std::memory_order_acquire);
        v = value.load(std::memory_order_acquire);
        if (v != old) return v;
    }
}

thread_local bool inside_region = false;

class pool {
  public:
    explicit pool(std::size_t workers) {
        threads_.reserve(workers);
        for (std::size_t i = 0; i < workers; ++i)
            threads_.emplace_back([this, i] { work(i + 1); });
    }
    pool(const pool&) = delete;
    pool& operator=(const pool&) = delete;
    ~pool() {
        stop_.store(true, std::memory_order_relaxed);
        generation_.fetch_add(1, std::memory_order_release);
        generation_.notify_all();
        for (auto& t : threads_)
            t.join();
    }

    std::size_t workers() const noexcept { return threads_.size(); }

    // Runs r on the caller (index 0) and on workers 1 .. used - 1; every worker takes part in the
    // count, so that the next region cannot begin while one still reads this one's task.
    void run(std::size_t used, simd::detail::region r) {
        region_ = r;
        used_ = used;
        pending_.store(static_cast<std::uint32_t>(threads_.size()), std::memory_order_relaxed);
        generation_.fetch_add(1, std::memory_order_release);
        generation_.notify_all();
        inside_region = true;
        std::exception_ptr error;
        try {
            r.call(r.body, 0);
        } catch (...) {
            error = std::current_exception();  // rethrown once no worker uses the region any more
        }
        inside_region = false;
        std::uint32_t left = pending_.load(std::memory_order_acquire);
        while (left != 0)
            left = wait_for_change(pending_, left);
        if (error) std::rethrow_exception(error);
    }

  private:
    void work(std::size_t index) {
        inside_region = true;
        std::uint32_t seen = 0;
        for (;;) {
            seen = wait_for_change(generation_, seen);
            if (stop_.load(std::memory_order_relaxed)) return;
            if (index < used_) region_.call(region_.body, index);
            if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
        }
    }

    std::vector<std::thread> threads_;
    simd::detail::region region_{};
    std::size_t used_ = 0;
    std::atomic<std::uint32_t> generation_{0};
    std::atomic<std::uint32_t> pending_{0};
    std::atomic<bool> stop_{false};
};

// One pool for the program, used by one region at a time: a second thread of the program that
// finds it busy runs its region inline rather than queue behind the first.
std::mutex pool_mutex;
pool* the_pool = nullptr;

struct pool_owner {
    ~pool_owner() {
        const std::lock_guard<std::mutex> lock(pool_mutex);
        delete the_pool;
        the_pool = nullptr;
    }
} owner;

// After fork() the child has none of the workers: forget the pool (its threads do not exist, so
// it cannot be joined) and start a new one on the next region.
[[maybe_unused]] const int at_fork = pthread_atfork(nullptr, nullptr, [] {
    the_pool = nullptr;
    new (&pool_mutex) std::mutex;
});

}  // namespace

void set_num_threads(int n) {
    if (n < 1)
        throw std::invalid_argument("set_num_threads: need at least 1 thread, got " +
                                    std::to_string(n));
    configured_threads.store(n, std::memory_order_relaxed);
}

int num_threads() noexcept {
    return configured_threads.load(std::memory_order_relaxed);
}

namespace simd::detail {

void run_region(std::size_t used, region r) {
    std::unique_lock<std::mutex> lock(pool_mutex, std::defer_lock);
    if (inside_region || !lock.try_lock()) {
        for (std::size_t t = 0; t < used; ++t)
            r.call(r.body, t);
        return;
    }
    // Sized for the configured thread count: idle extra workers would still wake for every region.
    const std::size_t wanted = std::max(used, static_cast<std::size_t>(num_threads())) - 1;
    if (!the_pool || the_pool->workers() + 1 < used || the_pool->workers() > wanted) {
        delete the_pool;
        the_pool = nullptr;
        the_pool = new pool(wanted);
    }
    the_pool->run(used, r);
}

}  // namespace simd::detail

}  // namespace dendrite::inline DENDRITE_TARGET
