#pragma once
// How nn::sequential fuses element-wise activations into the layer before them: a layer whose
// type offers `with_activation<F>` (a dense layer, a convolution) takes the activation after it
// into its GEMM epilogue, forward and backward; consecutive activations merge into one kernel.

#include <boost/hana/append.hpp>
#include <boost/hana/back.hpp>
#include <boost/hana/drop_back.hpp>
#include <boost/hana/fold_left.hpp>
#include <boost/hana/integral_constant.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/pair.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/unpack.hpp>
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>

#include "dendrite/config.hpp"
#include "dendrite/nn/activations.hpp"
#include "dendrite/nn/layers/activation.hpp"
#include "dendrite/nn/sequential/build.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn::detail {

template <class L>
inline constexpr bool is_activation_layer = false;
template <class T, class F, std::size_t N, class D>
inline constexpr bool is_activation_layer<sized_layer<activation_layer<T, F>, N, N, D>> = true;

/// A layer that can take an element-wise activation into its epilogue.
template <class L>
concept absorbs_activations = requires {
    typename L::template with_activation<identity_activation>;
};

/// `prev` (a sized layer that absorbs activations) taking the activation layer `next` into its
/// epilogue: the first activation as it is, a further one composed with those before.
template <class Prev, class Next>
auto absorb_activation(Prev&& prev, const Next& next) {
    using L = decltype(prev.layer);
    using A = std::remove_cvref_t<decltype(prev.layer.activation())>;
    using F = std::remove_cvref_t<decltype(next.layer.function())>;
    constexpr std::size_t I = Prev::in_features, O = Prev::out_features;
    using D = typename Prev::out_dims;
    if constexpr (is_identity_activation<A>) {
        using LF = typename L::template with_activation<F>;
        return sized_layer<LF, I, O, D>{
            LF(std::move(prev.layer), next.layer.function(), next.layer.name())};
    } else {
        using G = composed_fn<A, F>;
        using LG = typename L::template with_activation<G>;
        std::string label = prev.layer.activation_name() + "+" + next.layer.name();
        const G g{prev.layer.activation(), next.layer.function()};
        return sized_layer<LG, I, O, D>{LG(std::move(prev.layer), g, std::move(label))};
    }
}

/// Appends the layer for `spec` to the layers built so far, fusing an element-wise activation
/// into the layer before it when that layer absorbs activations or is an activation itself.
template <class T, class InDims0, std::size_t Position, class Acc, class Spec>
auto append_layer(Acc acc, const Spec& spec) {
    using in = chain_out<InDims0, Acc>;
    auto next = build_layer<T, in, Position>(spec);
    using Next = decltype(next);
    constexpr std::size_t count = decltype(boost::hana::length(acc))::value;
    if constexpr (count > 0 && is_activation_layer<Next>) {
        using Prev = std::remove_cvref_t<decltype(boost::hana::back(acc))>;
        auto& prev = boost::hana::back(acc);
        if constexpr (absorbs_activations<decltype(prev.layer)>) {
            return boost::hana::append(boost::hana::drop_back(std::move(acc)),
                                       absorb_activation(std::move(prev), next));
        } else if constexpr (is_activation_layer<Prev>) {
            using F1 = std::remove_cvref_t<decltype(prev.layer.function())>;
            using F2 = std::remove_cvref_t<decltype(next.layer.function())>;
            using G = composed_fn<F1, F2>;
            same_shape<activation_layer<T, G>, in> merged{
                activation_layer<T, G>(G{prev.layer.function(), next.layer.function()},
                                       prev.layer.name() + "+" + next.layer.name())};
            return boost::hana::append(boost::hana::drop_back(std::move(acc)), std::move(merged));
        } else {
            return boost::hana::append(std::move(acc), std::move(next));
        }
    } else {
        return boost::hana::append(std::move(acc), std::move(next));
    }
}

/// The layers for `specs` on samples of shape InDims, activations fused.
template <class T, class InDims, class SpecTuple>
auto build_chain(const SpecTuple& specs) {
    // Each spec travels with its position in the user's list, for diagnostics.
    auto indexed = boost::hana::unpack(specs, [](const auto&... s) {
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return boost::hana::make_tuple(
                boost::hana::make_pair(boost::hana::size_c<I + 1>, s)...);
        }
        (std::index_sequence_for<decltype(s)...>{});
    });
    return boost::hana::fold_left(
        indexed, boost::hana::make_tuple(), [](auto acc, const auto& entry) {
            constexpr std::size_t position = decltype(+boost::hana::first(entry))::value;
            return append_layer<T, InDims, position>(std::move(acc), boost::hana::second(entry));
        });
}

}  // namespace dendrite::inline DENDRITE_TARGET::nn::detail
