#pragma once
// Convolutional layers over [N, C, H, W]: convolution fused with its activation, pooling, and
// batch normalisation per channel. Each states its output shape as a constexpr function of its
// input shape [C, H, W], for compile-time checking of a composition.

#include <array>
#include <cstddef>
#include <string>
#include <type_traits>

#include "dendrite/autodiff/conv.hpp"
#include "dendrite/autodiff/fused.hpp"
#include "dendrite/autodiff/leaves.hpp"
#include "dendrite/autodiff/pooling.hpp"
#include "dendrite/autodiff/reductions.hpp"
#include "dendrite/autodiff/shape_ops.hpp"
#include "dendrite/config.hpp"
#include "dendrite/nn/activations.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/nn/dense.hpp"
#include "dendrite/nn/init.hpp"
#include "dendrite/nn/normalization.hpp"
#include "dendrite/nn/parameter.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

namespace detail {
// The identity activation in any of its spellings becomes autodiff's identity_activation, which
// conv2d recognises (no Z kept, no derivative pass).
template <class A>
inline constexpr bool is_identity_activation =
    std::is_same_v<A, identity_activation> ||
    std::is_same_v<A, std::remove_cvref_t<decltype(fn::identity)>> ||
    std::is_same_v<A, activation<std::remove_cvref_t<decltype(fn::identity)>>>;

template <class A>
auto conv_activation(const A& a) {
    if constexpr (is_identity_activation<A>)
        return identity_activation{};
    else
        return a;
}
}  // namespace detail

/// y = act(conv2d(x, W) + b): x [N, in, H, W], W [out, in / groups, k, k], b [out] ->
/// [N, out, OH, OW] (see dendrite::conv2d for the kernels and their cost). Weights start with
/// the scheme suited to the activation (He for ReLU-like), with convolution fans
/// (in / groups k^2, out k^2); biases at 0.
template <class T, class Act = identity_activation>
class conv2d_layer {
  public:
    using value_type = T;

    /// [out, OH, OW] from [in, H, W]; OH = (H + 2 padding - dilation (k - 1) - 1) / stride + 1.
    static constexpr std::array<std::size_t, 3> output_dims(
        std::array<std::size_t, 3> chw, std::size_t out_channels, std::size_t kernel,
        std::size_t stride = 1, std::size_t padding = 0, std::size_t dilation = 1) noexcept {
        return {out_channels,
                linalg::conv_geometry::out_extent(chw[1], kernel, stride, padding, dilation),
                linalg::conv_geometry::out_extent(chw[2], kernel, stride, padding, dilation)};
    }

    conv2d_layer(std::size_t in_channels, std::size_t out_channels, std::size_t kernel,
                 std::size_t stride = 1, std::size_t padding = 0, std::size_t dilation = 1,
                 std::size_t groups = 1, bool bias = true, Act act = {},
                 std::string name = "conv2d")
        : weight(shape{out_channels, groups ? in_channels / groups : 0, kernel, kernel},
                 name + ".weight"),
          bias_(shape{bias ? out_channels : 0}, name + ".bias", false),
          options_{stride, stride, padding, padding, dilation, dilation, groups},
          act_(act),
          has_bias_(bias),
          name_(std::move(name)) {
        if (groups == 0 || in_channels % groups != 0 || out_channels % groups != 0)
            throw shape_error(name_ + ": groups (" + std::to_string(groups) +
                              ") must divide in_channels (" + std::to_string(in_channels) +
                              ") and out_channels (" + std::to_string(out_channels) + ")");
    }

    /// Takes the parameters of `other` with a new activation: how a convolution absorbs the
    /// activation after it.
    template <class OtherAct>
    conv2d_layer(conv2d_layer<T, OtherAct>&& other, Act act, std::string activation_name)
        : weight(std::move(other.weight)),
          bias_(std::move(other.bias_)),
          options_(other.options_),
          act_(act),
          has_bias_(other.has_bias_),
          name_(std::move(other.name_)),
          activation_name_(std::move(activation_name)) {}

    std::size_t in_channels() const noexcept { return weight.value.dim(1) * options_.groups; }
    std::size_t out_channels() const noexcept { return weight.value.dim(0); }
    const conv2d_options& options() const noexcept { return options_; }
    const Act& activation() const noexcept { return act_; }
    const std::string& activation_name() const noexcept { return activation_name_; }

    var<T> forward(const context& ctx, const var<T>& x) {
        const auto w = dendrite::parameter(ctx.tape, weight.value, weight.grad);
        const auto act = detail::conv_activation(act_);
        if (has_bias_)
            return dendrite::conv2d(x, w, dendrite::parameter(ctx.tape, bias_.value, bias_.grad),
                                    options_, act);
        return dendrite::conv2d(x, w, options_, act);
    }

    void init(rng& g) {
        init::apply(default_init<Act>::value, weight.value, g);
        if (has_bias_) bias_.value.fill(T(0));
    }

    template <class F>
    void for_each_parameter(F&& f) {
        f(weight);
        if (has_bias_) f(bias_);
    }

    std::string describe() const {
        const std::size_t k = weight.value.dim(2);
        return "conv2d(" + std::to_string(in_channels()) + " -> " + std::to_string(out_channels()) +
               ", " + std::to_string(k) + "x" + std::to_string(k) +
               (options_.stride_h != 1 ? ", stride " + std::to_string(options_.stride_h) : "") +
               (options_.pad_h ? ", padding " + std::to_string(options_.pad_h) : "") +
               (options_.dilation_h != 1 ? ", dilation " + std::to_string(options_.dilation_h)
                                         : "") +
               (options_.groups != 1 ? ", groups " + std::to_string(options_.groups) : "") +
               (has_bias_ ? ")" : ", no bias)") +
               (activation_name_.empty() ? "" : " + " + activation_name_ + " (fused)");
    }

    nn::parameter<T> weight;

  private:
    template <class, class>
    friend class conv2d_layer;
    nn::parameter<T> bias_;
    conv2d_options options_;
    [[no_unique_address]] Act act_;
    bool has_bias_;
    std::string name_;
    std::string activation_name_;
};

/// Max pooling with a square window (stride defaults to the window): [N, C, H, W] ->
/// [N, C, OH, OW].
template <class T>
class max_pool2d_layer {
  public:
    using value_type = T;
    static constexpr std::array<std::size_t, 3> output_dims(std::array<std::size_t, 3> chw,
                                                            std::size_t kernel,
                                                            std::size_t stride = 0,
                                                            std::size_t padding = 0) noexcept {
        const std::size_t s = stride ? stride : kernel;
        return {chw[0], linalg::conv_geometry::out_extent(chw[1], kernel, s, padding, 1),
                linalg::conv_geometry::out_extent(chw[2], kernel, s, padding, 1)};
    }
    explicit max_pool2d_layer(std::size_t kernel, std::size_t stride = 0, std::size_t padding = 0)
        : options_{kernel, stride, padding} {}

    var<T> forward(const context&, const var<T>& x) { return dendrite::max_pool2d(x, options_); }
    void init(rng&) {}
    template <class F>
    void for_each_parameter(F&&) {}
    std::string describe() const {
        return "max_pool2d(" + std::to_string(options_.kernel) + "x" +
               std::to_string(options_.kernel) + ")";
    }

  private:
    pool2d_options options_;
};

/// Average pooling with a square window; `count_include_pad` as in dendrite::avg_pool2d.
template <class T>
class avg_pool2d_layer {
  public:
    using value_type = T;
    static constexpr std::array<std::size_t, 3> output_dims(std::array<std::size_t, 3> chw,
                                                            std::size_t kernel,
                                                            std::size_t stride = 0,
                                                            std::size_t padding = 0) noexcept {
        return max_pool2d_layer<T>::output_dims(chw, kernel, stride, padding);
    }
    explicit avg_pool2d_layer(std::size_t kernel, std::size_t stride = 0, std::size_t padding = 0,
                              bool count_include_pad = true)
        : options_{kernel, stride, padding}, count_include_pad_(count_include_pad) {}

    var<T> forward(const context&, const var<T>& x) {
        return dendrite::avg_pool2d(x, options_, count_include_pad_);
    }
    void init(rng&) {}
    template <class F>
    void for_each_parameter(F&&) {}
    std::string describe() const {
        return "avg_pool2d(" + std::to_string(options_.kernel) + "x" +
               std::to_string(options_.kernel) + ")";
    }

  private:
    pool2d_options options_;
    bool count_include_pad_;
};

/// Global average pooling: [N, C, H, W] -> [N, C].
template <class T>
class global_avg_pool2d_layer {
  public:
    using value_type = T;
    static constexpr std::array<std::size_t, 1> output_dims(
        std::array<std::size_t, 3> chw) noexcept {
        return {chw[0]};
    }
    var<T> forward(const context&, const var<T>& x) { return dendrite::global_avg_pool2d(x); }
    void init(rng&) {}
    template <class F>
    void for_each_parameter(F&&) {}
    std::string describe() const { return "global_avg_pool2d"; }
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
    static constexpr std::array<std::size_t, 3> output_dims(
        std::array<std::size_t, 3> chw) noexcept {
        return chw;
    }
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

}  // namespace dendrite::inline DENDRITE_TARGET::nn
