#include "dendrite/train/activation_trials.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <system_error>

#include "dendrite/io/atomic_file.hpp"
#include "dendrite/io/box_plot.hpp"
#include "dendrite/io/error.hpp"
#include "dendrite/nn/network.hpp"
#include "dendrite/optim/adam.hpp"
#include "dendrite/optim/schedule.hpp"
#include "dendrite/simd/parallel.hpp"
#include "dendrite/train/fit.hpp"

namespace dendrite::inline DENDRITE_TARGET::train {

namespace {

constexpr std::string_view placeholder = "{act}";

std::string with_activation(const trial_network& net, const std::string& act) {
    std::string d = net.description;
    if (d.find(placeholder) == std::string::npos)
        throw nn::network_error("activation trials: network '" + net.name + "' (\"" +
                                net.description + "\") has no \"{act}\" for the activation");
    for (std::size_t at = d.find(placeholder); at != std::string::npos;
         at = d.find(placeholder, at + act.size()))
        d.replace(at, placeholder.size(), act);
    return d;
}

void check_activation(const trial_activation& a, const nn::layer_catalog& catalog) {
    const std::vector<nn::layer_description> d = nn::parse_network(a.layer);
    const auto found = d.size() == 1 ? catalog.find(d[0].kind) : std::nullopt;
    if (!found || !catalog[found->index].is_activation)
        throw nn::network_error("activation trials: '" + a.layer +
                                "' is not an activation the registry knows; activations and "
                                "layers: " +
                                catalog.kinds_text());
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string format(const char* pattern, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, pattern, v);
    return buf;
}

/// A CSV field, quoted when it holds a separator, a quote or a line end.
std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s)
        out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string p_value_text(double p) {
    return p < 1e-4 ? std::string("< 0.0001") : format("%.4f", p);
}

}  // namespace

trial_network trial_mlp() {
    return {"MLP 784-256-128-10", "dense:256,{act},dense:128,{act},dense:10"};
}

trial_network trial_lenet() {
    return {"LeNet-5",
            "conv:6:5,{act},maxpool:2,conv:16:5,{act},maxpool:2,flatten,dense:120,{act},dense:84,"
            "{act},dense:10"};
}

activation_trials run_activation_trials(const data::train_test_data& data,
                                        const std::vector<trial_activation>& activations,
                                        const activation_trial_options& options,
                                        const nn::layer_registry<float>& kinds) {
    if (activations.empty())
        throw std::invalid_argument("activation trials: no activations to compare");
    if (options.seeds == 0 || options.epochs == 0 || options.batch_size == 0)
        throw std::invalid_argument("activation trials: seeds, epochs and batch size must be > 0");
    const auto baseline =
        std::find_if(activations.begin(), activations.end(),
                     [&](const trial_activation& a) { return a.label == options.baseline; });
    if (baseline == activations.end())
        throw std::invalid_argument("activation trials: the baseline '" + options.baseline +
                                    "' is not among the activations tried");
    for (const trial_activation& a : activations)
        check_activation(a, kinds.catalog());

    const data::dataset* train_set = &data.train;
    data::dataset limited;
    if (options.train_samples != 0 && options.train_samples < data.train.size()) {
        std::vector<std::size_t> first(options.train_samples);
        for (std::size_t i = 0; i < first.size(); ++i)
            first[i] = i;
        limited = data::subset(data.train, first);
        train_set = &limited;
    }

    activation_trials out;
    out.options = options;
    out.data_description = data.description;
    out.threads = num_threads();
    for (const trial_network& network : options.networks) {
        const std::size_t first_result = out.results.size();
        for (const trial_activation& act : activations) {
            const std::vector<nn::layer_description> layers =
                nn::parse_network(with_activation(network, act.layer));
            const shape sample =
                nn::default_sample_shape(layers, data.train.example_size(), kinds.catalog());
            activation_trial trial;
            trial.network = network.name;
            trial.activation = act.label;
            for (std::size_t s = 0; s < options.seeds; ++s) {
                const std::uint64_t seed = options.first_seed + s;
                nn::network<float> net(sample, layers, seed, kinds);
                if (net.out_features() != data.train.classes)
                    throw nn::network_error("activation trials: network '" + network.name +
                                            "' gives " + std::to_string(net.out_features()) +
                                            " outputs but the data has " +
                                            std::to_string(data.train.classes) + " classes");
                optim::adamw<float> opt({.lr = options.learning_rate, .weight_decay = 1e-4});
                fit_options fit_opts;
                fit_opts.epochs = options.epochs;
                fit_opts.batch_size = options.batch_size;
                fit_opts.seed = seed;
                fit_opts.learning_rate = optim::cosine_annealing(
                    options.learning_rate, options.epochs, options.learning_rate / 100);
                fit_opts.log = nullptr;
                const fit_result fitted = fit(net, opt, *train_set, fit_opts);
                double seconds = 0;
                for (const io::epoch_record& r : fitted.history)
                    seconds += r.seconds;
                const double per_epoch = seconds / static_cast<double>(fitted.history.size());
                const double accuracy = evaluate(net, data.test).accuracy;
                trial.seeds.push_back(seed);
                trial.test_accuracy.push_back(accuracy);
                trial.seconds_per_epoch.push_back(per_epoch);
                if (options.log)
                    *options.log << network.name << ", " << act.label << ", seed " << seed
                                 << ": test accuracy " << format("%.4f", accuracy) << ", "
                                 << format("%.3f", per_epoch) << " s per epoch" << std::endl;
            }
            trial.accuracy = summarize(trial.test_accuracy);
            trial.median_seconds_per_epoch = median(trial.seconds_per_epoch);
            out.results.push_back(std::move(trial));
        }
        // Every activation against the baseline on this network.
        const activation_trial& base =
            out.results[first_result + static_cast<std::size_t>(baseline - activations.begin())];
        for (std::size_t i = first_result; i < out.results.size(); ++i) {
            activation_trial& t = out.results[i];
            if (&t != &base && options.seeds >= 2)
                t.against_baseline = welch_t_test(t.test_accuracy, base.test_accuracy);
        }
    }
    return out;
}

std::string activation_trials_report(const activation_trials& trials) {
    const activation_trial_options& o = trials.options;
    std::string md = "# Activations compared by training\n\n";
    md +=
        "Data: " + trials.data_description + ". Each activation trains every network " +
        std::to_string(o.seeds) + " times (seeds " + std::to_string(o.first_seed) + " to " +
        std::to_string(o.first_seed + o.seeds - 1) +
        "; a seed sets the initial weights and the "
        "order of the batches) for " +
        std::to_string(o.epochs) + " epoch" + (o.epochs == 1 ? "" : "s") +
        (o.train_samples ? " on the first " + std::to_string(o.train_samples) + " training samples"
                         : std::string()) +
        ", batch " + std::to_string(o.batch_size) + ", AdamW at learning rate " +
        format("%g", o.learning_rate) + " cosine-annealed, on " + std::to_string(trials.threads) +
        " thread" + (trials.threads == 1 ? "" : "s") +
        ". Accuracy is on the test set after the last epoch, as mean +- sample standard "
        "deviation over the seeds. p is Welch's two-sided t-test of the accuracies against " +
        o.baseline +
        "'s on the same network: below 0.05, the difference is unlikely to be "
        "chance alone. Seconds per epoch (training only) are the median over seeds.\n";
    std::string network;
    for (const activation_trial& t : trials.results) {
        if (t.network != network) {
            network = t.network;
            md += "\n## " + network + "\n\n| activation | test accuracy (%) | vs " + o.baseline +
                  " (points) | p | s / epoch |\n|---|---|---|---|---|\n";
        }
        md += "| " + t.activation + " | " + format("%.2f", 100 * t.accuracy.mean) + " +- " +
              format("%.2f", 100 * t.accuracy.stddev) + " | ";
        if (t.against_baseline) {
            const auto base = std::find_if(
                trials.results.begin(), trials.results.end(), [&](const activation_trial& b) {
                    return b.network == t.network && b.activation == o.baseline;
                });
            md += format("%+.2f", 100 * (t.accuracy.mean - base->accuracy.mean)) + " | " +
                  p_value_text(t.against_baseline->p_value);
        } else {
            md += t.activation == o.baseline ? "(baseline) |" : " |";
        }
        md += " | " + format("%.3f", t.median_seconds_per_epoch) + " |\n";
    }
    md += "\nEvery run: trials.csv. The spread: trials.svg.\n";
    return md;
}

void write_activation_trials(const std::filesystem::path& dir, const activation_trials& trials) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
        throw io_error("activation trials: cannot create " + dir.string() + ": " + ec.message());
    io::write_file_atomically(dir / "trials.md", activation_trials_report(trials));

    std::string csv = "network,activation,seed,test_accuracy,seconds_per_epoch\n";
    for (const activation_trial& t : trials.results)
        for (std::size_t i = 0; i < t.seeds.size(); ++i)
            csv += csv_field(t.network) + "," + csv_field(t.activation) + "," +
                   std::to_string(t.seeds[i]) + "," + format("%.6f", t.test_accuracy[i]) + "," +
                   format("%.6f", t.seconds_per_epoch[i]) + "\n";
    io::write_file_atomically(dir / "trials.csv", csv);

    static constexpr const char* palette[] = {"#1f77b4", "#e8590c", "#2ca02c", "#d62728",
                                              "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                              "#bcbd22", "#17becf"};
    io::box_chart chart;
    chart.title = "Test accuracy over " + std::to_string(trials.options.seeds) + " seeds, " +
                  std::to_string(trials.options.epochs) + " epoch" +
                  (trials.options.epochs == 1 ? "" : "s");
    for (const activation_trial& t : trials.results) {
        if (chart.panels.empty() || chart.panels.back().title != t.network)
            chart.panels.push_back({t.network, "test accuracy (%)", {}});
        std::vector<double> percent;
        for (double a : t.test_accuracy)
            percent.push_back(100 * a);
        const std::size_t k = chart.panels.back().groups.size();
        chart.panels.back().groups.push_back(
            {t.activation, std::move(percent), palette[k % std::size(palette)]});
    }
    chart.width = 480 * std::max<std::size_t>(1, chart.panels.size());
    io::write_box_chart(dir / "trials.svg", chart);
}

}  // namespace dendrite::inline DENDRITE_TARGET::train
