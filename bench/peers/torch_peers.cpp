// Ours against LibTorch in one process, block by block (A B A B ...): the MLP training step,
// a full epoch, the LeNet step, the fused activation (LibTorch eager autograd) and XOR.
// One JSON line per comparison (bench/peers/report.py turns them into the table).
//
//   torch_peers [--threads 1,2] [--reps 7] [--min-time 0.2] [--epoch-batches 128]
//               [--epoch-reps 5] [--only mlp,hvp,epoch,lenet,swish,xor]
//
// The peer at its best: OpenBLAS's SkylakeX kernel (OPENBLAS_CORETYPE, set by bench/run-peers),
// gradients dropped rather than zeroed, and on several threads both arrangements of its two
// pools (intra-op threads with a one-thread BLAS, or one intra-op thread with a threaded BLAS),
// the faster one reported. Only one pool is ever active: this process holds ours, torch's
// (OpenMP) and OpenBLAS's (pthreads).

#include <dlfcn.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
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
    std::string only = "mlp,hvp,epoch,lenet,swish,xor";
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
