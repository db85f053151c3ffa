// conv2d forward and backward (bias + ReLU fused) against an im2col + OpenBLAS sgemm
// convolution in the same binary, on LeNet-5's two convolutions at batch 128 and one larger
// layer. Argument: threads (dendrite::set_num_threads, or openblas_set_num_threads for the peer;
// one pool active at a time).
//
// Run with OPENBLAS_CORETYPE=SkylakeX: Debian's OpenBLAS 0.3.21 does not recognise this CPU and
// would otherwise fall back to a generic kernel.
//
// FLOP counts: forward 2 N O K P (K = C/groups KH KW taps, P = OH OW positions); backward
// 4 N O K P (dW and dX), 2 N O K P for the first layer, whose input needs no gradient.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <string>
#include <vector>

#include "dendrite/autodiff/conv.hpp"
#include "dendrite/autodiff/leaves.hpp"
#include "dendrite/linalg/conv.hpp"
#include "dendrite/nn/activations.hpp"
#include "dendrite/simd/parallel.hpp"
#include "dendrite/tensor/random.hpp"

#if defined(DENDRITE_HAVE_OPENBLAS)
#include <cblas.h>
#endif

using namespace dendrite;

namespace {

struct layer_shape {
    const char* name;
    std::size_t n, c, h, w, o, k, pad;
    bool input_grad;  // false for a first layer: dX is not needed
    linalg::conv_geometry geometry() const { return {c, h, w, k, k, 1, 1, pad, pad, 1, 1}; }
    double madds() const {
        const auto g = geometry();
        return static_cast<double>(n * o * g.taps() * g.positions());
    }
};

const layer_shape layers[] = {
    {"lenet_conv1_1x28x28_6x5x5", 128, 1, 28, 28, 6, 5, 0, false},
    {"lenet_conv2_6x12x12_16x5x5", 128, 6, 12, 12, 16, 5, 0, true},
    {"conv_32x14x14_64x3x3_pad1", 128, 32, 14, 14, 64, 3, 1, true},
    // First layers of wider networks: grey 28x28 into 32 channels, colour 32x32 into 16.
    {"first_1x28x28_32x3x3_pad1", 128, 1, 28, 28, 32, 3, 1, false},
    {"first_3x32x32_16x5x5_pad2", 128, 3, 32, 32, 16, 5, 2, false},
};

void set_counters(benchmark::State& st, double flops) {
    st.counters["GFLOP/s"] =
        benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void use_threads(int ours, int blas) {
    set_num_threads(ours);
#if defined(DENDRITE_HAVE_OPENBLAS)
    openblas_set_num_threads(blas);
#else
    (void)blas;
#endif
}

struct operands {
    tensor<float> x, w, b, dy;
    explicit operands(const layer_shape& l) {
        rng g(3);
        const auto geo = l.geometry();
        x = uniform<float>(shape{l.n, l.c, l.h, l.w}, -1, 1, g);
        w = uniform<float>(shape{l.o, l.c, l.k, l.k}, -0.2, 0.2, g);
        b = uniform<float>(shape{l.o}, -0.1, 0.1, g);
        dy = uniform<float>(shape{l.n, l.o, geo.out_h(), geo.out_w()}, -1, 1, g);
    }
};

conv2d_options options(const layer_shape& l) {
    return {1, 1, l.pad, l.pad, 1, 1, 1};
}

void ours_forward(benchmark::State& st, const layer_shape& l) {
    use_threads(static_cast<int>(st.range(0)), 1);
    operands d(l);
    tape t;
    for (auto _ : st) {
        const auto y =
            conv2d(constant(t, d.x), constant(t, d.w), constant(t, d.b), options(l), nn::fn::relu);
        benchmark::DoNotOptimize(y.value().data());
        t.clear();
    }
    set_counters(st, 2 * l.madds());
}

void ours_backward(benchmark::State& st, const layer_shape& l) {
    use_threads(static_cast<int>(st.range(0)), 1);
    operands d(l);
    tape t;
    const auto x = l.input_grad ? variable(t, d.x) : constant(t, d.x);
    const auto y = conv2d(x, variable(t, d.w), variable(t, d.b), options(l), nn::fn::relu);
    for (auto _ : st) {
        y.backward(d.dy, true);
        benchmark::ClobberMemory();
    }
    set_counters(st, (l.input_grad ? 4 : 2) * l.madds());
}

#if defined(DENDRITE_HAVE_OPENBLAS)
/// The classic im2col convolution (Caffe's): per image, unfold, one sgemm, then bias + ReLU in a
/// separate pass; threads inside each sgemm.
void blas_forward(benchmark::State& st, const layer_shape& l) {
    use_threads(1, static_cast<int>(st.range(0)));
    operands d(l);
    const auto g = l.geometry();
    const std::size_t k = g.taps(), p = g.positions();
    std::vector<float> col(k * p), y(l.n * l.o * p);
    for (auto _ : st) {
        for (std::size_t i = 0; i < l.n; ++i) {
            linalg::im2col(g, d.x.data() + i * l.c * l.h * l.w, col.data());
            float* yi = y.data() + i * l.o * p;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(l.o), int(p), int(k), 1.0f,
                        d.w.data(), int(k), col.data(), int(p), 0.0f, yi, int(p));
            for (std::size_t r = 0; r < l.o; ++r)
                for (std::size_t j = 0; j < p; ++j)
                    yi[r * p + j] = std::max(yi[r * p + j] + d.b.data()[r], 0.0f);
        }
        benchmark::DoNotOptimize(y.data());
    }
    set_counters(st, 2 * l.madds());
}

/// Backward of the same: dZ = dY relu'(Z) and db in one pass, then per image dW += dZ col^T
/// (sgemm with a transposed col) and dX = col2im(W^T dZ).
void blas_backward(benchmark::State& st, const layer_shape& l) {
    use_threads(1, static_cast<int>(st.range(0)));
    operands d(l);
    const auto g = l.geometry();
    const std::size_t k = g.taps(), p = g.positions();
    std::vector<float> col(k * p), dcol(k * p), dz(l.o * p), dw(l.o * k), db(l.o),
        dx(l.n * l.c * l.h * l.w);
    // Z from one forward pass, so relu' sees realistic signs.
    std::vector<float> z(l.n * l.o * p);
    for (std::size_t i = 0; i < l.n; ++i) {
        linalg::im2col(g, d.x.data() + i * l.c * l.h * l.w, col.data());
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(l.o), int(p), int(k), 1.0f,
                    d.w.data(), int(k), col.data(), int(p), 0.0f, z.data() + i * l.o * p, int(p));
    }
    for (auto _ : st) {
        std::fill(dx.begin(), dx.end(), 0.0f);
        for (std::size_t i = 0; i < l.n; ++i) {
            const float* gi = d.dy.data() + i * l.o * p;
            const float* zi = z.data() + i * l.o * p;
            for (std::size_t r = 0; r < l.o; ++r) {
                float s = 0;
                for (std::size_t j = 0; j < p; ++j) {
                    const float v = zi[r * p + j] > 0 ? gi[r * p + j] : 0.0f;
                    dz[r * p + j] = v;
                    s += v;
                }
                db[r] += s;
            }
            linalg::im2col(g, d.x.data() + i * l.c * l.h * l.w, col.data());
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(l.o), int(k), int(p), 1.0f,
                        dz.data(), int(p), col.data(), int(p), 1.0f, dw.data(), int(k));
            if (l.input_grad) {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(k), int(p), int(l.o), 1.0f,
                            d.w.data(), int(k), dz.data(), int(p), 0.0f, dcol.data(), int(p));
                linalg::col2im(g, dcol.data(), dx.data() + i * l.c * l.h * l.w);
            }
        }
        benchmark::DoNotOptimize(dw.data());
        benchmark::DoNotOptimize(dx.data());
    }
    set_counters(st, (l.input_grad ? 4 : 2) * l.madds());
}
#endif

int register_all() {
    for (const layer_shape& l : layers) {
        const std::string n = l.name;
        benchmark::RegisterBenchmark(("forward/" + n + "/dendrite").c_str(), ours_forward, l)
            ->Arg(1)
            ->Arg(2)
            ->UseRealTime();
#if defined(DENDRITE_HAVE_OPENBLAS)
        benchmark::RegisterBenchmark(("forward/" + n + "/openblas").c_str(), blas_forward, l)
            ->Arg(1)
            ->Arg(2)
            ->UseRealTime();
#endif
        benchmark::RegisterBenchmark(("backward/" + n + "/dendrite").c_str(), ours_backward, l)
            ->Arg(1)
            ->Arg(2)
            ->UseRealTime();
#if defined(DENDRITE_HAVE_OPENBLAS)
        benchmark::RegisterBenchmark(("backward/" + n + "/openblas").c_str(), blas_backward, l)
            ->Arg(1)
            ->Arg(2)
            ->UseRealTime();
#endif
    }
    return 0;
}
const int registered = register_all();

}  // namespace

BENCHMARK_MAIN();
