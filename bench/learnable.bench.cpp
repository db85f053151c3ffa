// A training step (forward, backward, SGD update) of the 784-256-128-10 network at batch 128
// with each hidden activation: ReLU (absorbed by the dense layers' GEMM epilogues), and the
// learnable ones, each a fused node of its own whose parameters' gradients are reduced in its
// backward sweep: PReLU, Swish-beta written as one lambda, and a (5, 4) Padé unit. The ratio to
// ReLU is what a learnable activation costs (bench/README.md).

#include <cstdint>
#include <vector>

#include <benchmark/benchmark.h>

#include <dendrite/dendrite.hpp>

using namespace dendrite;

namespace {

template <class Act>
void step(benchmark::State& state, Act act) {
    set_num_threads(static_cast<int>(state.range(0)));
    auto net =
        nn::sequential(nn::input<784>, nn::dense<256>, act, nn::dense<128>, act, nn::dense<10>);
    auto params = net.parameters();
    rng g(7);
    const tensor<float> x = uniform<float>(shape{128, 784}, 0.f, 1.f, g);
    std::vector<std::int32_t> labels(128);
    for (auto& l : labels)
        l = static_cast<std::int32_t>(g.below(10));
    tape t;
    for (auto _ : state) {
        t.clear();
        net.zero_grad();
        auto loss = softmax_cross_entropy(net(t, x), labels);
        loss.backward();
        for (auto& p : params)
            p.value.assign(p.value - 0.01f * p.grad);
        benchmark::DoNotOptimize(loss.item());
    }
}

void relu(benchmark::State& s) {
    step(s, nn::relu);
}
void prelu(benchmark::State& s) {
    step(s, nn::prelu);
}
void swish_beta(benchmark::State& s) {
    step(s, nn::learnable([](auto x, auto beta) { return x * sigmoid(beta * x); }, {1.0}));
}
void pau(benchmark::State& s) {
    step(s, nn::pau);
}

}  // namespace

BENCHMARK(relu)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(prelu)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(swish_beta)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(pau)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)->UseRealTime();

BENCHMARK_MAIN();
