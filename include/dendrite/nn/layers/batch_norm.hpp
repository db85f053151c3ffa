#pragma once
// Batch normalisation over features and over image channels, composed from differentiable ops so
// their backward passes are derived, not written, and its kind: `nn::batch_norm` in
// nn::sequential, "batch_norm" in a run-time description.

#include <string>
#include <tuple>

#include "dendrite/autodiff/fused.hpp"
#include "dendrite/autodiff/leaves.hpp"
#include "dendrite/autodiff/reductions.hpp"
#include "dendrite/autodiff/shape_ops.hpp"
#include "dendrite/config.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/nn/kind.hpp"
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

/// Batch normalisation of [N, C, H, W] per channel, statistics over N, H and W (Ioffe &
/// Szegedy 2015): training normalises with the batch mean and biased variance and updates the
/// running statistics (unbiased variance, as PyTorch) with `momentum`; evaluation uses the
/// running statistics. y = gamma (x - mean) / sqrt(var + eps) + beta, gamma and beta [C].
/// Composed from differentiable ops over the [N, C, H W] view, so its backward is derived.
/// Cost: about 8 passes over x forward and backward.
template <class T>
class batch_norm2d_layer : public detail::batch_norm_state<T> {
    using base = detail::batch_norm_state<T>;

  public:
    explicit batch_norm2d_layer(std::size_t channels, double momentum = 0.1, double eps = 1e-5,
                                std::string name = "batch_norm2d")
        : base(channels, momentum, eps, std::move(name)) {}

    var<T> forward(const context& ctx, const var<T>& x) {
        const shape& xs = x.shape();
        const std::size_t c = this->gamma.size();
        if (xs.rank() != 4 || xs[1] != c)
            throw shape_error(this->name_ + ": expects [N, " + std::to_string(c) + ", H, W], got " +
                              xs.str());
        tape& t = ctx.tape;
        const shape per_channel{1, c, 1};
        const auto g =
            reshape(dendrite::parameter(t, this->gamma.value, this->gamma.grad), per_channel);
        const auto b =
            reshape(dendrite::parameter(t, this->beta.value, this->beta.grad), per_channel);
        const var<T> xr = reshape(x, shape{xs[0], c, xs[2] * xs[3]});
        if (!ctx.training) {
            const tensor<T> rm = this->running_mean.reshape(per_channel);
            const tensor<T> rv = this->running_var.reshape(per_channel);
            return reshape(var<T>((xr - rm) * rsqrt(rv + this->eps_) * g + b), xs);
        }
        const var<T> mu = mean(mean(xr, 2, true), 0, true);
        const var<T> centered = xr - mu;
        const var<T> variance = mean(mean(square(centered), 2, true), 0, true);
        this->update_running(mu.value(), variance.value(), xs[0] * xs[2] * xs[3]);
        return reshape(var<T>(centered * rsqrt(variance + this->eps_) * g + b), xs);
    }
    std::string describe() const {
        return std::string(kind) + "(" + std::to_string(this->gamma.size()) + ")";
    }

    static constexpr const char* kind = "batch_norm2d";
};

/// What a batch normalisation's description sets.
struct batch_norm_options {
    double momentum = 0.1;
    double eps = 1e-5;
};

/// "batch_norm[:MOMENTUM[:EPS]]", JSON {"type": "batch_norm", "momentum": 0.1, "eps": 1e-5}: over
/// the features of [batch, features] samples, per channel of images (batch norm 2-d).
struct batch_norm_kind {
    static constexpr const char* name = "batch_norm";
    using options = batch_norm_options;
    static constexpr auto arguments() {
        return std::tuple{argument("momentum", &options::momentum), argument("eps", &options::eps)};
    }
    static constexpr layer_output output(const options& o, const sample_dims& in) {
        if (!(o.momentum >= 0 && o.momentum <= 1))
            return layer_output::bad_options("the momentum must be in [0, 1]");
        if (!(o.eps > 0)) return layer_output::bad_options("eps must be positive");
        if (in.is_sequence()) return layer_output::needs_features();
        return in;
    }
    template <class T>
    static batch_norm_layer<T> make(const options& o, const sample_dims& in) {
        return batch_norm_layer<T>(in.size(), o.momentum, o.eps, "batch_norm");
    }
    template <class T>
    static batch_norm2d_layer<T> make_image(const options& o, const sample_dims& in) {
        return batch_norm2d_layer<T>(in.channels(), o.momentum, o.eps, "batch_norm2d");
    }
};

/// nn::batch_norm: batch normalisation over the previous layer's features; after a convolution
/// ([C, H, W]), per channel with statistics over the batch and the positions (batch norm 2-d).
/// `nn::batch_norm_with({.momentum = 0.01})` sets its options.
inline constexpr valued_layer<batch_norm_kind> batch_norm{};
constexpr valued_layer<batch_norm_kind> batch_norm_with(const batch_norm_options& o) {
    return {o};
}

}  // namespace dendrite::inline DENDRITE_TARGET::nn
