// dendrite-train: train a network described on the command line, without writing C++.
//
//   dendrite-train --net "dense:256,relu,dense:10" [--net-json FILE] [--input C,H,W] [--data DIR]
//   [--epochs N]
//                  [--batch N] [--lr X] [--optimizer adamw|adam|sgd] [--threads N] [--seed N]
//                  [--out DIR]
#include <dendrite/dendrite.hpp>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

using namespace dendrite;

namespace {
template <class Opt>
void run(nn::network<float>& net, Opt& opt, const data::train_test_data& d,
         train::fit_options options, const std::filesystem::path& out) {
    auto [train_part, validation] = data::train_validation_split(d.train, 1.0 / 30, options.seed);
    options.validation = &validation;
    train::fit(net, opt, train_part, options);
    const train::evaluation test = train::evaluate(net, d.test);
    std::cout << "\nconfusion matrix (rows: true class)\n" << test.confusion.str(d.class_names);
    std::printf("outputs in %s: checkpoint.safetensors, history.csv, history.svg\n",
                out.string().c_str());
    std::printf("test loss: %.4f\ntest accuracy: %.4f\n", test.loss, test.accuracy);
}
}  // namespace

int main(int argc, char** argv) try {
    CLI::App app{"Train a network described as text on an MNIST-format data set"};
    std::string description = "dense:256,relu,dense:10", json_file, data_dir, optimizer = "adamw",
                out_dir = "dendrite_train_out";
    std::size_t epochs = 5, batch = 128;
    double lr = 1e-3;
    int threads = num_threads();
    std::uint64_t seed = 1;
    std::vector<std::size_t> input_shape;
    app.add_option("--net", description,
                   "layers, e.g. \"dense:256,relu,dropout:0.2,dense:10\"; kinds: " +
                       nn::network_layer_kinds());
    app.add_option("--net-json", json_file, "a JSON file describing the layers instead of --net")
        ->check(CLI::ExistingFile);
    app.add_option("--input", input_shape,
                   "shape of one sample, FEATURES or CHANNELS,HEIGHT,WIDTH (default: the data's "
                   "features, or a "
                   "square image when the network starts with a convolution)")
        ->delimiter(',');
    app.add_option("--data", data_dir, "MNIST-format directory (default: Debian's Fashion-MNIST)");
    app.add_option("--epochs", epochs, "epochs")->check(CLI::PositiveNumber);
    app.add_option("--batch", batch, "mini-batch size")->check(CLI::PositiveNumber);
    app.add_option("--lr", lr, "learning rate (cosine-annealed over the epochs)")
        ->check(CLI::PositiveNumber);
    app.add_option("--optimizer", optimizer, "adamw, adam or sgd (with Nesterov momentum 0.9)")
        ->check(CLI::IsMember({"adamw", "adam", "sgd"}));
    app.add_option("--threads", threads, "threads")->check(CLI::PositiveNumber);
    app.add_option("--seed", seed, "seed of the weights and the data order");
    app.add_option("--out", out_dir, "directory for the checkpoint, history and chart");
    CLI11_PARSE(app, argc, argv);
    set_num_threads(threads);

    const data::train_test_data d = data::mnist_or_synthetic(data_dir, seed);
    std::printf("data: %s\n", d.description.c_str());
    std::vector<nn::layer_description> layers;
    if (!json_file.empty()) {
        std::ifstream in(json_file);
        std::stringstream text;
        text << in.rdbuf();
        layers = nn::parse_network_json(text.str());
    } else {
        layers = nn::parse_network(description);
    }
    // A network that starts with convolutions sees each row as a square one-channel image
    // unless told otherwise.
    shape sample{d.train.example_size()};
    if (!input_shape.empty()) {
        if (input_shape.size() != 1 && input_shape.size() != 3)
            throw nn::network_error("--input takes FEATURES or CHANNELS,HEIGHT,WIDTH");
        sample = shape(input_shape.begin(), input_shape.end());
    } else {
        sample = nn::default_sample_shape(layers, sample[0]);
    }
    if (sample.size() != d.train.example_size())
        throw nn::network_error(
            "--input " + sample.str() + " holds " + std::to_string(sample.size()) +
            " values but the data's samples have " + std::to_string(d.train.example_size()));
    nn::network<float> net(sample, layers, seed);
    if (net.out_features() != d.train.classes)
        throw nn::network_error("the network gives " + std::to_string(net.out_features()) +
                                " outputs but the data has " + std::to_string(d.train.classes) +
                                " classes; end it with dense:" + std::to_string(d.train.classes));
    std::cout << net.summary();

    const std::filesystem::path out(out_dir);
    std::filesystem::create_directories(out);
    train::fit_options options;
    options.epochs = epochs;
    options.batch_size = batch;
    options.seed = seed;
    options.learning_rate = optim::cosine_annealing(lr, epochs, lr / 100);
    options.history_csv = out / "history.csv";
    options.chart_svg = out / "history.svg";
    options.checkpoint = out / "checkpoint.safetensors";
    if (optimizer == "sgd") {
        optim::sgd<float> opt({.lr = lr, .momentum = 0.9, .nesterov = true});
        run(net, opt, d, options, out);
    } else if (optimizer == "adam") {
        optim::adam<float> opt({.lr = lr});
        run(net, opt, d, options, out);
    } else {
        optim::adamw<float> opt({.lr = lr, .weight_decay = 1e-4});
        run(net, opt, d, options, out);
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "dendrite-train: %s\n", e.what());
    return 1;
}
