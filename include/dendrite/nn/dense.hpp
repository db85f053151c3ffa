#pragma once
// The dense (fully connected) layer, fused with the activation that follows it.

#include <string>
#include <type_traits>

#include "dendrite/autodiff/dense.hpp"
#include "dendrite/autodiff/leaves.hpp"
#include "dendrite/autodiff/matmul.hpp"
#include "dendrite/config.hpp"
#include "dendrite/nn/activations.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/nn/init.hpp"
#include "dendrite/nn/parameter.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

template <class F>
struct default_init {
    static constexpr init::scheme value = init::scheme::glorot_uniform;
};
// He initialisation keeps the variance of ReLU-family layers' activations constant with depth.
template <>
struct default_init<std::remove_cvref_t<decltype(fn::relu)>> {
    static constexpr init::scheme value = init::scheme::he_uniform;
};
template <>
struct default_init<leaky_relu_fn> {
    static constexpr init::scheme value = init::scheme::he_uniform;
};
template <>
struct default_init<std::remove_cvref_t<decltype(fn::selu)>> {
    static constexpr init::scheme value = init::scheme::lecun_normal;
};
// A fused layer's Act is the nn::activation object (nn::relu wraps fn::relu): its function decides.
template <class F>
struct default_init<activation<F>> : default_init<F> {};

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

    const Act& activation() const noexcept { return act_; }
    const std::string& activation_name() const noexcept { return activation_name_; }

    std::size_t in_features() const noexcept { return weight.value.dim(0); }
    std::size_t out_features() const noexcept { return weight.value.dim(1); }

    var<T> forward(const context& ctx, const var<T>& x) {
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

/// An element-wise activation as a layer: one fused tape node.
template <class T, class F>
class activation_layer {
  public:
    using value_type = T;
    explicit activation_layer(F f, std::string name = "activation")
        : f_(f), name_(std::move(name)) {}

    var<T> forward(const context&, const var<T>& x) { return var<T>(f_(x)); }
    void init(rng&) {}
    template <class G>
    void for_each_parameter(G&&) {}
    std::string describe() const { return name_; }
    const F& function() const noexcept { return f_; }
    const std::string& name() const noexcept { return name_; }

  private:
    [[no_unique_address]] F f_;
    std::string name_;
};

}  // namespace dendrite::inline DENDRITE_TARGET::nn
