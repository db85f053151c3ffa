#pragma once
// Our side of the peer comparisons, written with the public API the way a user writes it
// (nn::sequential, a loss, optim::sgd with momentum, a tape; train::fit for the epoch; the
// sequence layers and optim::adamw for the character language models), plus the hand-written
// baselines that need no framework: the fused activation as one xsimd loop, and XOR in plain
// loops.

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <dendrite/dendrite.hpp>
#include <dendrite/simd/simd.hpp>

// The LeNet workload needs convolution and pooling layers in nn::sequential; 0 builds the
// harness without our side of it.
#ifndef DENDRITE_PEERS_LENET
#define DENDRITE_PEERS_LENET 1
#endif

namespace peers {

namespace dn = dendrite;

/// The hyper-parameters every peer uses too.
inline constexpr double mlp_lr = 0.01, mlp_momentum = 0.9;
inline constexpr double xor_lr = 0.5, xor_momentum = 0.9;
inline constexpr double lm_lr = 1e-3, lm_weight_decay = 0.01;
/// The character language models' alphabet and context.
inline constexpr std::size_t lm_vocabulary = 96, lm_context = 64;

/// Images and labels in memory: x is [n, features...], y one label per example.
struct labelled {
    dn::tensor<float> x;
    std::vector<std::int32_t> y;
};

/// Uniform [0, 1) inputs of the given per-example shape and labels below 10.
inline labelled random_data(std::size_t n, std::vector<std::size_t> example,
                            std::uint64_t seed = 7) {
    dn::rng g(seed);
    std::vector<std::size_t> dims{n};
    dims.insert(dims.end(), example.begin(), example.end());
    labelled d{dn::uniform<float>(dn::shape(dims.begin(), dims.end()), 0.f, 1.f, g),
               std::vector<std::int32_t>(n)};
    for (auto& l : d.y)
        l = static_cast<std::int32_t>(g.below(10));
    return d;
}

/// Fashion-MNIST's 60000 training images ([n, 784], in [0, 1]) when the Debian package is
/// installed, else random data of the same shape; `description` says which.
struct training_set {
    labelled data;
    std::string description;
};
inline training_set fashion_mnist_or_random() {
    if (const auto dir = dn::data::fashion_mnist_dir()) {
        dn::data::dataset ds = dn::data::load_mnist_dir(*dir, dn::data::split::train);
        return {{ds.x, ds.y},
                "Fashion-MNIST train (" + std::to_string(ds.size()) + " images, " + dir->string() +
                    ")"};
    }
    return {
        random_data(60000, {784}),
        "random data of Fashion-MNIST's shape (60000 x 784; dataset-fashion-mnist not installed)"};
}

inline auto make_mlp() {
    return dn::nn::sequential(dn::nn::input<784>, dn::nn::dense<256>, dn::nn::relu,
                              dn::nn::dense<128>, dn::nn::relu, dn::nn::dense<10>);
}

#if DENDRITE_PEERS_LENET
inline auto make_lenet() {
    namespace nn = dn::nn;
    return nn::sequential(nn::input<1, 28, 28>, nn::conv2d<6, 5>, nn::relu, nn::max_pool2d<2>,
                          nn::conv2d<16, 5>, nn::relu, nn::max_pool2d<2>, nn::flatten,
                          nn::dense<120>, nn::relu, nn::dense<84>, nn::relu, nn::dense<10>);
}
#endif

/// A classifier being trained: one step is zero_grad, forward on a fresh tape, softmax
/// cross-entropy, backward, SGD with momentum.
template <class Net>
class classifier {
  public:
    template <class Make>
    explicit classifier(Make make, std::uint64_t seed = 1)
        : net_(make()), opt_({.lr = mlp_lr, .momentum = mlp_momentum}) {
        net_.init(seed);
        params_ = net_.parameters();
    }

    float step(const dn::tensor<float>& x, std::span<const std::int32_t> y) {
        tape_.clear();
        net_.zero_grad();
        auto loss = dn::softmax_cross_entropy(net_(tape_, x), y);
        loss.backward();
        opt_.step(params_);
        return loss.item();
    }

    /// One epoch of train::fit over `train` in the order `seed` draws (batches shuffled and
    /// gathered by its loader, validation and log off); returns the epoch's mean loss.
    float fit_epoch(const dn::data::dataset& train, std::size_t batch, std::uint64_t seed) {
        dn::train::fit_options o;
        o.epochs = 1;
        o.batch_size = batch;
        o.seed = seed;
        o.log = nullptr;
        return static_cast<float>(dn::train::fit(net_, opt_, train, o).history[0].train_loss);
    }

  private:
    Net net_;
    dn::optim::sgd<float> opt_;
    dn::nn::parameter_list<float> params_;
    dn::tape tape_;
};

using mlp_classifier = classifier<decltype(make_mlp())>;
#if DENDRITE_PEERS_LENET
using lenet_classifier = classifier<decltype(make_lenet())>;
#endif

/// A training step on one fixed batch, kept in memory.
template <class Net>
struct fixed_batch_step {
    classifier<Net> model;
    labelled data;
    template <class Make>
    fixed_batch_step(Make make, labelled d) : model(make), data(std::move(d)) {}
    float operator()() { return model.step(data.x, data.y); }
};

struct mlp_step : fixed_batch_step<decltype(make_mlp())> {
    explicit mlp_step(std::size_t batch) : fixed_batch_step(make_mlp, random_data(batch, {784})) {}
};
#if DENDRITE_PEERS_LENET
struct lenet_step : fixed_batch_step<decltype(make_lenet())> {
    explicit lenet_step(std::size_t batch)
        : fixed_batch_step(make_lenet, random_data(batch, {1, 28, 28})) {}
};
#endif

/// A Hessian-vector product of the MLP's cross-entropy on one fixed batch, with respect to all
/// its weights, along a fixed random direction: dendrite::hvp (forward over reverse) on a reused
/// tape.
struct mlp_hvp {
    decltype(make_mlp()) net = make_mlp();
    dn::nn::parameter_list<float> params = net.parameters();
    labelled data;
    std::vector<dn::tensor<float>> v;
    dn::tape t;
    explicit mlp_hvp(std::size_t batch) : data(random_data(batch, {784})) {
        dn::rng g(3);
        for (const auto& p : params)
            v.push_back(dn::normal<float>(p.value.shape(), 0.f, 1.f, g));
    }
    float operator()() {
        net.zero_grad();
        const auto loss = [&](dn::tape& tp) {
            return dn::softmax_cross_entropy(net(tp, data.x), data.y);
        };
        return dn::hvp(t, loss, std::span<const dn::nn::parameter<float>>(params),
                       std::span<const dn::tensor<float>>(v))
            .loss;
    }
};

/// A full epoch over a training set, shuffled, at the given batch size: train::fit as a user
/// calls it, one epoch per call, each in a new order.
struct mlp_epoch {
    mlp_classifier model{make_mlp};
    dn::data::dataset train;
    std::size_t batch;
    std::uint64_t seed = 1;
    mlp_epoch(const labelled& data, std::size_t b)
        : train{.x = data.x, .y = data.y, .classes = 10}, batch(b) {}
    float operator()() { return model.fit_epoch(train, batch, seed++); }
};

/// The custom activation, written once for floats, tensors and variables.
inline constexpr auto gelu_sigmoid = [](auto x) { return x * dn::sigmoid(1.702f * x); };

/// Forward + backward of the activation through the tape: record y = act(x), backward with the
/// upstream gradient g, clear. The fused node evaluates the forward and its derivative in one
/// pass each.
struct swish_tape {
    dn::tensor<float> x, g;
    dn::tape t;
    explicit swish_tape(std::size_t n) {
        dn::rng r(1);
        x = dn::uniform<float>(dn::shape{n}, -4.0f, 4.0f, r);
        g = dn::uniform<float>(dn::shape{n}, -1.0f, 1.0f, r);
    }
    float operator()() {
        t.clear();
        auto xv = dn::variable(t, x);
        dn::var<float> y = gelu_sigmoid(xv);
        y.backward(g);
        return xv.grad().data()[0] + y.value().data()[0];
    }
};

/// The bound: one hand-written xsimd pass reading x and g, writing y and dx (16 bytes an
/// element), split over the library's threads like any element-wise kernel.
struct swish_hand_loop {
    dn::tensor<float> x, g, y, dx;
    explicit swish_hand_loop(std::size_t n) : y(dn::shape{n}), dx(dn::shape{n}) {
        dn::rng r(1);
        x = dn::uniform<float>(dn::shape{n}, -4.0f, 4.0f, r);
        g = dn::uniform<float>(dn::shape{n}, -1.0f, 1.0f, r);
    }
    float operator()() {
        namespace sd = dn::simd;
        const float* xp = x.data();
        const float* gp = g.data();
        float* yp = y.data();
        float* dxp = dx.data();
        constexpr std::size_t W = sd::width<float>;
        sd::parallel_for(x.size(), W, sd::parallel_threshold, [&](std::size_t b, std::size_t e) {
            using B = sd::batch<float>;
            const B k(1.702f), one(1.0f);
            std::size_t i = b;
            for (; i + W <= e; i += W) {
                const B xv = sd::load(xp + i), gv = sd::load(gp + i);
                const B s = one / (one + sd::exp(-k * xv));
                sd::store(yp + i, xv * s);
                sd::store(dxp + i, gv * (s + k * xv * s * (one - s)));
            }
            for (; i < e; ++i) {
                const float s = 1.0f / (1.0f + std::exp(-1.702f * xp[i]));
                yp[i] = xp[i] * s;
                dxp[i] = gp[i] * (s + 1.702f * xp[i] * s * (1.0f - s));
            }
        });
        return yp[0] + dxp[0];
    }
};

/// XOR's four examples and their targets.
struct xor_data {
    dn::tensor<float> x{dn::shape{4, 2}, {0, 0, 0, 1, 1, 0, 1, 1}};
    dn::tensor<float> y{dn::shape{4, 1}, {0, 1, 1, 0}};
};

inline auto make_xor() {
    return dn::nn::sequential(dn::nn::input<2>, dn::nn::dense<8>, dn::nn::tanh, dn::nn::dense<1>);
}

/// A 2-8-1 tanh network, binary cross-entropy on logits, SGD with momentum: one step.
struct xor_step {
    decltype(make_xor()) net = make_xor();
    dn::optim::sgd<float> opt{{.lr = xor_lr, .momentum = xor_momentum}};
    dn::nn::parameter_list<float> params;
    dn::tape t;
    xor_data d;
    xor_step() {
        net.init(3);
        params = net.parameters();
    }
    float operator()() {
        t.clear();
        net.zero_grad();
        auto loss = dn::binary_cross_entropy_with_logits(net(t, d.x), d.y);
        loss.backward();
        opt.step(params);
        return loss.item();
    }
};

/// The same step in plain loops: no framework, no allocation. What a framework's per-step
/// overhead is measured against.
struct xor_hand_written {
    static constexpr int n = 4, in = 2, hidden = 8;
    std::array<float, in * hidden> w1{}, vw1{};
    std::array<float, hidden> b1{}, vb1{}, w2{}, vw2{};
    float b2 = 0, vb2 = 0;
    bool first = true;
    std::array<float, n * in> x{0, 0, 0, 1, 1, 0, 1, 1};
    std::array<float, n> y{0, 1, 1, 0};

    xor_hand_written() {
        dn::rng g(3);
        for (auto& w : w1)
            w = static_cast<float>(g.uniform(-1, 1));
        for (auto& w : w2)
            w = static_cast<float>(g.uniform(-0.5, 0.5));
    }

    float operator()() {
        std::array<float, n * hidden> h{}, dh{};
        std::array<float, n> dz{};
        float loss = 0;
        for (int i = 0; i < n; ++i) {
            float z = b2;
            for (int j = 0; j < hidden; ++j) {
                float a = b1[j];
                for (int k = 0; k < in; ++k)
                    a += x[i * in + k] * w1[k * hidden + j];
                h[i * hidden + j] = std::tanh(a);
                z += h[i * hidden + j] * w2[j];
            }
            // log(1 + e^z) - y z, stably; d/dz = sigmoid(z) - y, averaged over the batch.
            loss += std::max(z, 0.f) - z * y[i] + std::log1p(std::exp(-std::abs(z)));
            dz[i] = (1.f / (1.f + std::exp(-z)) - y[i]) / n;
        }
        std::array<float, in * hidden> gw1{};
        std::array<float, hidden> gb1{}, gw2{};
        float gb2 = 0;
        for (int i = 0; i < n; ++i) {
            gb2 += dz[i];
            for (int j = 0; j < hidden; ++j) {
                const float hij = h[i * hidden + j];
                gw2[j] += hij * dz[i];
                dh[i * hidden + j] = dz[i] * w2[j] * (1.f - hij * hij);
                gb1[j] += dh[i * hidden + j];
                for (int k = 0; k < in; ++k)
                    gw1[k * hidden + j] += x[i * in + k] * dh[i * hidden + j];
            }
        }
        // SGD with momentum as PyTorch defines it: the first step seeds the buffer with g.
        const float mu = first ? 0.f : static_cast<float>(xor_momentum),
                    lr = static_cast<float>(xor_lr);
        auto update = [&](float& w, float& v, float g) {
            v = mu * v + g;
            w -= lr * v;
        };
        for (int j = 0; j < in * hidden; ++j)
            update(w1[j], vw1[j], gw1[j]);
        for (int j = 0; j < hidden; ++j) {
            update(b1[j], vb1[j], gb1[j]);
            update(w2[j], vw2[j], gw2[j]);
        }
        update(b2, vb2, gb2);
        first = false;
        return loss / n;
    }
};

/// A batch of text for a language model: ids [batch, time] (as floats, the embedding's input)
/// and the next id at every position, from one random sequence of time + 1 ids per row.
struct token_batch {
    dn::tensor<float> ids;
    dn::tensor<std::int32_t> targets;
};
inline token_batch random_tokens(std::size_t batch, std::uint64_t seed = 7) {
    dn::rng g(seed);
    token_batch b{dn::tensor<float>(dn::shape{batch, lm_context}, 0.f),
                  dn::tensor<std::int32_t>(dn::shape{batch, lm_context}, 0)};
    for (std::size_t r = 0; r < batch; ++r) {
        auto next = static_cast<std::int32_t>(g.below(lm_vocabulary));
        for (std::size_t j = 0; j < lm_context; ++j) {
            b.ids(r, j) = static_cast<float>(next);
            next = static_cast<std::int32_t>(g.below(lm_vocabulary));
            b.targets(r, j) = next;
        }
    }
    return b;
}

/// What the language models share: their parameters, gathered once in the order the layers
/// list them (LibTorch's side copies our starting weights in that order).
class language_model {
  public:
    dn::nn::parameter_list<float>& parameters() { return params_; }
    std::size_t parameter_count() const {
        std::size_t n = 0;
        for (const auto& p : params_)
            n += p.size();
        return n;
    }

  protected:
    template <class Layer>
    void collect(Layer& l) {
        l.for_each_parameter([&](dn::nn::parameter<float>& p) { params_.push_back(p); });
    }

  private:
    dn::nn::parameter_list<float> params_;
};

/// Embedding 96 x 64 -> LSTM 256 -> dense 256 -> 96 at every position (examples/char_lm.cpp's
/// model with one layer).
class lstm_lm : public language_model {
  public:
    lstm_lm() {
        dn::rng g(1);
        embed.init(g);
        lstm.init(g);
        head.init(g);
        collect(embed);
        collect(lstm);
        collect(head);
    }
    dn::var<float> logits(const dn::nn::context& ctx, const dn::var<float>& ids) {
        return head.forward(ctx, lstm.forward(ctx, embed.forward_sequence(ctx, ids)));
    }

    dn::nn::embedding_layer<float> embed{lm_vocabulary, 64, "embed"};
    dn::nn::lstm_layer<float> lstm{64, 256, "lstm"};
    dn::nn::dense_layer<float> head{256, lm_vocabulary, true, {}, "head"};
};

/// Embedding 96 x 128 + learned positions -> one causal pre-norm transformer block (4 heads, MLP
/// 512 with GELU) -> layer norm -> dense 128 -> 96 (examples/char_lm.cpp's model with one block).
class transformer_lm : public language_model {
  public:
    static constexpr std::size_t dim = 128;
    transformer_lm() {
        dn::rng g(1);
        embed.init(g);
        // GPT-2's scale for token vectors: N(0, 1) would swamp the positions.
        for (float& v : embed.table.value.span())
            v *= 0.02f;
        positions.init(g);
        block.init(g);
        norm.init(g);
        head.init(g);
        collect(embed);
        collect(positions);
        collect(block);
        collect(norm);
        collect(head);
    }
    dn::var<float> logits(const dn::nn::context& ctx, const dn::var<float>& ids) {
        const dn::var<float> h = positions.forward(ctx, embed.forward_sequence(ctx, ids));
        return head.forward(ctx, norm.forward(ctx, block.forward(ctx, h)));
    }

    dn::nn::embedding_layer<float> embed{lm_vocabulary, dim, "embed"};
    dn::nn::positional_encoding_layer<float> positions{
        lm_context, dim, dn::nn::positional_encoding_layer<float>::kind::learned, "pos"};
    dn::nn::transformer_block_layer<float> block{
        dim, 4, 4 * dim, dn::nn::attention_options{.causal = true}, "block"};
    dn::nn::layer_norm_layer<float> norm{dim, 1e-5, "ln_f"};
    dn::nn::dense_layer<float> head{dim, lm_vocabulary, true, {}, "head"};
};

/// A language model's training step on one fixed batch: forward on the reused tape (cleared, its
/// buffers recycled), mean softmax cross-entropy over every position, backward, AdamW.
template <class Model>
struct lm_step {
    Model model;
    dn::optim::adamw<float> opt{{.lr = lm_lr, .weight_decay = lm_weight_decay}};
    token_batch data;
    dn::tape t;
    dn::rng g{2};
    explicit lm_step(std::size_t batch) : data(random_tokens(batch)) {}
    float operator()() {
        t.clear();
        const dn::nn::context ctx{t, true, &g};
        const dn::var<float> loss =
            dn::softmax_cross_entropy(model.logits(ctx, dn::constant(t, data.ids)), data.targets);
        for (auto& p : model.parameters())
            p.zero_grad();
        loss.backward();
        opt.step(model.parameters());
        return loss.item();
    }
    std::string note() const {
        return "ours " + std::to_string(model.parameter_count()) + " parameters";
    }
};
using lstm_step = lm_step<lstm_lm>;
using transformer_step = lm_step<transformer_lm>;

/// Floating-point operations of one training sample of the 784-256-128-10 MLP: forward, the
/// weight gradients, and the input gradients of the two upper layers (none for the input).
inline constexpr double mlp_flops_per_sample =
    2.0 * (784 * 256 + 256 * 128 + 128 * 10) * 2 + 2.0 * (256 * 128 + 128 * 10);

}  // namespace peers
