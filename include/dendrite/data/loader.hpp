#pragma once
// Mini-batches out of a data set, optionally in a seeded random order, with resumable state.

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dendrite/config.hpp"
#include "dendrite/data/dataset.hpp"
#include "dendrite/tensor/random.hpp"
#include "dendrite/tensor/tensor.hpp"

namespace dendrite::inline DENDRITE_TARGET::data {

/// How a batch_loader cuts an epoch into batches.
struct loader_options {
    std::size_t batch_size = 64;
    /// Visit the examples in a new random order every epoch.
    bool shuffle = true;
    /// Drop the last batch of an epoch when it is smaller than batch_size (else keep it).
    bool drop_last = false;
    /// Seed of the shuffling generator: the same seed gives the same orders.
    std::uint64_t seed = 0;
    /// With shuffling, gather the next batches on a background thread while the caller works on
    /// the current one (see batch_loader). The batches are the same either way; only their timing
    /// differs. The data set's x must then not change while the loader is in use, since rows are
    /// read ahead.
    bool prefetch = true;
};

/// One mini-batch: x is [b, ...] (the data set's x with b rows), y the b labels, indices the rows
/// of the data set they came from, index the batch's number within the epoch.
struct batch {
    tensor<float> x;
    std::span<const std::int32_t> y;
    std::span<const std::size_t> indices;
    std::size_t index = 0;

    std::size_t size() const noexcept { return y.size(); }
};

/// What a checkpoint needs to resume a loader bit-identically: the number of epochs started and
/// the shuffling generator as it was before the current epoch's shuffle.
struct loader_state {
    std::uint64_t epoch = 0;
    rng::state_type generator{};

    /// A one-line text form, for a checkpoint's string metadata ("epoch=3 rng=...").
    std::string str() const;
    /// Parses str()'s form; throws data_error on anything else.
    static loader_state parse(const std::string& text);
};

/// Cuts a data set into mini-batches, epoch after epoch.
///
///     data::batch_loader loader(train, {.batch_size = 128, .seed = 42});
///     for (int e = 0; e < epochs; ++e)
///         for (const data::batch& b : loader.next_epoch()) step(b.x, b.y);
///
/// Without shuffling, a batch's x is a view of rows of the data set (no copy). With shuffling, the
/// epoch's order is a permutation of the indices and each batch's rows are gathered (copied) into a
/// buffer the loader owns and reuses: such a batch is contiguous and stays valid only until the
/// next batch is fetched. Either way a steady-state epoch performs no heap allocation.
///
/// Cost per shuffled batch: one copy of its rows (memcpy per example, the next rows prefetched);
/// per epoch: an O(n) shuffle. With options.prefetch (and more than one CPU), a background thread
/// gathers the batches after the one handed out (about 2 MiB of them, at least one) while the
/// caller trains. It runs in the lowest scheduling class (SCHED_IDLE; one real-time priority
/// below its creator when that one is real-time), so it only takes CPU time nothing else wants:
/// the idle core when training uses one thread, the gaps between parallel regions when it uses
/// all of them; it never takes time from the training step itself. Fetching a batch never waits
/// for that thread: rows it has not finished are gathered by the caller, on the library's threads,
/// so the worst case is the copy without prefetching. The caller wakes the thread only when half
/// of the batches ahead wait for it, so the wake-up (a system call and an interrupt) is paid once
/// per several small batches. One thread per shuffling loader, started by its first epoch;
/// memory: ahead + 2 batches.
class batch_loader {
  public:
    /// Takes `ds` by value: x is shared, not copied. Throws data_error when ds is inconsistent
    /// (see validate) and std::invalid_argument when batch_size is 0.
    explicit batch_loader(dataset ds, loader_options options = {});
    batch_loader(batch_loader&&) noexcept;
    batch_loader& operator=(batch_loader&&) noexcept;
    ~batch_loader();

    class iterator;
    /// The batches of the current epoch, for a range-for.
    class epoch_range {
      public:
        iterator begin() const noexcept;
        iterator end() const noexcept;
        std::size_t size() const noexcept;

      private:
        friend class batch_loader;
        explicit epoch_range(batch_loader* l) noexcept : loader_(l) {}
        batch_loader* loader_;
    };

    /// Starts the next epoch (drawing a new order when shuffling) and returns its batches.
    epoch_range next_epoch();

    /// Batch i of the current epoch (i < batches_per_epoch()). Shuffled batches are gathered into
    /// the loader's buffer, which the next call overwrites. Throws std::logic_error before the
    /// first next_epoch() and std::out_of_range for a bad i.
    const batch& at(std::size_t i);

    /// Batches per epoch: ceil(n / batch_size), or floor with drop_last.
    std::size_t batches_per_epoch() const noexcept;
    /// Number of epochs started so far (0 before the first next_epoch()).
    std::uint64_t epoch() const noexcept { return epoch_; }
    const dataset& data() const noexcept { return data_; }
    const loader_options& options() const noexcept { return options_; }

    /// The state to save with a checkpoint.
    loader_state state() const noexcept;
    /// Returns the loader to a saved state: the current epoch's order is rebuilt, and the following
    /// epochs are the ones the saved loader would have produced.
    void restore(const loader_state& s);

  private:
    struct prefetcher;
    void shuffle_order();

    dataset data_;
    loader_options options_;
    rng generator_;
    rng::state_type epoch_start_{};
    std::uint64_t epoch_ = 0;
    std::vector<std::size_t> order_;
    tensor<float> x_buffer_;
    std::vector<std::int32_t> y_buffer_;
    std::unique_ptr<prefetcher> prefetch_;
    batch current_;
    std::size_t current_index_ = static_cast<std::size_t>(-1);
};

/// Input iterator over the batches of an epoch; dereferencing fetches the batch.
class batch_loader::iterator {
  public:
    using iterator_category = std::input_iterator_tag;
    using value_type = batch;
    using difference_type = std::ptrdiff_t;
    using pointer = const batch*;
    using reference = const batch&;

    iterator() = default;
    const batch& operator*() const { return loader_->at(i_); }
    const batch* operator->() const { return &loader_->at(i_); }
    iterator& operator++() noexcept {
        ++i_;
        return *this;
    }
    iterator operator++(int) noexcept {
        iterator t = *this;
        ++i_;
        return t;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.i_ == b.i_; }

  private:
    friend class batch_loader;
    iterator(batch_loader* l, std::size_t i) noexcept : loader_(l), i_(i) {}
    batch_loader* loader_ = nullptr;
    std::size_t i_ = 0;
};

inline batch_loader::iterator batch_loader::epoch_range::begin() const noexcept {
    return {loader_, 0};
}
inline batch_loader::iterator batch_loader::epoch_range::end() const noexcept {
    return {loader_, loader_->batches_per_epoch()};
}
inline std::size_t batch_loader::epoch_range::size() const noexcept {
    return loader_->batches_per_epoch();
}

}  // namespace dendrite::inline DENDRITE_TARGET::data
