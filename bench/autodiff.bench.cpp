// Forward + backward of a fused activation through the tape, against one hand-written xsimd loop
// that does the same work in one pass, and the tape's fixed cost on tiny inputs.
//
// y = x * sigmoid(1.702 x), dx = g * dy/dx. The bound is 16 bytes per element (read x and g,
// write y and dx); bytes_per_second counts those 16 bytes for both, so the two rates compare
// directly with each other and with the machine's bandwidth (shared/BENCHMARKS.md).

#include <cstddef>

#include <benchmark/benchmark.h>

#include "dendrite/dendrite.hpp"
#include "dendrite/simd/simd.hpp"

namespace {

using namespace dendrite;
namespace sd = dendrite::simd;

constexpr double bytes_per_element = 16;

struct inputs {
    tensor<float> x, g;
    explicit inputs(std::size_t n) {
        rng r(1);
        x = uniform<float>(shape{n}, -4.0f, 4.0f, r);
        g = uniform<float>(shape{n}, -1.0f, 1.0f, r);
    }
};

void set_rate(benchmark::State& state, std::size_t n) {
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(bytes_per_element * static_cast<double>(n)));
}

/// Record y = x * sigmoid(1.702 x) on a tape, backward with seed g, clear: one training step's
/// worth of the activation.
void tape_swish(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    set_num_threads(static_cast<int>(state.range(1)));
    const inputs in(n);
    tape t;
    for (auto _ : state) {
        t.clear();
        auto x = variable(t, in.x);
        var<float> y = x * sigmoid(1.702f * x);
        y.backward(in.g);
        benchmark::DoNotOptimize(x.grad().data());
        benchmark::DoNotOptimize(y.value().data());
        benchmark::ClobberMemory();
    }
    set_rate(state, n);
}

/// The baseline: one pass reading x and g and writing y and dx, written by hand with xsimd.
void hand_fused_loop(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    set_num_threads(static_cast<int>(state.range(1)));
    const inputs in(n);
    tensor<float> y(shape{n}), dx(shape{n});
    const float* xp = in.x.data();
    const float* gp = in.g.data();
    float* yp = y.data();
    float* dxp = dx.data();
    constexpr std::size_t W = sd::width<float>;
    auto kernel = [&](std::size_t b, std::size_t e) {
        using B = sd::batch<float>;
        const B k(1.702f), one(1.0f);
        std::size_t i = b;
        for (; i + W <= e; i += W) {
            const B x = sd::load(xp + i), g = sd::load(gp + i);
            const B s = one / (one + sd::exp(-k * x));
            sd::store(yp + i, x * s);
            sd::store(dxp + i, g * (s + k * x * s * (one - s)));
        }
        for (; i < e; ++i) {
            const float s = 1.0f / (1.0f + std::exp(-1.702f * xp[i]));
            yp[i] = xp[i] * s;
            dxp[i] = gp[i] * (s + 1.702f * xp[i] * s * (1.0f - s));
        }
    };
    for (auto _ : state) {
        sd::parallel_for(n, W, sd::parallel_threshold, kernel);
        benchmark::DoNotOptimize(yp);
        benchmark::DoNotOptimize(dxp);
        benchmark::ClobberMemory();
    }
    set_rate(state, n);
}

/// The tape's fixed cost: the same step on 8 elements.
void tape_swish_tiny(benchmark::State& state) {
    const inputs in(8);
    tape t;
    for (auto _ : state) {
        t.clear();
        auto x = variable(t, in.x);
        var<float> y = x * sigmoid(1.702f * x);
        y.backward(in.g);
        benchmark::DoNotOptimize(x.grad().data());
        benchmark::ClobberMemory();
    }
}

void args(benchmark::internal::Benchmark* b) {
    b->ArgNames({"n", "threads"});
    for (std::int64_t n : {1 << 20, 1 << 24})
        for (std::int64_t threads : {1, 2})
            b->Args({n, threads});
    b->UseRealTime()->Unit(benchmark::kMillisecond);
}

}  // namespace

BENCHMARK(tape_swish)->Apply(args);
BENCHMARK(hand_fused_loop)->Apply(args);
BENCHMARK(tape_swish_tiny)->Unit(benchmark::kNanosecond);

BENCHMARK_MAIN();
