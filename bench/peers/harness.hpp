#pragma once
// Interleaved timing for the peer comparisons: every side of a comparison runs one block, in
// turn (A B A B ...), so both see the same machine load on a shared, noisy machine; medians of
// the blocks are reported, one JSON line per comparison.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace peers {

using clock = std::chrono::steady_clock;

/// One contender of a comparison.
struct side {
    std::string name;
    /// Thread settings of this side, applied before each of its blocks (the pools of the two
    /// sides are separate, and only one may be active at a time).
    std::function<void()> enter;
    /// One iteration of the workload.
    std::function<void()> step;
    /// Whether the side leaves worker threads busy-waiting when it stops (OpenBLAS's pool spins
    /// for ~0.1 s after a call): the next side then waits for them to park first.
    bool leaves_spinning_threads = false;
};

struct timing_options {
    int repetitions = 7;
    double min_time = 0.2;  ///< seconds per block
    int warmup = 2;         ///< untimed iterations at the start of every block
    double settle = 0.15;   ///< seconds to wait after a side that leaves spinning threads
};

/// Seconds per iteration of one block: warm-up iterations, then batches of 1, 2, 4, ...
/// iterations until `min_time` has passed (the clock is read once per batch, not per
/// iteration, which matters for microsecond steps).
inline double time_block(const std::function<void()>& step, double min_time, int warmup) {
    for (int i = 0; i < warmup; ++i)
        step();
    std::size_t iterations = 0, chunk = 1;
    const auto start = clock::now();
    double elapsed = 0;
    while (true) {
        for (std::size_t i = 0; i < chunk; ++i)
            step();
        iterations += chunk;
        elapsed = std::chrono::duration<double>(clock::now() - start).count();
        if (elapsed >= min_time) break;
        // Aim the next batch at the remaining time, growing at most 2x.
        const double per = elapsed / static_cast<double>(iterations);
        const double want = (min_time - elapsed) / per;
        chunk = std::max<std::size_t>(
            1, std::min<std::size_t>(chunk * 2, static_cast<std::size_t>(want) + 1));
    }
    return elapsed / static_cast<double>(iterations);
}

inline double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// Runs the sides round-robin, `repetitions` blocks each; returns each side's seconds per
/// iteration, block by block.
inline std::vector<std::vector<double>> interleave(std::vector<side>& sides,
                                                   const timing_options& o) {
    std::vector<std::vector<double>> samples(sides.size());
    bool spinning = false;
    auto settle = [&] {
        if (spinning) std::this_thread::sleep_for(std::chrono::duration<double>(o.settle));
    };
    // First touch of every side outside the timed blocks: allocations, lazy initialisation.
    for (auto& s : sides) {
        settle();
        s.enter();
        s.step();
        spinning = s.leaves_spinning_threads;
    }
    for (int r = 0; r < o.repetitions; ++r)
        for (std::size_t i = 0; i < sides.size(); ++i) {
            settle();
            sides[i].enter();
            samples[i].push_back(time_block(sides[i].step, o.min_time, o.warmup));
            spinning = sides[i].leaves_spinning_threads;
        }
    settle();
    return samples;
}

inline std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

inline std::string json_array(const std::vector<double>& v) {
    std::string out = "[";
    char buf[32];
    for (std::size_t i = 0; i < v.size(); ++i) {
        std::snprintf(buf, sizeof buf, "%s%.6g", i ? "," : "", v[i]);
        out += buf;
    }
    return out + "]";
}

/// What one comparison reports. `work` is the number of samples per iteration when the unit is
/// samples/s, 0 when the comparison is in time per iteration.
struct comparison {
    std::string workload;
    int threads = 1;
    std::string size;
    double work = 0;
    std::string peer_family;  ///< "LibTorch", "PyTorch", "hand-written C++", ...
};

/// Prints one JSON line: sides[0] is ours; the peer is the fastest of the other sides (a peer
/// with several thread arrangements is measured in each and reported at its best), the others'
/// medians are kept in "peer_configs".
inline void report(std::FILE* out, const comparison& c, const std::vector<side>& sides,
                   const std::vector<std::vector<double>>& samples, const std::string& note = "") {
    std::size_t best = 1;
    for (std::size_t i = 2; i < sides.size(); ++i)
        if (median(samples[i]) < median(samples[best])) best = i;
    std::string configs = "{";
    for (std::size_t i = 1; i < sides.size(); ++i) {
        char buf[64];
        std::snprintf(buf, sizeof buf, ":%.6g", median(samples[i]));
        configs += (i > 1 ? "," : "") + json_string(sides[i].name) + buf;
    }
    configs += "}";
    std::fprintf(out,
                 "{\"workload\":%s,\"threads\":%d,\"size\":%s,\"work\":%g,\"ours\":%s,"
                 "\"ours_s\":%.6g,\"peer_family\":%s,\"peer\":%s,\"peer_s\":%.6g,"
                 "\"ours_samples\":%s,\"peer_samples\":%s,\"peer_configs\":%s,\"note\":%s}\n",
                 json_string(c.workload).c_str(), c.threads, json_string(c.size).c_str(), c.work,
                 json_string(sides[0].name).c_str(), median(samples[0]),
                 json_string(c.peer_family).c_str(), json_string(sides[best].name).c_str(),
                 median(samples[best]), json_array(samples[0]).c_str(),
                 json_array(samples[best]).c_str(), configs.c_str(), json_string(note).c_str());
    std::fflush(out);
}

}  // namespace peers
