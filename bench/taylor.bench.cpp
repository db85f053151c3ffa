// Derivatives of any order, fused: value_and_derivatives<2> (f, f', f'' of every element in one
// pass, from jets) against a hand-written loop of the closed forms of f, f' and f'', on 16M
// floats, for Swish (x sigmoid(x)) and Mish (x tanh(softplus(x))), on 1 and 2 threads. Both
// write into the same preallocated outputs; bytes_per_second counts 4 bytes read and 12 written
// per element.

#include <array>
#include <cstddef>

#include <benchmark/benchmark.h>

#include "dendrite/expr/functions.hpp"
#include "dendrite/expr/taylor.hpp"
#include "dendrite/simd/parallel.hpp"
#include "dendrite/tensor/random.hpp"

using namespace dendrite;

namespace {

constexpr std::size_t n = std::size_t{1} << 24;

struct problem {
    tensor<float> x;
    std::array<tensor<float>, 3> out;
    problem() {
        rng g(1);
        x = uniform<float>({n}, -4.f, 4.f, g);
        for (auto& o : out)
            o = tensor<float>(shape{n});
    }
};

void finish(benchmark::State& state) {
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n * 16));
}

/// The closed forms, a register at a time (the yardstick: what one writes by hand).
template <class Body>
void handwritten(benchmark::State& state, Body body) {
    set_num_threads(static_cast<int>(state.range(0)));
    problem p;
    const float* x = p.x.data();
    float *f = p.out[0].data(), *d1 = p.out[1].data(), *d2 = p.out[2].data();
    constexpr std::size_t w = simd::width<float>;
    for (auto _ : state) {
        simd::parallel_for(n, w, simd::parallel_threshold, [&](std::size_t lo, std::size_t hi) {
            std::size_t i = lo;
            for (; i + w <= hi; i += w) {
                std::array<simd::batch<float>, 3> r = body(simd::load(x + i));
                simd::store(f + i, r[0]);
                simd::store(d1 + i, r[1]);
                simd::store(d2 + i, r[2]);
            }
            for (; i < hi; ++i) {
                std::array<float, 3> r = body(x[i]);
                f[i] = r[0], d1[i] = r[1], d2[i] = r[2];
            }
        });
        benchmark::ClobberMemory();
    }
    finish(state);
}

template <class F>
void fused(benchmark::State& state, F fn) {
    set_num_threads(static_cast<int>(state.range(0)));
    problem p;
    for (auto _ : state) {
        value_and_derivatives<2>(fn, p.x, p.out);
        benchmark::ClobberMemory();
    }
    finish(state);
}

// f = x s, f' = s + x s (1 - s), f'' = s (1 - s) (2 + x (1 - 2 s)), s = sigmoid(x).
void swish_handwritten(benchmark::State& state) {
    handwritten(state, []<class X>(const X& x) {
        const X one(1.f), two(2.f);
        const X s = one / (one + simd::exp(-x));
        const X ds = s * (one - s);
        return std::array<X, 3>{x * s, s + x * ds, ds * (two + x * (one - two * s))};
    });
}
void swish_fused(benchmark::State& state) {
    fused(state, [](auto x) { return x * sigmoid(x); });
}

// f = x t, t = tanh(softplus(x)); g' = (1 - t^2) s; f' = t + x g';
// f'' = 2 g' + x (-2 t g' s + (1 - t^2) s (1 - s)).
void mish_handwritten(benchmark::State& state) {
    handwritten(state, []<class X>(const X& x) {
        const X one(1.f), two(2.f), zero(0.f);
        const X sp = simd::max(x, zero) + simd::log1p(simd::exp(-simd::abs(x)));
        const X t = simd::tanh(sp);
        const X s = one / (one + simd::exp(-x));
        const X u = one - t * t;
        const X g1 = u * s;
        const X g2 = -two * t * g1 * s + u * s * (one - s);
        return std::array<X, 3>{x * t, t + x * g1, two * g1 + x * g2};
    });
}
void mish_fused(benchmark::State& state) {
    fused(state, [](auto x) { return x * tanh(softplus(x)); });
}

}  // namespace

BENCHMARK(swish_handwritten)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(swish_fused)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(mish_handwritten)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(mish_fused)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
