#include "dendrite/data/loader.hpp"
#include "dendrite/config.hpp"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <thread>

#include "dendrite/data/error.hpp"
#include "dendrite/simd/parallel.hpp"

namespace dendrite::inline DENDRITE_TARGET::data {

namespace {

// Copies the examples rows[begin, end) of x (row floats each) and their labels to positions
// [begin, end) of dst_x, dst_y. Each row is a new stream that the hardware prefetcher only picks
// up after a few misses, so the rows a few places ahead (below `limit`) are requested early.
void gather_rows(const float* x, const std::int32_t* y, std::size_t row, const std::size_t* rows,
                 std::size_t begin, std::size_t end, std::size_t limit, float* dst_x,
                 std::int32_t* dst_y) noexcept {
    constexpr std::size_t ahead = 4, line = 64, max_prefetch = 4096;
    const std::size_t bytes = row * sizeof(float), prefetched = std::min(bytes, max_prefetch);
    for (std::size_t k = begin; k < end; ++k) {
        if (k + ahead < limit) {
            const char* next = reinterpret_cast<const char*>(x + rows[k + ahead] * row);
            for (std::size_t b = 0; b < prefetched; b += line)
                __builtin_prefetch(next + b);
        }
        std::memcpy(dst_x + k * row, x + rows[k] * row, bytes);
        dst_y[k] = y[rows[k]];
    }
}

// gather_rows over the library's threads (inline below 64 KiB): the copy is bound by memory
// latency and bandwidth, which two cores use better than one.
void gather_rows_parallel(const float* x, const std::int32_t* y, std::size_t row,
                          const std::size_t* rows, std::size_t begin, std::size_t end, float* dst_x,
                          std::int32_t* dst_y) {
    constexpr std::size_t min_bytes = std::size_t{64} << 10;
    const std::size_t min_rows = std::max<std::size_t>(1, min_bytes / (row * sizeof(float) + 1));
    simd::parallel_for(end - begin, 1, min_rows, [&](std::size_t b, std::size_t e) {
        gather_rows(x, y, row, rows, begin + b, begin + e, begin + e, dst_x, dst_y);
    });
}

bool several_cpus() noexcept {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set) > 1;
    return std::thread::hardware_concurrency() > 1;
}

}  // namespace

// The background gathering of a shuffling loader. Three buffers ("slots") move between the
// caller and one thread through an atomic state each:
//
//   free --post--> queued --thread--> writing --thread--> ready --take--> owned --take--> free
//
// take() may also claim a queued slot (the thread never started it: the caller gathers it
// itself), or abandon a writing one: it copies the rows the thread has finished (published in
// `done`), gathers the rest into another slot, and the thread, seeing the slot abandoned, stops
// and frees it. Each transition out of queued or writing is a compare-exchange, so the caller and
// the thread never both think they own a slot, and the caller never waits for the thread (which,
// at the lowest priority, may not run for a long time). At most one slot is owned (the batch
// handed out) and at most one is being written, so a third is always free for the next job.
struct batch_loader::prefetcher {
    enum : int { free_slot, queued, writing, ready, owned, abandoned };

    struct slot {
        tensor<float> x;
        std::vector<std::int32_t> y;
        std::vector<std::size_t> rows;
        std::size_t count = 0;
        std::uint64_t epoch = 0;
        std::size_t index = 0;
        std::atomic<int> state{free_slot};
        std::atomic<std::size_t> done{0};
    };

    const float* x;
    const std::int32_t* y;
    std::size_t row;
    slot slots[3];
    int job = -1, current = -1;
    bool no_thread = false;
    std::atomic<std::uint32_t> posted{0};
    std::atomic<bool> stop{false};
    std::thread worker;

    prefetcher(const dataset& ds, std::size_t batch_size)
        : x(ds.x.data()), y(ds.y.data()), row(ds.example_size()) {
        dendrite::shape s = ds.x.shape();
        s[0] = std::min(batch_size, ds.size());
        for (slot& k : slots) {
            k.x = tensor<float>::uninitialized(s);
            k.y.resize(s[0]);
            k.rows.resize(s[0]);
        }
    }

    ~prefetcher() {
        cancel();
        stop.store(true, std::memory_order_release);
        posted.fetch_add(1, std::memory_order_release);
        posted.notify_one();
        if (worker.joinable()) worker.join();
    }

    // Gives up the outstanding job, if any.
    void cancel() noexcept {
        if (job < 0) return;
        slot& j = slots[job];
        job = -1;
        int s = queued;
        if (j.state.compare_exchange_strong(s, free_slot, std::memory_order_acq_rel)) return;
        if (s == writing &&
            j.state.compare_exchange_strong(s, abandoned, std::memory_order_acq_rel))
            return;
        j.state.store(free_slot, std::memory_order_release);  // it was ready
    }

    int claim_free() noexcept {
        for (int k = 0; k < 3; ++k) {
            int f = free_slot;
            if (slots[k].state.compare_exchange_strong(f, owned, std::memory_order_acquire))
                return k;
        }
        return -1;
    }

    // Batch (epoch, index) made of the examples rows[0, count), in an owned slot; the slot of the
    // previous batch is released.
    slot& take(std::uint64_t epoch, std::size_t index, const std::size_t* rows, std::size_t count) {
        if (current >= 0) slots[current].state.store(free_slot, std::memory_order_release);
        current = -1;
        int target = -1;
        const slot* partial = nullptr;
        std::size_t have = 0;
        if (job >= 0) {
            slot& j = slots[job];
            const bool same = j.epoch == epoch && j.index == index;
            int s = queued;
            if (j.state.compare_exchange_strong(s, owned, std::memory_order_acq_rel)) {
                target = job;
            } else if (s == writing &&
                       j.state.compare_exchange_strong(s, abandoned, std::memory_order_acq_rel)) {
                if (same) {
                    partial = &j;
                    have = j.done.load(std::memory_order_acquire);
                }
            } else {  // ready
                j.state.store(owned, std::memory_order_relaxed);
                target = job;
                have = same ? count : 0;
            }
            job = -1;
        }
        if (target < 0) target = claim_free();
        if (target < 0) throw std::logic_error("batch_loader: no free gather buffer");
        slot& t = slots[target];
        if (partial && have > 0) {
            std::memcpy(t.x.data(), partial->x.data(), have * row * sizeof(float));
            std::memcpy(t.y.data(), partial->y.data(), have * sizeof(std::int32_t));
        }
        gather_rows_parallel(x, y, row, rows, have, count, t.x.data(), t.y.data());
        current = target;
        return t;
    }

    // Queues batch (epoch, index), made of rows[0, count), for the thread.
    void post(std::uint64_t epoch, std::size_t index, const std::size_t* rows, std::size_t count) {
        cancel();
        if (no_thread) return;
        int k = -1;
        for (int i = 0; i < 3 && k < 0; ++i)
            if (slots[i].state.load(std::memory_order_acquire) == free_slot) k = i;
        if (k < 0) return;
        slot& s = slots[k];
        std::copy(rows, rows + count, s.rows.begin());
        s.count = count;
        s.epoch = epoch;
        s.index = index;
        s.done.store(0, std::memory_order_relaxed);
        s.state.store(queued, std::memory_order_release);
        job = k;
        if (!worker.joinable()) {
            try {
                worker = std::thread([this] { run(); });
            } catch (const std::system_error&) {
                no_thread = true;  // the caller gathers every batch itself
                cancel();
                return;
            }
        }
        posted.fetch_add(1, std::memory_order_release);
        posted.notify_one();
    }

    void run() noexcept {
#ifdef SCHED_IDLE
        // Only CPU time nothing else wants: never a training thread's.
        const sched_param lowest{};
        pthread_setschedparam(pthread_self(), SCHED_IDLE, &lowest);
#endif
        std::uint32_t seen = 0;
        for (;;) {
            posted.wait(seen, std::memory_order_acquire);
            seen = posted.load(std::memory_order_acquire);
            if (stop.load(std::memory_order_acquire)) return;
            for (slot& s : slots) {
                int q = queued;
                if (s.state.compare_exchange_strong(q, writing, std::memory_order_acq_rel)) fill(s);
            }
        }
    }

    // Gathers s a few rows at a time, publishing each step, until done or abandoned.
    void fill(slot& s) noexcept {
        constexpr std::size_t step = 4;
        for (std::size_t r = 0; r < s.count; r += step) {
            if (s.state.load(std::memory_order_relaxed) == abandoned) break;
            const std::size_t e = std::min(r + step, s.count);
            gather_rows(x, y, row, s.rows.data(), r, e, s.count, s.x.data(), s.y.data());
            s.done.store(e, std::memory_order_release);
        }
        int w = writing;
        if (!s.state.compare_exchange_strong(w, ready, std::memory_order_acq_rel))
            s.state.store(free_slot, std::memory_order_release);
    }
};

std::string loader_state::str() const {
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "epoch=%" PRIu64 " rng=%016" PRIx64 ",%016" PRIx64 ",%016" PRIx64 ",%016" PRIx64
                  ",%016" PRIx64 ",%d",
                  epoch, generator.s[0], generator.s[1], generator.s[2], generator.s[3],
                  std::bit_cast<std::uint64_t>(generator.spare), generator.has_spare ? 1 : 0);
    return buf;
}

loader_state loader_state::parse(const std::string& text) {
    loader_state st;
    std::uint64_t spare = 0;
    int has_spare = 0, consumed = 0;
    const int fields = std::sscanf(
        text.c_str(),
        "epoch=%" SCNu64 " rng=%" SCNx64 ",%" SCNx64 ",%" SCNx64 ",%" SCNx64 ",%" SCNx64 ",%d%n",
        &st.epoch, &st.generator.s[0], &st.generator.s[1], &st.generator.s[2], &st.generator.s[3],
        &spare, &has_spare, &consumed);
    if (fields != 7 || static_cast<std::size_t>(consumed) != text.size() ||
        (has_spare != 0 && has_spare != 1))
        throw data_error("loader_state::parse: '" + text +
                         "' is not a loader state (expected the form of str())");
    st.generator.spare = std::bit_cast<double>(spare);
    st.generator.has_spare = has_spare == 1;
    return st;
}

batch_loader::batch_loader(dataset ds, loader_options options)
    : data_(std::move(ds)), options_(options), generator_(options.seed) {
    if (options_.batch_size == 0)
        throw std::invalid_argument("batch_loader: batch_size must be at least 1");
    validate(data_, "batch_loader");
    order_.resize(data_.size());
    std::iota(order_.begin(), order_.end(), std::size_t{0});
    if (options_.shuffle && options_.prefetch && data_.size() > 0 && several_cpus()) {
        prefetch_ = std::make_unique<prefetcher>(data_, options_.batch_size);
    } else if (options_.shuffle) {
        dendrite::shape s = data_.x.shape();
        s[0] = std::min(options_.batch_size, data_.size());
        x_buffer_ = tensor<float>::uninitialized(s);
        y_buffer_.resize(s[0]);
    }
    epoch_start_ = generator_.state();
}

batch_loader::batch_loader(batch_loader&&) noexcept = default;
batch_loader& batch_loader::operator=(batch_loader&&) noexcept = default;
batch_loader::~batch_loader() = default;

std::size_t batch_loader::batches_per_epoch() const noexcept {
    const std::size_t n = data_.size(), b = options_.batch_size;
    return options_.drop_last ? n / b : (n + b - 1) / b;
}

void batch_loader::shuffle_order() {
    // Fisher-Yates from the identity, so that an epoch's order depends only on the generator's
    // state at its start: that state is all a checkpoint needs.
    std::iota(order_.begin(), order_.end(), std::size_t{0});
    for (std::size_t i = order_.size(); i > 1; --i)
        std::swap(order_[i - 1], order_[generator_.below(i)]);
}

batch_loader::epoch_range batch_loader::next_epoch() {
    epoch_start_ = generator_.state();
    if (options_.shuffle) shuffle_order();
    ++epoch_;
    current_index_ = static_cast<std::size_t>(-1);
    if (prefetch_)
        prefetch_->post(epoch_, 0, order_.data(), std::min(options_.batch_size, data_.size()));
    return epoch_range(this);
}

const batch& batch_loader::at(std::size_t i) {
    if (epoch_ == 0) throw std::logic_error("batch_loader::at: call next_epoch() first");
    if (i >= batches_per_epoch())
        throw std::out_of_range("batch_loader::at: batch " + std::to_string(i) +
                                " of an epoch of " + std::to_string(batches_per_epoch()));
    if (i == current_index_) return current_;
    const std::size_t begin = i * options_.batch_size;
    const std::size_t end = std::min(begin + options_.batch_size, data_.size());
    const std::size_t count = end - begin;
    current_.index = i;
    current_.indices = std::span<const std::size_t>(order_.data() + begin, count);
    if (!options_.shuffle) {
        current_.x = data_.x.rows(begin, end);
        current_.y = std::span<const std::int32_t>(data_.y.data() + begin, count);
    } else if (prefetch_) {
        const prefetcher::slot& s = prefetch_->take(epoch_, i, order_.data() + begin, count);
        current_.x = count == s.x.dim(0) ? s.x : s.x.rows(0, count);
        current_.y = std::span<const std::int32_t>(s.y.data(), count);
        if (i + 1 < batches_per_epoch()) {
            const std::size_t next_end = std::min(end + options_.batch_size, data_.size());
            prefetch_->post(epoch_, i + 1, order_.data() + end, next_end - end);
        }
    } else {
        gather_rows_parallel(data_.x.data(), data_.y.data(), data_.example_size(),
                             order_.data() + begin, 0, count, x_buffer_.data(), y_buffer_.data());
        // A view of the buffer's first rows: rebinding a tensor handle allocates nothing.
        current_.x = count == x_buffer_.dim(0) ? x_buffer_ : x_buffer_.rows(0, count);
        current_.y = std::span<const std::int32_t>(y_buffer_.data(), count);
    }
    current_index_ = i;
    return current_;
}

loader_state batch_loader::state() const noexcept {
    return {epoch_, epoch_start_};
}

void batch_loader::restore(const loader_state& s) {
    generator_.restore(s.generator);
    epoch_ = s.epoch;
    epoch_start_ = s.generator;
    current_index_ = static_cast<std::size_t>(-1);
    if (prefetch_) prefetch_->cancel();
    if (epoch_ > 0 && options_.shuffle) {
        shuffle_order();
    } else {
        std::iota(order_.begin(), order_.end(), std::size_t{0});
    }
}

}  // namespace dendrite::inline DENDRITE_TARGET::data
