#pragma once
// Parameter initialisers. All are seeded through dendrite::rng, so the same seed gives the same
// network on every machine.

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "dendrite/config.hpp"
#include "dendrite/tensor/random.hpp"
#include "dendrite/tensor/tensor.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn::init {

/// fan_in and fan_out of a weight: [in, out] for dense layers, [out, in/groups, kh, kw] for
/// convolutions (the receptive field multiplies both).
inline std::pair<double, double> fans(const shape& s, bool dense_layout = true) {
    if (s.rank() < 2) return {static_cast<double>(s.size()), static_cast<double>(s.size())};
    if (dense_layout && s.rank() == 2)
        return {static_cast<double>(s[0]), static_cast<double>(s[1])};
    double receptive = 1;
    for (std::size_t a = 2; a < s.rank(); ++a)
        receptive *= static_cast<double>(s[a]);
    return {static_cast<double>(s[1]) * receptive, static_cast<double>(s[0]) * receptive};
}

template <class T>
void fill_uniform(tensor<T>& t, double bound, rng& g) {
    for (T& x : t.span())
        x = static_cast<T>(g.uniform(-bound, bound));
}
template <class T>
void fill_normal(tensor<T>& t, double stddev, rng& g) {
    for (T& x : t.span())
        x = static_cast<T>(g.normal(0.0, stddev));
}

/// Glorot & Bengio 2010: U(-a, a), a = sqrt(6 / (fan_in + fan_out)).
template <class T>
void glorot_uniform(tensor<T>& w, rng& g) {
    const auto [in, out] = fans(w.shape());
    fill_uniform(w, std::sqrt(6.0 / (in + out)), g);
}
/// Glorot normal: N(0, 2 / (fan_in + fan_out)).
template <class T>
void glorot_normal(tensor<T>& w, rng& g) {
    const auto [in, out] = fans(w.shape());
    fill_normal(w, std::sqrt(2.0 / (in + out)), g);
}
/// He et al. 2015 for ReLU layers: U(-a, a), a = sqrt(6 / fan_in).
template <class T>
void he_uniform(tensor<T>& w, rng& g) {
    fill_uniform(w, std::sqrt(6.0 / fans(w.shape()).first), g);
}
/// He normal: N(0, 2 / fan_in).
template <class T>
void he_normal(tensor<T>& w, rng& g) {
    fill_normal(w, std::sqrt(2.0 / fans(w.shape()).first), g);
}
/// LeCun uniform (for SELU networks): U(-a, a), a = sqrt(3 / fan_in).
template <class T>
void lecun_uniform(tensor<T>& w, rng& g) {
    fill_uniform(w, std::sqrt(3.0 / fans(w.shape()).first), g);
}
/// LeCun normal: N(0, 1 / fan_in).
template <class T>
void lecun_normal(tensor<T>& w, rng& g) {
    fill_normal(w, std::sqrt(1.0 / fans(w.shape()).first), g);
}
template <class T>
void zeros(tensor<T>& w) {
    w.fill(T(0));
}
template <class T>
void ones(tensor<T>& w) {
    w.fill(T(1));
}
template <class T>
void constant(tensor<T>& w, T value) {
    w.fill(value);
}

/// Saxe et al. 2014: a (semi-)orthogonal matrix scaled by `gain`, from the QR decomposition of a
/// Gaussian matrix (modified Gram-Schmidt, signs fixed so the distribution is uniform).
/// The weight is viewed as [rows, cols] with rows = first axis.
template <class T>
void orthogonal(tensor<T>& w, rng& g, double gain = 1.0) {
    if (w.rank() < 2)
        throw shape_error("init::orthogonal: needs rank >= 2, got " + w.shape().str());
    const std::size_t rows = w.dim(0), cols = w.size() / rows;
    const bool transpose = rows < cols;  // orthonormalise the longer side's columns
    const std::size_t n = transpose ? cols : rows, m = transpose ? rows : cols;
    std::vector<double> q(n * m);  // m orthonormal columns of length n, column-major
    for (double& v : q)
        v = g.normal();
    for (std::size_t j = 0; j < m; ++j) {
        double* cj = q.data() + j * n;
        for (std::size_t k = 0; k < j; ++k) {
            const double* ck = q.data() + k * n;
            double dot = 0;
            for (std::size_t i = 0; i < n; ++i)
                dot += cj[i] * ck[i];
            for (std::size_t i = 0; i < n; ++i)
                cj[i] -= dot * ck[i];
        }
        double norm = 0;
        for (std::size_t i = 0; i < n; ++i)
            norm += cj[i] * cj[i];
        norm = std::sqrt(norm);
        for (std::size_t i = 0; i < n; ++i)
            cj[i] /= norm;
    }
    T* p = w.span().data();
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c)
            p[r * cols + c] = static_cast<T>(gain * (transpose ? q[r * n + c] : q[c * n + r]));
}

/// The initialiser of a layer's weights, chosen by name ("glorot_uniform", "he_normal", ...).
enum class scheme {
    glorot_uniform,
    glorot_normal,
    he_uniform,
    he_normal,
    lecun_uniform,
    lecun_normal,
    orthogonal,
    zeros
};

template <class T>
void apply(scheme s, tensor<T>& w, rng& g) {
    switch (s) {
        case scheme::glorot_uniform:
            return glorot_uniform(w, g);
        case scheme::glorot_normal:
            return glorot_normal(w, g);
        case scheme::he_uniform:
            return he_uniform(w, g);
        case scheme::he_normal:
            return he_normal(w, g);
        case scheme::lecun_uniform:
            return lecun_uniform(w, g);
        case scheme::lecun_normal:
            return lecun_normal(w, g);
        case scheme::orthogonal:
            return orthogonal(w, g);
        case scheme::zeros:
            return zeros(w);
    }
}

}  // namespace dendrite::inline DENDRITE_TARGET::nn::init
