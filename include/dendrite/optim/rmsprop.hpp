#pragma once
// RMSprop (Hinton, Lecture 6e, 2012; centered variant from Graves, 2013), as in PyTorch.

#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "dendrite/config.hpp"
#include "dendrite/expr/statements.hpp"
#include "dendrite/optim/detail/dispatch.hpp"
#include "dendrite/optim/detail/state.hpp"
#include "dendrite/optim/optimizer.hpp"
#include "dendrite/tensor/parameter.hpp"

namespace dendrite::inline DENDRITE_TARGET::optim {

/// Hyper-parameters of `rmsprop`.
struct rmsprop_options {
    double lr = 1e-2;         ///< learning rate (>= 0)
    double alpha = 0.99;      ///< decay of the squared-gradient average, in [0, 1)
    double eps = 1e-8;        ///< added to the root mean square (> 0)
    double momentum = 0;      ///< momentum on the normalised step, in [0, 1); 0 keeps no buffer
    bool centered = false;    ///< normalise by the variance estimate v - a^2 instead of v
    double weight_decay = 0;  ///< L2 penalty lambda, added to the gradient where p.decay
};

/// RMSprop as in PyTorch's torch.optim.RMSprop. For each parameter w with gradient g:
///
///   g = g + lambda w                                    (where p.decay)
///   v = alpha v + (1 - alpha) g^2
///   a = alpha a + (1 - alpha) g,  s = sqrt(v - a^2) + eps      (centered)
///                                 s = sqrt(v) + eps            (otherwise)
///   b = mu b + g / s,  w = w - lr b                     (momentum mu > 0)
///   w = w - lr g / s                                    (otherwise)
///
/// State per parameter: v ("rmsprop.square_avg.<name>"), a when centered ("rmsprop.grad_avg."),
/// b with momentum ("rmsprop.momentum."). Cost per element: one fused pass (expr::run) over w, g
/// and the 1 to 3 buffers, with one square root and one division; no allocation after the first
/// step.
template <class T>
class rmsprop {
  public:
    using value_type = T;

    explicit rmsprop(const rmsprop_options& options = {});

    /// Applies one update to every parameter from its gradient.
    void step(nn::parameter_list<T>& params);

    /// The rate the next step uses.
    double learning_rate() const noexcept { return options_.lr; }
    /// Sets the rate the next steps use (what a schedule calls between epochs or steps).
    void set_learning_rate(double lr);
    /// Steps taken since construction or the last load_state.
    std::size_t steps() const noexcept { return steps_; }
    /// The hyper-parameters, with the current learning rate.
    const rmsprop_options& options() const noexcept { return options_; }

    /// A deep copy of the buffers per parameter and the step count ("rmsprop.step").
    state_list<T> state() const;
    /// Restores a snapshot from `state()` for the same parameters (matched by name).
    void load_state(const nn::parameter_list<T>& params, const state_list<T>& s);

  private:
    /// The step's scalars.
    struct coefficients {
        T lr, alpha, c, eps, mu, wd;
    };

    /// One parameter's update, the rule above in one pass over w, g, v (and a, b): g and the
    /// scale s are registers.
    template <bool Decay, bool Centered, bool Momentum>
    void update(nn::parameter<T>& p, std::size_t i, const coefficients& k);

    static std::vector<std::pair<std::string, T>> kinds(const rmsprop_options& o);

    static rmsprop_options validated(const rmsprop_options& o);

    rmsprop_options options_;
    detail::slot_buffers<T> slots_;
    std::size_t steps_ = 0;
};

template <class T>
rmsprop<T>::rmsprop(const rmsprop_options& options)
    : options_(validated(options)), slots_("rmsprop", kinds(options)) {}

template <class T>
void rmsprop<T>::step(nn::parameter_list<T>& params) {
    slots_.bind(params, "rmsprop");
    coefficients k;
    k.lr = static_cast<T>(options_.lr);
    k.alpha = static_cast<T>(options_.alpha), k.c = static_cast<T>(1 - options_.alpha);
    k.eps = static_cast<T>(options_.eps);
    k.mu = static_cast<T>(options_.momentum);
    k.wd = static_cast<T>(options_.weight_decay);
    for (std::size_t i = 0; i < params.size(); ++i) {
        nn::parameter<T>& p = params[i];
        detail::dispatch(p.decay && options_.weight_decay != 0, [&](auto decay) {
            detail::dispatch(options_.centered, [&](auto centered) {
                detail::dispatch(k.mu != T(0), [&](auto momentum) {
                    update<decltype(decay)::value, decltype(centered)::value,
                           decltype(momentum)::value>(p, i, k);
                });
            });
        });
    }
    ++steps_;
}

template <class T>
void rmsprop<T>::set_learning_rate(double lr) {
    if (!(lr >= 0)) throw std::invalid_argument("rmsprop: learning rate must be >= 0");
    options_.lr = lr;
}

template <class T>
state_list<T> rmsprop<T>::state() const {
    return slots_.save(steps_);
}

template <class T>
void rmsprop<T>::load_state(const nn::parameter_list<T>& params, const state_list<T>& s) {
    steps_ = slots_.load(params, s, "rmsprop");
}

template <class T>
template <bool Decay, bool Centered, bool Momentum>
void rmsprop<T>::update(nn::parameter<T>& p, std::size_t i, const coefficients& k) {
    using expr::assign, expr::when;
    auto [w, v, a, b, g, s] = expr::hold(
        p.value, slots_.buffer(0, i), Centered ? &slots_.buffer(1, i) : nullptr,
        Momentum ? &slots_.buffer(Centered ? 2 : 1, i) : nullptr, expr::temporary, expr::temporary);
    expr::run(assign(g, p.grad),  //
              when<Decay>(assign(g, g + k.wd * w)), assign(v, k.alpha * v + k.c * (g * g)),
              when<Centered>(assign(a, k.alpha * a + k.c * g)),
              when<Centered>(assign(s, sqrt(v - a * a) + k.eps)),
              when<!Centered>(assign(s, sqrt(v) + k.eps)),
              when<Momentum>(assign(b, k.mu * b + g / s)), when<Momentum>(assign(w, w - k.lr * b)),
              when<!Momentum>(assign(w, w - k.lr * (g / s))));
}

template <class T>
std::vector<std::pair<std::string, T>> rmsprop<T>::kinds(const rmsprop_options& o) {
    std::vector<std::pair<std::string, T>> k{{"square_avg", T(0)}};
    if (o.centered) k.emplace_back("grad_avg", T(0));
    if (o.momentum != 0) k.emplace_back("momentum", T(0));
    return k;
}

template <class T>
rmsprop_options rmsprop<T>::validated(const rmsprop_options& o) {
    if (!(o.lr >= 0)) throw std::invalid_argument("rmsprop: learning rate must be >= 0");
    if (!(o.alpha >= 0 && o.alpha < 1))
        throw std::invalid_argument("rmsprop: alpha must be in [0, 1)");
    if (!(o.eps > 0)) throw std::invalid_argument("rmsprop: eps must be > 0");
    if (!(o.momentum >= 0 && o.momentum < 1))
        throw std::invalid_argument("rmsprop: momentum must be in [0, 1)");
    if (!(o.weight_decay >= 0)) throw std::invalid_argument("rmsprop: weight decay must be >= 0");
    return o;
}

// Compiled once for float and double (src/optim/rmsprop.cpp).
extern template class rmsprop<float>;
extern template class rmsprop<double>;

}  // namespace dendrite::inline DENDRITE_TARGET::optim
