#include "dendrite/data/loader.hpp"
#include "dendrite/config.hpp"

#include <pthread.h>
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

// The background gathering of a shuffling loader. Buffers ("slots") move between the caller and
// one thread through an atomic state each:
//
//   free --post--> queued --thread--> writing --thread--> ready --take--> owned --take--> free
//
// take() may also claim a queued slot (the thread never started it: the caller gathers it
// itself), or abandon a writing one: it copies the rows the thread has finished (published in
// `done`), gathers the rest into another slot, and the thread, seeing the slot abandoned, stops
// and frees it. Each transition out of queued or writing is a compare-exchange, so the caller and
// the thread never both think they own a slot, and the caller never waits for the thread (which,
// at the lowest priority, may not run for a long time).
//
// The thread works `ahead` batches ahead (about 2 MiB of them). Waking it costs the caller a
// system call and an inter-processor interrupt, 10 us in a virtual machine: more than gathering
// a batch of 32 images. So the caller wakes it only once half of the batches ahead wait for it,
// and the thread then gathers all of them before it sleeps again. Slots: the batch handed out,
// `ahead` jobs, and at most one being written after it was abandoned (the thread writes one slot
// at a time), so posting always finds a free one.
struct batch_loader::prefetcher {
    enum : int { free_slot, queued, writing, ready, owned, abandoned };

    struct slot {
        tensor<float> x;
        std::vector<std::int32_t> y;
        std::vector<std::size_t> rows;
        std::size_t count = 0;
        std::size_t index = 0;
        bool outstanding = false;  // posted and neither taken nor cancelled (the caller's view)
        std::atomic<std::uint64_t> order{0};  // posting order: the thread takes the oldest first
        std::atomic<int> state{free_slot};
        std::atomic<std::size_t> done{0};
    };

    static constexpr std::size_t ahead_bytes = std::size_t{2} << 20, max_ahead = 32;

    const float* x;
    const std::int32_t* y;
    std::size_t row, batch_size, n, ahead;
    std::vector<slot> slots;
    // The caller's side: the batch handed out, the epoch, the batch expected next, and the end of
    // the batches queued after it.
    int current = -1;
    std::uint64_t posts = 0;
    std::size_t next = 0, posted_end = 0;
    bool no_thread = false;
    std::atomic<std::uint32_t> wakes{0};
    std::atomic<bool> stop{false};
    std::thread worker;

    prefetcher(const dataset& ds, std::size_t batch)
        : x(ds.x.data()),
          y(ds.y.data()),
          row(ds.example_size()),
          batch_size(batch),
          n(ds.size()),
          ahead(std::clamp<std::size_t>(
              ahead_bytes / std::max<std::size_t>(1, std::min(batch, n) * row * sizeof(float)), 1,
              max_ahead)),
          slots(ahead + 2) {
        dendrite::shape s = ds.x.shape();
        s[0] = std::min(batch_size, n);
        for (slot& k : slots) {
            k.x = tensor<float>::uninitialized(s);
            k.y.resize(s[0]);
            k.rows.resize(s[0]);
        }
    }

    ~prefetcher() {
        cancel_all();
        stop.store(true, std::memory_order_release);
        wake();
        if (worker.joinable()) worker.join();
    }

    void wake() noexcept {
        wakes.fetch_add(1, std::memory_order_release);
        wakes.notify_one();
    }

    // Gives up the job of slot k.
    static void cancel(slot& k) noexcept {
        k.outstanding = false;
        int s = queued;
        if (k.state.compare_exchange_strong(s, free_slot, std::memory_order_acq_rel)) return;
        if (s == writing &&
            k.state.compare_exchange_strong(s, abandoned, std::memory_order_acq_rel))
            return;
        k.state.store(free_slot, std::memory_order_release);  // it was ready
    }

    void cancel_all() noexcept {
        for (slot& k : slots)
            if (k.outstanding) cancel(k);
    }

    // A new epoch (its order in `order`, `batches` batches): the batches from the first on are
    // queued.
    void start_epoch(std::size_t batches, const std::size_t* order) {
        cancel_all();
        next = posted_end = 0;
        post_ahead(batches, order);
    }

    // Every job cancelled, and the next batch asked for taken as out of order.
    void forget() noexcept {
        cancel_all();
        next = posted_end = static_cast<std::size_t>(-1);
    }

    // Batch `index` of the current epoch, made of the examples rows[0, count), in an owned slot;
    // the slot of the previous batch is released. Asked for out of order, every job is cancelled.
    slot& take(std::size_t index, const std::size_t* rows, std::size_t count) {
        if (current >= 0)
            slots[static_cast<std::size_t>(current)].state.store(free_slot,
                                                                 std::memory_order_release);
        current = -1;
        if (index != next) {
            cancel_all();
            posted_end = index + 1;
        }
        next = index + 1;
        int target = -1;
        const slot* partial = nullptr;
        std::size_t have = 0;
        for (std::size_t k = 0; k < slots.size(); ++k) {
            slot& j = slots[k];
            if (!j.outstanding || j.index != index) continue;
            j.outstanding = false;
            int s = queued;
            if (j.state.compare_exchange_strong(s, owned, std::memory_order_acq_rel)) {
                target = static_cast<int>(k);  // never started: gathered below
            } else if (s == writing &&
                       j.state.compare_exchange_strong(s, abandoned, std::memory_order_acq_rel)) {
                partial = &j;
                have = j.done.load(std::memory_order_acquire);
            } else {  // ready
                j.state.store(owned, std::memory_order_relaxed);
                target = static_cast<int>(k);
                have = count;
            }
            break;
        }
        if (target < 0) {
            for (std::size_t k = 0; k < slots.size() && target < 0; ++k) {
                int f = free_slot;
                if (slots[k].state.compare_exchange_strong(f, owned, std::memory_order_acquire))
                    target = static_cast<int>(k);
            }
            if (target < 0) throw std::logic_error("batch_loader: no free gather buffer");
        }
        slot& t = slots[static_cast<std::size_t>(target)];
        if (partial && have > 0) {
            std::memcpy(t.x.data(), partial->x.data(), have * row * sizeof(float));
            std::memcpy(t.y.data(), partial->y.data(), have * sizeof(std::int32_t));
        }
        gather_rows_parallel(x, y, row, rows, have, count, t.x.data(), t.y.data());
        current = target;
        return t;
    }

    // Queues the batches of the `ahead` after the last one taken (of `batches`, in the order
    // `order`) that are not queued yet; wakes the thread once half of them wait for it.
    void post_ahead(std::size_t batches, const std::size_t* order) {
        if (no_thread) return;
        const std::size_t end = std::min(batches, next + ahead);
        for (; posted_end < end; ++posted_end) {
            slot* s = nullptr;
            for (slot& k : slots)
                if (!k.outstanding && k.state.load(std::memory_order_acquire) == free_slot) {
                    s = &k;
                    break;
                }
            if (!s) break;
            const std::size_t begin = posted_end * batch_size;
            const std::size_t count = std::min(batch_size, n - begin);
            std::copy(order + begin, order + begin + count, s->rows.begin());
            s->count = count;
            s->index = posted_end;
            s->outstanding = true;
            s->order.store(++posts, std::memory_order_relaxed);
            s->done.store(0, std::memory_order_relaxed);
            s->state.store(queued, std::memory_order_release);
        }
        std::size_t waiting = 0;
        for (const slot& k : slots)
            waiting += k.outstanding && k.state.load(std::memory_order_relaxed) == queued;
        if (waiting == 0 || 2 * waiting < ahead) return;
        if (!worker.joinable()) {
            try {
                worker = std::thread([this] { run(); });
            } catch (const std::system_error&) {
                no_thread = true;  // the caller gathers every batch itself
                cancel_all();
                return;
            }
        }
        wake();
    }

    void run() noexcept {
        below_the_caller();
        for (;;) {
            const std::uint32_t seen = wakes.load(std::memory_order_acquire);
            while (slot* s = claim_oldest())
                fill(*s);
            if (stop.load(std::memory_order_acquire)) return;
            wakes.wait(seen, std::memory_order_acquire);
        }
    }

    // The queued slot posted first, now being written; null when none is queued.
    slot* claim_oldest() noexcept {
        for (;;) {
            slot* oldest = nullptr;
            std::uint64_t first = 0;
            for (slot& k : slots)
                if (k.state.load(std::memory_order_relaxed) == queued) {
                    const std::uint64_t o = k.order.load(std::memory_order_relaxed);
                    if (!oldest || o < first) {
                        oldest = &k;
                        first = o;
                    }
                }
            if (!oldest) return nullptr;
            int q = queued;
            if (oldest->state.compare_exchange_strong(q, writing, std::memory_order_acq_rel))
                return oldest;
        }
    }
    // Only CPU time the training threads do not want. This thread starts with the policy of the
    // one that created it: a real-time caller's goes one priority below it (SCHED_IDLE would put
    // it behind every ordinary process, which the caller asked to run ahead of); any other goes
    // to SCHED_IDLE.
    static void below_the_caller() noexcept {
        int policy = SCHED_OTHER;
        sched_param param{};
        if (pthread_getschedparam(pthread_self(), &policy, &param) != 0) return;
        if ((policy == SCHED_FIFO || policy == SCHED_RR) &&
            param.sched_priority > sched_get_priority_min(policy)) {
            --param.sched_priority;
            pthread_setschedparam(pthread_self(), policy, &param);
            return;
        }
#ifdef SCHED_IDLE
        const sched_param lowest{};
        pthread_setschedparam(pthread_self(), SCHED_IDLE, &lowest);
#endif
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
    if (prefetch_) prefetch_->start_epoch(batches_per_epoch(), order_.data());
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
        const prefetcher::slot& s = prefetch_->take(i, order_.data() + begin, count);
        current_.x = count == s.x.dim(0) ? s.x : s.x.rows(0, count);
        current_.y = std::span<const std::int32_t>(s.y.data(), count);
        prefetch_->post_ahead(batches_per_epoch(), order_.data());
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
    if (prefetch_) prefetch_->forget();
    if (epoch_ > 0 && options_.shuffle) {
        shuffle_order();
    } else {
        std::iota(order_.begin(), order_.end(), std::size_t{0});
    }
}

}  // namespace dendrite::inline DENDRITE_TARGET::data
