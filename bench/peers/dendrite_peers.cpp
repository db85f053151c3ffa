// Our side of the peer comparisons without LibTorch.
//
//   dendrite_peers hand [--threads 1,2] [--reps 7] [--min-time 0.2]
//       ours against the hand-written baselines in this process, interleaved: the fused
//       activation against one xsimd loop, the XOR step against plain loops. JSON lines.
//   dendrite_peers serve
//       times blocks on request, for a driver in another process (bench/peers/pytorch_peers.py)
//       that alternates them with its own. Reads lines "WORKLOAD SIZE THREADS MIN_TIME WARMUP",
//       answers each with one JSON line {"s": seconds per iteration, ...}; "prepare WORKLOAD
//       SIZE" builds a workload (and loads its data) ahead of the timing.
//
//   dendrite_peers run WORKLOAD SIZE THREADS ITERATIONS
//       runs one workload without timing, for a profiler (perf record, valgrind --tool=callgrind).
//
// Workloads: mlp_step BATCH, mlp_hvp BATCH, mlp_epoch BATCH, lenet_step BATCH, lstm_step BATCH,
// transformer_step BATCH, swish N, swish_hand N, xor 4, xor_hand 4.

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "dendrite_workloads.hpp"
#include "harness.hpp"

namespace {

std::vector<int> parse_list(const std::string& s) {
    std::vector<int> out;
    std::stringstream in(s);
    for (std::string item; std::getline(in, item, ',');)
        out.push_back(std::stoi(item));
    return out;
}

struct workload {
    std::function<void()> step;
    std::string note;
};

// The workloads live here for the whole run: built once, data loaded once.
class workloads {
  public:
    workload& get(const std::string& name, std::size_t size) {
        const std::string key = name + " " + std::to_string(size);
        if (auto it = built_.find(key); it != built_.end()) return it->second;
        return built_.emplace(key, build(name, size)).first->second;
    }

  private:
    template <class W>
    static workload hold(std::shared_ptr<W> w, std::string note = "") {
        return {[w] { (*w)(); }, std::move(note)};
    }

    // A language model's note gives its parameter count, for the driver to set beside its own.
    template <class W>
    static workload lm(std::size_t batch) {
        auto w = std::make_shared<W>(batch);
        return hold(w, w->note());
    }

    workload build(const std::string& name, std::size_t size) {
        if (name == "mlp_step") return hold(std::make_shared<peers::mlp_step>(size));
        if (name == "mlp_hvp") return hold(std::make_shared<peers::mlp_hvp>(size));
        if (name == "mlp_epoch") {
            if (!train_)
                train_ = std::make_unique<peers::training_set>(peers::fashion_mnist_or_random());
            return hold(std::make_shared<peers::mlp_epoch>(train_->data, size),
                        train_->description);
        }
#if DENDRITE_PEERS_LENET
        if (name == "lenet_step") return hold(std::make_shared<peers::lenet_step>(size));
#endif
        if (name == "lstm_step") return lm<peers::lstm_step>(size);
        if (name == "transformer_step") return lm<peers::transformer_step>(size);
        if (name == "swish") return hold(std::make_shared<peers::swish_tape>(size));
        if (name == "swish_hand") return hold(std::make_shared<peers::swish_hand_loop>(size));
        if (name == "xor") return hold(std::make_shared<peers::xor_step>());
        if (name == "xor_hand") return hold(std::make_shared<peers::xor_hand_written>());
        throw std::invalid_argument("unknown workload " + name);
    }

    std::map<std::string, workload> built_;
    std::unique_ptr<peers::training_set> train_;
};

int serve() {
    workloads w;
    for (std::string line; std::getline(std::cin, line);) {
        std::istringstream in(line);
        std::string name;
        std::size_t size = 0;
        in >> name;
        if (name.empty()) continue;
        try {
            if (name == "prepare") {
                in >> name >> size;
                const workload& wl = w.get(name, size);
                std::printf("{\"ok\":true,\"note\":%s,\"simd\":%s}\n",
                            peers::json_string(wl.note).c_str(),
                            peers::json_string(dendrite::simd::arch_name()).c_str());
            } else {
                int threads = 1, warmup = 0;
                double min_time = 0;
                in >> size >> threads >> min_time >> warmup;
                workload& wl = w.get(name, size);
                dendrite::set_num_threads(threads);
                const double s = peers::time_block(wl.step, min_time, warmup);
                std::printf("{\"s\":%.6g}\n", s);
            }
        } catch (const std::exception& e) {
            std::printf("{\"error\":%s}\n", peers::json_string(e.what()).c_str());
        }
        std::fflush(stdout);
    }
    return 0;
}

int hand(const std::vector<int>& thread_counts, const peers::timing_options& o) {
    workloads w;
    auto compare = [&](const std::string& ours, const std::string& base, std::size_t size,
                       int threads, const std::string& label, const std::string& size_text) {
        std::vector<peers::side> sides{
            {"dendrite", [threads] { dendrite::set_num_threads(threads); }, w.get(ours, size).step},
            {"hand-written", [threads] { dendrite::set_num_threads(threads); },
             w.get(base, size).step}};
        const auto samples = peers::interleave(sides, o);
        peers::report(stdout, {label, threads, size_text, 0, "hand-written"}, sides, samples);
    };
    for (std::size_t n : {std::size_t{1} << 20, std::size_t{1} << 24})
        for (int t : thread_counts)
            compare("swish", "swish_hand", n, t, "activation fwd+bwd",
                    n == (1u << 20) ? "1M floats" : "16M floats");
    compare("xor", "xor_hand", 4, 1, "XOR 2-8-1 step", "batch 4");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    std::vector<int> threads{1, 2};
    peers::timing_options o;
    for (int i = 2; mode == "hand" && i + 1 < argc; i += 2) {
        const std::string flag = argv[i], value = argv[i + 1];
        if (flag == "--threads")
            threads = parse_list(value);
        else if (flag == "--reps")
            o.repetitions = std::stoi(value);
        else if (flag == "--min-time")
            o.min_time = std::stod(value);
        else {
            std::fprintf(stderr, "unknown option %s\n", flag.c_str());
            return 2;
        }
    }
    if (mode == "serve") return serve();
    if (mode == "run" && argc == 6) {
        workloads w;
        workload& wl = w.get(argv[2], static_cast<std::size_t>(std::stoul(argv[3])));
        dendrite::set_num_threads(std::stoi(argv[4]));
        for (long i = 0, n = std::stol(argv[5]); i < n; ++i)
            wl.step();
        return 0;
    }
    if (mode == "hand") return hand(threads, o);
    std::fprintf(stderr,
                 "usage: %s hand [--threads 1,2] [--reps N] [--min-time S] | serve | run WORKLOAD "
                 "SIZE THREADS "
                 "ITERATIONS\n",
                 argv[0]);
    return 2;
}
