#pragma once
// Adam (Kingma & Ba, 2015) with L2 weight decay, and AdamW (Loshchilov & Hutter, 2019) with
// decoupled weight decay; AMSGrad optional.

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "dendrite/config.hpp"
#include "dendrite/nn/parameter.hpp"
#include "dendrite/optim/detail/state.hpp"
#include "dendrite/optim/detail/update_loop.hpp"
#include "dendrite/optim/optimizer.hpp"
#include "dendrite/simd/simd.hpp"

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
/// per element: one pass reading w, g, m, v and writing w, m, v, with one square root and one
/// division; no allocation after the first step.
template <class T>
class adam {
  public:
    using value_type = T;

    explicit adam(const adam_options& options = {})
        : adam(options, options.decoupled ? "adamw" : "adam") {}

    /// Applies one update to every parameter from its gradient.
    void step(nn::parameter_list<T>& params) {
        slots_.bind(params, who());
        const double t = static_cast<double>(steps_ + 1);
        const double bc1 = 1 - std::pow(options_.beta1, t);
        const double bc2 = 1 - std::pow(options_.beta2, t);
        const T step_size = static_cast<T>(options_.lr / bc1);
        const T sqrt_bc2 = static_cast<T>(std::sqrt(bc2));
        const T b1 = static_cast<T>(options_.beta1), c1 = static_cast<T>(1 - options_.beta1);
        const T b2 = static_cast<T>(options_.beta2), c2 = static_cast<T>(1 - options_.beta2);
        const T eps = static_cast<T>(options_.eps);
        const T wd = static_cast<T>(options_.weight_decay);
        const T shrink = static_cast<T>(1 - options_.lr * options_.weight_decay);
        for (std::size_t i = 0; i < params.size(); ++i) {
            nn::parameter<T>& p = params[i];
            T* w = p.value.data();
            const T* g = p.grad.data();
            T* m = slots_.data(0, i);
            T* v = slots_.data(1, i);
            const std::size_t n = p.size();
            const bool decay = p.decay && options_.weight_decay != 0;
            detail::dispatch(decay && !options_.decoupled, [&](auto l2) {
                detail::dispatch(decay && options_.decoupled, [&](auto decoupled) {
                    // One formula for both variants; AMSGrad passes its extra buffer through.
                    auto formula = [=](auto& w, auto& m, auto& v, auto v_max, auto g) {
                        using X = std::remove_cvref_t<decltype(w)>;
                        if constexpr (decltype(l2)::value) g = g + X(wd) * w;
                        if constexpr (decltype(decoupled)::value) w = w * X(shrink);
                        m = X(b1) * m + X(c1) * g;
                        v = X(b2) * v + X(c2) * (g * g);
                        X denom;
                        if constexpr (!std::is_null_pointer_v<decltype(v_max)>) {
                            *v_max = simd::max(*v_max, v);
                            denom = simd::sqrt(*v_max) / X(sqrt_bc2) + X(eps);
                        } else {
                            denom = simd::sqrt(v) / X(sqrt_bc2) + X(eps);
                        }
                        w = w - X(step_size) * m / denom;
                    };
                    if (options_.amsgrad) {
                        detail::update_loop(n, detail::writes(w, m, v, slots_.data(2, i)),
                                            detail::reads(g),
                                            [&](auto& w, auto& m, auto& v, auto& v_max,
                                                const auto& g) { formula(w, m, v, &v_max, g); });
                    } else {
                        detail::update_loop(n, detail::writes(w, m, v), detail::reads(g),
                                            [&](auto& w, auto& m, auto& v, const auto& g) {
                                                formula(w, m, v, nullptr, g);
                                            });
                    }
                });
            });
        }
        ++steps_;
    }

    /// The rate the next step uses.
    double learning_rate() const noexcept { return options_.lr; }
    /// Sets the rate the next steps use (what a schedule calls between epochs or steps).
    void set_learning_rate(double lr) {
        if (!(lr >= 0))
            throw std::invalid_argument(std::string(who()) + ": learning rate must be >= 0");
        options_.lr = lr;
    }
    /// Steps taken since construction or the last load_state; t in the bias corrections.
    std::size_t steps() const noexcept { return steps_; }
    /// The hyper-parameters, with the current learning rate.
    const adam_options& options() const noexcept { return options_; }

    /// A deep copy of m, v (and v_max) per parameter and the step count ("adam.step", or
    /// "adamw.step" for the decoupled variant).
    state_list<T> state() const { return slots_.save(steps_); }
    /// Restores a snapshot from `state()` for the same parameters (matched by name).
    void load_state(const nn::parameter_list<T>& params, const state_list<T>& s) {
        steps_ = slots_.load(params, s, who());
    }

  protected:
    adam(const adam_options& options, const char* prefix)
        : options_(validated(options, prefix)), slots_(prefix, kinds(options)) {}

  private:
    const char* who() const noexcept { return options_.decoupled ? "adamw" : "adam"; }

    static std::vector<std::pair<std::string, T>> kinds(const adam_options& o) {
        std::vector<std::pair<std::string, T>> k{{"m", T(0)}, {"v", T(0)}};
        if (o.amsgrad) k.emplace_back("v_max", T(0));
        return k;
    }

    static adam_options validated(const adam_options& o, const char* who) {
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

    adam_options options_;
    detail::slot_buffers<T> slots_;
    std::size_t steps_ = 0;
};

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
