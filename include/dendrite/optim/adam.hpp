#pragma once
// Adam (Kingma & Ba, 2015) with L2 weight decay, and AdamW (Loshchilov & Hutter, 2019) with
// decoupled weight decay; AMSGrad optional.

#include <cmath>
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

/// Hyper-parameters of `adam` and `adamw`.
struct adam_options {
    double lr = 1e-3;         ///< learning rate (>= 0)
    double beta1 = 0.9;       ///< decay of the first-moment average, in [0, 1)
    double beta2 = 0.999;     ///< decay of the second-moment average, in [0, 1)
    double eps = 1e-8;        ///< added to sqrt(v_hat) so the step stays finite (> 0)
    double weight_decay = 0;  ///< lambda; how it applies depends on `decoupled`, only where p.decay
    bool decoupled = false;   ///< false: L2 added to the gradient (Adam); true: AdamW
    bool amsgrad = false;     ///< divide by the running maximum of v (Reddi et al., 2018)
};

/// Adam as in PyTorch's torch.optim.Adam / AdamW. For each parameter w with gradient g, at step
/// t = 1, 2, ...:
///
///   g = g + lambda w                    (Adam, where p.decay)
///   w = w (1 - lr lambda)               (AdamW, where p.decay)
///   m = beta1 m + (1 - beta1) g
///   v = beta2 v + (1 - beta2) g^2
///   v_max = max(v_max, v)               (AMSGrad; v_max replaces v below)
///   w = w - (lr / (1 - beta1^t)) m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
///
/// The bias corrections are folded into two scalars per step. State: m and v per parameter
/// ("<prefix>.m.<name>", "<prefix>.v.<name>", plus "<prefix>.v_max.<name>" with AMSGrad). Cost
/// per element: one fused pass (expr::run) reading w, g, m, v and writing w, m, v, with one
/// square root and one division; no allocation after the first step.
template <class T>
class adam {
  public:
    using value_type = T;

    explicit adam(const adam_options& options = {})
        : adam(options, options.decoupled ? "adamw" : "adam") {}

    /// Applies one update to every parameter from its gradient.
    void step(nn::parameter_list<T>& params);

    /// The rate the next step uses.
    double learning_rate() const noexcept { return options_.lr; }
    /// Sets the rate the next steps use (what a schedule calls between epochs or steps).
    void set_learning_rate(double lr);
    /// Steps taken since construction or the last load_state; t in the bias corrections.
    std::size_t steps() const noexcept { return steps_; }
    /// The hyper-parameters, with the current learning rate.
    const adam_options& options() const noexcept { return options_; }

    /// A deep copy of m, v (and v_max) per parameter and the step count ("adam.step", or
    /// "adamw.step" for the decoupled variant).
    state_list<T> state() const;
    /// Restores a snapshot from `state()` for the same parameters (matched by name).
    void load_state(const nn::parameter_list<T>& params, const state_list<T>& s);

  protected:
    adam(const adam_options& options, const char* prefix);

  private:
    /// The step's scalars, bias corrections folded in.
    struct coefficients {
        T step_size, sqrt_bc2, b1, c1, b2, c2, eps, wd, shrink;
    };

    /// One parameter's update, the rule above in one pass over w, g, m, v (and v_max): g is a
    /// register holding the gradient with its L2 term.
    template <bool L2, bool Decoupled, bool AMSGrad>
    void update(nn::parameter<T>& p, std::size_t i, const coefficients& k);

    const char* who() const noexcept { return options_.decoupled ? "adamw" : "adam"; }

    static std::vector<std::pair<std::string, T>> kinds(const adam_options& o);
    static adam_options validated(const adam_options& o, const char* who);

    adam_options options_;
    detail::slot_buffers<T> slots_;
    std::size_t steps_ = 0;
};

template <class T>
adam<T>::adam(const adam_options& options, const char* prefix)
    : options_(validated(options, prefix)), slots_(prefix, kinds(options)) {}

template <class T>
void adam<T>::step(nn::parameter_list<T>& params) {
    slots_.bind(params, who());
    const double t = static_cast<double>(steps_ + 1);
    const double bc1 = 1 - std::pow(options_.beta1, t);
    const double bc2 = 1 - std::pow(options_.beta2, t);
    coefficients k;
    k.step_size = static_cast<T>(options_.lr / bc1);
    k.sqrt_bc2 = static_cast<T>(std::sqrt(bc2));
    k.b1 = static_cast<T>(options_.beta1), k.c1 = static_cast<T>(1 - options_.beta1);
    k.b2 = static_cast<T>(options_.beta2), k.c2 = static_cast<T>(1 - options_.beta2);
    k.eps = static_cast<T>(options_.eps);
    k.wd = static_cast<T>(options_.weight_decay);
    k.shrink = static_cast<T>(1 - options_.lr * options_.weight_decay);
    for (std::size_t i = 0; i < params.size(); ++i) {
        nn::parameter<T>& p = params[i];
        const bool decay = p.decay && options_.weight_decay != 0;
        detail::dispatch(options_.amsgrad, [&](auto amsgrad) {
            constexpr bool ams = decltype(amsgrad)::value;
            if (!decay) return update<false, false, ams>(p, i, k);
            if (options_.decoupled) return update<false, true, ams>(p, i, k);
            update<true, false, ams>(p, i, k);
        });
    }
    ++steps_;
}

template <class T>
void adam<T>::set_learning_rate(double lr) {
    if (!(lr >= 0))
        throw std::invalid_argument(std::string(who()) + ": learning rate must be >= 0");
    options_.lr = lr;
}

template <class T>
state_list<T> adam<T>::state() const {
    return slots_.save(steps_);
}

template <class T>
void adam<T>::load_state(const nn::parameter_list<T>& params, const state_list<T>& s) {
    steps_ = slots_.load(params, s, who());
}

template <class T>
template <bool L2, bool Decoupled, bool AMSGrad>
void adam<T>::update(nn::parameter<T>& p, std::size_t i, const coefficients& k) {
    using expr::assign, expr::when;
    auto [w, m, v, v_max, g] =
        expr::hold(p.value, slots_.buffer(0, i), slots_.buffer(1, i),
                   AMSGrad ? &slots_.buffer(2, i) : nullptr, expr::temporary);
    expr::run(assign(g, p.grad),  //
              when<L2>(assign(g, g + k.wd * w)), when<Decoupled>(assign(w, w * k.shrink)),
              assign(m, k.b1 * m + k.c1 * g), assign(v, k.b2 * v + k.c2 * (g * g)),
              when<AMSGrad>(assign(v_max, max(v_max, v))),
              when<AMSGrad>(assign(w, w - k.step_size * m / (sqrt(v_max) / k.sqrt_bc2 + k.eps))),
              when<!AMSGrad>(assign(w, w - k.step_size * m / (sqrt(v) / k.sqrt_bc2 + k.eps))));
}

template <class T>
std::vector<std::pair<std::string, T>> adam<T>::kinds(const adam_options& o) {
    std::vector<std::pair<std::string, T>> k{{"m", T(0)}, {"v", T(0)}};
    if (o.amsgrad) k.emplace_back("v_max", T(0));
    return k;
}

template <class T>
adam_options adam<T>::validated(const adam_options& o, const char* who) {
    const std::string w(who);
    if (!(o.lr >= 0)) throw std::invalid_argument(w + ": learning rate must be >= 0");
    if (!(o.beta1 >= 0 && o.beta1 < 1))
        throw std::invalid_argument(w + ": beta1 must be in [0, 1)");
    if (!(o.beta2 >= 0 && o.beta2 < 1))
        throw std::invalid_argument(w + ": beta2 must be in [0, 1)");
    if (!(o.eps > 0)) throw std::invalid_argument(w + ": eps must be > 0");
    if (!(o.weight_decay >= 0)) throw std::invalid_argument(w + ": weight decay must be >= 0");
    return o;
}

// Compiled once for float and double (src/optim/adam.cpp).
extern template class adam<float>;
extern template class adam<double>;

/// Hyper-parameters of `adamw`: those of `adam_options` without the choice of decay, and with
/// PyTorch's AdamW default lambda = 1e-2.
struct adamw_options {
    double lr = 1e-3;      ///< learning rate (>= 0)
    double beta1 = 0.9;    ///< decay of the first-moment average, in [0, 1)
    double beta2 = 0.999;  ///< decay of the second-moment average, in [0, 1)
    double eps = 1e-8;     ///< added to sqrt(v_hat) (> 0)
    double weight_decay =
        1e-2;              ///< lambda: w = w (1 - lr lambda) before each update, where p.decay
    bool amsgrad = false;  ///< divide by the running maximum of v
};

/// AdamW (Loshchilov & Hutter, 2019): `adam` with decoupled weight decay, the rule above with
/// w = w (1 - lr lambda). State names start with "adamw.".
template <class T>
class adamw : public adam<T> {
  public:
    explicit adamw(const adamw_options& o = {})
        : adam<T>(adam_options{.lr = o.lr,
                               .beta1 = o.beta1,
                               .beta2 = o.beta2,
                               .eps = o.eps,
                               .weight_decay = o.weight_decay,
                               .decoupled = true,
                               .amsgrad = o.amsgrad},
                  "adamw") {}
};

}  // namespace dendrite::inline DENDRITE_TARGET::optim
