// dendrite-lab: activation functions, by name or written out, compared by their shape (derived
// derivatives as formulas, a properties table, one picture each) and by training (the same
// networks trained with each for several seeds: accuracy, a t-test against ReLU, time per epoch).
//
//   dendrite-lab [--act NAME_OR_EXPRESSION]... [--only] [--out DIR] [--no-train]
//                [--networks mlp,lenet] [--seeds N] [--epochs N] [--train-samples N]
//                [--data DIR] [--threads N] [--from X] [--to X] [--points N]
//
// e.g. dendrite-lab --act "x * tanh(softplus(0.8 x))" --out lab_out
#include <dendrite/data/default_data.hpp>
#include <dendrite/nn/activation_expression.hpp>
#include <dendrite/nn/activation_lab.hpp>
#include <dendrite/nn/registry.hpp>
#include <dendrite/simd/parallel.hpp>
#include <dendrite/train/activation_trials.hpp>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <iostream>
#include <string>
#include <vector>

using namespace dendrite;

namespace {

/// Whether `text` names an activation of `catalog`, with its arguments ("leaky_relu:0.2").
bool names_an_activation(const std::string& text, const nn::layer_catalog& catalog) {
    try {
        const std::vector<nn::layer_description> d = nn::parse_network(text);
        const auto found = d.size() == 1 ? catalog.find(d[0].kind) : std::nullopt;
        return found && catalog[found->index].is_activation;
    } catch (const nn::network_error&) {
        return false;  // not description syntax: an expression
    }
}

}  // namespace

int main(int argc, char** argv) try {
    CLI::App app{
        "Compare activation functions: f, f', f'' as derived, their properties and plots, and "
        "networks trained with each"};
    std::vector<std::string> given;
    bool only = false, no_train = false;
    nn::lab_range range;
    std::string out = "dendrite_lab_out", data_dir;
    std::vector<std::string> networks = {"mlp", "lenet"};
    train::activation_trial_options trial;
    int threads = num_threads();
    app.add_option("--act", given,
                   "an activation's name or an expression in x, e.g. \"x * tanh(softplus(x))\" "
                   "(repeatable); compared with relu, gelu, swish and mish");
    app.add_flag("--only", only, "compare only the activations given with --act");
    app.add_option("--out", out, "folder for the reports and the pictures")->capture_default_str();
    app.add_flag("--no-train", no_train, "profile the shapes only, train nothing");
    app.add_option("--networks", networks, "networks to train: mlp, lenet")
        ->delimiter(',')
        ->check(CLI::IsMember({"mlp", "lenet"}))
        ->capture_default_str();
    app.add_option("--seeds", trial.seeds, "training runs per network and activation")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--epochs", trial.epochs, "epochs per run")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--batch", trial.batch_size, "mini-batch size")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--lr", trial.learning_rate, "AdamW's learning rate (cosine-annealed)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--train-samples", trial.train_samples,
                   "train on the first N training samples (0: all)")
        ->capture_default_str();
    app.add_option("--baseline", trial.baseline, "the activation the others are tested against")
        ->capture_default_str();
    app.add_option("--data", data_dir, "MNIST-format directory (default: Debian's Fashion-MNIST)");
    app.add_option("--threads", threads, "threads")->check(CLI::PositiveNumber);
    app.add_option("--from", range.from, "left end of the plotted range")->capture_default_str();
    app.add_option("--to", range.to, "right end of the plotted range")->capture_default_str();
    app.add_option("--points", range.points, "samples over the range")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    set_num_threads(threads);

    std::vector<std::string> acts;
    if (!only) acts = {"relu", "gelu", "swish", "mish"};
    for (const std::string& a : given)
        if (std::find(acts.begin(), acts.end(), a) == acts.end()) acts.push_back(a);
    if (acts.empty()) throw std::invalid_argument("--only without any --act: nothing to compare");

    // Shapes: every activation through the expression parser, names included.
    std::vector<nn::activation_profile> profiles;
    for (const std::string& a : acts)
        profiles.push_back(nn::profile_activation(nn::activation_expression(a), a, range));
    nn::write_activation_lab(out, profiles);
    for (const nn::activation_profile& p : profiles) {
        std::printf("%s\n  f(x)   = %s\n  f'(x)  = %s\n  f''(x) = %s\n", p.name.c_str(),
                    p.formulas[0].c_str(), p.formulas[1].c_str(), p.formulas[2].c_str());
        std::printf(
            "  f(0) = %.4g, f'(0) = %.4g, E f(z) = %.4g, E f(z)^2 = %.4g, E f'(z)^2 = %.4g, "
            "init gain %.4g\n",
            p.value_at_0, p.slope_at_0, p.gaussian_mean, p.gaussian_second_moment,
            p.gaussian_slope_moment, p.init_gain);
    }
    std::printf("shapes in %s: activations.md, one .svg per activation\n", out.c_str());
    if (no_train) return 0;

    // Training: built-in names as compiled, expressions through the parser, under names of
    // their own in a registry.
    nn::layer_registry<float> kinds = nn::layer_registry<float>::builtin();
    std::deque<std::string> names;  // the registry keeps their addresses
    std::vector<train::trial_activation> tried;
    for (const std::string& a : acts) {
        if (names_an_activation(a, kinds.catalog())) {
            tried.emplace_back(a);
            continue;
        }
        names.push_back("expression_" + std::to_string(names.size() + 1));
        kinds.add_activation(nn::activation{nn::activation_expression(a), names.back().c_str()});
        tried.emplace_back(names.back(), a);
    }
    trial.networks.clear();
    for (const std::string& n : networks)
        trial.networks.push_back(n == "mlp" ? train::trial_mlp() : train::trial_lenet());
    trial.log = &std::cout;

    const data::train_test_data d = data::mnist_or_synthetic(data_dir, 1);
    std::printf("\ntraining on %s, %d thread%s\n", d.description.c_str(), threads,
                threads == 1 ? "" : "s");
    const auto start = std::chrono::steady_clock::now();
    const train::activation_trials trials = train::run_activation_trials(d, tried, trial, kinds);
    train::write_activation_trials(out, trials);
    std::printf("\n%s", train::activation_trials_report(trials).c_str());
    std::printf("\ntrained in %.0f s; in %s: trials.md, trials.csv, trials.svg\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                out.c_str());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "dendrite-lab: %s\n", e.what());
    return 1;
}
