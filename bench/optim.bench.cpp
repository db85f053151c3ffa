// One optimizer step (every parameter updated from its gradient, in one fused pass each) on the
// parameters of the 784-256-128-10 MLP (235k floats in six tensors, the step a training loop
// takes) and on one tensor of 16M floats (memory-bound), on 1 and 2 threads, for each optimizer;
// against a hand-written xsimd Adam loop doing the same arithmetic in one pass, the ceiling.
//
// bytes_per_second counts what the update must move: Adam reads w, g, m, v and writes w, m, v
// (28 bytes per float element); items_per_second counts parameters updated.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "dendrite/nn/parameter.hpp"
#include "dendrite/optim/optim.hpp"
#include "dendrite/simd/parallel.hpp"
#include "dendrite/simd/simd.hpp"
#include "dendrite/tensor/random.hpp"

using namespace dendrite;

namespace {

/// Parameter shapes: the MLP's weights and biases (range 0 = 0), or one tensor of 16M (1).
nn::parameter_list<float> make_params(std::int64_t layout) {
    std::vector<shape> shapes;
    if (layout == 0)
        shapes = {{784, 256}, {256}, {256, 128}, {128}, {128, 10}, {10}};
    else
        shapes = {{std::size_t{1} << 24}};
    rng g(11);
    nn::parameter_list<float> ps;
    for (std::size_t k = 0; k < shapes.size(); ++k) {
        std::string name = "p";  // appended: "p" + to_string trips GCC 12's false -Wrestrict
        name += std::to_string(k);
        ps.emplace_back(shapes[k], name, shapes[k].rank() == 2);
        ps.back().value = uniform<float>(shapes[k], -0.1f, 0.1f, g);
        ps.back().grad = uniform<float>(shapes[k], -0.01f, 0.01f, g);
    }
    return ps;
}

std::size_t elements(const nn::parameter_list<float>& ps) {
    std::size_t n = 0;
    for (const auto& p : ps)
        n += p.size();
    return n;
}

void finish(benchmark::State& state, std::size_t n, std::size_t bytes_per_element) {
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n * bytes_per_element));
}

/// state.range(0): parameter layout, range(1): threads.
template <class Optimizer>
void run_steps(benchmark::State& state, Optimizer opt, std::size_t bytes_per_element) {
    set_num_threads(static_cast<int>(state.range(1)));
    auto ps = make_params(state.range(0));
    opt.step(ps);  // allocates the state
    for (auto _ : state) {
        opt.step(ps);
        benchmark::ClobberMemory();
    }
    finish(state, elements(ps), bytes_per_element);
}

void sgd(benchmark::State& state) {
    run_steps(state, optim::sgd<float>({.lr = 0.01}), 12);
}
void sgd_nesterov(benchmark::State& state) {
    run_steps(
        state,
        optim::sgd<float>({.lr = 0.01, .momentum = 0.9, .nesterov = true, .weight_decay = 1e-4}),
        20);
}
void adam(benchmark::State& state) {
    run_steps(state, optim::adam<float>({.lr = 1e-3}), 28);
}
void adamw(benchmark::State& state) {
    run_steps(state, optim::adamw<float>({.lr = 1e-3, .weight_decay = 1e-2}), 28);
}
void rmsprop(benchmark::State& state) {
    run_steps(state, optim::rmsprop<float>({.lr = 1e-3}), 20);
}
void adagrad(benchmark::State& state) {
    run_steps(state, optim::adagrad<float>({.lr = 1e-2}), 20);
}

/// Adam as a hand-written loop: the bias corrections folded as in optim::adam, one pass over the
/// four arrays, split over the threads as the library splits element-wise work.
void adam_handwritten(benchmark::State& state) {
    set_num_threads(static_cast<int>(state.range(1)));
    auto ps = make_params(state.range(0));
    std::vector<tensor<float>> m, v;
    for (const auto& p : ps) {
        m.emplace_back(p.value.shape(), 0.f);
        v.emplace_back(p.value.shape(), 0.f);
    }
    const float b1 = 0.9f, b2 = 0.999f, c1 = 0.1f, c2 = 0.001f, eps = 1e-8f;
    std::size_t t = 0;
    for (auto _ : state) {
        ++t;
        const double td = static_cast<double>(t);
        const float step_size = static_cast<float>(1e-3 / (1 - std::pow(0.9, td)));
        const float sqrt_bc2 = static_cast<float>(std::sqrt(1 - std::pow(0.999, td)));
        for (std::size_t k = 0; k < ps.size(); ++k) {
            float* w = ps[k].value.data();
            const float* g = ps[k].grad.data();
            float* mk = m[k].data();
            float* vk = v[k].data();
            simd::parallel_for(
                ps[k].size(), simd::width<float> * 16, simd::parallel_threshold,
                [&](std::size_t b, std::size_t e) {
                    using B = simd::batch<float>;
                    constexpr std::size_t lanes = simd::width<float>;
                    std::size_t i = b;
                    for (; i + lanes <= e; i += lanes) {
                        const B gi = simd::load(g + i);
                        const B mi = B(b1) * simd::load(mk + i) + B(c1) * gi;
                        const B vi = B(b2) * simd::load(vk + i) + B(c2) * (gi * gi);
                        simd::store(mk + i, mi);
                        simd::store(vk + i, vi);
                        simd::store(
                            w + i, simd::load(w + i) -
                                       B(step_size) * mi / (simd::sqrt(vi) / B(sqrt_bc2) + B(eps)));
                    }
                    for (; i < e; ++i) {
                        mk[i] = b1 * mk[i] + c1 * g[i];
                        vk[i] = b2 * vk[i] + c2 * (g[i] * g[i]);
                        w[i] = w[i] - step_size * mk[i] / (std::sqrt(vk[i]) / sqrt_bc2 + eps);
                    }
                });
        }
        benchmark::ClobberMemory();
    }
    finish(state, elements(ps), 28);
}

// The norm's read pass and the rescaling pass: with a bound of 0 every call rescales (by 0).
void clip_grad_norm(benchmark::State& state) {
    set_num_threads(static_cast<int>(state.range(1)));
    auto ps = make_params(state.range(0));
    for (auto _ : state) {
        benchmark::DoNotOptimize(optim::clip_grad_norm(ps, 0));
        benchmark::ClobberMemory();
    }
    finish(state, elements(ps), 12);
}

void layouts(benchmark::internal::Benchmark* b) {
    b->ArgNames({"layout", "threads"});
    for (std::int64_t layout : {0, 1})
        for (std::int64_t threads : {1, 2})
            b->Args({layout, threads});
    b->Unit(benchmark::kMicrosecond)->UseRealTime();
}

}  // namespace

BENCHMARK(sgd)->Apply(layouts);
BENCHMARK(sgd_nesterov)->Apply(layouts);
BENCHMARK(adam)->Apply(layouts);
BENCHMARK(adam_handwritten)->Apply(layouts);
BENCHMARK(adamw)->Apply(layouts);
BENCHMARK(rmsprop)->Apply(layouts);
BENCHMARK(adagrad)->Apply(layouts);
BENCHMARK(clip_grad_norm)->Apply(layouts);

BENCHMARK_MAIN();
