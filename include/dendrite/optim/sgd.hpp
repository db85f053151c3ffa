#pragma once
// Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay.

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

/// Hyper-parameters of `sgd`. Use with designated initialisers: `sgd<float>({.lr = 0.1,
/// .momentum = 0.9, .nesterov = true})`.
struct sgd_options {
    double lr = 1e-2;         ///< learning rate (>= 0)
    double momentum = 0;      ///< momentum factor mu in [0, 1); 0 keeps no buffer
    double dampening = 0;     ///< scales the new gradient by (1 - dampening) in the buffer
    bool nesterov = false;    ///< Nesterov momentum (needs momentum > 0 and dampening = 0)
    double weight_decay = 0;  ///< L2 penalty lambda, added to the gradient where p.decay
};

/// SGD as in PyTorch's torch.optim.SGD. For each parameter w with gradient g, at step t:
///
///   d = g + lambda w                    (lambda = weight_decay, only where p.decay)
///   b = d                               (t = 1)
///   b = mu b + (1 - dampening) d        (t > 1)
///   d = d + mu b  (Nesterov)  or  d = b (classical momentum)      [both only when mu > 0]
///   w = w - lr d
///
/// State: one buffer b per parameter when momentum > 0 ("sgd.momentum.<name>"). Cost per
/// element: one fused pass (expr::run) reading w, g (and b), writing w (and b); no allocation
/// after the first step.
template <class T>
class sgd {
  public:
    using value_type = T;

    explicit sgd(const sgd_options& options = {});

    /// Applies one update to every parameter from its gradient.
    void step(nn::parameter_list<T>& params);

    /// The rate the next step uses.
    double learning_rate() const noexcept { return options_.lr; }
    /// Sets the rate the next steps use (what a schedule calls between epochs or steps).
    void set_learning_rate(double lr);
    /// Steps taken since construction or the last load_state.
    std::size_t steps() const noexcept { return steps_; }
    /// The hyper-parameters, with the current learning rate.
    const sgd_options& options() const noexcept { return options_; }

    /// A deep copy of the momentum buffers and the step count ("sgd.step").
    state_list<T> state() const;
    /// Restores a snapshot from `state()` for the same parameters (matched by name).
    void load_state(const nn::parameter_list<T>& params, const state_list<T>& s);

  private:
    /// The step's scalars: rate, momentum, weight decay, and the buffer's two factors.
    struct coefficients {
        T lr, mu, wd, keep, add;
    };

    /// One parameter's update, the rule above in one pass over w, g (and b): d is a register.
    template <bool Decay, bool Momentum, bool Nesterov>
    void update(nn::parameter<T>& p, std::size_t i, const coefficients& k);

    static sgd_options validated(const sgd_options& o);

    sgd_options options_;
    detail::slot_buffers<T> slots_;
    std::size_t steps_ = 0;
};

template <class T>
sgd<T>::sgd(const sgd_options& options)
    : options_(validated(options)),
      slots_("sgd", options.momentum != 0
                        ? std::vector<std::pair<std::string, T>>{{"momentum", T(0)}}
                        : std::vector<std::pair<std::string, T>>{}) {}

template <class T>
void sgd<T>::step(nn::parameter_list<T>& params) {
    slots_.bind(params, "sgd");
    coefficients k;
    k.lr = static_cast<T>(options_.lr);
    k.mu = static_cast<T>(options_.momentum);
    k.wd = static_cast<T>(options_.weight_decay);
    // The first step seeds the buffer with the gradient itself, undamped (as PyTorch does).
    const bool first = steps_ == 0;
    k.keep = first ? T(0) : k.mu;
    k.add = first ? T(1) : static_cast<T>(1 - options_.dampening);
    for (std::size_t i = 0; i < params.size(); ++i) {
        nn::parameter<T>& p = params[i];
        detail::dispatch(p.decay && k.wd != T(0), [&](auto decay) {
            constexpr bool d = decltype(decay)::value;
            if (k.mu == T(0)) return update<d, false, false>(p, i, k);
            detail::dispatch(options_.nesterov, [&](auto nesterov) {
                update<d, true, decltype(nesterov)::value>(p, i, k);
            });
        });
    }
    ++steps_;
}

template <class T>
void sgd<T>::set_learning_rate(double lr) {
    if (!(lr >= 0)) throw std::invalid_argument("sgd: learning rate must be >= 0");
    options_.lr = lr;
}

template <class T>
state_list<T> sgd<T>::state() const {
    return slots_.save(steps_);
}

template <class T>
void sgd<T>::load_state(const nn::parameter_list<T>& params, const state_list<T>& s) {
    steps_ = slots_.load(params, s, "sgd");
}

template <class T>
template <bool Decay, bool Momentum, bool Nesterov>
void sgd<T>::update(nn::parameter<T>& p, std::size_t i, const coefficients& k) {
    using expr::assign, expr::when;
    auto [w, b, d] =
        expr::hold(p.value, Momentum ? &slots_.buffer(0, i) : nullptr, expr::temporary);
    expr::run(assign(d, p.grad),  //
              when<Decay>(assign(d, d + k.wd * w)),
              when<Momentum>(assign(b, k.keep * b + k.add * d)),
              when < Momentum && Nesterov > (assign(d, d + k.mu * b)),
              when < Momentum && !Nesterov > (assign(d, b)), assign(w, w - k.lr * d));
}

template <class T>
sgd_options sgd<T>::validated(const sgd_options& o) {
    if (!(o.lr >= 0)) throw std::invalid_argument("sgd: learning rate must be >= 0");
    if (!(o.momentum >= 0 && o.momentum < 1))
        throw std::invalid_argument("sgd: momentum must be in [0, 1)");
    if (!(o.dampening >= 0 && o.dampening <= 1))
        throw std::invalid_argument("sgd: dampening must be in [0, 1]");
    if (!(o.weight_decay >= 0)) throw std::invalid_argument("sgd: weight decay must be >= 0");
    if (o.nesterov && (o.momentum == 0 || o.dampening != 0))
        throw std::invalid_argument("sgd: Nesterov momentum needs momentum > 0 and dampening = 0");
    return o;
}

// Compiled once for float and double (src/optim/sgd.cpp).
extern template class sgd<float>;
extern template class sgd<double>;

}  // namespace dendrite::inline DENDRITE_TARGET::optim
