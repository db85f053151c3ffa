#pragma once
// Max pooling over [N, C, H, W] and its kind: `nn::max_pool2d<2>` in nn::sequential, "maxpool:2"
// in a run-time description.

#include <array>
#include <cstddef>
#include <string>

#include "dendrite/autodiff/pooling.hpp"
#include "dendrite/config.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/nn/kind.hpp"
#include "dendrite/nn/layers/pool_window.hpp"
#include "dendrite/tensor/random.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// Max pooling with a square window (stride defaults to the window): [N, C, H, W] ->
/// [N, C, OH, OW].
template <class T>
class max_pool2d_layer {
  public:
    using value_type = T;
    explicit max_pool2d_layer(std::size_t kernel, std::size_t stride = 0, std::size_t padding = 0)
        : options_{kernel, stride, padding} {}

    var<T> forward(const context&, const var<T>& x) { return dendrite::max_pool2d(x, options_); }
    void init(rng&) {}
    template <class F>
    void for_each_parameter(F&&) {}
    std::string describe() const {
        return "max_pool2d(" + std::to_string(options_.kernel) + "x" +
               std::to_string(options_.kernel) + ")";
    }

  private:
    pool2d_options options_;
};

/// "maxpool:KERNEL[:STRIDE[:PADDING]]" (also "max_pool2d"), JSON {"type": "maxpool", "kernel": 3,
/// "stride": 2, "padding": 1}.
struct max_pool2d_kind {
    static constexpr const char* name = "maxpool";
    using options = pool_kind_options;
    static constexpr auto arguments() { return detail::pool_arguments(); }
    static constexpr std::array<kind_alias, 1> aliases{{{"max_pool2d"}}};
    static constexpr layer_output output(const options& o, const sample_dims& in) {
        return detail::pool_output(o, in);
    }
    template <class T>
    static max_pool2d_layer<T> make(const options& o, const sample_dims&) {
        return max_pool2d_layer<T>(o.kernel, o.stride, o.padding);
    }
};

/// nn::max_pool2d<Kernel, Options>: `nn::max_pool2d<2>`,
/// `nn::max_pool2d<3, nn::pool_options{.stride = 2, .padding = 1}>`.
template <std::size_t Kernel, pool_options Options = pool_options{}>
struct max_pool2d_spec : fixed_layer<max_pool2d_kind, pool_kind_options{Kernel, Options.stride,
                                                                        Options.padding, true}> {};
template <std::size_t Kernel, pool_options Options = pool_options{}>
inline constexpr max_pool2d_spec<Kernel, Options> max_pool2d{};

}  // namespace dendrite::inline DENDRITE_TARGET::nn
