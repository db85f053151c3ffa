#pragma once
// From what a user writes in nn::sequential to concrete layers with their sizes known to the
// compiler. A spec that names a kind (nn::dense<256>, nn::conv2d<6, 5>, nn::dropout(0.2), a
// user's own kind) is built by that kind's shape rule and `make`, the same ones nn::network
// uses; combinators, custom layer types and activations are built here.

#include <boost/hana/back.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/unpack.hpp>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "dendrite/config.hpp"
#include "dendrite/nn/activations.hpp"
#include "dendrite/nn/dims.hpp"
#include "dendrite/nn/kind.hpp"
#include "dendrite/nn/layer.hpp"
#include "dendrite/nn/layers/activation.hpp"
#include "dendrite/nn/sequential/combinators.hpp"
#include "dendrite/nn/sequential/diagnostics.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// A layer of a static network with its sizes known to the compiler: In and Out features per
/// sample, and the extents of its output (dims<Out>, or dims<C, H, W> for an image).
template <class Layer, std::size_t In, std::size_t Out, class OutDims = dims<Out>>
struct sized_layer {
    static_assert(OutDims::size == Out);
    static constexpr std::size_t in_features = In;
    static constexpr std::size_t out_features = Out;
    using out_dims = OutDims;
    Layer layer;
};

/// Thrown when a layer's run-time options (a dropout probability, a momentum) are rejected by its
/// kind; the message names the layer's position and kind.
class layer_options_error : public std::invalid_argument {
  public:
    using std::invalid_argument::invalid_argument;
};

namespace detail {

template <class S, class T>
concept custom_layer_spec = layer<S, T> && requires {
    S::in_features;
    S::out_features;
};

template <class S>
concept bare_activation =
    !custom_layer_spec<S, float> && !kind_spec<S> && requires(const S& s, float x) {
    { s(x) } -> std::convertible_to<double>;
};

template <class S>
inline constexpr bool is_activation_spec = false;
template <class F>
inline constexpr bool is_activation_spec<activation<F>> = true;

template <class T, class InDims, class SpecTuple>
auto build_chain(const SpecTuple& specs);

template <class InDims, class Chain>
auto chain_out_dims() {
    if constexpr (decltype(boost::hana::length(std::declval<Chain&>()))::value == 0)
        return InDims{};
    else
        return typename std::remove_cvref_t<decltype(boost::hana::back(
            std::declval<Chain&>()))>::out_dims{};
}
template <class InDims, class Chain>
using chain_out = decltype(chain_out_dims<InDims, Chain>());

/// The shape of concatenated branch outputs (flat: features add up; images: channels add up).
template <class D0, class... D>
auto concat_dims() {
    if constexpr (D0::rank == 3)
        return dims<(D0::extents[0] + ... + D::extents[0]), D0::extents[1], D0::extents[2]>{};
    else
        return dims<(D0::size + ... + D::size)>{};
}

template <class S>
struct as_chain_spec {
    static auto get(const S& s) { return chain(s); }
};
template <class... S>
struct as_chain_spec<chain_spec<S...>> {
    static auto get(const chain_spec<S...>& s) { return s; }
};

// A layer that keeps its input's shape.
template <class L, class D>
using same_shape = sized_layer<L, D::size, D::size, D>;

/// What stands for a layer whose check failed, so that the failed static_assert is the one
/// diagnostic.
template <class T>
struct rejected_layer {
    using value_type = T;
    var<T> forward(const context&, const var<T>& x) { return x; }
    template <class F>
    void for_each_parameter(F&&) {}
};

/// The layer of kind spec `spec` at position Index, receiving samples of shape InDims: the
/// kind's shape rule is evaluated while compiling (a problem is one static_assert), its `make`
/// (or `make_image` for images, when it has one) gives the layer. Run-time options that the
/// compiler could not see are checked by the same rule when the network is built.
template <class T, class InDims, std::size_t Index, kind_spec Spec>
auto build_kind_layer(const Spec& spec) {
    using K = typename Spec::kind;
    constexpr sample_dims in = sample_dims_of<InDims>;
    constexpr layer_output out = K::output(static_options_of<Spec>(), in);
    static_assert(report_layer_output<Index, Spec, InDims>());
    if constexpr (!out.ok()) {
        return same_shape<rejected_layer<T>, InDims>{};
    } else {
        const typename K::options o = options_of(spec);
        if (const layer_output runtime = K::output(o, in); !runtime.ok())
            throw layer_options_error(
                "nn::sequential: layer " + std::to_string(Index) + " '" + K::name +
                "': " + (runtime.message ? runtime.message : "options rejected"));
        using Out = dims_of<out.dims>;
        if constexpr (in.is_image() && requires { K::template make_image<T>(o, in); })
            return sized_layer<decltype(K::template make_image<T>(o, in)), InDims::size, Out::size,
                               Out>{K::template make_image<T>(o, in)};
        else
            return sized_layer<decltype(K::template make<T>(o, in)), InDims::size, Out::size, Out>{
                K::template make<T>(o, in)};
    }
}

/// Branches on one input, joined by concatenation or sum.
template <class T, class InDims, std::size_t Index, class Spec>
auto build_parallel(const Spec& spec) {
    constexpr bool sum = requires {
        []<class... S>(const sum_spec<S...>&) {}(spec);
    };
    return boost::hana::unpack(spec.branches, [&](const auto&... branches) {
        auto make = [&](const auto& branch) {
            using B = std::remove_cvref_t<decltype(branch)>;
            auto layers = build_chain<T, InDims>(as_chain_spec<B>::get(branch).specs);
            return chain_layer<T, decltype(layers)>(std::move(layers));
        };
        using Layer = parallel_layer<T, sum, decltype(make(branches))...>;
        using Outs = branch_outputs<chain_out<
            InDims,
            decltype(build_chain<T, InDims>(
                as_chain_spec<std::remove_cvref_t<decltype(branches)>>::get(branches).specs))>...>;
        return [&]<class D0, class... D>(branch_outputs<D0, D...>) {
            if constexpr (sum) {
                static_assert(check_equal_branches<layer_number<Index>, Outs>::value);
                return sized_layer<Layer, InDims::size, D0::size, D0>{Layer(make(branches)...)};
            } else {
                static_assert(check_concat_branches<layer_number<Index>, Outs>::value);
                using Out = decltype(concat_dims<D0, D...>());
                return sized_layer<Layer, InDims::size, Out::size, Out>{Layer(make(branches)...)};
            }
        }(Outs{});
    });
}

/// The concrete layer for `spec` at position Index, receiving samples of shape InDims.
template <class T, class InDims, std::size_t Index, class Spec>
auto build_layer(const Spec& spec) {
    constexpr std::size_t In = InDims::size;
    if constexpr (kind_spec<Spec>) {
        return build_kind_layer<T, InDims, Index>(spec);
    } else if constexpr (is_activation_spec<Spec>) {
        return same_shape<activation_layer<T, Spec>, InDims>{
            activation_layer<T, Spec>(spec, spec.name)};
    } else if constexpr (requires { []<class... S>(const chain_spec<S...>&) {}(spec); }) {
        auto layers = build_chain<T, InDims>(spec.specs);
        using Out = chain_out<InDims, decltype(layers)>;
        return sized_layer<chain_layer<T, decltype(layers)>, In, Out::size, Out>{
            chain_layer<T, decltype(layers)>(std::move(layers))};
    } else if constexpr (requires { []<class... S>(const residual_spec<S...>&) {}(spec); }) {
        auto layers = build_chain<T, InDims>(spec.specs);
        using Out = chain_out<InDims, decltype(layers)>;
        static_assert(check_input_size<layer_number<Index>, Spec, expects_inputs<Out::size>,
                                       receives_inputs<In>>::value,
                      "nn::residual: the body must give as many features as it receives");
        if constexpr (Out::size == In)
            static_assert(
                check_same_dims<layer_number<Index>, Spec, expects<Out>, receives<InDims>>::value);
        return same_shape<residual_layer<T, decltype(layers)>, InDims>{
            residual_layer<T, decltype(layers)>(std::move(layers))};
    } else if constexpr (requires { spec.branches; }) {
        return build_parallel<T, InDims, Index>(spec);
    } else if constexpr (custom_layer_spec<Spec, T>) {
        static_assert(check_input_size<layer_number<Index>, Spec, expects_inputs<Spec::in_features>,
                                       receives_inputs<In>>::value);
        return sized_layer<Spec, In, Spec::out_features>{spec};
    } else if constexpr (bare_activation<Spec>) {
        return same_shape<activation_layer<T, Spec>, InDims>{
            activation_layer<T, Spec>(spec, "activation")};
    } else {
        static_assert(
            sizeof(Spec) == 0,
            "nn::sequential: an argument is neither a layer spec (nn::dense<N>, nn::dropout(p), "
            "a kind's fixed_layer or valued_layer...), an activation (nn::relu or a lambda over "
            "one argument), nor a layer type with in_features, out_features and forward(const "
            "nn::context&, const var<T>&)");
    }
}

}  // namespace detail

}  // namespace dendrite::inline DENDRITE_TARGET::nn
