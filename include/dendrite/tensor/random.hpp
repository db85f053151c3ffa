#pragma once
// Seeded random tensors: the same seed gives the same values on every platform, because the
// distributions are written here rather than taken from <random>'s unspecified algorithms.

#include <cmath>
#include <cstdint>

#include "dendrite/config.hpp"
#include "dendrite/tensor/tensor.hpp"

namespace dendrite::inline DENDRITE_TARGET {

/// SplitMix64-seeded xoshiro256** generator: fast, 2^256 period, reproducible everywhere.
class rng {
  public:
    explicit rng(std::uint64_t seed = 0x9E3779B97F4A7C15ull) noexcept { reseed(seed); }

    void reseed(std::uint64_t seed) noexcept {
        for (auto& w : s_) {
            seed += 0x9E3779B97F4A7C15ull;
            std::uint64_t z = seed;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
            w = z ^ (z >> 31);
        }
    }

    std::uint64_t next() noexcept {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    /// Uniform in [0, 1) with 53 random bits.
    double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    /// Uniform in [lo, hi). One fused multiply-add, written out: left to the compiler, the
    /// expression is contracted at -O2 and not at -O1, and a seed would give other weights in a
    /// program built otherwise than the library.
    double uniform(double lo, double hi) noexcept { return std::fma(hi - lo, uniform(), lo); }
    /// Uniform integer in [0, n).
    std::uint64_t below(std::uint64_t n) noexcept {
        // Lemire's multiply-shift; the bias is below 2^-64 * n, far under anything measurable here.
        return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
    }
    /// Standard normal by Box-Muller (the spare value is kept for the next call).
    double normal() noexcept {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        double u = 0;
        while (u <= 0)
            u = uniform();
        const double v = uniform();
        const double r = std::sqrt(-2.0 * std::log(u));
        spare_ = r * std::sin(2.0 * 3.14159265358979323846 * v);
        has_spare_ = true;
        return r * std::cos(2.0 * 3.14159265358979323846 * v);
    }
    double normal(double mean, double stddev) noexcept { return std::fma(stddev, normal(), mean); }

    /// State for checkpoints: the generator continues bit-identically after restore.
    struct state_type {
        std::uint64_t s[4];
        double spare;
        bool has_spare;
    };
    state_type state() const noexcept { return {{s_[0], s_[1], s_[2], s_[3]}, spare_, has_spare_}; }
    void restore(const state_type& st) noexcept {
        for (int i = 0; i < 4; ++i)
            s_[i] = st.s[i];
        spare_ = st.spare;
        has_spare_ = st.has_spare;
    }

  private:
    static std::uint64_t rotl(std::uint64_t x, int k) noexcept {
        return (x << k) | (x >> (64 - k));
    }
    std::uint64_t s_[4];
    double spare_ = 0;
    bool has_spare_ = false;
};

/// Tensor of uniform values in [lo, hi).
template <class T>
tensor<T> uniform(const shape& s, T lo, T hi, rng& g) {
    tensor<T> t = tensor<T>::uninitialized(s);
    for (T& x : t.span())
        x = static_cast<T>(g.uniform(lo, hi));
    return t;
}

/// Tensor of normal values with the given mean and standard deviation.
template <class T>
tensor<T> normal(const shape& s, T mean, T stddev, rng& g) {
    tensor<T> t = tensor<T>::uninitialized(s);
    for (T& x : t.span())
        x = static_cast<T>(g.normal(mean, stddev));
    return t;
}

}  // namespace dendrite::inline DENDRITE_TARGET
