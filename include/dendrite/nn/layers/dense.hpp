#pragma once
// The dense (fully connected) layer, fused with the activation that follows it, and its kind:
// `nn::dense<256>` in nn::sequential, "dense:256" in a run-time description.

#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>

#include "dendrite/autodiff/dense.hpp"
#include "dendrite/autodiff/leaves.hpp"
#include "dendrite/autodiff/matmul.hpp"
#include "dendrite/autodiff/shape_ops.hpp"
#include "dendrite/config.hpp"
#include "dendrite/nn/activation_init.hpp"
#include "dendrite/nn/activations.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/nn/init.hpp"
#include "dendrite/nn/kind.hpp"
#include "dendrite/nn/parameter.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// y = act(x W + b): x [batch, in], W [in, out], b [out].
///
/// With a bias, forward is one GEMM whose epilogue adds b and applies act, and backward two GEMMs
/// that form dY * act'(Z) while packing (see autodiff/dense.hpp). Weights start with the scheme
/// suited to the activation (He for ReLU-like, LeCun for SELU, Glorot otherwise); biases at 0.
template <class T, class Act = std::remove_cvref_t<decltype(fn::identity)>>
class dense_layer {
  public:
    using value_type = T;

    dense_layer(std::size_t in, std::size_t out, bool bias = true, Act act = {},
                std::string name = "dense")
        : weight(shape{in, out}, name + ".weight"),
          bias_(shape{bias ? out : 0}, name + ".bias", false),
          act_(act),
          has_bias_(bias),
          name_(std::move(name)) {}

    /// Takes the parameters of `other` (same sizes) with a new activation: how a dense layer
    /// absorbs the activation after it.
    template <class OtherAct>
    dense_layer(dense_layer<T, OtherAct>&& other, Act act, std::string activation_name)
        : weight(std::move(other.weight)),
          bias_(std::move(other.bias_)),
          act_(act),
          has_bias_(other.has_bias_),
          name_(std::move(other.name_)),
          activation_name_(std::move(activation_name)) {}

    /// The same layer with the activation F in its epilogue (see the constructor above).
    template <class F>
    using with_activation = dense_layer<T, F>;

    const Act& activation() const noexcept { return act_; }
    const std::string& activation_name() const noexcept { return activation_name_; }

    std::size_t in_features() const noexcept { return weight.value.dim(0); }
    std::size_t out_features() const noexcept { return weight.value.dim(1); }

    /// x [batch, in] gives [batch, out]; a sequence's x [batch, time, in] gives [batch, time,
    /// out], through one GEMM of batch x time rows (reshapes are views).
    var<T> forward(const context& ctx, const var<T>& x) {
        if (x.shape().rank() == 3) {
            const shape& s = x.shape();
            const var<T> rows = forward(ctx, reshape(x, shape{s[0] * s[1], s[2]}));
            return reshape(rows, shape{s[0], s[1], rows.shape()[1]});
        }
        auto w = dendrite::parameter(ctx.tape, weight.value, weight.grad);
        if (has_bias_)
            return dendrite::dense(x, w, dendrite::parameter(ctx.tape, bias_.value, bias_.grad),
                                   act_);
        return var<T>(act_(matmul(x, w)));
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
        return "dense(" + std::to_string(in_features()) + " -> " + std::to_string(out_features()) +
               (has_bias_ ? ")" : ", no bias)") +
               (activation_name_.empty() ? "" : " + " + activation_name_ + " (fused)");
    }

    nn::parameter<T> weight;

  private:
    template <class, class>
    friend class dense_layer;
    nn::parameter<T> bias_;
    [[no_unique_address]] Act act_;
    bool has_bias_;
    std::string name_;
    std::string activation_name_;
};

/// What a dense layer's description sets.
struct dense_options {
    std::size_t units = 0;
    bool bias = true;
    /// The inputs it must receive (nn::linear<In, Out>); 0 takes what comes.
    std::size_t inputs = 0;
};

/// "dense:UNITS[:BIAS]", JSON {"type": "dense", "units": 256, "bias": false};
/// "dense_no_bias:UNITS".
struct dense_kind {
    static constexpr const char* name = "dense";
    using options = dense_options;
    static constexpr auto arguments() {
        return std::tuple{argument("units", &dense_options::units).required(),
                          argument("bias", &dense_options::bias)};
    }
    static constexpr std::array<kind_alias, 1> aliases{{{"dense_no_bias", "bias", 0}}};
    static constexpr layer_output output(const options& o, const sample_dims& in) {
        if (in.is_image()) return layer_output::needs_features();
        if (o.inputs != 0 && o.inputs != in.features_per_step())
            return layer_output::wrong_input_size(o.inputs, in.features_per_step());
        // On a sequence, the same weights act at every step.
        return in.is_sequence() ? sample_dims::sequence(in.steps(), o.units)
                                : sample_dims::features(o.units);
    }
    template <class T>
    static dense_layer<T> make(const options& o, const sample_dims& in) {
        return dense_layer<T>(in.features_per_step(), o.units, o.bias, {}, name);
    }
};

/// nn::dense<Out>: a dense layer with `Out` outputs; its input size is the previous layer's
/// output.
template <std::size_t Out, bool Bias = true>
struct dense_spec : fixed_layer<dense_kind, dense_options{Out, Bias}> {};
template <std::size_t Out>
inline constexpr dense_spec<Out> dense{};
template <std::size_t Out>
inline constexpr dense_spec<Out, false> dense_no_bias{};

/// nn::linear<In, Out>: a dense layer with its input size stated (PyTorch's Linear(in, out)),
/// checked at compile time.
template <std::size_t In, std::size_t Out, bool Bias = true>
struct linear_spec : fixed_layer<dense_kind, dense_options{Out, Bias, In}> {};
template <std::size_t In, std::size_t Out>
inline constexpr linear_spec<In, Out> linear{};

}  // namespace dendrite::inline DENDRITE_TARGET::nn

namespace dendrite::inline DENDRITE_TARGET::nn::detail {
/// The activation of a dense layer without one (an output layer), and the type of a built-in
/// activation such as nn::relu.
using no_activation = std::remove_cvref_t<decltype(fn::identity)>;
template <const auto& Activation>
using activation_type = std::remove_cvref_t<decltype(Activation)>;
}  // namespace dendrite::inline DENDRITE_TARGET::nn::detail

namespace dendrite::inline DENDRITE_TARGET {
// Dense layers without an activation and with the built-in activations most networks use are
// compiled once (src/nn/fused_dense_<type>.cpp); those with a user's own activation are compiled
// in the user's program.
extern template var<float> dense(const var<float>&, const var<float>&, const var<float>&,
                                 nn::detail::no_activation);
extern template var<float> dense(const var<float>&, const var<float>&, const var<float>&,
                                 nn::detail::activation_type<nn::relu>);
extern template var<float> dense(const var<float>&, const var<float>&, const var<float>&,
                                 nn::detail::activation_type<nn::leaky_relu>);
extern template var<float> dense(const var<float>&, const var<float>&, const var<float>&,
                                 nn::detail::activation_type<nn::elu>);
extern template var<float> dense(const var<float>&, const var<float>&, const var<float>&,
                                 nn::detail::activation_type<nn::gelu>);
extern template var<float> dense(const var<float>&, const var<float>&, const var<float>&,
                                 nn::detail::activation_type<nn::sigmoid>);
extern template var<float> dense(const var<float>&, const var<float>&, const var<float>&,
                                 nn::detail::activation_type<nn::tanh>);
extern template var<float> dense(const var<float>&, const var<float>&, const var<float>&,
                                 nn::detail::activation_type<nn::silu>);
extern template var<double> dense(const var<double>&, const var<double>&, const var<double>&,
                                  nn::detail::no_activation);
extern template var<double> dense(const var<double>&, const var<double>&, const var<double>&,
                                  nn::detail::activation_type<nn::relu>);
extern template var<double> dense(const var<double>&, const var<double>&, const var<double>&,
                                  nn::detail::activation_type<nn::leaky_relu>);
extern template var<double> dense(const var<double>&, const var<double>&, const var<double>&,
                                  nn::detail::activation_type<nn::elu>);
extern template var<double> dense(const var<double>&, const var<double>&, const var<double>&,
                                  nn::detail::activation_type<nn::gelu>);
extern template var<double> dense(const var<double>&, const var<double>&, const var<double>&,
                                  nn::detail::activation_type<nn::sigmoid>);
extern template var<double> dense(const var<double>&, const var<double>&, const var<double>&,
                                  nn::detail::activation_type<nn::tanh>);
extern template var<double> dense(const var<double>&, const var<double>&, const var<double>&,
                                  nn::detail::activation_type<nn::silu>);
}  // namespace dendrite::inline DENDRITE_TARGET
