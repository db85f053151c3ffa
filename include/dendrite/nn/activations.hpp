#pragma once
// Activations: each is one line of element-wise expression, differentiated by the compiler.
//
// An activation is a generic callable, so the same object runs on a float (to plot it), on a
// tensor (one fused pass), on a var (one fused node, derived backward), and inside the GEMM of a
// dense layer (epilogue forward, operand transform backward). Any user lambda of the same form is
// an activation too: `nn::sequential(..., nn::dense<64>, [](auto x) { return x * sigmoid(x); })`.

#include <tuple>
#include <type_traits>

#include "dendrite/config.hpp"
#include "dendrite/expr/functions.hpp"
#include "dendrite/nn/kind.hpp"

namespace dendrite::inline DENDRITE_TARGET {
struct identity_activation;  // autodiff/dense.hpp
}  // namespace dendrite::inline DENDRITE_TARGET

namespace dendrite::inline DENDRITE_TARGET::nn {

/// An element-wise activation with a printable name, usable as a layer in nn::sequential.
template <class F>
struct activation {
    F f;
    const char* name = "activation";

    /// A function of lanes only stays one inside the wrapper: epilogues call it on lanes, with
    /// no tree per call.
    static constexpr bool acts_on_lanes_only = expr::acts_on_lanes_only<F>;

    template <class X>
    auto operator()(const X& x) const {
        return f(x);
    }
};
template <class F>
activation(F, const char*) -> activation<F>;

namespace fn {
// Plain generic lambdas, kept separate so activations can be composed and wrapped.
inline constexpr auto identity = [](const auto& x) { return x; };
inline constexpr auto relu = [](const auto& x) { return dendrite::relu(x); };
inline constexpr auto sigmoid = [](const auto& x) { return dendrite::sigmoid(x); };
inline constexpr auto tanh = [](const auto& x) { return dendrite::tanh(x); };
inline constexpr auto softplus = [](const auto& x) { return dendrite::softplus(x); };
inline constexpr auto elu = [](const auto& x) { return where(x > 0, x, expm1(x)); };
// Klambauer et al. 2017: the constants that make activations self-normalising.
inline constexpr auto selu = [](const auto& x) {
    return 1.0507009873554805 * where(x > 0, x, 1.6732632423543772 * expm1(x));
};
inline constexpr auto gelu = [](const auto& x) {
    return 0.5 * x * (1.0 + erf(x * 0.7071067811865476));
};
inline constexpr auto gelu_tanh = [](const auto& x) {
    return 0.5 * x * (1.0 + dendrite::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
};
inline constexpr auto softsign = [](const auto& x) { return x / (1.0 + abs(x)); };
inline constexpr auto silu = [](const auto& x) { return x * dendrite::sigmoid(x); };
inline constexpr auto mish = [](const auto& x) {
    return x * dendrite::tanh(dendrite::softplus(x));
};
inline constexpr auto hard_sigmoid = [](const auto& x) {
    return min(max(x * (1.0 / 6.0) + 0.5, 0.0), 1.0);
};
inline constexpr auto hard_swish = [](const auto& x) {
    return x * min(max(x * (1.0 / 6.0) + 0.5, 0.0), 1.0);
};
}  // namespace fn

/// Leaky ReLU with the given negative slope: x for x > 0, slope * x otherwise.
struct leaky_relu_fn {
    double slope = 0.01;
    /// "leaky_relu:SLOPE" in run-time descriptions.
    static constexpr auto arguments() {
        return std::tuple{argument("slope", &leaky_relu_fn::slope)};
    }
    template <class X>
    auto operator()(const X& x) const {
        return where(x > 0, x, slope * x);
    }
};

inline constexpr activation identity{fn::identity, "identity"};
inline constexpr activation relu{fn::relu, "relu"};
inline constexpr activation leaky_relu{leaky_relu_fn{}, "leaky_relu"};
inline constexpr activation elu{fn::elu, "elu"};
inline constexpr activation selu{fn::selu, "selu"};
inline constexpr activation gelu{fn::gelu, "gelu"};
inline constexpr activation gelu_tanh{fn::gelu_tanh, "gelu_tanh"};
inline constexpr activation sigmoid{fn::sigmoid, "sigmoid"};
inline constexpr activation tanh{fn::tanh, "tanh"};
inline constexpr activation softplus{fn::softplus, "softplus"};
inline constexpr activation softsign{fn::softsign, "softsign"};
inline constexpr activation silu{fn::silu, "silu"};
inline constexpr activation swish{fn::silu, "swish"};
inline constexpr activation mish{fn::mish, "mish"};
inline constexpr activation hard_sigmoid{fn::hard_sigmoid, "hard_sigmoid"};
inline constexpr activation hard_swish{fn::hard_swish, "hard_swish"};

/// Leaky ReLU with a chosen slope: `nn::leaky_relu_with(0.2)`.
constexpr activation<leaky_relu_fn> leaky_relu_with(double slope) {
    return {leaky_relu_fn{slope}, "leaky_relu"};
}

/// The built-in activations under the names run-time descriptions use ("relu",
/// "leaky_relu:0.2"; "linear" is the identity, "swish" silu): the one list nn::network finds them
/// in.
constexpr auto builtin_activations() {
    return std::tuple{identity,  activation{fn::identity, "linear"},
                      relu,      leaky_relu,
                      elu,       selu,
                      gelu,      gelu_tanh,
                      sigmoid,   tanh,
                      softplus,  softsign,
                      silu,      swish,
                      mish,      hard_sigmoid,
                      hard_swish};
}

namespace detail {
/// Whether A is the identity in one of its spellings (a layer without an activation).
template <class A>
inline constexpr bool is_identity_activation =
    std::is_same_v<A, identity_activation> ||
    std::is_same_v<A, std::remove_cvref_t<decltype(fn::identity)>> ||
    std::is_same_v<A, activation<std::remove_cvref_t<decltype(fn::identity)>>>;
}  // namespace detail

/// g(f(x)): consecutive element-wise layers fuse into one activation, hence one kernel.
template <class F, class G>
struct composed_fn {
    F f;
    G g;
    template <class X>
    auto operator()(const X& x) const {
        return g(f(x));
    }
};

}  // namespace dendrite::inline DENDRITE_TARGET::nn
