// One training step (forward, backward, SGD update) of the 784-256-128-10 ReLU network with
// softmax cross-entropy: the declarative nn::sequential network against the same network written
// by hand with the library's GEMM and hand-derived gradients (what a perfect hand-coded version
// reaches), at batch 32, 128 and 512, on 1 and 2 threads. Counter: samples/s.

#include <cstdint>
#include <vector>

#include <benchmark/benchmark.h>

#include <dendrite/dendrite.hpp>

using namespace dendrite;

namespace {

constexpr float learning_rate = 0.01f;

struct batch_data {
    tensor<float> x;
    std::vector<std::int32_t> labels;
};

batch_data make_batch(std::size_t batch) {
    rng g(7);
    batch_data d{uniform<float>({batch, 784}, 0.f, 1.f, g), std::vector<std::int32_t>(batch)};
    for (auto& l : d.labels)
        l = static_cast<std::int32_t>(g.below(10));
    return d;
}

void declarative(benchmark::State& state) {
    const std::size_t batch = static_cast<std::size_t>(state.range(0));
    set_num_threads(static_cast<int>(state.range(1)));
    auto net = nn::sequential(nn::input<784>, nn::dense<256>, nn::relu, nn::dense<128>, nn::relu,
                              nn::dense<10>);
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
    state.counters["samples/s"] = benchmark::Counter(
        static_cast<double>(state.iterations() * batch), benchmark::Counter::kIsRate);
}

// The same step by hand: the forward GEMMs carry bias + ReLU in their epilogue, the backward ones
// read dY * relu'(Y) through the operand transform, the softmax gradient is written directly.
struct hand_written_mlp {
    std::size_t batch;
    tensor<float> w1, b1, w2, b2, w3, b3;
    tensor<float> dw1, db1, dw2, db2, dw3, db3;
    tensor<float> h1, h2, logits, dlogits, dh1, dh2;

    explicit hand_written_mlp(std::size_t b)
        : batch(b),
          w1({784, 256}),
          b1({256}),
          w2({256, 128}),
          b2({128}),
          w3({128, 10}),
          b3({10}),
          dw1({784, 256}),
          db1({256}),
          dw2({256, 128}),
          db2({128}),
          dw3({128, 10}),
          db3({10}),
          h1({b, 256}),
          h2({b, 128}),
          logits({b, 10}),
          dlogits({b, 10}),
          dh1({b, 256}),
          dh2({b, 128}) {
        rng g(1);
        nn::init::he_uniform(w1, g);
        nn::init::he_uniform(w2, g);
        nn::init::glorot_uniform(w3, g);
    }

    template <class Bias, class Act>
    static void dense_forward(std::size_t m, std::size_t k, std::size_t n, const float* x,
                              const float* w, const Bias* bias, float* y, Act act) {
        linalg::gemm<float>(linalg::trans::no, linalg::trans::no, m, n, k, 1.f, x, k, w, n, 0.f, y,
                            n, [=](auto v, std::size_t, std::size_t j) {
                                using X = decltype(v);
                                return act(v + linalg::lanes<X>(bias + j));
                            });
    }

    float step(const batch_data& d) {
        using linalg::trans;
        const auto relu = [](auto v) { return simd::max(v, decltype(v)(0.f)); };
        const auto none = [](auto v) { return v; };
        dense_forward(batch, 784, 256, d.x.data(), w1.data(), b1.data(), h1.data(), relu);
        dense_forward(batch, 256, 128, h1.data(), w2.data(), b2.data(), h2.data(), relu);
        dense_forward(batch, 128, 10, h2.data(), w3.data(), b3.data(), logits.data(), none);

        // Softmax cross-entropy and its gradient (softmax - onehot) / batch, row by row.
        double loss = 0;
        const float inv = 1.f / static_cast<float>(batch);
        for (std::size_t i = 0; i < batch; ++i) {
            const float* z = logits.data() + i * 10;
            float* g = dlogits.data() + i * 10;
            float m = z[0];
            for (int c = 1; c < 10; ++c)
                m = z[c] > m ? z[c] : m;
            float s = 0;
            for (int c = 0; c < 10; ++c)
                s += (g[c] = std::exp(z[c] - m));
            for (int c = 0; c < 10; ++c)
                g[c] *= inv / s;
            g[d.labels[i]] -= inv;
            loss += std::log(s) + m - z[d.labels[i]];
        }
        const auto relu_grad = [](auto dy, auto y) {
            return simd::select(y > decltype(y)(0.f), dy, decltype(y)(0.f));
        };
        const auto pass = [](auto dy, auto) { return dy; };
        linalg::dense_backward<float>(batch, 128, 10, h2.data(), 128, w3.data(), 10, dlogits.data(),
                                      10, logits.data(), 10, pass, dw3.data(), 10, db3.data(),
                                      dh2.data(), 128);
        linalg::dense_backward<float>(batch, 256, 128, h1.data(), 256, w2.data(), 128, dh2.data(),
                                      128, h2.data(), 128, relu_grad, dw2.data(), 128, db2.data(),
                                      dh1.data(), 256);
        linalg::dense_backward<float>(batch, 784, 256, d.x.data(), 784, w1.data(), 256, dh1.data(),
                                      256, h1.data(), 256, relu_grad, dw1.data(), 256, db1.data(),
                                      nullptr, 0);
        for (auto [w, g] : {std::pair{&w1, &dw1},
                            {&b1, &db1},
                            {&w2, &dw2},
                            {&b2, &db2},
                            {&w3, &dw3},
                            {&b3, &db3}})
            w->assign(*w - learning_rate * *g);
        return static_cast<float>(loss / static_cast<double>(batch));
    }
};

void hand_written(benchmark::State& state) {
    const std::size_t batch = static_cast<std::size_t>(state.range(0));
    set_num_threads(static_cast<int>(state.range(1)));
    hand_written_mlp mlp(batch);
    const batch_data d = make_batch(batch);
    for (auto _ : state)
        benchmark::DoNotOptimize(mlp.step(d));
    state.counters["samples/s"] = benchmark::Counter(
        static_cast<double>(state.iterations() * batch), benchmark::Counter::kIsRate);
}

void step_arguments(benchmark::internal::Benchmark* b) {
    for (int threads : {1, 2})
        for (int batch : {32, 128, 512})
            b->Args({batch, threads});
    b->ArgNames({"batch", "threads"})->UseRealTime();
}

}  // namespace

BENCHMARK(hand_written)->Apply(step_arguments);
BENCHMARK(declarative)->Apply(step_arguments);

BENCHMARK_MAIN();
