#pragma once
// fit and evaluate: the training loop over mini-batches, with validation, metrics, early
// stopping, learning-rate schedules, callbacks, history, charts and resumable checkpoints.

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iostream>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "dendrite/autodiff/cross_entropy.hpp"
#include "dendrite/autodiff/tape.hpp"
#include "dendrite/config.hpp"
#include "dendrite/data/dataset.hpp"
#include "dendrite/data/loader.hpp"
#include "dendrite/io/csv_history.hpp"
#include "dendrite/io/svg_chart.hpp"
#include "dendrite/train/checkpoint.hpp"
#include "dendrite/train/confusion_matrix.hpp"
#include "dendrite/train/progress.hpp"

namespace dendrite::inline DENDRITE_TARGET::train {

/// Softmax cross-entropy from logits and integer labels, optionally with label smoothing.
struct cross_entropy {
    double label_smoothing = 0;
    template <class T>
    var<T> operator()(const var<T>& logits, std::span<const std::int32_t> labels) const {
        return softmax_cross_entropy(logits, labels, label_smoothing);
    }
};

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
    std::ostream* log = &std::cout;
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

/// Trains `net` on `train` with optimizer `opt` for options.epochs epochs.
///
/// Each step records the forward pass on one reused tape, backpropagates the loss and updates
/// the parameters: a steady-state step allocates nothing. With options.checkpoint, the model,
/// its buffers, the optimizer's state, the data order and the random generators are saved after
/// every epoch, so options.resume continues exactly where the run stopped.
template <class Net, class Opt, class Loss = cross_entropy>
fit_result fit(Net& net, Opt& opt, const data::dataset& train, const fit_options& options = {},
               Loss loss = {}) {
    using clock = std::chrono::steady_clock;
    data::batch_loader loader(
        train,
        {.batch_size = options.batch_size, .shuffle = options.shuffle, .seed = options.seed});
    auto params = net.parameters();
    fit_result result;
    training_state state;
    if (options.resume && !options.checkpoint.empty() &&
        std::filesystem::exists(options.checkpoint)) {
        state = load_checkpoint(options.checkpoint, net, opt, loader);
        if (options.log)
            *options.log << "resumed from " << options.checkpoint.string() << " after epoch "
                         << state.epoch << "\n";
    }
    std::optional<io::csv_history> history;
    if (!options.history_csv.empty())
        history.emplace(options.history_csv, options.resume && state.epoch > 0);
    if (history) result.history = history->records();
    std::optional<progress> bar;
    if (options.log) bar.emplace(*options.log);

    tape t;
    for (std::size_t epoch = state.epoch; epoch < options.epochs; ++epoch) {
        if (options.learning_rate) opt.set_learning_rate(options.learning_rate(epoch));
        net.train();
        const auto start = clock::now();
        auto batches = loader.next_epoch();
        if (bar) bar->begin_epoch(epoch + 1, options.epochs, batches.size());
        double loss_sum = 0;
        std::size_t seen = 0, correct = 0;
        for (const data::batch& b : batches) {
            t.clear();
            net.zero_grad();
            const auto logits = net(t, b.x);
            const auto l = loss(logits, b.y);
            l.backward();
            opt.step(params);
            loss_sum += static_cast<double>(l.item()) * static_cast<double>(b.size());
            const auto& scores = logits.value();
            const std::size_t classes = scores.dim(1);
            for (std::size_t i = 0; i < b.size(); ++i) {
                std::size_t best = 0;
                for (std::size_t k = 1; k < classes; ++k)
                    if (scores(i, k) > scores(i, best)) best = k;
                correct += best == static_cast<std::size_t>(b.y[i]);
            }
            seen += b.size();
            if (bar)
                bar->update(b.index, b.size(), loss_sum / static_cast<double>(seen),
                            static_cast<double>(correct) / static_cast<double>(seen));
        }
        const double seconds = std::chrono::duration<double>(clock::now() - start).count();

        io::epoch_record r;
        r.epoch = epoch + 1;
        r.train_loss = loss_sum / static_cast<double>(seen);
        r.train_acc = static_cast<double>(correct) / static_cast<double>(seen);
        r.lr = opt.learning_rate();
        r.seconds = seconds;
        if (options.validation) {
            const evaluation v = evaluate(net, *options.validation, 1000, loss);
            r.val_loss = v.loss;
            r.val_acc = v.accuracy;
            if (v.loss < state.best_val_loss) {
                state.best_val_loss = v.loss;
                state.best_epoch = epoch + 1;
                state.bad_epochs = 0;
            } else {
                ++state.bad_epochs;
            }
        }
        result.history.push_back(r);
        if (bar) bar->end_epoch(r, static_cast<double>(seen) / seconds);
        if (history) history->append(r);
        if (!options.chart_svg.empty()) io::write_training_chart(options.chart_svg, result.history);
        state.epoch = epoch + 1;
        if (!options.checkpoint.empty())
            save_checkpoint(options.checkpoint, net, opt, loader, state);

        bool stop = options.patience > 0 && state.bad_epochs >= options.patience;
        for (const auto& callback : options.callbacks)
            stop = !callback(r) || stop;
        if (stop) {
            result.stopped_early = epoch + 1 < options.epochs;
            break;
        }
    }
    result.best_epoch = state.best_epoch;
    return result;
}

}  // namespace dendrite::inline DENDRITE_TARGET::train
