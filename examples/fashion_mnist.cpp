// Train an MLP on Fashion-MNIST (or any MNIST-format directory) and report its test accuracy.
// Without the data it trains on generated digits instead, and says so.
//
//   fashion_mnist [--data DIR] [--epochs N] [--batch N] [--threads N] [--seed N] [--out DIR]
#include <dendrite/dendrite.hpp>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>

using namespace dendrite;

int main(int argc, char** argv) try {
    CLI::App app{"Train a multi-layer perceptron on Fashion-MNIST"};
    std::string data_dir, out_dir = "fashion_mnist_out";
    std::size_t epochs = 10, batch = 128;
    int threads = num_threads();
    std::uint64_t seed = 1;
    app.add_option("--data", data_dir, "MNIST-format directory (default: Debian's Fashion-MNIST)");
    app.add_option("--epochs", epochs, "epochs to train")->check(CLI::PositiveNumber);
    app.add_option("--batch", batch, "mini-batch size")->check(CLI::PositiveNumber);
    app.add_option("--threads", threads, "threads")->check(CLI::PositiveNumber);
    app.add_option("--seed", seed, "seed of the weights and the data order");
    app.add_option("--out", out_dir, "directory for the checkpoint, history and charts");
    CLI11_PARSE(app, argc, argv);
    set_num_threads(threads);

    const data::train_test_data d = data::mnist_or_synthetic(data_dir, seed);
    std::printf("data: %s\n", d.description.c_str());
    auto [train_part, validation] = data::train_validation_split(d.train, 1.0 / 30, seed);

    auto net = nn::sequential(nn::input<784>, nn::dense<512>, nn::relu, nn::dropout(0.2),
                              nn::dense<256>, nn::relu, nn::dropout(0.2), nn::dense<10>);
    net.init(seed);
    std::cout << net.summary();

    std::filesystem::create_directories(out_dir);
    optim::adamw<float> opt({.lr = 1e-3, .weight_decay = 1e-4});
    train::fit_options options;
    options.epochs = epochs;
    options.batch_size = batch;
    options.seed = seed;
    options.validation = &validation;
    options.learning_rate = optim::cosine_annealing(1e-3, epochs, 1e-5);
    options.history_csv = std::filesystem::path(out_dir) / "history.csv";
    options.chart_svg = std::filesystem::path(out_dir) / "history.svg";
    options.checkpoint = std::filesystem::path(out_dir) / "checkpoint.safetensors";
    train::fit(net, opt, train_part, options, train::cross_entropy{.label_smoothing = 0.1});

    const train::evaluation test = train::evaluate(net, d.test);
    std::cout << "\nconfusion matrix (rows: true class)\n" << test.confusion.str(d.class_names);
    io::write_png(std::filesystem::path(out_dir) / "first_layer.png",
                  io::weight_grid(net.parameters()[0].value, 28, 28, {.columns = 32}));
    io::write_network_dot(std::filesystem::path(out_dir) / "network.dot", net);
    std::printf(
        "outputs in %s: checkpoint.safetensors, history.csv, history.svg, first_layer.png, "
        "network.dot\n",
        out_dir.c_str());
    std::printf("test loss: %.4f\ntest accuracy: %.4f\n", test.loss, test.accuracy);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "fashion_mnist: %s\n", e.what());
    return 1;
}
