#pragma once
// fit and evaluate: the training loop over mini-batches, with validation, metrics, early
// stopping, learning-rate schedules, callbacks, history, charts and resumable checkpoints.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <span>
#include <string>
#include <vector>

#include "dendrite/autodiff/cross_entropy.hpp"
#include "dendrite/config.hpp"
#include "dendrite/data/dataset.hpp"
#include "dendrite/io/csv_history.hpp"
#include "dendrite/train/confusion_matrix.hpp"
#include "dendrite/train/erased.hpp"

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

namespace detail {

/// evaluate and fit over the erased network, optimizer and loss: the loops themselves, compiled
/// once (src/train/fit.cpp).
template <class T>
evaluation evaluate_loop(erased_network<T>& net, const data::dataset& ds, std::size_t batch_size,
                         erased_loss<T> loss);
template <class T>
fit_result fit_loop(erased_network<T>& net, erased_optimizer<T>& opt, erased_loss<T> loss,
                    const data::dataset& train, const fit_options& options);

extern template evaluation evaluate_loop<float>(erased_network<float>&, const data::dataset&,
                                                std::size_t, erased_loss<float>);
extern template evaluation evaluate_loop<double>(erased_network<double>&, const data::dataset&,
                                                 std::size_t, erased_loss<double>);
extern template fit_result fit_loop<float>(erased_network<float>&, erased_optimizer<float>&,
                                           erased_loss<float>, const data::dataset&,
                                           const fit_options&);
extern template fit_result fit_loop<double>(erased_network<double>&, erased_optimizer<double>&,
                                            erased_loss<double>, const data::dataset&,
                                            const fit_options&);

}  // namespace detail

/// Evaluates `net` (in evaluation mode, recording no gradients) on `ds` in batches.
template <class Net, class Loss = cross_entropy>
evaluation evaluate(Net& net, const data::dataset& ds, std::size_t batch_size = 1000,
                    Loss loss = {}) {
    using T = typename Net::value_type;
    detail::erased_network_of<Net> erased(net);
    const auto loss_fn = detail::loss_adapter<T>(loss);
    return detail::evaluate_loop<T>(erased, ds, batch_size, loss_fn);
}

/// Trains `net` on `train` with optimizer `opt` for options.epochs epochs.
///
/// Each step records the forward pass on one reused tape, backpropagates the loss and updates
/// the parameters; the accuracy comes from the logits (count_correct), and the next shuffled batch
/// is gathered in the background while the step runs (see data::batch_loader). A steady-state
/// epoch allocates nothing and costs, beyond its steps, O(batch x classes) per batch. With
/// options.checkpoint, the model, its buffers, the optimizer's state, the data order and the
/// random generators are saved after every epoch, so options.resume continues exactly where the
/// run stopped. The loop is compiled once in the library (for float and double networks); it
/// reaches `net`, `opt` and `loss` through a few indirect calls per batch.
template <class Net, class Opt, class Loss = cross_entropy>
fit_result fit(Net& net, Opt& opt, const data::dataset& train, const fit_options& options = {},
               Loss loss = {}) {
    using T = typename Net::value_type;
    detail::erased_network_of<Net> erased_net(net);
    detail::erased_optimizer_of<T, Opt> erased_opt(opt);
    const auto loss_fn = detail::loss_adapter<T>(loss);
    return detail::fit_loop<T>(erased_net, erased_opt, loss_fn, train, options);
}

}  // namespace dendrite::inline DENDRITE_TARGET::train
