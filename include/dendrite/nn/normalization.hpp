#pragma once
// Batch normalisation and layer normalisation over features, composed from differentiable ops so
// their backward passes are derived, not written.

#include <string>

#include "dendrite/autodiff/fused.hpp"
#include "dendrite/autodiff/leaves.hpp"
#include "dendrite/autodiff/reductions.hpp"
#include "dendrite/config.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/nn/parameter.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

namespace detail {

/// What batch normalisation over features and over image channels share: the scale gamma and
/// shift beta, the running statistics with their update, and their names in checkpoints.
template <class T>
class batch_norm_state {
  public:
    using value_type = T;

    void init(rng&) {
        gamma.value.fill(T(1));
        beta.value.fill(T(0));
        running_mean.fill(T(0));
        running_var.fill(T(1));
    }
    template <class F>
    void for_each_parameter(F&& f) {
        f(gamma);
        f(beta);
    }
    /// Non-trainable state saved with checkpoints, named after the scale parameter, which the
    /// model has made unique ("3.batch_norm.weight" gives "3.batch_norm.running_mean").
    template <class F>
    void for_each_buffer(F&& f) {
        const auto named = [&](const char* what) {
            std::string n = gamma.name;
            const std::size_t at = n.rfind(".weight");
            return at == std::string::npos ? n + "." + what : n.replace(at + 1, 6, what);
        };
        f(named("running_mean"), running_mean);
        f(named("running_var"), running_var);
    }

    nn::parameter<T> gamma, beta;
    tensor<T> running_mean, running_var;

  protected:
    batch_norm_state(std::size_t features, double momentum, double eps, std::string name)
        : gamma(shape{features}, name + ".weight", false, T(1)),
          beta(shape{features}, name + ".bias", false),
          running_mean(shape{features}),
          running_var(shape{features}, T(1)),
          momentum_(static_cast<T>(momentum)),
          eps_(static_cast<T>(eps)),
          name_(std::move(name)) {}

    /// Moves the running statistics toward a batch's mean and biased variance, taken over `count`
    /// values each; the running variance takes the unbiased one, as PyTorch's does.
    void update_running(const tensor<T>& mu, const tensor<T>& variance, std::size_t count) {
        const T n = static_cast<T>(count);
        const T unbias = n > 1 ? n / (n - 1) : T(1);
        running_mean.assign(running_mean * (1 - momentum_) +
                            mu.reshape(running_mean.shape()) * momentum_);
        running_var.assign(running_var * (1 - momentum_) +
                           variance.reshape(running_var.shape()) * (momentum_ * unbias));
    }

    T momentum_, eps_;
    std::string name_;
};

}  // namespace detail

/// Batch normalisation of [batch, features] (Ioffe & Szegedy 2015): training normalises with the
/// batch mean and (biased) variance and updates running statistics with `momentum`; evaluation
/// uses the running statistics. y = gamma (x - mean) / sqrt(var + eps) + beta.
template <class T>
class batch_norm_layer : public detail::batch_norm_state<T> {
    using base = detail::batch_norm_state<T>;

  public:
    explicit batch_norm_layer(std::size_t features, double momentum = 0.1, double eps = 1e-5,
                              std::string name = "batch_norm")
        : base(features, momentum, eps, std::move(name)) {}

    var<T> forward(const context& ctx, const var<T>& x) {
        const std::size_t features = this->gamma.size();
        if (x.shape().rank() != 2 || x.shape()[1] != features)
            throw shape_error(this->name_ + ": expects [batch, " + std::to_string(features) +
                              "], got " + x.shape().str());
        tape& t = ctx.tape;
        const auto g = dendrite::parameter(t, this->gamma.value, this->gamma.grad);
        const auto b = dendrite::parameter(t, this->beta.value, this->beta.grad);
        if (!ctx.training)
            return var<T>((x - this->running_mean) * rsqrt(this->running_var + this->eps_) * g + b);
        const auto mu = mean(x, 0, true);
        const var<T> centered = x - mu;
        const auto variance = mean(square(centered), 0, true);
        this->update_running(mu.value(), variance.value(), x.shape()[0]);
        return var<T>(centered * rsqrt(variance + this->eps_) * g + b);
    }
    std::string describe() const {
        return std::string(kind) + "(" + std::to_string(this->gamma.size()) + ")";
    }

    static constexpr const char* kind = "batch_norm";
};

/// Layer normalisation of [batch, features] (Ba et al. 2016): each row normalised by its own mean
/// and variance, then y = gamma x_hat + beta; identical in training and evaluation.
template <class T>
class layer_norm_layer {
  public:
    using value_type = T;
    explicit layer_norm_layer(std::size_t features, double eps = 1e-5,
                              std::string name = "layer_norm")
        : gamma(shape{features}, name + ".weight", false),
          beta(shape{features}, name + ".bias", false),
          eps_(static_cast<T>(eps)),
          name_(std::move(name)) {
        gamma.value.fill(T(1));
    }

    var<T> forward(const context& ctx, const var<T>& x) {
        if (x.shape().rank() != 2 || x.shape()[1] != gamma.size())
            throw shape_error(name_ + ": expects [batch, " + std::to_string(gamma.size()) +
                              "], got " + x.shape().str());
        const auto g = dendrite::parameter(ctx.tape, gamma.value, gamma.grad);
        const auto b = dendrite::parameter(ctx.tape, beta.value, beta.grad);
        const var<T> centered = x - mean(x, 1, true);
        const auto variance = mean(square(centered), 1, true);
        return var<T>(centered * rsqrt(variance + eps_) * g + b);
    }
    void init(rng&) {
        gamma.value.fill(T(1));
        beta.value.fill(T(0));
    }
    template <class F>
    void for_each_parameter(F&& f) {
        f(gamma);
        f(beta);
    }
    std::string describe() const {
        return std::string(kind) + "(" + std::to_string(gamma.size()) + ")";
    }

    nn::parameter<T> gamma, beta;
    static constexpr const char* kind = "layer_norm";

  private:
    T eps_;
    std::string name_;
};

}  // namespace dendrite::inline DENDRITE_TARGET::nn
