#pragma once
// Activations with trainable parameters, written as one function of the input and its
// parameters: nn::learnable(f, {init...}), PReLU and Padé activation units.
//
// The layer records f(x, p_0, ..., p_{K-1}) as ONE fused tape node: forward is one pass, and its
// backward, derived from f at compile time, writes dx and reduces every parameter's gradient in
// that same pass (a parameter broadcast over the batch is a leaf the sweep sums into). Its
// second-order rule comes with it (autodiff/hvp.hpp).

#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <utility>

#include "dendrite/autodiff/fused.hpp"
#include "dendrite/autodiff/leaves.hpp"
#include "dendrite/config.hpp"
#include "dendrite/expr/functions.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/nn/kind.hpp"
#include "dendrite/nn/layer.hpp"
#include "dendrite/nn/parameter.hpp"
#include "dendrite/tensor/random.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// y = f(x, p_0, ..., p_{K-1}) element-wise, each p_i one trainable value shared by every input
/// (or, `per_feature`, one per feature, or per channel of an image), starting at init[i].
template <class T, class F, std::size_t K>
class learnable_layer {
  public:
    using value_type = T;

    learnable_layer(F f, const std::array<double, K>& init, const shape& parameter_shape,
                    const std::string& name, const std::array<const char*, K>& names)
        : f_(f), init_(init), name_(name) {
        for (std::size_t i = 0; i < K; ++i)
            params_[i] = parameter<T>(parameter_shape, name + "." + names[i], /*decay=*/false,
                                      static_cast<T>(init[i]));
    }

    var<T> forward(const context& ctx, const var<T>& x) {
        return apply(ctx, x, std::make_index_sequence<K>{});
    }
    void init(rng&) {
        for (std::size_t i = 0; i < K; ++i)
            params_[i].value.fill(static_cast<T>(init_[i]));
    }
    template <class G>
    void for_each_parameter(G&& g) {
        for (auto& p : params_)
            g(p);
    }
    std::string describe() const {
        return name_ + "(" + std::to_string(K) + " x " + std::to_string(params_[0].size()) +
               " parameters)";
    }
    const F& function() const noexcept { return f_; }

  private:
    template <std::size_t... I>
    var<T> apply(const context& ctx, const var<T>& x, std::index_sequence<I...>) {
        const auto p = bind(ctx, params_[I]...);
        return var<T>(f_(x, std::get<I>(p)...));
    }

    [[no_unique_address]] F f_;
    std::array<double, K> init_;
    std::string name_;
    std::array<parameter<T>, K> params_;
};

namespace detail {
/// The shape of a learnable activation's parameters for input `in`: one value, or one per
/// feature ([F]) or per channel of an image ([C, 1, 1], broadcast over the pixels).
inline shape learnable_parameter_shape(bool per_feature, const sample_dims& in) {
    if (!per_feature) return shape{1};
    if (in.is_image()) return shape{in.channels(), 1, 1};
    return shape{in.features_per_step()};  // a sequence's steps share them
}
}  // namespace detail

/// What nn::learnable sets: the function, its parameters' initial values, whether they are per
/// feature, and the stem of their names.
template <class F, std::size_t K>
struct learnable_options {
    F f{};
    std::array<double, K> init{};
    bool per_feature = false;
    const char* name = "learnable";
};

/// A learnable activation's kind, for nn::sequential (nn::learnable makes one).
template <class F, std::size_t K>
struct learnable_kind {
    static constexpr const char* name = "learnable";
    using options = learnable_options<F, K>;
    static constexpr auto arguments() {
        return std::tuple{argument("per_feature", &options::per_feature)};
    }
    static constexpr layer_output output(const options&, const sample_dims& in) { return in; }
    template <class T>
    static learnable_layer<T, F, K> make(const options& o, const sample_dims& in) {
        std::array<const char*, K> names{};
        static const std::array<std::string, K> numbers = [] {
            std::array<std::string, K> s;
            for (std::size_t i = 0; i < K; ++i)
                s[i] = "p" + std::to_string(i);
            return s;
        }();
        for (std::size_t i = 0; i < K; ++i)
            names[i] = numbers[i].c_str();
        return learnable_layer<T, F, K>(
            o.f, o.init, detail::learnable_parameter_shape(o.per_feature, in), o.name, names);
    }
};

/// An activation with K trainable parameters, as one function of the input and them:
/// `nn::learnable([](auto x, auto beta) { return x * sigmoid(beta * x); }, {1.0})` is Swish-beta
/// with beta starting at 1. The parameters are shared by every input unless `per_feature`.
template <class F, std::size_t K>
constexpr valued_layer<learnable_kind<F, K>> learnable(F f, const double (&init)[K],
                                                       bool per_feature = false) {
    learnable_options<F, K> o{f, {}, per_feature};
    for (std::size_t i = 0; i < K; ++i)
        o.init[i] = init[i];
    return {o};
}

// ---- PReLU -----------------------------------------------------------------------------------

/// x for x > 0, a x otherwise (He et al. 2015).
struct prelu_fn {
    template <class X, class A>
    auto operator()(const X& x, const A& a) const {
        return where(x > 0, x, a * x);
    }
};

struct prelu_options {
    bool per_feature = false;
    double init = 0.25;
};

/// "prelu[:PER_FEATURE[:INIT]]", JSON {"type": "prelu", "per_feature": true}: PReLU with one
/// slope (PyTorch's default) or one per feature or channel, starting at 0.25.
struct prelu_kind {
    static constexpr const char* name = "prelu";
    using options = prelu_options;
    static constexpr auto arguments() {
        return std::tuple{argument("per_feature", &options::per_feature),
                          argument("init", &options::init)};
    }
    static constexpr layer_output output(const options&, const sample_dims& in) { return in; }
    template <class T>
    static learnable_layer<T, prelu_fn, 1> make(const options& o, const sample_dims& in) {
        return learnable_layer<T, prelu_fn, 1>(prelu_fn{}, {o.init},
                                               detail::learnable_parameter_shape(o.per_feature, in),
                                               "prelu", {"weight"});
    }
};

/// PReLU with one learnable slope, starting at 0.25.
inline constexpr valued_layer<prelu_kind> prelu{};
/// PReLU with a slope per feature (or channel), or one, starting at `init`.
constexpr valued_layer<prelu_kind> prelu_with(bool per_feature, double init = 0.25) {
    return {{per_feature, init}};
}

// ---- Padé activation units -------------------------------------------------------------------

/// The safe Padé activation unit of orders (M, N) (Molina et al. 2020):
/// P(x) / (1 + |b_1 x + ... + b_N x^N|), P(x) = a_0 + a_1 x + ... + a_M x^M, coefficients
/// a_0..a_M then b_1..b_N. Horner's scheme, so x^k is never formed.
template <std::size_t M, std::size_t N>
struct pade_fn {
    static constexpr std::size_t coefficients = M + 1 + N;

    template <class X, class... C>
    auto operator()(const X& x, const C&... c) const {
        static_assert(sizeof...(C) == coefficients,
                      "pade_fn: takes M + 1 numerator and N denominator coefficients");
        const auto cs = std::tie(c...);
        return horner<0, M>(x, cs) / (1 + abs(x * horner<M + 1, M + N>(x, cs)));
    }

  private:
    // c_I + x (c_{I+1} + x (... + x c_Last)).
    template <std::size_t I, std::size_t Last, class X, class Cs>
    static auto horner(const X& x, const Cs& cs) {
        if constexpr (I == Last)
            return std::get<I>(cs);
        else
            return std::get<I>(cs) + x * horner<I + 1, Last>(x, cs);
    }
};

/// A least-squares fit of leaky ReLU (slope 0.01) on [-3, 3] by a (5, 4) unit, linear in the
/// coefficients once multiplied by the denominator; largest error 0.064. Where the PAU paper
/// starts its units, so that training begins from a known activation.
inline constexpr std::array<double, 10> pau_leaky_relu_init{0.0636733904394686,
                                                            0.505,
                                                            0.9895136498781304,
                                                            0.8072038951738655,
                                                            0.27459291846358547,
                                                            0.035200157439995244,
                                                            0.0,
                                                            1.5984235547997383,
                                                            0.0,
                                                            0.06970328205939658};

struct pau_options {
    bool per_feature = false;
};

/// "pau[:PER_FEATURE]", JSON {"type": "pau"}: a (5, 4) safe Padé activation unit starting at
/// leaky ReLU, its 10 coefficients shared or per feature (channel).
struct pau_kind {
    static constexpr const char* name = "pau";
    using options = pau_options;
    static constexpr auto arguments() {
        return std::tuple{argument("per_feature", &options::per_feature)};
    }
    static constexpr layer_output output(const options&, const sample_dims& in) { return in; }
    template <class T>
    static learnable_layer<T, pade_fn<5, 4>, 10> make(const options& o, const sample_dims& in) {
        return learnable_layer<T, pade_fn<5, 4>, 10>(
            pade_fn<5, 4>{}, pau_leaky_relu_init,
            detail::learnable_parameter_shape(o.per_feature, in), "pau",
            {"a0", "a1", "a2", "a3", "a4", "a5", "b1", "b2", "b3", "b4"});
    }
};

/// A (5, 4) Padé activation unit with shared coefficients, starting at leaky ReLU.
inline constexpr valued_layer<pau_kind> pau{};
/// A (5, 4) Padé activation unit with coefficients per feature (channel) or shared.
constexpr valued_layer<pau_kind> pau_with(bool per_feature) {
    return {{per_feature}};
}

}  // namespace dendrite::inline DENDRITE_TARGET::nn
