#pragma once
// Shared by the optimizer tests: parameter lists of awkward sizes, seeded gradients, scalar
// reference implementations of the published update rules, and element-wise comparison.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "dendrite/nn/parameter.hpp"
#include "dendrite/simd/parallel.hpp"
#include "dendrite/tensor/random.hpp"
#include "dendrite/tensor/tensor.hpp"

namespace optim_test {

using dendrite::nn::parameter;
using dendrite::nn::parameter_list;

/// Sizes that are not multiples of the SIMD width (16 floats, 8 doubles), and one above the
/// threading threshold, so every update runs its vector body, its scalar tail and its threaded
/// path.
inline constexpr std::size_t awkward_sizes[] = {1,  7,   17,
                                                33, 257, dendrite::simd::parallel_threshold + 3};

/// One parameter per awkward size, values uniform in [-1, 1); every other one has decay = false.
template <class T>
parameter_list<T> make_params(std::uint64_t seed = 1) {
    dendrite::rng g(seed);
    parameter_list<T> ps;
    std::size_t k = 0;
    for (std::size_t n : awkward_sizes) {
        // A 2-d shape where the size allows, since layers hand over matrices.
        const dendrite::shape s = n == 33 ? dendrite::shape{3, 11} : dendrite::shape{n};
        std::string name = "p";
        name += std::to_string(k);
        ps.emplace_back(s, name, k % 2 == 0);
        for (T& x : ps.back().value.span())
            x = static_cast<T>(g.uniform(-1, 1));
        ++k;
    }
    return ps;
}

/// Fills every gradient with values uniform in [-1, 1), from a seed (so two runs can replay them).
template <class T>
void fill_grads(parameter_list<T>& ps, std::uint64_t seed) {
    dendrite::rng g(seed * 7919 + 13);
    for (auto& p : ps)
        for (T& x : p.grad.span())
            x = static_cast<T>(g.uniform(-1, 1));
}

/// Deep copies of all parameter values.
template <class T>
std::vector<std::vector<T>> values_of(const parameter_list<T>& ps) {
    std::vector<std::vector<T>> v;
    for (const auto& p : ps)
        v.emplace_back(p.value.data(), p.value.data() + p.size());
    return v;
}

/// Counts elements of `got` farther from `want` than tol * max(1, |want|); reports the first.
template <class T>
std::size_t count_far(const T* got, const T* want, std::size_t n, double tol,
                      const std::string& what) {
    std::size_t bad = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double g = got[i], w = want[i];
        if (!(std::abs(g - w) <= tol * std::max(1.0, std::abs(w)))) {
            if (bad == 0) UNSCOPED_INFO(what << "[" << i << "]: got " << g << ", want " << w);
            ++bad;
        }
    }
    return bad;
}

/// True when both lists hold the same bits.
template <class T>
bool bitwise_equal(const parameter_list<T>& a, const parameter_list<T>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].size() != b[i].size() ||
            std::memcmp(a[i].value.data(), b[i].value.data(), a[i].size() * sizeof(T)) != 0)
            return false;
    return true;
}

/// Deep copy of a parameter list (values and gradients).
template <class T>
parameter_list<T> clone_params(const parameter_list<T>& ps) {
    parameter_list<T> out;
    for (const auto& p : ps) {
        parameter<T> q = p;
        q.value = p.value.clone();
        q.grad = p.grad.clone();
        out.push_back(q);
    }
    return out;
}

// ---- scalar references, written from the published rules -------------------------------------
// Each holds its own weights and state as std::vectors and steps them one element at a time.

/// PyTorch torch.optim.SGD (docs pseudo-code).
template <class T>
struct sgd_reference {
    double lr, momentum, dampening, weight_decay;
    bool nesterov;
    std::vector<std::vector<T>> b;

    sgd_reference(double lr_, double momentum_, double dampening_, double weight_decay_,
                  bool nesterov_)
        : lr(lr_),
          momentum(momentum_),
          dampening(dampening_),
          weight_decay(weight_decay_),
          nesterov(nesterov_) {}
    int t = 0;

    void step(std::vector<std::vector<T>>& w, const parameter_list<T>& ps) {
        ++t;
        b.resize(ps.size());
        for (std::size_t k = 0; k < ps.size(); ++k) {
            b[k].resize(ps[k].size());
            for (std::size_t i = 0; i < ps[k].size(); ++i) {
                T g = ps[k].grad.data()[i];
                if (ps[k].decay && weight_decay != 0) g = g + T(weight_decay) * w[k][i];
                if (momentum != 0) {
                    if (t == 1)
                        b[k][i] = g;
                    else
                        b[k][i] = T(momentum) * b[k][i] + T(1 - dampening) * g;
                    g = nesterov ? g + T(momentum) * b[k][i] : b[k][i];
                }
                w[k][i] = w[k][i] - T(lr) * g;
            }
        }
    }
};

/// Adam (Kingma & Ba 2015, Algorithm 1) with L2 decay in the gradient, or AdamW (Loshchilov &
/// Hutter 2019, Algorithm 2, with the schedule multiplier eta_t = lr, as PyTorch); AMSGrad
/// (Reddi et al. 2018) keeps the maximum of v.
template <class T>
struct adam_reference {
    double lr, beta1, beta2, eps, weight_decay;
    bool decoupled, amsgrad;
    std::vector<std::vector<T>> m, v, v_max;

    adam_reference(double lr_, double beta1_, double beta2_, double eps_, double weight_decay_,
                   bool decoupled_, bool amsgrad_)
        : lr(lr_),
          beta1(beta1_),
          beta2(beta2_),
          eps(eps_),
          weight_decay(weight_decay_),
          decoupled(decoupled_),
          amsgrad(amsgrad_) {}
    int t = 0;

    void step(std::vector<std::vector<T>>& w, const parameter_list<T>& ps) {
        ++t;
        m.resize(ps.size()), v.resize(ps.size()), v_max.resize(ps.size());
        for (std::size_t k = 0; k < ps.size(); ++k) {
            m[k].resize(ps[k].size()), v[k].resize(ps[k].size()), v_max[k].resize(ps[k].size());
            for (std::size_t i = 0; i < ps[k].size(); ++i) {
                T g = ps[k].grad.data()[i];
                const bool decay = ps[k].decay && weight_decay != 0;
                if (decay && !decoupled) g = g + T(weight_decay) * w[k][i];
                if (decay && decoupled) w[k][i] = w[k][i] - T(lr * weight_decay) * w[k][i];
                m[k][i] = T(beta1) * m[k][i] + T(1 - beta1) * g;
                v[k][i] = T(beta2) * v[k][i] + T(1 - beta2) * g * g;
                v_max[k][i] = std::max(v_max[k][i], v[k][i]);
                const T m_hat = m[k][i] / T(1 - std::pow(beta1, t));
                const T v_hat = (amsgrad ? v_max[k][i] : v[k][i]) / T(1 - std::pow(beta2, t));
                w[k][i] = w[k][i] - T(lr) * m_hat / (std::sqrt(v_hat) + T(eps));
            }
        }
    }
};

/// RMSprop (Hinton's lecture 6e; centered as Graves 2013), PyTorch docs pseudo-code.
template <class T>
struct rmsprop_reference {
    double lr, alpha, eps, momentum, weight_decay;
    bool centered;
    std::vector<std::vector<T>> v, a, b;

    rmsprop_reference(double lr_, double alpha_, double eps_, double momentum_,
                      double weight_decay_, bool centered_)
        : lr(lr_),
          alpha(alpha_),
          eps(eps_),
          momentum(momentum_),
          weight_decay(weight_decay_),
          centered(centered_) {}

    void step(std::vector<std::vector<T>>& w, const parameter_list<T>& ps) {
        v.resize(ps.size()), a.resize(ps.size()), b.resize(ps.size());
        for (std::size_t k = 0; k < ps.size(); ++k) {
            v[k].resize(ps[k].size()), a[k].resize(ps[k].size()), b[k].resize(ps[k].size());
            for (std::size_t i = 0; i < ps[k].size(); ++i) {
                T g = ps[k].grad.data()[i];
                if (ps[k].decay && weight_decay != 0) g = g + T(weight_decay) * w[k][i];
                v[k][i] = T(alpha) * v[k][i] + T(1 - alpha) * g * g;
                T v_tilde = v[k][i];
                if (centered) {
                    a[k][i] = T(alpha) * a[k][i] + T(1 - alpha) * g;
                    v_tilde = v_tilde - a[k][i] * a[k][i];
                }
                if (momentum > 0) {
                    b[k][i] = T(momentum) * b[k][i] + g / (std::sqrt(v_tilde) + T(eps));
                    w[k][i] = w[k][i] - T(lr) * b[k][i];
                } else {
                    w[k][i] = w[k][i] - T(lr) * g / (std::sqrt(v_tilde) + T(eps));
                }
            }
        }
    }
};

/// Adagrad (Duchi, Hazan & Singer 2011), PyTorch docs pseudo-code with lr decay.
template <class T>
struct adagrad_reference {
    double lr, lr_decay, weight_decay, initial_accumulator_value, eps;
    std::vector<std::vector<T>> s;

    adagrad_reference(double lr_, double lr_decay_, double weight_decay_, double initial_,
                      double eps_)
        : lr(lr_),
          lr_decay(lr_decay_),
          weight_decay(weight_decay_),
          initial_accumulator_value(initial_),
          eps(eps_) {}
    int t = 0;

    void step(std::vector<std::vector<T>>& w, const parameter_list<T>& ps) {
        ++t;
        const T clr = T(lr / (1 + (t - 1) * lr_decay));
        if (s.empty())
            for (const auto& p : ps)
                s.emplace_back(p.size(), T(initial_accumulator_value));
        for (std::size_t k = 0; k < ps.size(); ++k)
            for (std::size_t i = 0; i < ps[k].size(); ++i) {
                T g = ps[k].grad.data()[i];
                if (ps[k].decay && weight_decay != 0) g = g + T(weight_decay) * w[k][i];
                s[k][i] = s[k][i] + g * g;
                w[k][i] = w[k][i] - clr * g / (std::sqrt(s[k][i]) + T(eps));
            }
    }
};

}  // namespace optim_test
