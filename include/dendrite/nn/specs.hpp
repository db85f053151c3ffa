#pragma once
// What users write inside nn::sequential: small constexpr descriptions of layers. Sizes that
// follow from the previous layer (a dense layer's input, a norm's features) are not written.

#include <cstddef>

#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// The network's input, the extents of one sample: input<784> for features, input<1, 28, 28> for
/// [channels, height, width] images.
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
constexpr dropout_spec dropout(double p) {
    return {p};
}

struct batch_norm_spec {
    double momentum = 0.1;
    double eps = 1e-5;
};
/// Batch normalisation over the previous layer's features; after a convolution ([C, H, W]), per
/// channel with statistics over the batch and the positions (batch norm 2-d).
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

/// How a convolution slides over its input; written as `nn::conv_options{.stride = 2, .padding =
/// 1}`.
struct conv_options {
    std::size_t stride = 1;
    std::size_t padding = 0;
    std::size_t dilation = 1;
    std::size_t groups = 1;
    bool bias = true;
};

/// A 2-d convolution with `Out` channels and a Kernel x Kernel window over a [C, H, W] input;
/// C comes from the previous layer: `nn::conv2d<16, 3, nn::conv_options{.padding = 1}>`.
template <std::size_t Out, std::size_t Kernel, conv_options Options = conv_options{}>
struct conv2d_spec {};
template <std::size_t Out, std::size_t Kernel, conv_options Options = conv_options{}>
inline constexpr conv2d_spec<Out, Kernel, Options> conv2d{};

/// A pooling window's stride (0: the window's size) and zero padding.
struct pool_options {
    std::size_t stride = 0;
    std::size_t padding = 0;
    /// Average pooling only: whether padded taps count in the divisor.
    bool count_include_pad = true;
};

/// Max / average pooling with a Kernel x Kernel window: `nn::max_pool2d<2>`,
/// `nn::max_pool2d<3, nn::pool_options{.stride = 2, .padding = 1}>`.
template <std::size_t Kernel, pool_options Options = pool_options{}>
struct max_pool2d_spec {};
template <std::size_t Kernel, pool_options Options = pool_options{}>
inline constexpr max_pool2d_spec<Kernel, Options> max_pool2d{};
template <std::size_t Kernel, pool_options Options = pool_options{}>
struct avg_pool2d_spec {};
template <std::size_t Kernel, pool_options Options = pool_options{}>
inline constexpr avg_pool2d_spec<Kernel, Options> avg_pool2d{};

/// The mean of each channel: [C, H, W] -> [C].
struct global_avg_pool2d_spec {};
inline constexpr global_avg_pool2d_spec global_avg_pool2d{};

}  // namespace dendrite::inline DENDRITE_TARGET::nn

#include <boost/hana/tuple.hpp>

namespace dendrite::inline DENDRITE_TARGET::nn {

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

}  // namespace dendrite::inline DENDRITE_TARGET::nn
