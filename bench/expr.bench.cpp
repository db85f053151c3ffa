// Element-wise expressions on 16M floats: one fused pass against the same work op by op (one pass
// and one temporary per op), against a hand-written xsimd loop, and against a plain copy loop,
// the memory-bandwidth yardstick; then the evaluator's row-by-row path (broadcast operands, rows
// of whole registers and rows shorter than one) and reductions (flat, along either axis of a
// matrix). Every benchmark runs on 1 and 2 threads (the argument).
//
// bytes_per_second counts the bytes each variant actually moves (reads + writes of 4 bytes);
// items_per_second counts output elements, so it compares variants directly.

#include <cstddef>

#include <benchmark/benchmark.h>

#include "dendrite/expr/evaluate.hpp"
#include "dendrite/expr/functions.hpp"
#include "dendrite/expr/reduce.hpp"
#include "dendrite/simd/parallel.hpp"
#include "dendrite/tensor/random.hpp"

using namespace dendrite;

namespace {

constexpr std::size_t n = std::size_t{1} << 24;

tensor<float> input(std::uint64_t seed) {
    rng g(seed);
    return uniform<float>({n}, -4.f, 4.f, g);
}

void finish(benchmark::State& state, std::size_t bytes_per_element) {
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n * bytes_per_element));
}

// Runs body(begin, end) over [0, n) split across the library's threads, as the evaluator does.
template <class Body>
void split(Body&& body) {
    simd::parallel_for(n, simd::width<float>, simd::parallel_threshold, body);
}

void copy_loop(benchmark::State& state) {
    set_num_threads(static_cast<int>(state.range(0)));
    const tensor<float> x = input(1);
    tensor<float> y(shape{n});
    const float* xp = x.data();
    float* yp = y.data();
    for (auto _ : state) {
        split([&](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i)
                yp[i] = xp[i];
        });
        benchmark::ClobberMemory();
    }
    finish(state, 8);
}

// ---- y = a * b + exp(c)
// ---------------------------------------------------------------------------

void abexp_handwritten(benchmark::State& state) {
    set_num_threads(static_cast<int>(state.range(0)));
    const tensor<float> a = input(1), b = input(2), c = input(3);
    tensor<float> y(shape{n});
    constexpr std::size_t w = simd::width<float>;
    for (auto _ : state) {
        split([&](std::size_t lo, std::size_t hi) {
            std::size_t i = lo;
            for (; i + w <= hi; i += w)
                simd::store(y.data() + i,
                            simd::fma(simd::load(a.data() + i), simd::load(b.data() + i),
                                      simd::exp(simd::load(c.data() + i))));
            for (; i < hi; ++i)
                y.data()[i] = a.data()[i] * b.data()[i] + std::exp(c.data()[i]);
        });
        benchmark::ClobberMemory();
    }
    finish(state, 16);
}

void abexp_fused(benchmark::State& state) {
    set_num_threads(static_cast<int>(state.range(0)));
    const tensor<float> a = input(1), b = input(2), c = input(3);
    tensor<float> y(shape{n});
    for (auto _ : state) {
        y = a * b + exp(c);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    finish(state, 16);
}

void abexp_op_by_op(benchmark::State& state) {
    set_num_threads(static_cast<int>(state.range(0)));
    const tensor<float> a = input(1), b = input(2), c = input(3);
    tensor<float> t1(shape{n}), t2(shape{n}), y(shape{n});
    for (auto _ : state) {
        t1 = a * b;   // 12 bytes per element
        t2 = exp(c);  // 8
        y = t1 + t2;  // 12
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    finish(state, 32);
}

// ---- y = x * sigmoid(1.702 x)
// ---------------------------------------------------------------------

void gelu_handwritten(benchmark::State& state) {
    set_num_threads(static_cast<int>(state.range(0)));
    const tensor<float> x = input(4);
    tensor<float> y(shape{n});
    constexpr std::size_t w = simd::width<float>;
    using batch = simd::batch<float>;
    for (auto _ : state) {
        split([&](std::size_t lo, std::size_t hi) {
            std::size_t i = lo;
            for (; i + w <= hi; i += w) {
                const batch v = simd::load(x.data() + i);
                simd::store(y.data() + i, v / (batch(1.f) + simd::exp(v * batch(-1.702f))));
            }
            for (; i < hi; ++i)
                y.data()[i] = x.data()[i] / (1.f + std::exp(-1.702f * x.data()[i]));
        });
        benchmark::ClobberMemory();
    }
    finish(state, 8);
}

void gelu_fused(benchmark::State& state) {
    set_num_threads(static_cast<int>(state.range(0)));
    const tensor<float> x = input(4);
    tensor<float> y(shape{n});
    for (auto _ : state) {
        y = x * sigmoid(1.702f * x);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    finish(state, 8);
}

void gelu_op_by_op(benchmark::State& state) {
    set_num_threads(static_cast<int>(state.range(0)));
    const tensor<float> x = input(4);
    tensor<float> t1(shape{n}), t2(shape{n}), y(shape{n});
    for (auto _ : state) {
        t1 = 1.702f * x;   // 8 bytes per element
        t2 = sigmoid(t1);  // 8
        y = x * t2;        // 12
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    finish(state, 28);
}

// ---- broadcasting and reductions: the evaluator's row-by-row path and the reduction loops -----

// y = m * row + col over a 4096 x 4096 matrix: rows of whole registers.
void broadcast_rows(benchmark::State& state) {
    set_num_threads(static_cast<int>(state.range(0)));
    rng g(5);
    const tensor<float> m = uniform<float>({4096, 4096}, -1.f, 1.f, g);
    const tensor<float> row = uniform<float>({4096}, -1.f, 1.f, g);
    const tensor<float> col = uniform<float>({4096, 1}, -1.f, 1.f, g);
    tensor<float> y(shape{4096, 4096});
    for (auto _ : state) {
        y = m * row + col;
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    finish(state, 8);
}

// The same over 2^20 rows of 15: every row is a register's worth of scalar tail.
void broadcast_narrow_rows(benchmark::State& state) {
    set_num_threads(static_cast<int>(state.range(0)));
    rng g(6);
    const tensor<float> m = uniform<float>({n / 16, 15}, -1.f, 1.f, g);
    const tensor<float> row = uniform<float>({15}, -1.f, 1.f, g);
    const tensor<float> col = uniform<float>({n / 16, 1}, -1.f, 1.f, g);
    tensor<float> y(shape{n / 16, 15});
    for (auto _ : state) {
        y = m * row + col;
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * y.size()));
}

// sum(a * b) over 16M floats: the flat reduction, four accumulators.
void sum_product(benchmark::State& state) {
    set_num_threads(static_cast<int>(state.range(0)));
    const tensor<float> a = input(1), b = input(2);
    for (auto _ : state)
        benchmark::DoNotOptimize(sum(a * b));
    finish(state, 8);
}

// Sums of a 4096 x 4096 matrix along the inner axis (a reduction per row) and the outer one
// (rows folded into one output row).
void sum_inner_axis(benchmark::State& state) {
    set_num_threads(static_cast<int>(state.range(0)));
    const tensor<float> m = input(1).reshape({4096, 4096});
    for (auto _ : state) {
        tensor<float> s = sum(m, 1);
        benchmark::DoNotOptimize(s.data());
    }
    finish(state, 4);
}

void sum_outer_axis(benchmark::State& state) {
    set_num_threads(static_cast<int>(state.range(0)));
    const tensor<float> m = input(1).reshape({4096, 4096});
    for (auto _ : state) {
        tensor<float> s = sum(m, 0);
        benchmark::DoNotOptimize(s.data());
    }
    finish(state, 4);
}

}  // namespace

BENCHMARK(copy_loop)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(abexp_handwritten)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(abexp_fused)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(abexp_op_by_op)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(gelu_handwritten)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(gelu_fused)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(gelu_op_by_op)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(broadcast_rows)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(broadcast_narrow_rows)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(sum_product)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(sum_inner_axis)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(sum_outer_axis)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
