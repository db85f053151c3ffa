#pragma once
// The 2-d convolution over [N, C, H, W], fused with the activation that follows it, and its kind:
// `nn::conv2d<16, 5>` in nn::sequential, "conv:16:5" in a run-time description.

#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>

#include "dendrite/autodiff/conv.hpp"
#include "dendrite/autodiff/leaves.hpp"
#include "dendrite/config.hpp"
#include "dendrite/linalg/conv_geometry.hpp"
#include "dendrite/nn/activation_init.hpp"
#include "dendrite/nn/activations.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/nn/init.hpp"
#include "dendrite/nn/kind.hpp"
#include "dendrite/nn/parameter.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

namespace detail {
// The identity activation in any of its spellings becomes autodiff's identity_activation, which
// conv2d recognises (no Z kept, no derivative pass).
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

    /// The same layer with the activation F in its epilogue (see the constructor above).
    template <class F>
    using with_activation = conv2d_layer<T, F>;

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

/// How a convolution slides over its input; written as `nn::conv_options{.stride = 2, .padding =
/// 1}`.
struct conv_options {
    std::size_t stride = 1;
    std::size_t padding = 0;
    std::size_t dilation = 1;
    std::size_t groups = 1;
    bool bias = true;
};

/// What a convolution's description sets.
struct conv2d_kind_options {
    std::size_t filters = 0;
    std::size_t kernel = 0;
    std::size_t stride = 1;
    std::size_t padding = 0;
    std::size_t dilation = 1;
    std::size_t groups = 1;
    bool bias = true;
};

/// "conv:FILTERS:KERNEL[:STRIDE[:PADDING[:DILATION[:GROUPS[:BIAS]]]]]", JSON {"type": "conv",
/// "filters": 6, "kernel": 5, ...}; also "conv2d", and "conv_no_bias" without a bias.
struct conv2d_kind {
    static constexpr const char* name = "conv";
    using options = conv2d_kind_options;
    static constexpr auto arguments() {
        return std::tuple{argument("filters", &options::filters).required(),
                          argument("kernel", &options::kernel).required(),
                          argument("stride", &options::stride),
                          argument("padding", &options::padding).at_least(0),
                          argument("dilation", &options::dilation),
                          argument("groups", &options::groups),
                          argument("bias", &options::bias)};
    }
    static constexpr std::array<kind_alias, 2> aliases{{{"conv2d"}, {"conv_no_bias", "bias", 0}}};

    /// [filters, OH, OW] from [C, H, W]; OH = (H + 2 padding - dilation (kernel - 1) - 1) /
    /// stride + 1.
    static constexpr layer_output output(const options& o, const sample_dims& in) {
        if (!in.is_image()) return layer_output::needs_image();
        if (o.groups == 0 || in.channels() % o.groups != 0 || o.filters % o.groups != 0)
            return layer_output::groups_do_not_divide(o.groups, in.channels(), o.filters);
        const std::size_t h = linalg::conv_geometry::out_extent(in.height(), o.kernel, o.stride,
                                                                o.padding, o.dilation);
        const std::size_t w = linalg::conv_geometry::out_extent(in.width(), o.kernel, o.stride,
                                                                o.padding, o.dilation);
        if (h == 0 || w == 0) return layer_output::window_too_large(o.kernel, o.padding);
        return sample_dims::image(o.filters, h, w);
    }
    template <class T>
    static conv2d_layer<T> make(const options& o, const sample_dims& in) {
        return conv2d_layer<T>(in.channels(), o.filters, o.kernel, o.stride, o.padding, o.dilation,
                               o.groups, o.bias, {}, "conv2d");
    }
};

/// nn::conv2d<Out, Kernel, Options>: a 2-d convolution with `Out` channels and a Kernel x Kernel
/// window over a [C, H, W] input; C comes from the previous layer:
/// `nn::conv2d<16, 3, nn::conv_options{.padding = 1}>`.
template <std::size_t Out, std::size_t Kernel, conv_options Options = conv_options{}>
struct conv2d_spec : fixed_layer<conv2d_kind, conv2d_kind_options{Out, Kernel, Options.stride,
                                                                  Options.padding, Options.dilation,
                                                                  Options.groups, Options.bias}> {};
template <std::size_t Out, std::size_t Kernel, conv_options Options = conv_options{}>
inline constexpr conv2d_spec<Out, Kernel, Options> conv2d{};

}  // namespace dendrite::inline DENDRITE_TARGET::nn
