#pragma once
// fit and evaluate: the training loop over mini-batches, with validation, metrics, early
// stopping, learning-rate schedules, callbacks, history, charts and resumable checkpoints.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dendrite/autodiff/cross_entropy.hpp"
#include "dendrite/autodiff/tape.hpp"
#include "dendrite/config.hpp"
#include "dendrite/data/dataset.hpp"
#include "dendrite/data/loader.hpp"
#include "dendrite/io/csv_history.hpp"
#include "dendrite/train/checkpoint.hpp"
#include "dendrite/train/confusion_matrix.hpp"

namespace dendrite::inline DENDRITE_TARGET::train {

/// Softmax cross-entropy from logits and integer labels, optionally with label smoothing.
struct cross_entropy {
    double label_smoothing = 0;
    template <class T>
    var<T> operator()(const var<T>& logits, std::span<const std::int32_t> labels) const {
        return softmax_cross_entropy(logits, labels, label_smoothing);
    }
};

/// Standard output: where fit reports progress unless told otherwise.
std::ostream* standard_output() noexcept;

class progress;

/// How fit trains.
struct fit_options {
    std::size_t epochs = 10;
    std::size_t batch_size = 128;
    /// Seeds the shuffling of the training set (the network has its own seed).
    std::uint64_t seed = 0;
    bool shuffle = true;
    /// Evaluated after every epoch when given.
    const data::dataset* validation = nullptr;
    /// Stop when the validation loss has not improved for this many epochs (0: never).
    std::size_t patience = 0;
    /// Learning rate of each epoch (0-based); empty keeps the optimizer's own.
    std::function<double(std::size_t)> learning_rate;
    /// Called after each epoch with its record; returning false stops training.
    std::vector<std::function<bool(const io::epoch_record&)>> callbacks;
    /// Where progress goes; null is silent.
    std::ostream* log = standard_output();
    /// Optional outputs, each rewritten atomically after every epoch.
    std::filesystem::path history_csv, chart_svg, checkpoint;
    /// Continue from `checkpoint` if it exists, bit-identically to a run never interrupted.
    bool resume = false;
};

struct fit_result {
    std::vector<io::epoch_record> history;
    bool stopped_early = false;
    /// The epoch (1-based) with the lowest validation loss, 0 without validation.
    std::size_t best_epoch = 0;
};

/// Loss and accuracy of a network on a data set, and the confusion matrix.
struct evaluation {
    double loss = 0;
    double accuracy = 0;
    confusion_matrix confusion;
};

/// Evaluates `net` (in evaluation mode, recording no gradients) on `ds` in batches.
template <class Net, class Loss = cross_entropy>
evaluation evaluate(Net& net, const data::dataset& ds, std::size_t batch_size = 1000,
                    Loss loss = {}) {
    data::validate(ds, "evaluate");
    const bool was_training = net.training();
    net.eval();
    no_grad_guard no_grad;
    tape t;
    evaluation e{0, 0, confusion_matrix(ds.classes)};
    data::batch_loader loader(ds, {.batch_size = batch_size, .shuffle = false});
    double total = 0;
    for (const data::batch& b : loader.next_epoch()) {
        t.clear();
        const auto logits = net(t, b.x);
        total += static_cast<double>(loss(logits, b.y).item()) * static_cast<double>(b.size());
        e.confusion.add(b.y, logits.value());
    }
    net.train(was_training);
    e.loss = ds.size() ? total / static_cast<double>(ds.size())
                       : std::numeric_limits<double>::quiet_NaN();
    e.accuracy = e.confusion.accuracy();
    return e;
}

namespace detail {

/// What fit does around its steps that depends neither on the network nor on the optimizer: the
/// running loss and accuracy of an epoch, its time, the progress display, the history file and
/// chart, early stopping and the callbacks. Compiled once (src/train/fit.cpp); one per fit call.
class fit_bookkeeping {
  public:
    explicit fit_bookkeeping(const fit_options& options);
    fit_bookkeeping(const fit_bookkeeping&) = delete;
    fit_bookkeeping& operator=(const fit_bookkeeping&) = delete;
    ~fit_bookkeeping();

    /// Whether the options ask to continue from a checkpoint that exists.
    bool resuming() const;
    /// Once the run's state is known (`resumed`: loaded from the checkpoint): reports the resume,
    /// opens the history file and takes over the records it holds.
    void start(const training_state& state, bool resumed);
    /// Starts the clock of `epoch` (0-based) and its running sums.
    void begin_epoch(std::size_t epoch, std::size_t batches);
    /// After each step, with the batch's mean loss and its number of correct predictions. O(1);
    /// the progress display redraws at most ten times a second (on a terminal only).
    void add_batch(std::size_t index, std::size_t size, double loss, std::size_t correct) {
        loss_sum_ += loss * static_cast<double>(size);
        seen_ += size;
        correct_ += correct;
        if (display_) show(index, size);
    }
    /// The epoch's record: training loss and accuracy, learning rate, seconds since begin_epoch.
    io::epoch_record end_batches(double learning_rate);
    /// Adds the validation loss and accuracy to `r` and counts epochs without improvement.
    void validated(io::epoch_record& r, double loss, double accuracy, training_state& state);
    /// Appends `r` to the result, the display, the history file and the chart.
    void record(const io::epoch_record& r);
    /// Calls every callback with `r`; true when one of them or the patience stops training.
    bool stop(const io::epoch_record& r, const training_state& state);
    /// The result, its history and best epoch filled in.
    fit_result finish(const training_state& state, bool stopped_early);

  private:
    void show(std::size_t index, std::size_t size);

    const fit_options& options_;
    std::unique_ptr<progress> display_;
    std::unique_ptr<io::csv_history> history_;
    fit_result result_;
    std::size_t epoch_ = 0, seen_ = 0, correct_ = 0;
    double loss_sum_ = 0, start_ = 0;
};

}  // namespace detail

/// Trains `net` on `train` with optimizer `opt` for options.epochs epochs.
///
/// Each step records the forward pass on one reused tape, backpropagates the loss and updates
/// the parameters; the accuracy comes from the logits (count_correct), and the next shuffled batch
/// is gathered in the background while the step runs (see data::batch_loader). A steady-state
/// epoch allocates nothing and costs, beyond its steps, O(batch x classes) per batch. With
/// options.checkpoint, the model, its buffers, the optimizer's state, the data order and the
/// random generators are saved after every epoch, so options.resume continues exactly where the
/// run stopped.
template <class Net, class Opt, class Loss = cross_entropy>
fit_result fit(Net& net, Opt& opt, const data::dataset& train, const fit_options& options = {},
               Loss loss = {}) {
    data::batch_loader loader(
        train,
        {.batch_size = options.batch_size, .shuffle = options.shuffle, .seed = options.seed});
    auto params = net.parameters();
    detail::fit_bookkeeping books(options);
    training_state state;
    const bool resumed = books.resuming();
    if (resumed) state = load_checkpoint(options.checkpoint, net, opt, loader);
    books.start(state, resumed);

    tape t;
    bool stopped_early = false;
    for (std::size_t epoch = state.epoch; epoch < options.epochs; ++epoch) {
        if (options.learning_rate) opt.set_learning_rate(options.learning_rate(epoch));
        net.train();
        books.begin_epoch(epoch, loader.batches_per_epoch());
        for (const data::batch& b : loader.next_epoch()) {
            t.clear();
            net.zero_grad();
            const auto logits = net(t, b.x);
            const auto l = loss(logits, b.y);
            l.backward();
            opt.step(params);
            books.add_batch(b.index, b.size(), static_cast<double>(l.item()),
                            count_correct(logits.value(), b.y));
        }
        io::epoch_record r = books.end_batches(opt.learning_rate());
        if (options.validation) {
            const evaluation v = evaluate(net, *options.validation, 1000, loss);
            books.validated(r, v.loss, v.accuracy, state);
        }
        books.record(r);
        state.epoch = epoch + 1;
        if (!options.checkpoint.empty())
            save_checkpoint(options.checkpoint, net, opt, loader, state);
        if (books.stop(r, state)) {
            stopped_early = epoch + 1 < options.epochs;
            break;
        }
    }
    return books.finish(state, stopped_early);
}

}  // namespace dendrite::inline DENDRITE_TARGET::train
