// GEMM: ours against OpenBLAS in the same process, on square sizes, the products of an MLP
// training step, and a dense layer with its bias and ReLU.
//
// Run with OPENBLAS_CORETYPE=SkylakeX: Debian's OpenBLAS 0.3.21 does not recognise this CPU and
// otherwise falls back to an SSE3 kernel. The core it runs is printed first.

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "dendrite/linalg/fused.hpp"
#include "dendrite/linalg/gemm.hpp"
#include "dendrite/simd/aligned.hpp"
#include "dendrite/simd/parallel.hpp"

#if defined(DENDRITE_HAVE_OPENBLAS)
#include <cblas.h>
#endif

namespace {

using dendrite::linalg::trans;
namespace linalg = dendrite::linalg;
namespace simd = dendrite::simd;

// FMA peak of one core in single precision (AVX-512), see shared/BENCHMARKS.md.
constexpr double peak_flops_per_core = 171e9;

template <class T>
using buffer = std::vector<T, simd::aligned_allocator<T>>;

template <class T>
buffer<T> random(std::size_t count) {
    std::mt19937 rng(1);
    std::uniform_real_distribution<T> u(T(-1), T(1));
    buffer<T> v(count);
    for (auto& x : v)
        x = u(rng);
    return v;
}

void set_counters(benchmark::State& state, double flops, int threads, bool single) {
    state.counters["GFLOP/s"] =
        benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    // Double precision peaks at half the single-precision rate.
    state.counters["peak"] =
        benchmark::Counter(flops / (peak_flops_per_core * threads * (single ? 1.0 : 0.5)),
                           benchmark::Counter::kIsIterationInvariantRate);
}

// Only one thread pool at a time: the idle one would spin on the cores the other needs.
void use_threads(int ours, [[maybe_unused]] int blas) {
    dendrite::set_num_threads(ours);
#if defined(DENDRITE_HAVE_OPENBLAS)
    openblas_set_num_threads(blas);
#endif
}

#if defined(DENDRITE_HAVE_OPENBLAS)
CBLAS_TRANSPOSE cblas(trans t) {
    return t == trans::yes ? CblasTrans : CblasNoTrans;
}
void blas_gemm(trans ta, trans tb, int m, int n, int k, float alpha, const float* a, int lda,
               const float* b, int ldb, float beta, float* c, int ldc) {
    cblas_sgemm(CblasRowMajor, cblas(ta), cblas(tb), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
void blas_gemm(trans ta, trans tb, int m, int n, int k, double alpha, const double* a, int lda,
               const double* b, int ldb, double beta, double* c, int ldc) {
    cblas_dgemm(CblasRowMajor, cblas(ta), cblas(tb), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
#endif

// C = op(A) op(B) for the given transposition; `blas` selects the peer.
template <class T>
void run_product(benchmark::State& state, trans ta, trans tb, std::size_t m, std::size_t n,
                 std::size_t k, int threads, bool blas) {
    const std::size_t lda = ta == trans::no ? k : m, ldb = tb == trans::no ? n : k;
    auto a = random<T>(m * k), b = random<T>(k * n);
    buffer<T> c(m * n);
    if (blas)
        use_threads(1, threads);
    else
        use_threads(threads, 1);
    for (auto _ : state) {
        if (blas) {
#if defined(DENDRITE_HAVE_OPENBLAS)
            blas_gemm(ta, tb, int(m), int(n), int(k), T(1), a.data(), int(lda), b.data(), int(ldb),
                      T(0), c.data(), int(n));
#endif
        } else {
            linalg::gemm(ta, tb, m, n, k, T(1), a.data(), lda, b.data(), ldb, T(0), c.data(), n);
        }
        benchmark::DoNotOptimize(c.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, 2.0 * double(m) * double(n) * double(k), threads, sizeof(T) == 4);
}

// Square n x n x n; args: n, threads.
template <class T, bool Blas>
void square(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    run_product<T>(state, trans::no, trans::no, n, n, n, int(state.range(1)), Blas);
}

// The products of one dense layer in a training step; args: batch, in, out, product
// (0: forward Y = X W, NN; 1: dX = dZ W^T, NT; 2: dW = X^T dZ, TN), threads.
template <bool Blas>
void mlp(benchmark::State& state) {
    const auto batch = std::size_t(state.range(0)), in = std::size_t(state.range(1)),
               out = std::size_t(state.range(2));
    const int threads = int(state.range(4));
    switch (state.range(3)) {
        case 0:
            run_product<float>(state, trans::no, trans::no, batch, out, in, threads, Blas);
            break;
        case 1:
            run_product<float>(state, trans::no, trans::yes, batch, in, out, threads, Blas);
            break;
        default:
            run_product<float>(state, trans::yes, trans::no, in, out, batch, threads, Blas);
    }
}

// Y = relu(X W + b): ours with the bias and ReLU in the epilogue, or sgemm then a pass.
template <bool Blas>
void dense_relu(benchmark::State& state) {
    const auto batch = std::size_t(state.range(0)), in = std::size_t(state.range(1)),
               out = std::size_t(state.range(2));
    const int threads = int(state.range(3));
    auto x = random<float>(batch * in), w = random<float>(in * out), bias = random<float>(out);
    buffer<float> y(batch * out);
    const float* bp = bias.data();
    if (Blas)
        use_threads(1, threads);
    else
        use_threads(threads, 1);
    for (auto _ : state) {
        if (Blas) {
#if defined(DENDRITE_HAVE_OPENBLAS)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(batch), int(out), int(in),
                        1.0f, x.data(), int(in), w.data(), int(out), 0.0f, y.data(), int(out));
            float* yp = y.data();
            for (std::size_t i = 0; i < batch; ++i)
                for (std::size_t j = 0; j < out; ++j)
                    yp[i * out + j] = std::max(yp[i * out + j] + bp[j], 0.0f);
#endif
        } else {
            linalg::gemm(trans::no, trans::no, batch, out, in, 1.0f, x.data(), in, w.data(), out,
                         0.0f, y.data(), out, [bp](auto v, std::size_t, std::size_t j) {
                             using X = decltype(v);
                             return simd::max(v + linalg::lanes<X>(bp + j), X(0.0f));
                         });
        }
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, 2.0 * double(batch) * double(in) * double(out), threads, true);
}

// Dense backward with ReLU: ours fused (dZ formed in the packing, db in the same pass), or a
// dZ pass, a column-sum pass and two sgemm calls.
template <bool Blas>
void dense_relu_backward(benchmark::State& state) {
    const auto batch = std::size_t(state.range(0)), in = std::size_t(state.range(1)),
               out = std::size_t(state.range(2));
    const int threads = int(state.range(3));
    auto x = random<float>(batch * in), w = random<float>(in * out);
    auto dy = random<float>(batch * out), z = random<float>(batch * out);
    buffer<float> dw(in * out), db(out), dx(batch * in), dz(batch * out);
    if (Blas)
        use_threads(1, threads);
    else
        use_threads(threads, 1);
    const auto rule = [](auto g, auto s) {
        using X = decltype(g);
        return simd::select(s > X(0.0f), g, X(0.0f));
    };
    for (auto _ : state) {
        if (Blas) {
#if defined(DENDRITE_HAVE_OPENBLAS)
            std::fill(db.begin(), db.end(), 0.0f);
            for (std::size_t r = 0; r < batch; ++r)
                for (std::size_t j = 0; j < out; ++j) {
                    const float v = z[r * out + j] > 0.0f ? dy[r * out + j] : 0.0f;
                    dz[r * out + j] = v;
                    db[j] += v;
                }
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(in), int(out), int(batch),
                        1.0f, x.data(), int(in), dz.data(), int(out), 0.0f, dw.data(), int(out));
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(batch), int(in), int(out),
                        1.0f, dz.data(), int(out), w.data(), int(out), 0.0f, dx.data(), int(in));
#endif
        } else {
            linalg::dense_backward(batch, in, out, x.data(), in, w.data(), out, dy.data(), out,
                                   z.data(), out, rule, dw.data(), out, db.data(), dx.data(), in);
        }
        benchmark::DoNotOptimize(dw.data());
        benchmark::DoNotOptimize(dx.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, 4.0 * double(batch) * double(in) * double(out), threads, true);
}

// Ours and the peer are registered in pairs, shape by shape, so that both sides of a ratio
// are measured minutes apart at most on a shared, noisy machine.
// GCC 12 warns (-Wrestrict, a false positive) on std::string operator+ with a literal.
std::string with_suffix(const char* name, const char* suffix) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "%s%s", name, suffix);
    return buf;
}

template <class Ours, class Peer>
void register_pair(const char* name, Ours ours, [[maybe_unused]] Peer peer,
                   const std::vector<std::string>& arg_names, const std::vector<int64_t>& args) {
    benchmark::RegisterBenchmark(with_suffix(name, "/ours").c_str(), ours)
        ->ArgNames(arg_names)
        ->Args(args)
        ->UseRealTime();
#if defined(DENDRITE_HAVE_OPENBLAS)
    benchmark::RegisterBenchmark(with_suffix(name, "/openblas").c_str(), peer)
        ->ArgNames(arg_names)
        ->Args(args)
        ->UseRealTime();
#endif
}

void register_all() {
    for (int64_t t : {1, 2})
        for (int64_t n : {64, 128, 256, 512, 1024, 2048})
            register_pair("sgemm", square<float, false>, square<float, true>, {"n", "threads"},
                          {n, t});
    for (int64_t t : {1, 2})
        for (int64_t n : {64, 256, 1024})
            register_pair("dgemm", square<double, false>, square<double, true>, {"n", "threads"},
                          {n, t});
    for (int64_t t : {1, 2})
        for (int64_t batch : {32, 128, 512})
            for (auto [in, out] : {std::pair<int64_t, int64_t>{784, 256}, {256, 128}, {128, 10}})
                for (int64_t product : {0, 1, 2})
                    register_pair("mlp", mlp<false>, mlp<true>,
                                  {"batch", "in", "out", "product", "threads"},
                                  {batch, in, out, product, t});
    for (int64_t t : {1, 2})
        for (int64_t batch : {32, 128, 512})
            for (auto [in, out] : {std::pair<int64_t, int64_t>{784, 256}, {256, 128}}) {
                register_pair("dense_relu", dense_relu<false>, dense_relu<true>,
                              {"batch", "in", "out", "threads"}, {batch, in, out, t});
                register_pair("dense_relu_backward", dense_relu_backward<false>,
                              dense_relu_backward<true>, {"batch", "in", "out", "threads"},
                              {batch, in, out, t});
            }
}

}  // namespace

int main(int argc, char** argv) {
#if defined(DENDRITE_HAVE_OPENBLAS)
    std::printf("OpenBLAS core: %s (config: %s)\n", openblas_get_corename(), openblas_get_config());
#else
    std::printf("OpenBLAS: not found, ours only\n");
#endif
    std::printf("dendrite SIMD: %s\n", simd::arch_name());
    register_all();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
