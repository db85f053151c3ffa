#pragma once
// nn::network: a network built at run time, from a string such as
// "dense:256,relu,dropout:0.2,dense:10" or "conv:6:5,relu,maxpool:2,flatten,dense:10", or from a
// JSON description, sharing every kernel of the
// static networks (a dense layer still absorbs the activation after it) and with gradients as
// automatic as theirs.

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "dendrite/config.hpp"
#include "dendrite/nn/module.hpp"
#include "dendrite/nn/parameter.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// Thrown for a network description that cannot be built; names the layer and what is wrong.
class network_error : public std::invalid_argument {
  public:
    using std::invalid_argument::invalid_argument;
};

/// One layer of a description: its kind and its numeric arguments ("dense:256" = {"dense", {256}}).
struct layer_description {
    std::string kind;
    std::vector<double> args;
};

/// Parses "dense:256,relu,dropout:0.2,dense:10" (also accepts spaces and ';').
std::vector<layer_description> parse_network(std::string_view text);

/// Parses a JSON description: {"layers": [{"type": "dense", "units": 256}, {"type": "relu"},
/// {"type": "dropout", "p": 0.2}, ...]} or a bare array of such objects. Argument keys: dense
/// "units" (and "bias": false), dropout "p", leaky_relu "slope", batch_norm "momentum", "eps",
/// layer_norm "eps", conv "filters", "kernel", "stride", "padding", "dilation", "groups" (and
/// "bias": false), maxpool and avgpool "kernel", "stride", "padding".
std::vector<layer_description> parse_network_json(std::string_view json_text);

/// Whether a description starts on images: a convolution or pooling comes before any layer that
/// works on features (dense, flatten, ...). Such a network is built for [channels, height, width].
bool starts_on_images(const std::vector<layer_description>& layers);

/// The kinds a description may use, for help texts.
std::string network_layer_kinds();

template <class T>
class network {
  public:
    using value_type = T;

    /// Builds the layers for samples of shape `sample`: {features}, or {channels, height, width}
    /// for images (what convolutions take). Throws network_error naming the layer on an unknown
    /// kind, a missing or bad argument, a layer given the wrong kind of sample (a convolution on
    /// features, a dense layer on images without a flatten), or an empty description.
    network(const shape& sample, const std::vector<layer_description>& layers,
            std::uint64_t seed = 0);
    network(const shape& sample, std::string_view description, std::uint64_t seed = 0)
        : network(sample, parse_network(description), seed) {}
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
    const shape& input_dims() const noexcept { return in_; }
    const shape& output_dims() const noexcept { return out_; }

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

  private:
    std::vector<std::unique_ptr<module<T>>> modules_;
    shape in_, out_;
    rng random_;
    bool training_ = true;
};

extern template class network<float>;
extern template class network<double>;

}  // namespace dendrite::inline DENDRITE_TARGET::nn
