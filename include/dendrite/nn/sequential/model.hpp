#pragma once
// nn::sequential: a network written as a list of layers and activations, composed at compile
// time (Boost.Hana). Layer sizes are resolved and checked by the compiler; a dense layer or
// convolution absorbs the element-wise activations after it (one GEMM with a fused epilogue
// forward and a fused derivative backward), and consecutive activations merge into one kernel.

#include <boost/hana/back.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/tuple.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "dendrite/autodiff/leaves.hpp"
#include "dendrite/autodiff/shape_ops.hpp"
#include "dendrite/config.hpp"
#include "dendrite/nn/dims.hpp"
#include "dendrite/nn/kind.hpp"
#include "dendrite/nn/layer.hpp"
#include "dendrite/nn/layer_list.hpp"
#include "dendrite/nn/sequential/fusion.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// The network's input, the extents of one sample: input<784> for features, input<1, 28, 28> for
/// [channels, height, width] images.
template <std::size_t... Dims>
struct input_spec {
    static constexpr std::size_t features = (Dims * ... * 1);
};
template <std::size_t... Dims>
inline constexpr input_spec<Dims...> input{};

/// A network whose structure is a type: layers held in a hana::tuple, sizes checked at compile
/// time. Owns its parameters; records its forward pass on a tape.
template <class T, class InDims, class Layers>
class sequential_model {
    static constexpr std::size_t In = InDims::size;

  public:
    using value_type = T;
    /// The extents of one input sample: dims<784>, dims<1, 28, 28>.
    using input_dims = InDims;
    using output_dims = detail::chain_out<InDims, Layers>;
    static constexpr std::size_t in_features = In;
    static constexpr std::size_t out_features =
        std::remove_cvref_t<decltype(boost::hana::back(std::declval<Layers&>()))>::out_features;
    static constexpr std::size_t layer_count =
        decltype(boost::hana::length(std::declval<Layers&>()))::value;

    explicit sequential_model(Layers layers, std::uint64_t seed = 0)
        : layers_(std::move(layers)), random_(seed) {
        detail::name_parameters<T>(*this);
        init(seed);
    }

    /// Re-initialises every parameter from `seed` (and reseeds dropout's generator).
    void init(std::uint64_t seed) {
        rng g(seed);
        boost::hana::for_each(layers_, [&](auto& l) { init_layer(l.layer, g); });
        random_.reseed(seed ^ 0xD1B54A32D192ED03ull);
    }

    /// Records the forward pass of a batch on `t`: [batch, input dims...], or [batch, in_features]
    /// for an image network (the rows are then viewed as images).
    var<T> forward(tape& t, const var<T>& x) {
        if (x.shape().rank() < 1 || x.size() != x.shape()[0] * In)
            throw shape_error("sequential: expects input " + expected_input() + ", got " +
                              x.shape().str());
        const context ctx{t, training_, &random_};
        var<T> v = x;
        if constexpr (InDims::rank > 1)
            if (x.shape() != InDims::batched(x.shape()[0]))
                v = reshape(x, InDims::batched(x.shape()[0]));
        boost::hana::for_each(layers_, [&](auto& l) { v = l.layer.forward(ctx, v); });
        return v;
    }
    var<T> operator()(tape& t, const var<T>& x) { return forward(t, x); }
    /// Forward from a plain tensor (the input becomes a constant on the tape).
    var<T> operator()(tape& t, const tensor<T>& x) { return forward(t, constant(t, x)); }

    /// Training mode (dropout on, batch statistics) or evaluation mode.
    void train(bool on = true) noexcept { training_ = on; }
    void eval() noexcept { training_ = false; }
    bool training() const noexcept { return training_; }

    /// Every parameter, in layer order; the tensors are shared with the layers.
    parameter_list<T> parameters() { return detail::parameters_of<T>(*this); }
    /// Calls f(name, tensor&) for non-trained state (running statistics).
    template <class F>
    void for_each_buffer(F&& f) {
        boost::hana::for_each(layers_, [&](auto& l) {
            if constexpr (requires { l.layer.for_each_buffer(f); }) l.layer.for_each_buffer(f);
        });
    }
    void zero_grad() {
        for_each_layer([](auto& layer, const sample_dims&) {
            nn::for_each_parameter(layer, [](auto& p) { p.zero_grad(); });
        });
    }
    std::size_t parameter_count() { return detail::parameter_count_of<T>(*this); }

    /// One line per layer: what it is and its output size ([C, H, W] for images).
    std::string summary() { return detail::summary_of<T>(*this, sample_dims_of<InDims>); }

    /// (what, output size) for the input and every layer: what network pictures draw.
    std::vector<std::pair<std::string, std::size_t>> layer_sizes() {
        return detail::layer_sizes_of(*this, sample_dims_of<InDims>);
    }

    /// Calls f(layer, sample_dims out) for every layer in order.
    template <class F>
    void for_each_layer(F&& f) {
        boost::hana::for_each(layers_, [&](auto& l) {
            f(l.layer, sample_dims_of<typename std::remove_cvref_t<decltype(l)>::out_dims>);
        });
    }

    Layers& layers() noexcept { return layers_; }
    rng& random() noexcept { return random_; }

  private:
    static std::string expected_input() {
        return "[batch, " +
               (InDims::rank == 1 ? std::to_string(In) + "]" : InDims::str().substr(1));
    }

    Layers layers_;
    rng random_;
    bool training_ = true;
};

/// Builds a network of value type T: `nn::sequential_of<double>(nn::input<4>, nn::dense<8>,
/// nn::tanh, ...)`.
template <class T, std::size_t... Dims, class... Specs>
auto sequential_of(input_spec<Dims...>, const Specs&... specs) {
    using in = dims<Dims...>;
    auto layers = detail::build_chain<T, in>(boost::hana::make_tuple(specs...));
    static_assert(sizeof...(Specs) > 0, "nn::sequential: give at least one layer after the input");
    return sequential_model<T, in, decltype(layers)>(std::move(layers));
}

/// Builds a float network: `auto net = nn::sequential(nn::input<784>, nn::dense<256>, nn::relu,
/// nn::dense<10>);`.
template <std::size_t... Dims, class... Specs>
auto sequential(input_spec<Dims...> in, const Specs&... specs) {
    return sequential_of<float>(in, specs...);
}

}  // namespace dendrite::inline DENDRITE_TARGET::nn
