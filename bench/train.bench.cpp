// The training loop against the bare step: train::fit epochs of the 784-256-128-10 ReLU network
// (softmax cross-entropy, SGD with momentum 0.9) on 60000 examples of 784 floats, alternated in
// the same benchmark with bare steps (zero_grad, forward, loss, backward, optimizer step) of the
// same network on one batch assembled beforehand. Whatever fit adds to the step (shuffled
// batches gathered from the data set, accuracy, running loss, bookkeeping) is the gap between
// the two rates. Validation and log are off. For nn::sequential and the run-time nn::network, at
// batch 32, 128 and 512, on 1 and 2 threads.
//
// Every iteration is one call of fit for two epochs, then as many bare steps as an epoch has
// batches, so both see the same machine load. Counters, over the iterations: `fit`, the second
// epoch in samples/s by fit's own clock (what it reports per epoch: the shuffle, every batch and
// its bookkeeping, not the set-up of the call nor the first touch of its buffers); `step`, the
// bare steps in samples/s; `fit/step`, their ratio; `call/step`, the whole call of two epochs
// against the steps. The data is Fashion-MNIST's training set when the dataset-fashion-mnist
// package is installed, else random data of its shape.

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include <benchmark/benchmark.h>

#include <dendrite/dendrite.hpp>

using namespace dendrite;

namespace {

const data::dataset& training_set() {
    static const data::dataset ds = [] {
        if (const auto dir = data::fashion_mnist_dir())
            return data::load_mnist_dir(*dir, data::split::train);
        rng g(7);
        data::dataset d{uniform<float>({60000, 784}, 0.f, 1.f, g), std::vector<std::int32_t>(60000),
                        10};
        for (auto& l : d.y)
            l = static_cast<std::int32_t>(g.below(10));
        return d;
    }();
    return ds;
}

auto make_sequential() {
    auto net = nn::sequential(nn::input<784>, nn::dense<256>, nn::relu, nn::dense<128>, nn::relu,
                              nn::dense<10>);
    net.init(1);
    return net;
}

nn::network<float> make_network() {
    return nn::network<float>(784, "dense:256,relu,dense:128,relu,dense:10", 1);
}

template <class Make>
void fit_vs_step(benchmark::State& state, Make make) {
    using clock = std::chrono::steady_clock;
    const std::size_t batch = static_cast<std::size_t>(state.range(0));
    set_num_threads(static_cast<int>(state.range(1)));
    const data::dataset& ds = training_set();
    auto net = make();
    auto params = net.parameters();
    optim::sgd<float> opt({.lr = 0.01, .momentum = 0.9});

    // The bare step's batch: the data set's first rows, in memory before the timing starts.
    const tensor<float> x = ds.x.rows(0, batch).clone();
    const std::vector<std::int32_t> y(ds.y.begin(), ds.y.begin() + static_cast<long>(batch));
    tape t;
    auto step = [&] {
        t.clear();
        net.zero_grad();
        auto loss = softmax_cross_entropy(net(t, x), y);
        loss.backward();
        opt.step(params);
        benchmark::DoNotOptimize(loss.item());
    };
    train::fit_options options;
    options.epochs = 2;
    options.batch_size = batch;
    options.seed = 1;
    options.log = nullptr;
    const std::size_t batches = (ds.size() + batch - 1) / batch;

    // First touch of both outside the timing: the tape's buffers, the optimizer's state.
    train::fit(net, opt, ds, options);
    step();
    double fit_seconds = 0, call_seconds = 0, step_seconds = 0;
    for (auto _ : state) {
        const auto a = clock::now();
        const auto r = train::fit(net, opt, ds, options);
        const auto b = clock::now();
        for (std::size_t i = 0; i < batches; ++i)
            step();
        const auto c = clock::now();
        // The second epoch by fit's own clock (shuffle, batches, bookkeeping): the steady state
        // of a run, without the set-up of the call and the first touch of its buffers.
        fit_seconds += r.history[1].seconds;
        call_seconds += std::chrono::duration<double>(b - a).count();
        step_seconds += std::chrono::duration<double>(c - b).count();
        ++options.seed;
    }
    const double samples = static_cast<double>(state.iterations() * ds.size());
    const double step_rate =
        static_cast<double>(state.iterations() * batches * batch) / step_seconds;
    state.counters["fit"] = samples / fit_seconds;
    state.counters["step"] = step_rate;
    state.counters["fit/step"] = samples / fit_seconds / step_rate;
    state.counters["call/step"] = 2 * samples / call_seconds / step_rate;
}

void arguments(benchmark::internal::Benchmark* b) {
    for (int threads : {1, 2})
        for (int batch : {32, 128, 512})
            b->Args({batch, threads});
    b->ArgNames({"batch", "threads"})->Unit(benchmark::kMillisecond)->UseRealTime();
}

}  // namespace

BENCHMARK_CAPTURE(fit_vs_step, sequential, make_sequential)->Apply(arguments);
BENCHMARK_CAPTURE(fit_vs_step, network, make_network)->Apply(arguments);

BENCHMARK_MAIN();
