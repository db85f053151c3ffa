// Ours against LibTorch in one process, block by block (A B A B ...): the MLP training step, its
// Hessian-vector product, a full epoch, the LeNet step, the character language models' steps (an
// LSTM, a transformer block), the fused activation (LibTorch eager autograd) and XOR.
// One JSON line per comparison (bench/peers/report.py turns them into the table).
//
//   torch_peers [--threads 1,2] [--reps 7] [--min-time 0.2] [--epoch-batches 128]
//               [--epoch-reps 5] [--only mlp,hvp,epoch,lenet,lstm,transformer,swish,xor]
//
// The peer at its best: OpenBLAS's SkylakeX kernel (OPENBLAS_CORETYPE, set by bench/run-peers),
// gradients dropped rather than zeroed, and on several threads both arrangements of its two
// pools (intra-op threads with a one-thread BLAS, or one intra-op thread with a threaded BLAS),
// the faster one reported. Only one pool is ever active: this process holds ours, torch's
// (OpenMP) and OpenBLAS's (pthreads).

#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "dendrite_workloads.hpp"
#include "harness.hpp"

namespace {

// libtorch reaches OpenBLAS through libblas.so.3, which forwards to libopenblas.so.0: one
// instance, found by symbol. Absent (another BLAS), the calls do nothing.
void openblas_threads(int n) {
    using fn = void (*)(int);
    static const auto f = reinterpret_cast<fn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
    if (f) f(n);
}
std::string openblas_core() {
    using fn = char* (*)();
    const auto f = reinterpret_cast<fn>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
    return f ? f() : "not OpenBLAS";
}

// at::set_num_threads also resizes torch's pthreadpool: only on a change.
void torch_threads(int n) {
    static int current = -1;
    if (n != current) at::set_num_threads(n);
    current = n;
}

torch::Tensor to_torch(const dendrite::tensor<float>& t) {
    std::vector<std::int64_t> sizes;
    for (std::size_t i = 0; i < t.rank(); ++i)
        sizes.push_back(static_cast<std::int64_t>(t.dim(i)));
    return torch::from_blob(const_cast<float*>(t.data()), sizes, torch::kFloat).clone();
}
torch::Tensor to_torch(const std::vector<std::int32_t>& labels) {
    return torch::from_blob(const_cast<std::int32_t*>(labels.data()),
                            {static_cast<std::int64_t>(labels.size())}, torch::kInt)
        .to(torch::kLong);
}

torch::Tensor to_torch(const dendrite::tensor<std::int32_t>& labels) {
    std::vector<std::int64_t> sizes;
    for (std::size_t i = 0; i < labels.rank(); ++i)
        sizes.push_back(static_cast<std::int64_t>(labels.dim(i)));
    return torch::from_blob(const_cast<std::int32_t*>(labels.data()), sizes, torch::kInt)
        .to(torch::kLong);
}

namespace tnn = torch::nn;

tnn::Sequential torch_mlp() {
    return tnn::Sequential(tnn::Linear(784, 256), tnn::ReLU(), tnn::Linear(256, 128), tnn::ReLU(),
                           tnn::Linear(128, 10));
}
tnn::Sequential torch_lenet() {
    return tnn::Sequential(tnn::Conv2d(tnn::Conv2dOptions(1, 6, 5)), tnn::ReLU(),
                           tnn::MaxPool2d(tnn::MaxPool2dOptions(2)),
                           tnn::Conv2d(tnn::Conv2dOptions(6, 16, 5)), tnn::ReLU(),
                           tnn::MaxPool2d(tnn::MaxPool2dOptions(2)), tnn::Flatten(),
                           tnn::Linear(16 * 4 * 4, 120), tnn::ReLU(), tnn::Linear(120, 84),
                           tnn::ReLU(), tnn::Linear(84, 10));
}

// A LibTorch classifier trained the usual way; gradients are set to none instead of zeroed
// (what optimizer.zero_grad(set_to_none=True) does in Python), which saves a pass.
struct torch_classifier {
    tnn::Sequential net;
    std::vector<torch::Tensor> params;
    std::unique_ptr<torch::optim::SGD> opt;
    explicit torch_classifier(tnn::Sequential n, double lr = peers::mlp_lr,
                              double momentum = peers::mlp_momentum)
        : net(std::move(n)),
          params(net->parameters()),
          opt(std::make_unique<torch::optim::SGD>(
              params, torch::optim::SGDOptions(lr).momentum(momentum))) {}
    float step(const torch::Tensor& x, const torch::Tensor& y) {
        for (auto& p : params)
            p.mutable_grad().reset();
        auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
        loss.backward();
        opt->step();
        return loss.item<float>();
    }
};

struct torch_fixed_step {
    torch_classifier model;
    torch::Tensor x, y;
    torch_fixed_step(tnn::Sequential net, const peers::labelled& d)
        : model(std::move(net)), x(to_torch(d.x)), y(to_torch(d.y)) {}
    void operator()() { model.step(x, y); }
};

// A Hessian-vector product by double backward, PyTorch's way: the gradient with create_graph,
// its dot product with v, and the gradient of that.
struct torch_hvp {
    tnn::Sequential net = torch_mlp();
    std::vector<torch::Tensor> params = net->parameters();
    torch::Tensor x, y;
    std::vector<torch::Tensor> v;
    explicit torch_hvp(const peers::labelled& d) : x(to_torch(d.x)), y(to_torch(d.y)) {
        for (const auto& p : params)
            v.push_back(torch::randn_like(p));
    }
    void operator()() {
        const auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
        const auto g = torch::autograd::grad({loss}, params, {}, true, true);
        torch::Tensor dot = (g[0] * v[0]).sum();
        for (std::size_t i = 1; i < g.size(); ++i)
            dot = dot + (g[i] * v[i]).sum();
        const auto hv = torch::autograd::grad({dot}, params);
        (void)hv[0].data_ptr();
    }
};

// An epoch as a LibTorch user writes it without a DataLoader: a permutation, then batches
// gathered with index_select from the preloaded tensors.
struct torch_epoch {
    torch_classifier model{torch_mlp()};
    torch::Tensor x, y;
    std::int64_t batch;
    torch_epoch(const peers::labelled& d, std::size_t b)
        : x(to_torch(d.x)), y(to_torch(d.y)), batch(static_cast<std::int64_t>(b)) {}
    void operator()() {
        const std::int64_t n = x.size(0);
        const torch::Tensor order = torch::randperm(n, torch::kLong);
        for (std::int64_t i = 0; i < n; i += batch) {
            const torch::Tensor idx = order.slice(0, i, std::min(n, i + batch));
            model.step(x.index_select(0, idx), y.index_select(0, idx));
        }
    }
};

constexpr auto lm_vocabulary = static_cast<std::int64_t>(peers::lm_vocabulary);
constexpr auto lm_context = static_cast<std::int64_t>(peers::lm_context);

// A parameter of a LibTorch model beside ours: whether it holds ours transposed (a Linear's
// weight is [out, in], ours [in, out]).
struct matching_parameter {
    torch::Tensor tensor;
    bool transposed = false;
};

// torch::nn::LSTM runs the whole sequence in one call, its cell fused.
struct torch_lstm_lm : tnn::Module {
    tnn::Embedding embed = register_module("embed", tnn::Embedding(lm_vocabulary, 64));
    tnn::LSTM lstm =
        register_module("lstm", tnn::LSTM(tnn::LSTMOptions(64, 256).batch_first(true)));
    tnn::Linear head = register_module("head", tnn::Linear(256, lm_vocabulary));
    torch::Tensor forward(const torch::Tensor& ids) { return head(std::get<0>(lstm(embed(ids)))); }
    std::vector<matching_parameter> in_our_order() {
        auto p = lstm->named_parameters();
        return {{embed->weight},   {p["weight_ih_l0"], true}, {p["weight_hh_l0"], true},
                {p["bias_ih_l0"]}, {p["bias_hh_l0"]},         {head->weight, true},
                {head->bias}};
    }
};

// The block written out as minGPT does (torch 1.13 has no scaled_dot_product_attention): one
// Linear for q, k and v, the causal mask applied with masked_fill before the softmax.
struct torch_transformer_lm : tnn::Module {
    static constexpr std::int64_t dim = 128, heads = 4;
    tnn::Embedding embed = register_module("embed", tnn::Embedding(lm_vocabulary, dim));
    torch::Tensor positions = register_parameter("positions", torch::zeros({lm_context, dim}));
    tnn::LayerNorm ln_1 = register_module("ln_1", tnn::LayerNorm(tnn::LayerNormOptions({dim})));
    tnn::Linear qkv = register_module("qkv", tnn::Linear(dim, 3 * dim));
    tnn::Linear out = register_module("out", tnn::Linear(dim, dim));
    tnn::LayerNorm ln_2 = register_module("ln_2", tnn::LayerNorm(tnn::LayerNormOptions({dim})));
    tnn::Linear fc = register_module("fc", tnn::Linear(dim, 4 * dim));
    tnn::Linear proj = register_module("proj", tnn::Linear(4 * dim, dim));
    tnn::LayerNorm ln_f = register_module("ln_f", tnn::LayerNorm(tnn::LayerNormOptions({dim})));
    tnn::Linear head = register_module("head", tnn::Linear(dim, lm_vocabulary));
    torch::Tensor future = torch::ones({lm_context, lm_context}, torch::kBool).triu(1);

    torch::Tensor forward(const torch::Tensor& ids) {
        const std::int64_t B = ids.size(0), T = ids.size(1), d = dim / heads;
        torch::Tensor x = embed(ids) + positions.slice(0, 0, T);
        const auto q_k_v = qkv(ln_1(x)).chunk(3, -1);
        const auto split_heads = [&](const torch::Tensor& m) {
            return m.view({B, T, heads, d}).transpose(1, 2);
        };
        const torch::Tensor q = split_heads(q_k_v[0]), k = split_heads(q_k_v[1]),
                            v = split_heads(q_k_v[2]);
        const torch::Tensor scores =
            torch::matmul(q, k.transpose(-2, -1)) * (1 / std::sqrt(static_cast<double>(d)));
        const torch::Tensor weights =
            torch::softmax(scores.masked_fill(future.slice(0, 0, T).slice(1, 0, T), -INFINITY), -1);
        x = x + out(torch::matmul(weights, v).transpose(1, 2).reshape({B, T, dim}));
        x = x + proj(torch::gelu(fc(ln_2(x))));
        return head(ln_f(x));
    }
    std::vector<matching_parameter> in_our_order() {
        return {{embed->weight},      {positions},  {ln_1->weight},      {ln_1->bias},
                {qkv->weight, true},  {qkv->bias},  {out->weight, true}, {out->bias},
                {ln_2->weight},       {ln_2->bias}, {fc->weight, true},  {fc->bias},
                {proj->weight, true}, {proj->bias}, {ln_f->weight},      {ln_f->bias},
                {head->weight, true}, {head->bias}};
    }
};

// A language model's step in LibTorch from our starting weights and batch, so the two compute the
// same losses: gradients set to none, AdamW decaying the parameters ours decays (weights and the
// embedding, not biases, norms or positions), as GPT-style training sets up its two groups.
template <class Net>
struct torch_lm_step {
    std::shared_ptr<Net> net = std::make_shared<Net>();
    torch::Tensor ids, targets;
    std::vector<torch::Tensor> params;
    std::unique_ptr<torch::optim::AdamW> opt;

    template <class Ours>
    explicit torch_lm_step(Ours& ours)
        : ids(to_torch(ours.data.ids).to(torch::kLong)), targets(to_torch(ours.data.targets)) {
        const auto matching = net->in_our_order();
        auto& mine = ours.model.parameters();
        if (matching.size() != mine.size() || net->parameters().size() != mine.size())
            throw std::logic_error("torch_lm_step: the models' parameters do not pair up");
        std::vector<torch::Tensor> decayed, plain;
        torch::NoGradGuard no_grad;
        for (std::size_t i = 0; i < mine.size(); ++i) {
            const torch::Tensor from = to_torch(mine[i].value);
            torch::Tensor to = matching[i].transposed ? matching[i].tensor.t() : matching[i].tensor;
            if (from.sizes() != to.sizes())
                throw std::logic_error("torch_lm_step: " + mine[i].name + " does not match");
            to.copy_(from);
            params.push_back(matching[i].tensor);
            (mine[i].decay ? decayed : plain).push_back(matching[i].tensor);
        }
        const auto options = [](double decay) {
            return std::make_unique<torch::optim::AdamWOptions>(
                torch::optim::AdamWOptions(peers::lm_lr).weight_decay(decay));
        };
        std::vector<torch::optim::OptimizerParamGroup> groups;
        groups.emplace_back(decayed, options(peers::lm_weight_decay));
        groups.emplace_back(plain, options(0));
        opt = std::make_unique<torch::optim::AdamW>(std::move(groups));
    }
    float operator()() {
        for (auto& p : params)
            p.mutable_grad().reset();
        const torch::Tensor logits = net->forward(ids);
        torch::Tensor loss = torch::nn::functional::cross_entropy(
            logits.reshape({-1, lm_vocabulary}), targets.reshape({-1}));
        loss.backward();
        opt->step();
        return loss.item<float>();
    }
    std::int64_t parameter_count() const {
        std::int64_t n = 0;
        for (const auto& p : net->parameters())
            n += p.numel();
        return n;
    }
};

// Both sides' sizes and first losses, for the table's notes: from the same weights and batch,
// losses that agree to a few digits say the two compute the same function.
template <class Ours, class Peer>
std::string lm_note(Ours& ours, Peer& peer, int steps) {
    std::string a, b;
    char buf[32];
    for (int i = 0; i < steps; ++i) {
        std::snprintf(buf, sizeof buf, " %.4f", ours());
        a += buf;
        std::snprintf(buf, sizeof buf, " %.4f", peer());
        b += buf;
    }
    return ours.note() + ", LibTorch " + std::to_string(peer.parameter_count()) +
           "; losses of the first " + std::to_string(steps) +
           " steps from the same weights and batch: ours" + a + ", LibTorch" + b;
}

// y = x * sigmoid(1.702 x) and its backward in eager autograd.
struct torch_swish {
    torch::Tensor x, g;
    explicit torch_swish(std::size_t n) {
        x = (torch::rand({static_cast<std::int64_t>(n)}) * 8 - 4).requires_grad_();
        g = torch::rand({static_cast<std::int64_t>(n)}) * 2 - 1;
    }
    void operator()() {
        x.mutable_grad().reset();
        auto y = x * torch::sigmoid(1.702 * x);
        y.backward(g);
    }
};

struct torch_xor {
    torch_classifier model{tnn::Sequential(tnn::Linear(2, 8), tnn::Tanh(), tnn::Linear(8, 1)),
                           peers::xor_lr, peers::xor_momentum};
    torch::Tensor x = torch::tensor({0.f, 0.f, 0.f, 1.f, 1.f, 0.f, 1.f, 1.f}).reshape({4, 2});
    torch::Tensor y = torch::tensor({0.f, 1.f, 1.f, 0.f}).reshape({4, 1});
    void operator()() {
        for (auto& p : model.params)
            p.mutable_grad().reset();
        auto loss = torch::binary_cross_entropy_with_logits(model.net->forward(x), y);
        loss.backward();
        model.opt->step();
        (void)loss.item<float>();
    }
};

std::vector<int> parse_list(const std::string& s) {
    std::vector<int> out;
    std::stringstream in(s);
    for (std::string item; std::getline(in, item, ',');)
        out.push_back(std::stoi(item));
    return out;
}

struct settings {
    std::vector<int> threads{1, 2};
    std::vector<int> epoch_batches{128};
    std::string only = "mlp,hvp,epoch,lenet,lstm,transformer,swish,xor";
    peers::timing_options timing;
    int epoch_reps = 5;
    bool wants(const std::string& w) const {
        return ("," + only + ",").find("," + w + ",") != std::string::npos;
    }
};

// Ours first, then the peer in each arrangement of its pools for `threads`.
template <class Ours, class Peer>
std::vector<peers::side> sides_for(int threads, Ours& ours, Peer& peer) {
    std::vector<peers::side> s;
    s.push_back(
        {"dendrite", [threads] { dendrite::set_num_threads(threads); }, [&ours] { ours(); }});
    const std::string v = "LibTorch " + std::to_string(TORCH_VERSION_MAJOR) + "." +
                          std::to_string(TORCH_VERSION_MINOR);
    if (threads == 1) {
        s.push_back({v,
                     [] {
                         torch_threads(1);
                         openblas_threads(1);
                     },
                     [&peer] { peer(); }});
    } else {
        const std::string t = std::to_string(threads);
        s.push_back({v + " (intra-op " + t + "t, OpenBLAS 1t)",
                     [threads] {
                         torch_threads(threads);
                         openblas_threads(1);
                     },
                     [&peer] { peer(); }});
        s.push_back({v + " (intra-op 1t, OpenBLAS " + t + "t)",
                     [threads] {
                         torch_threads(1);
                         openblas_threads(threads);
                     },
                     [&peer] { peer(); }, true});
    }
    return s;
}

template <class Ours, class Peer>
void compare(const peers::comparison& c, Ours& ours, Peer& peer, const peers::timing_options& o,
             const std::string& note = "") {
    auto sides = sides_for(c.threads, ours, peer);
    const auto samples = peers::interleave(sides, o);
    peers::report(stdout, c, sides, samples, note);
}

// A language model at batch 32 on each thread count. The note's losses are taken once: every row
// compares the same two models.
template <class Ours, class PeerNet>
void compare_lm(const settings& s, const std::string& label) {
    std::string note;
    for (int t : s.threads) {
        Ours ours(32);
        torch_lm_step<PeerNet> peer(ours);
        if (note.empty()) note = lm_note(ours, peer, 3);
        compare({label, t, "batch 32", 0, "LibTorch"}, ours, peer, s.timing, note);
    }
}

}  // namespace

int main(int argc, char** argv) {
    settings s;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i], value = argv[i + 1];
        if (flag == "--threads")
            s.threads = parse_list(value);
        else if (flag == "--epoch-batches")
            s.epoch_batches = parse_list(value);
        else if (flag == "--reps")
            s.timing.repetitions = std::stoi(value);
        else if (flag == "--epoch-reps")
            s.epoch_reps = std::stoi(value);
        else if (flag == "--min-time")
            s.timing.min_time = std::stod(value);
        else if (flag == "--only")
            s.only = value;
        else {
            std::fprintf(stderr, "unknown option %s\n", flag.c_str());
            return 2;
        }
    }
    torch::manual_seed(1);
    std::printf("{\"info\":\"torch_peers\",\"openblas_core\":%s,\"libtorch\":%s,\"simd\":%s}\n",
                peers::json_string(openblas_core()).c_str(),
                peers::json_string(TORCH_VERSION).c_str(),
                peers::json_string(dendrite::simd::arch_name()).c_str());
    std::fflush(stdout);

    if (s.wants("mlp"))
        for (int t : s.threads)
            for (std::size_t batch : {32, 128, 512}) {
                peers::mlp_step ours(batch);
                torch_fixed_step peer(torch_mlp(), ours.data);
                compare({"MLP 784-256-128-10 step", t, "batch " + std::to_string(batch),
                         double(batch), "LibTorch"},
                        ours, peer, s.timing);
            }
    if (s.wants("hvp"))
        for (int t : s.threads) {
            peers::mlp_hvp ours(128);
            torch_hvp peer(ours.data);
            compare({"MLP Hessian-vector product", t, "batch 128", 128, "LibTorch"}, ours, peer,
                    s.timing);
        }
    if (s.wants("epoch")) {
        const peers::training_set train = peers::fashion_mnist_or_random();
        peers::timing_options o = s.timing;
        o.repetitions = s.epoch_reps;
        o.min_time = 0;  // one epoch per block
        o.warmup = 0;
        for (int t : s.threads)
            for (int batch : s.epoch_batches) {
                peers::mlp_epoch ours(train.data, static_cast<std::size_t>(batch));
                torch_epoch peer(train.data, static_cast<std::size_t>(batch));
                compare({"MLP epoch", t, "batch " + std::to_string(batch),
                         double(train.data.y.size()), "LibTorch"},
                        ours, peer, o, train.description);
            }
    }
#if DENDRITE_PEERS_LENET
    if (s.wants("lenet"))
        for (int t : s.threads) {
            peers::lenet_step ours(128);
            torch_fixed_step peer(torch_lenet(), ours.data);
            compare({"LeNet-5 step", t, "batch 128", 128, "LibTorch"}, ours, peer, s.timing);
        }
#endif
    if (s.wants("lstm"))
        compare_lm<peers::lstm_step, torch_lstm_lm>(
            s, "LSTM LM step (emb 64, hidden 256, batch 32, seq 64)");
    if (s.wants("transformer"))
        compare_lm<peers::transformer_step, torch_transformer_lm>(
            s, "Transformer block LM step (d 128, 4 heads, FF 512, batch 32, ctx 64)");
    if (s.wants("swish"))
        for (std::size_t n : {std::size_t{1} << 20, std::size_t{1} << 24})
            for (int t : s.threads) {
                peers::swish_tape ours(n);
                torch_swish peer(n);
                compare({"activation fwd+bwd", t, n == (1u << 20) ? "1M floats" : "16M floats", 0,
                         "LibTorch"},
                        ours, peer, s.timing);
            }
    if (s.wants("xor")) {
        peers::xor_step ours;
        torch_xor peer;
        compare({"XOR 2-8-1 step", 1, "batch 4", 0, "LibTorch"}, ours, peer, s.timing);
    }
    return 0;
}
