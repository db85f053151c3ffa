// One training step (forward, backward, SGD update) of LeNet-5 on 28x28 images (conv 5x5 6 ->
// relu -> max pool 2 -> conv 5x5 16 -> relu -> max pool 2 -> dense 120 -> dense 84 -> dense 10,
// softmax cross-entropy), written with nn::sequential, at batch 128 on 1 and 2 threads; and the
// forward pass alone, to tell forward from backward. Counter: samples/s. About 2.5 MFLOP per
// training sample (0.42 M multiply-adds forward, twice that backward).

#include <cstdint>
#include <vector>

#include <benchmark/benchmark.h>

#include <dendrite/dendrite.hpp>

using namespace dendrite;

namespace {

constexpr float learning_rate = 0.01f;

auto lenet() {
    return nn::sequential(nn::input<1, 28, 28>, nn::conv2d<6, 5>, nn::relu, nn::max_pool2d<2>,
                          nn::conv2d<16, 5>, nn::relu, nn::max_pool2d<2>, nn::flatten,
                          nn::dense<120>, nn::relu, nn::dense<84>, nn::relu, nn::dense<10>);
}

struct batch_data {
    tensor<float> x;
    std::vector<std::int32_t> labels;
};

batch_data make_batch(std::size_t batch) {
    rng g(7);
    batch_data d{uniform<float>({batch, 1, 28, 28}, 0.f, 1.f, g), std::vector<std::int32_t>(batch)};
    for (auto& l : d.labels)
        l = static_cast<std::int32_t>(g.below(10));
    return d;
}

void set_rate(benchmark::State& state, std::size_t batch) {
    state.counters["samples/s"] = benchmark::Counter(
        static_cast<double>(state.iterations() * batch), benchmark::Counter::kIsRate);
}

void train_step(benchmark::State& state) {
    const std::size_t batch = static_cast<std::size_t>(state.range(0));
    set_num_threads(static_cast<int>(state.range(1)));
    auto net = lenet();
    auto params = net.parameters();
    const batch_data d = make_batch(batch);
    tape t;
    for (auto _ : state) {
        t.clear();
        net.zero_grad();
        auto loss = softmax_cross_entropy(net(t, d.x), d.labels);
        loss.backward();
        for (auto& p : params)
            p.value.assign(p.value - learning_rate * p.grad);
        benchmark::DoNotOptimize(loss.item());
    }
    set_rate(state, batch);
}

void forward_only(benchmark::State& state) {
    const std::size_t batch = static_cast<std::size_t>(state.range(0));
    set_num_threads(static_cast<int>(state.range(1)));
    auto net = lenet();
    const batch_data d = make_batch(batch);
    tape t;
    for (auto _ : state) {
        t.clear();
        auto loss = softmax_cross_entropy(net(t, d.x), d.labels);
        benchmark::DoNotOptimize(loss.item());
    }
    set_rate(state, batch);
}

void step_arguments(benchmark::internal::Benchmark* b) {
    for (int threads : {1, 2})
        b->Args({128, threads});
    b->ArgNames({"batch", "threads"})->UseRealTime();
}

}  // namespace

BENCHMARK(train_step)->Apply(step_arguments);
BENCHMARK(forward_only)->Apply(step_arguments);

BENCHMARK_MAIN();
