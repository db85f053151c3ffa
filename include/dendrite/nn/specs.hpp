#pragma once
// What users write inside nn::sequential: small constexpr descriptions of layers. Sizes that
// follow from the previous layer (a dense layer's input, a norm's features) are not written.

#include <cstddef>

namespace dendrite::nn {

/// The network's input: features per sample (several extents multiply: input<1, 28, 28>).
template <std::size_t... Dims>
struct input_spec {
    static constexpr std::size_t features = (Dims * ... * 1);
};
template <std::size_t... Dims>
inline constexpr input_spec<Dims...> input{};

/// A dense layer with `Out` outputs; its input size is the previous layer's output.
template <std::size_t Out, bool Bias = true>
struct dense_spec {};
template <std::size_t Out>
inline constexpr dense_spec<Out> dense{};
template <std::size_t Out>
inline constexpr dense_spec<Out, false> dense_no_bias{};

/// A dense layer with its input size stated (PyTorch's Linear(in, out)); checked at compile time.
template <std::size_t In, std::size_t Out, bool Bias = true>
struct linear_spec {};
template <std::size_t In, std::size_t Out>
inline constexpr linear_spec<In, Out> linear{};

struct dropout_spec {
    double p;
};
/// Dropout with probability p (training only).
constexpr dropout_spec dropout(double p) { return {p}; }

struct batch_norm_spec {
    double momentum = 0.1;
    double eps = 1e-5;
};
/// Batch normalisation over the previous layer's features.
inline constexpr batch_norm_spec batch_norm{};

struct layer_norm_spec {
    double eps = 1e-5;
};
/// Layer normalisation over the previous layer's features.
inline constexpr layer_norm_spec layer_norm{};

/// An embedding of `Vocabulary` ids into `Dim` features; the input is one id per sample.
template <std::size_t Vocabulary, std::size_t Dim>
struct embedding_spec {};
template <std::size_t Vocabulary, std::size_t Dim>
inline constexpr embedding_spec<Vocabulary, Dim> embedding{};

struct softmax_spec {};
struct log_softmax_spec {};
/// softmax / log_softmax over the features, as a layer.
inline constexpr softmax_spec softmax{};
inline constexpr log_softmax_spec log_softmax{};

/// Flattens [batch, d1, d2, ...] into [batch, d1 * d2 * ...].
struct flatten_spec {};
inline constexpr flatten_spec flatten{};

}  // namespace dendrite::nn

#include <boost/hana/tuple.hpp>

namespace dendrite::nn {

/// Several layers in a row, as one layer (a branch of nn::concat or nn::add).
template <class... Specs>
struct chain_spec {
    boost::hana::tuple<Specs...> specs;
};
template <class... Specs>
constexpr chain_spec<Specs...> chain(const Specs&... specs) {
    return {boost::hana::make_tuple(specs...)};
}

/// x + f(x), f the given layers, which must keep the number of features.
template <class... Specs>
struct residual_spec {
    boost::hana::tuple<Specs...> specs;
};
template <class... Specs>
constexpr residual_spec<Specs...> residual(const Specs&... specs) {
    return {boost::hana::make_tuple(specs...)};
}

/// Parallel branches on the same input, outputs concatenated along the features.
template <class... Branches>
struct concat_spec {
    boost::hana::tuple<Branches...> branches;
};
template <class... Branches>
constexpr concat_spec<Branches...> concat(const Branches&... branches) {
    return {boost::hana::make_tuple(branches...)};
}

/// Parallel branches on the same input, outputs summed (all branches must agree in size).
template <class... Branches>
struct sum_spec {
    boost::hana::tuple<Branches...> branches;
};
template <class... Branches>
constexpr sum_spec<Branches...> add(const Branches&... branches) {
    return {boost::hana::make_tuple(branches...)};
}

}  // namespace dendrite::nn
