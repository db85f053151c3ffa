// Sequence layers written from primitives (LSTM, GRU, multi-head attention, transformer block,
// positional encodings, embeddings of [batch, time] ids): values against plain loops of the
// papers' equations, gradients of inputs and every parameter against finite differences.

#include "helpers.hpp"

#include <catch2/catch.hpp>
#include <dendrite/dendrite.hpp>

#include <cmath>
#include <utility>
#include <vector>

using namespace dendrite;
using namespace dendrite::nn_testing;

namespace {

/// One layer as the model the gradient helpers expect: parameters, a generator, a forward call.
template <class L>
struct layer_model {
    L layer;
    bool training = true;
    rng generator{5};

    explicit layer_model(L l, std::uint64_t seed = 3) : layer(std::move(l)) {
        rng g(seed);
        layer.init(g);
        // Biases and norms away from their neutral starts, so every term of the gradient counts.
        for (auto& p : parameters())
            for (double& v : p.value.span())
                v += 0.2 * g.uniform(-1.0, 1.0);
    }
    nn::parameter_list<double> parameters() {
        nn::parameter_list<double> ps;
        layer.for_each_parameter([&](nn::parameter<double>& p) { ps.push_back(p); });
        return ps;
    }
    std::size_t parameter_count() {
        std::size_t n = 0;
        for (const auto& p : parameters())
            n += p.size();
        return n;
    }
    void zero_grad() {
        for (auto& p : parameters())
            p.zero_grad();
    }
    rng& random() { return generator; }
    var<double> operator()(tape& t, const var<double>& x) {
        return layer.forward(nn::context{t, training, &generator}, x);
    }
    var<double> operator()(tape& t, const tensor<double>& x) { return (*this)(t, variable(t, x)); }
};

tensor<double> random_input(const shape& s, std::uint64_t seed) {
    rng g(seed);
    return uniform<double>(s, -1.5, 1.5, g);
}

double sigmoid_of(double x) {
    return 1 / (1 + std::exp(-x));
}

/// y[b, t, :] = x[b, t, :] W + bias, by loops.
std::vector<double> affine(const tensor<double>& x, std::size_t b, std::size_t t,
                           const tensor<double>& w, const tensor<double>& bias) {
    std::vector<double> y(w.dim(1));
    for (std::size_t j = 0; j < w.dim(1); ++j) {
        y[j] = bias(j);
        for (std::size_t k = 0; k < w.dim(0); ++k)
            y[j] += x(b, t, k) * w(k, j);
    }
    return y;
}

std::vector<double> times(const std::vector<double>& h, const tensor<double>& w) {
    std::vector<double> y(w.dim(1), 0.0);
    for (std::size_t j = 0; j < w.dim(1); ++j)
        for (std::size_t k = 0; k < h.size(); ++k)
            y[j] += h[k] * w(k, j);
    return y;
}

}  // namespace

TEST_CASE("an LSTM follows its equations step by step", "[nn][sequence][lstm]") {
    const std::size_t B = 2, T = 3, I = 5, H = 4;
    layer_model<nn::lstm_layer<double>> model(nn::lstm_layer<double>(I, H));
    const auto& l = model.layer;
    const tensor<double> x = random_input(shape{B, T, I}, 21);
    tape t;
    const tensor<double> y = model(t, x).value();
    REQUIRE(y.shape() == shape{B, T, H});
    for (std::size_t b = 0; b < B; ++b) {
        std::vector<double> h(H, 0.0), c(H, 0.0);
        for (std::size_t s = 0; s < T; ++s) {
            std::vector<double> z = affine(x, b, s, l.w_ih.value, l.b_ih.value);
            const std::vector<double> zh = times(h, l.w_hh.value);
            for (std::size_t j = 0; j < 4 * H; ++j)
                z[j] += zh[j] + l.b_hh.value(j);
            for (std::size_t j = 0; j < H; ++j) {
                c[j] = sigmoid_of(z[H + j]) * c[j] + sigmoid_of(z[j]) * std::tanh(z[2 * H + j]);
                h[j] = sigmoid_of(z[3 * H + j]) * std::tanh(c[j]);
                REQUIRE(std::abs(y(b, s, j) - h[j]) < 1e-14);
            }
        }
    }
    require_model_gradients(model, x);

    // Running in two pieces with the state carried over gives the same outputs.
    tape t2;
    const nn::context ctx{t2};
    auto [first, state] = model.layer.run(ctx, variable(t2, x.slice(1, 0, 2).clone()), {});
    auto [second, end] = model.layer.run(ctx, variable(t2, x.slice(1, 2, 3).clone()), state);
    for (std::size_t b = 0; b < B; ++b)
        for (std::size_t j = 0; j < H; ++j) {
            CHECK(std::abs(first.value()(b, 1, j) - y(b, 1, j)) < 1e-15);
            CHECK(std::abs(second.value()(b, 0, j) - y(b, 2, j)) < 1e-15);
            CHECK(std::abs(end.h.value()(b, j) - y(b, 2, j)) < 1e-15);
        }
    CHECK_THROWS_WITH(model(t, tensor<double>(shape{B, T, I + 1}, 0.0)),
                      Catch::Contains("lstm: expects [batch, time, 5], got [2, 3, 6]"));
}

TEST_CASE("a GRU follows its equations step by step", "[nn][sequence][gru]") {
    const std::size_t B = 3, T = 4, I = 2, H = 5;
    layer_model<nn::gru_layer<double>> model(nn::gru_layer<double>(I, H));
    const auto& l = model.layer;
    const tensor<double> x = random_input(shape{B, T, I}, 22);
    tape t;
    const tensor<double> y = model(t, x).value();
    REQUIRE(y.shape() == shape{B, T, H});
    for (std::size_t b = 0; b < B; ++b) {
        std::vector<double> h(H, 0.0);
        for (std::size_t s = 0; s < T; ++s) {
            const std::vector<double> zx = affine(x, b, s, l.w_ih.value, l.b_ih.value);
            std::vector<double> zh = times(h, l.w_hh.value);
            for (std::size_t j = 0; j < 3 * H; ++j)
                zh[j] += l.b_hh.value(j);
            for (std::size_t j = 0; j < H; ++j) {
                const double r = sigmoid_of(zx[j] + zh[j]);
                const double z = sigmoid_of(zx[H + j] + zh[H + j]);
                const double n = std::tanh(zx[2 * H + j] + r * zh[2 * H + j]);
                h[j] = (1 - z) * n + z * h[j];
                REQUIRE(std::abs(y(b, s, j) - h[j]) < 1e-14);
            }
        }
    }
    require_model_gradients(model, x);
}

TEST_CASE("multi-head attention equals its equations, causal or not", "[nn][sequence][attention]") {
    const std::size_t B = 2, T = 5, D = 6, H = 3, d = D / H;
    for (const bool causal : {false, true}) {
        INFO("causal " << causal);
        layer_model<nn::multi_head_attention_layer<double>> model(
            nn::multi_head_attention_layer<double>(D, H, {.causal = causal}));
        const auto& l = model.layer;
        const tensor<double> x = random_input(shape{B, T, D}, 23);
        tape t;
        const tensor<double> y = model(t, x).value();
        REQUIRE(y.shape() == shape{B, T, D});
        for (std::size_t b = 0; b < B; ++b) {
            std::vector<std::vector<double>> qkv(T);
            for (std::size_t s = 0; s < T; ++s)
                qkv[s] = affine(x, b, s, l.w_qkv.value, l.b_qkv.value);
            for (std::size_t s = 0; s < T; ++s) {
                std::vector<double> concat(D, 0.0);
                for (std::size_t h = 0; h < H; ++h) {
                    std::vector<double> w(T, 0.0);
                    double m = -1e300, z = 0;
                    const std::size_t last = causal ? s : T - 1;
                    for (std::size_t u = 0; u <= last; ++u) {
                        for (std::size_t e = 0; e < d; ++e)
                            w[u] += qkv[s][h * d + e] * qkv[u][D + h * d + e];
                        w[u] /= std::sqrt(double(d));
                        m = std::max(m, w[u]);
                    }
                    for (std::size_t u = 0; u <= last; ++u)
                        z += (w[u] = std::exp(w[u] - m));
                    for (std::size_t u = 0; u <= last; ++u)
                        for (std::size_t e = 0; e < d; ++e)
                            concat[h * d + e] += w[u] / z * qkv[u][2 * D + h * d + e];
                }
                const std::vector<double> out = times(concat, l.w_o.value);
                for (std::size_t j = 0; j < D; ++j)
                    REQUIRE(std::abs(y(b, s, j) - (out[j] + l.b_o.value(j))) < 1e-13);
            }
        }
        require_model_gradients(model, x);
    }
    SECTION("dropout on the weights, reproducible from the generator, off when evaluating") {
        layer_model<nn::multi_head_attention_layer<double>> model(
            nn::multi_head_attention_layer<double>(D, H, {.causal = true, .dropout = 0.3}));
        const tensor<double> x = random_input(shape{B, T, D}, 24);
        require_model_gradients(model, x);
        model.training = false;
        tape t1, t2;
        const tensor<double> a = model(t1, x).value(), b = model(t2, x).value();
        CHECK(max_abs_difference(a, b) == 0);
    }
    CHECK_THROWS_WITH(nn::multi_head_attention_layer<double>(6, 4),
                      Catch::Contains("4 heads do not divide the dimension 6"));
}

TEST_CASE("a pre-norm transformer block passes gradcheck and keeps causality",
          "[nn][sequence][transformer]") {
    const std::size_t B = 2, T = 4, D = 8, H = 2, FF = 12;
    layer_model<nn::transformer_block_layer<double>> model(
        nn::transformer_block_layer<double>(D, H, FF, {.causal = true}));
    const tensor<double> x = random_input(shape{B, T, D}, 25);
    require_model_gradients(model, x);
    tape t;
    tensor<double> later = x.clone();
    later(1, 3, 2) += 1;
    const tensor<double> a = model(t, x).value(), b = model(t, later).value();
    for (std::size_t s = 0; s < 3; ++s)
        for (std::size_t j = 0; j < D; ++j)
            CHECK(a(1, s, j) == b(1, s, j));
    CHECK(a(1, 3, 0) != b(1, 3, 0));
    CHECK(model.layer.describe() == "transformer_block(8, 2 heads, ff 12)");
}

TEST_CASE("positional encodings: sinusoids and learned vectors", "[nn][sequence][positional]") {
    const tensor<double> pe = nn::sinusoidal_positions<double>(7, 6);
    CHECK(pe(0, 0) == 0.0);
    CHECK(pe(0, 1) == 1.0);
    CHECK(pe(5, 2) == Approx(std::sin(5 / std::pow(10000.0, 2.0 / 6))).epsilon(1e-15));
    CHECK(pe(5, 3) == Approx(std::cos(5 / std::pow(10000.0, 2.0 / 6))).epsilon(1e-15));
    using positions = nn::positional_encoding_layer<double>;
    layer_model<positions> fixed(positions(7, 6, positions::kind::sinusoidal));
    const tensor<double> x = random_input(shape{2, 5, 6}, 26);
    tape t;
    const tensor<double> y = fixed(t, x).value();
    CHECK(y(1, 4, 5) == x(1, 4, 5) + pe(4, 5));
    CHECK(fixed.parameter_count() == 0);
    layer_model<positions> learned(positions(7, 6));
    require_model_gradients(learned, x);
    CHECK_THROWS_WITH(learned(t, tensor<double>(shape{1, 8, 6}, 0.0)),
                      Catch::Contains("expects [batch, time <= 7, 6], got [1, 8, 6]"));
}

TEST_CASE("dense and layer norm act on each position of a sequence", "[nn][sequence]") {
    const tensor<double> x = random_input(shape{2, 3, 5}, 27);
    layer_model<nn::dense_layer<double>> dense(nn::dense_layer<double>(5, 4));
    layer_model<nn::layer_norm_layer<double>> norm(nn::layer_norm_layer<double>(5));
    tape t;
    const tensor<double> yd = dense(t, x).value(), yn = norm(t, x).value();
    REQUIRE(yd.shape() == shape{2, 3, 4});
    REQUIRE(yn.shape() == shape{2, 3, 5});
    for (std::size_t b = 0; b < 2; ++b)
        for (std::size_t s = 0; s < 3; ++s) {
            const std::vector<double> want =
                affine(x, b, s, dense.layer.weight.value, dense.parameters()[1].value);
            double m = 0, v = 0;
            for (std::size_t j = 0; j < 5; ++j)
                m += x(b, s, j) / 5;
            for (std::size_t j = 0; j < 5; ++j)
                v += (x(b, s, j) - m) * (x(b, s, j) - m) / 5;
            for (std::size_t j = 0; j < 4; ++j)
                CHECK(std::abs(yd(b, s, j) - want[j]) < 1e-14);
            for (std::size_t j = 0; j < 5; ++j)
                CHECK(std::abs(yn(b, s, j) -
                               (norm.layer.gamma.value(j) * (x(b, s, j) - m) / std::sqrt(v + 1e-5) +
                                norm.layer.beta.value(j))) < 1e-13);
        }
    require_model_gradients(dense, x);
    require_model_gradients(norm, x);
}

TEST_CASE("a character model: embedding of [batch, time] ids, LSTM, dense, sequence loss",
          "[nn][sequence][lstm]") {
    const std::size_t B = 2, T = 4, V = 7, E = 3, H = 5;
    nn::embedding_layer<double> embed(V, E);
    nn::lstm_layer<double> lstm(E, H);
    nn::dense_layer<double> head(H, V);
    rng g(28);
    embed.init(g);
    lstm.init(g);
    head.init(g);
    const tensor<double> ids(shape{B, T}, {1, 4, 6, 0, 2, 2, 5, 3});
    const tensor<std::int32_t> next(shape{B, T}, {4, 6, 0, -1, 2, 5, 3, 1});
    nn::parameter_list<double> ps;
    auto collect = [&](nn::parameter<double>& p) { ps.push_back(p); };
    embed.for_each_parameter(collect);
    lstm.for_each_parameter(collect);
    head.for_each_parameter(collect);
    auto loss = [&](tape& t) {
        const nn::context ctx{t};
        const var<double> logits =
            head.forward(ctx, lstm.forward(ctx, embed.forward(ctx, variable(t, ids))));
        REQUIRE(logits.shape() == shape{B, T, V});
        return softmax_cross_entropy(logits, next, {.ignore_index = -1});
    };
    for (auto& p : ps)
        p.zero_grad();
    {
        tape t;
        loss(t).backward();
    }
    for (auto& p : ps)
        for (std::size_t e = 0; e < p.size(); e += 3) {
            double& v = p.value.data()[e];
            const double saved = v, h = 1e-6;
            v = saved + h;
            tape t1;
            const double up = loss(t1).value().item();
            v = saved - h;
            tape t2;
            const double down = loss(t2).value().item();
            v = saved;
            INFO(p.name << "[" << e << "]");
            CHECK(p.grad.data()[e] == Approx((up - down) / (2 * h)).margin(1e-8));
        }

    SECTION("forward_sequence keeps a time axis of one, which forward reads as one id each") {
        tape t;
        const nn::context ctx{t};
        const tensor<double> one(shape{B, 1}, {5, 2});
        const var<double> seq = embed.forward_sequence(ctx, constant(t, one));
        REQUIRE(seq.shape() == shape{B, 1, E});
        REQUIRE(embed.forward(ctx, constant(t, one)).shape() == shape{B, E});
        for (std::size_t j = 0; j < E; ++j)
            CHECK(seq.value()(1, 0, j) == embed.table.value(2, j));
        CHECK_THROWS_WITH(embed.forward_sequence(ctx, constant(t, tensor<double>(shape{3}, 1.0))),
                          Catch::Contains("expects ids [batch, time], got [3]"));
    }
}
