#pragma once
// Adagrad (Duchi, Hazan & Singer, 2011), as in PyTorch.

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

/// Hyper-parameters of `adagrad`.
struct adagrad_options {
    double lr = 1e-2;         ///< learning rate (>= 0)
    double lr_decay = 0;      ///< the rate at step t is lr / (1 + (t - 1) lr_decay)
    double weight_decay = 0;  ///< L2 penalty lambda, added to the gradient where p.decay
    double initial_accumulator_value = 0;  ///< starting value of the squared-gradient sum (>= 0)
    double eps = 1e-10;                    ///< added to sqrt(sum) (> 0)
};

/// Adagrad as in PyTorch's torch.optim.Adagrad. For each parameter w with gradient g, at step
/// t = 1, 2, ...:
///
///   g = g + lambda w                          (where p.decay)
///   s = s + g^2
///   w = w - (lr / (1 + (t - 1) lr_decay)) g / (sqrt(s) + eps)
///
/// State: the sum s per parameter ("adagrad.sum.<name>"). Cost per element: one fused pass
/// (expr::run) reading w, g, s and writing w, s, with one square root and one division; no
/// allocation after the first step.
template <class T>
class adagrad {
  public:
    using value_type = T;

    explicit adagrad(const adagrad_options& options = {});

    /// Applies one update to every parameter from its gradient.
    void step(nn::parameter_list<T>& params);

    /// The base rate, before lr_decay.
    double learning_rate() const noexcept { return options_.lr; }
    /// Sets the base rate (before lr_decay) the next steps use.
    void set_learning_rate(double lr);
    /// Steps taken since construction or the last load_state; t in the rate decay.
    std::size_t steps() const noexcept { return steps_; }
    /// The hyper-parameters, with the current learning rate.
    const adagrad_options& options() const noexcept { return options_; }

    /// A deep copy of the sums per parameter and the step count ("adagrad.step").
    state_list<T> state() const;
    /// Restores a snapshot from `state()` for the same parameters (matched by name).
    void load_state(const nn::parameter_list<T>& params, const state_list<T>& s);

  private:
    /// The step's scalars: the decayed rate, eps and the weight decay.
    struct coefficients {
        T clr, eps, wd;
    };

    /// One parameter's update, the rule above in one pass over w, g and s: g is a register.
    template <bool Decay>
    void update(nn::parameter<T>& p, std::size_t i, const coefficients& k);

    static adagrad_options validated(const adagrad_options& o);

    adagrad_options options_;
    detail::slot_buffers<T> slots_;
    std::size_t steps_ = 0;
};

template <class T>
adagrad<T>::adagrad(const adagrad_options& options)
    : options_(validated(options)),
      slots_("adagrad", {{"sum", static_cast<T>(options.initial_accumulator_value)}}) {}

template <class T>
void adagrad<T>::step(nn::parameter_list<T>& params) {
    slots_.bind(params, "adagrad");
    const double t = static_cast<double>(steps_ + 1);
    coefficients k;
    k.clr = static_cast<T>(options_.lr / (1 + (t - 1) * options_.lr_decay));
    k.eps = static_cast<T>(options_.eps);
    k.wd = static_cast<T>(options_.weight_decay);
    for (std::size_t i = 0; i < params.size(); ++i) {
        nn::parameter<T>& p = params[i];
        detail::dispatch(p.decay && options_.weight_decay != 0,
                         [&](auto decay) { update<decltype(decay)::value>(p, i, k); });
    }
    ++steps_;
}

template <class T>
void adagrad<T>::set_learning_rate(double lr) {
    if (!(lr >= 0)) throw std::invalid_argument("adagrad: learning rate must be >= 0");
    options_.lr = lr;
}

template <class T>
state_list<T> adagrad<T>::state() const {
    return slots_.save(steps_);
}

template <class T>
void adagrad<T>::load_state(const nn::parameter_list<T>& params, const state_list<T>& s) {
    steps_ = slots_.load(params, s, "adagrad");
}

template <class T>
template <bool Decay>
void adagrad<T>::update(nn::parameter<T>& p, std::size_t i, const coefficients& k) {
    using expr::assign, expr::when;
    auto [w, s, g] = expr::hold(p.value, slots_.buffer(0, i), expr::temporary);
    expr::run(assign(g, p.grad),  //
              when<Decay>(assign(g, g + k.wd * w)), assign(s, s + g * g),
              assign(w, w - k.clr * g / (sqrt(s) + k.eps)));
}

template <class T>
adagrad_options adagrad<T>::validated(const adagrad_options& o) {
    if (!(o.lr >= 0)) throw std::invalid_argument("adagrad: learning rate must be >= 0");
    if (!(o.lr_decay >= 0)) throw std::invalid_argument("adagrad: lr_decay must be >= 0");
    if (!(o.weight_decay >= 0)) throw std::invalid_argument("adagrad: weight decay must be >= 0");
    if (!(o.initial_accumulator_value >= 0))
        throw std::invalid_argument("adagrad: initial_accumulator_value must be >= 0");
    if (!(o.eps > 0)) throw std::invalid_argument("adagrad: eps must be > 0");
    return o;
}

// Compiled once for float and double (src/optim/adagrad.cpp).
extern template class adagrad<float>;
extern template class adagrad<double>;

}  // namespace dendrite::inline DENDRITE_TARGET::optim
