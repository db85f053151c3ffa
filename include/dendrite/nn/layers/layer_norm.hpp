#pragma once
// Layer normalisation over features, composed from differentiable ops so its backward pass is
// derived, and its kind: `nn::layer_norm` in nn::sequential, "layer_norm" in a run-time
// description.

#include <string>
#include <tuple>

#include "dendrite/autodiff/fused.hpp"
#include "dendrite/autodiff/leaves.hpp"
#include "dendrite/autodiff/reductions.hpp"
#include "dendrite/config.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/nn/kind.hpp"
#include "dendrite/nn/parameter.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// Layer normalisation (Ba et al. 2016) of [batch, features] or [batch, time, features]: each
/// sample (each position of a sequence) normalised by the mean and variance of its features, then
/// y = gamma x_hat + beta; identical in training and evaluation.
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
        const std::size_t r = x.shape().rank();
        if (r < 2 || x.shape()[r - 1] != gamma.size())
            throw shape_error(name_ + ": expects [batch, " + std::to_string(gamma.size()) +
                              "] or [batch, time, " + std::to_string(gamma.size()) + "], got " +
                              x.shape().str());
        const auto g = dendrite::parameter(ctx.tape, gamma.value, gamma.grad);
        const auto b = dendrite::parameter(ctx.tape, beta.value, beta.grad);
        const var<T> centered = x - mean(x, r - 1, true);
        const auto variance = mean(square(centered), r - 1, true);
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

/// What a layer normalisation's description sets.
struct layer_norm_options {
    double eps = 1e-5;
};

/// "layer_norm[:EPS]", JSON {"type": "layer_norm", "eps": 1e-5}.
struct layer_norm_kind {
    static constexpr const char* name = "layer_norm";
    using options = layer_norm_options;
    static constexpr auto arguments() { return std::tuple{argument("eps", &options::eps)}; }
    static constexpr layer_output output(const options& o, const sample_dims& in) {
        if (in.is_image()) return layer_output::needs_features();
        if (!(o.eps > 0)) return layer_output::bad_options("eps must be positive");
        return in;
    }
    template <class T>
    static layer_norm_layer<T> make(const options& o, const sample_dims& in) {
        return layer_norm_layer<T>(in.features_per_step(), o.eps, "layer_norm");
    }
};

/// nn::layer_norm: layer normalisation over the previous layer's features;
/// `nn::layer_norm_with({.eps = 1e-6})` sets its epsilon.
inline constexpr valued_layer<layer_norm_kind> layer_norm{};
constexpr valued_layer<layer_norm_kind> layer_norm_with(const layer_norm_options& o) {
    return {o};
}

}  // namespace dendrite::inline DENDRITE_TARGET::nn
