// The cost of a Hessian-vector product against a gradient, on the 784-256-128-10 ReLU network
// with softmax cross-entropy at batch 128: forward + backward (the gradient) and dendrite::hvp
// (forward over reverse: the gradient and H v together), on 1 and 2 threads, in the same run.
// The ratio of their times is the HVP's cost in gradients (bench/README.md).

#include <cstdint>
#include <span>
#include <vector>

#include <benchmark/benchmark.h>

#include <dendrite/dendrite.hpp>

using namespace dendrite;

namespace {

struct mlp_problem {
    decltype(nn::sequential(nn::input<784>, nn::dense<256>, nn::relu, nn::dense<128>, nn::relu,
                            nn::dense<10>)) net =
        nn::sequential(nn::input<784>, nn::dense<256>, nn::relu, nn::dense<128>, nn::relu,
                       nn::dense<10>);
    nn::parameter_list<float> params = net.parameters();
    tensor<float> x;
    std::vector<std::int32_t> labels;
    std::vector<tensor<float>> v;
    tape t;

    explicit mlp_problem(std::size_t batch) : labels(batch) {
        rng g(7);
        x = uniform<float>(shape{batch, 784}, 0.f, 1.f, g);
        for (auto& l : labels)
            l = static_cast<std::int32_t>(g.below(10));
        for (const auto& p : params)
            v.push_back(normal<float>(p.value.shape(), 0.f, 1.f, g));
    }
    var<float> loss(tape& tp) { return softmax_cross_entropy(net(tp, x), labels); }
};

void gradient(benchmark::State& state) {
    set_num_threads(static_cast<int>(state.range(1)));
    mlp_problem m(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        m.t.clear();
        m.net.zero_grad();
        auto loss = m.loss(m.t);
        loss.backward();
        benchmark::DoNotOptimize(loss.item());
    }
}

void hessian_vector_product(benchmark::State& state) {
    set_num_threads(static_cast<int>(state.range(1)));
    mlp_problem m(static_cast<std::size_t>(state.range(0)));
    const auto loss = [&m](tape& tp) { return m.loss(tp); };
    for (auto _ : state) {
        m.net.zero_grad();
        const auto r = hvp(m.t, loss, std::span<const nn::parameter<float>>(m.params),
                           std::span<const tensor<float>>(m.v));
        benchmark::DoNotOptimize(r.hv[0].data());
    }
}

}  // namespace

BENCHMARK(gradient)->ArgsProduct({{128}, {1, 2}})->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(hessian_vector_product)
    ->ArgsProduct({{128}, {1, 2}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

BENCHMARK_MAIN();
