#pragma once
// Activations compared by training: the same networks trained with each activation for several
// seeds, their test accuracies and epoch times, and whether each differs from a baseline.
//
//     auto kinds = nn::layer_registry<float>::builtin();
//     kinds.add_activation(nn::activation{my_fn, "my_act"});
//     auto trials = train::run_activation_trials(data, {"relu", "gelu", "my_act"}, {}, kinds);
//     train::write_activation_trials("lab_out", trials);   // trials.md, trials.csv, trials.svg
//
// Each network is a run-time description with "{act}" where the activation goes; with seed s,
// every activation starts from weights drawn from seed s and sees the batches in the order of
// seed s, so the runs differ only by the activation.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "dendrite/config.hpp"
#include "dendrite/data/default_data.hpp"
#include "dendrite/nn/registry.hpp"
#include "dendrite/train/statistics.hpp"

namespace dendrite::inline DENDRITE_TARGET::train {

/// A network to train: a run-time description in which every "{act}" is the activation tried.
struct trial_network {
    std::string name;
    std::string description;
};

/// The 784-256-128-10 perceptron.
trial_network trial_mlp();
/// LeNet-5 on 28 x 28 images (two 5 x 5 convolutions with max pooling, then 120-84-10).
trial_network trial_lenet();

/// An activation to try: as descriptions write it ("gelu", "leaky_relu:0.2", a name added to
/// the registry), and what reports call it (the same unless given).
struct trial_activation {
    std::string layer;
    std::string label;

    trial_activation(std::string layer_name, std::string report_label = {})
        : layer(std::move(layer_name)),
          label(report_label.empty() ? layer : std::move(report_label)) {}
    trial_activation(const char* layer_name) : trial_activation(std::string(layer_name)) {}
};

struct activation_trial_options {
    std::vector<trial_network> networks = {trial_mlp(), trial_lenet()};
    /// Each p-value tests an activation against this one (a label); it must be among those tried.
    std::string baseline = "relu";
    std::size_t seeds = 5;
    std::uint64_t first_seed = 1;
    std::size_t epochs = 3;
    std::size_t batch_size = 128;
    /// AdamW's learning rate, cosine-annealed over the epochs to a hundredth.
    double learning_rate = 2e-3;
    /// Trains on the first this many training samples (0: all of them).
    std::size_t train_samples = 0;
    /// One line per run; null is silent.
    std::ostream* log = nullptr;
};

/// One network trained with one activation, once per seed.
struct activation_trial {
    std::string network;
    std::string activation;
    std::vector<std::uint64_t> seeds;
    std::vector<double> test_accuracy;      // per seed
    std::vector<double> seconds_per_epoch;  // per seed: the training epochs' mean
    sample_summary accuracy;
    /// Against the baseline's accuracies on the same network; absent for the baseline itself
    /// and for fewer than two seeds.
    std::optional<welch_test> against_baseline;
    /// The median over seeds of seconds_per_epoch.
    double median_seconds_per_epoch = 0;
};

struct activation_trials {
    activation_trial_options options;
    std::string data_description;
    int threads = 1;
    /// Network by network, activations in the order given.
    std::vector<activation_trial> results;
};

/// Trains every network of `options` with every activation (activations of `kinds`), seed by
/// seed, and measures each run's test accuracy and training time per epoch. Throws
/// network_error naming an unknown activation or a network without "{act}", and
/// std::invalid_argument for no activations, no seeds or epochs, or a baseline not among them.
activation_trials run_activation_trials(
    const data::train_test_data& data, const std::vector<trial_activation>& activations,
    const activation_trial_options& options = {},
    const nn::layer_registry<float>& kinds = nn::layer_registry<float>::builtin());

/// Per network, a markdown table: accuracy mean +- standard deviation, the difference to the
/// baseline with its Welch p-value, and seconds per epoch.
std::string activation_trials_report(const activation_trials& trials);

/// Writes `dir`/trials.md (the report), `dir`/trials.csv (one row per run) and `dir`/trials.svg
/// (a box plot of test accuracy per network), creating `dir`. Throws io::io_error.
void write_activation_trials(const std::filesystem::path& dir, const activation_trials& trials);

}  // namespace dendrite::inline DENDRITE_TARGET::train
