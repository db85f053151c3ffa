#pragma once
// nn::network: a network built at run time, from a string such as
// "dense:256,relu,dropout:0.2,dense:10" or "conv:6:5,relu,maxpool:2,flatten,dense:10", or from a
// JSON description. Its layers come from the same kinds as nn::sequential's (nn/layers.hpp, or a
// user's own through a layer_registry), with every kernel shared: a dense layer or convolution
// still absorbs the activation after it, and gradients are as automatic as theirs.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dendrite/config.hpp"
#include "dendrite/nn/catalog.hpp"
#include "dendrite/nn/description.hpp"
#include "dendrite/nn/kind.hpp"
#include "dendrite/nn/module.hpp"
#include "dendrite/nn/parameter.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

template <class T>
class layer_registry;

template <class T>
class network {
  public:
    using value_type = T;

    /// Builds the layers for samples of shape `sample`: {features}, or {channels, height, width}
    /// for images (what convolutions take), from the kinds of `kinds` (the built-in ones unless
    /// given). Throws network_error naming the layer on an unknown kind, a missing or bad
    /// argument, a layer given the wrong kind of sample (a convolution on features, a dense layer
    /// on images without a flatten), or an empty description.
    network(const shape& sample, const std::vector<layer_description>& layers,
            std::uint64_t seed = 0);
    network(const shape& sample, const std::vector<layer_description>& layers, std::uint64_t seed,
            const layer_registry<T>& kinds);
    network(const shape& sample, std::string_view description, std::uint64_t seed = 0)
        : network(sample, parse_network(description), seed) {}
    network(const shape& sample, std::string_view description, std::uint64_t seed,
            const layer_registry<T>& kinds)
        : network(sample, parse_network(description), seed, kinds) {}
    network(std::size_t in_features, const std::vector<layer_description>& layers,
            std::uint64_t seed = 0)
        : network(shape{in_features}, layers, seed) {}
    network(std::size_t in_features, std::string_view description, std::uint64_t seed = 0)
        : network(shape{in_features}, parse_network(description), seed) {}

    network(network&&) noexcept = default;
    network& operator=(network&&) noexcept = default;

    std::size_t in_features() const noexcept { return in_.size(); }
    std::size_t out_features() const noexcept { return out_.size(); }
    /// The extents of one input / output sample.
    shape input_dims() const;
    shape output_dims() const;

    /// Records the forward pass of [batch, sample...] (or [batch, in_features] rows for an image
    /// network) on `t`.
    var<T> forward(tape& t, const var<T>& x);
    var<T> operator()(tape& t, const var<T>& x) { return forward(t, x); }
    var<T> operator()(tape& t, const tensor<T>& x) { return forward(t, constant(t, x)); }

    void train(bool on = true) noexcept { training_ = on; }
    void eval() noexcept { training_ = false; }
    bool training() const noexcept { return training_; }

    void init(std::uint64_t seed);
    parameter_list<T> parameters();
    void zero_grad();
    std::size_t parameter_count();
    template <class F>
    void for_each_buffer(F&& f) {
        for (auto& m : modules_)
            m->for_each_buffer(f);
    }
    std::string summary();
    /// (what, output size) for the input and every layer: what network pictures draw.
    std::vector<std::pair<std::string, std::size_t>> layer_sizes();
    rng& random() noexcept { return random_; }

    /// Calls f(module<T>&, sample_dims out) for every layer in order.
    template <class F>
    void for_each_layer(F&& f) {
        for (auto& m : modules_)
            f(*m, m->out_dims());
    }

  private:
    std::vector<std::unique_ptr<module<T>>> modules_;
    sample_dims in_, out_;
    rng random_;
    bool training_ = true;
};

extern template class network<float>;
extern template class network<double>;

/// The shape of one sample for `layers` given data of `features` values per sample: {features},
/// or a square one-channel image {1, side, side} when the description starts on images (a
/// convolution or pooling first). Throws network_error when those features are not a square.
shape default_sample_shape(const std::vector<layer_description>& layers, std::size_t features,
                           const layer_catalog& catalog = builtin_catalog());

}  // namespace dendrite::inline DENDRITE_TARGET::nn
