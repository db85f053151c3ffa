#pragma once
// Average pooling over [N, C, H, W] and its kind: `nn::avg_pool2d<2>` in nn::sequential,
// "avgpool:2" in a run-time description.

#include <array>
#include <cstddef>
#include <string>
#include <tuple>

#include "dendrite/autodiff/pooling.hpp"
#include "dendrite/config.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/nn/kind.hpp"
#include "dendrite/nn/layers/pool_window.hpp"
#include "dendrite/tensor/random.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// Average pooling with a square window; `count_include_pad` as in dendrite::avg_pool2d.
template <class T>
class avg_pool2d_layer {
  public:
    using value_type = T;
    explicit avg_pool2d_layer(std::size_t kernel, std::size_t stride = 0, std::size_t padding = 0,
                              bool count_include_pad = true)
        : options_{kernel, stride, padding}, count_include_pad_(count_include_pad) {}

    var<T> forward(const context&, const var<T>& x) {
        return dendrite::avg_pool2d(x, options_, count_include_pad_);
    }
    void init(rng&) {}
    template <class F>
    void for_each_parameter(F&&) {}
    std::string describe() const {
        return "avg_pool2d(" + std::to_string(options_.kernel) + "x" +
               std::to_string(options_.kernel) + ")";
    }

  private:
    pool2d_options options_;
    bool count_include_pad_;
};

/// "avgpool:KERNEL[:STRIDE[:PADDING[:COUNT_INCLUDE_PAD]]]" (also "avg_pool2d"), JSON {"type":
/// "avgpool", "kernel": 3, "stride": 2, "padding": 1, "count_include_pad": false}.
struct avg_pool2d_kind {
    static constexpr const char* name = "avgpool";
    using options = pool_kind_options;
    static constexpr auto arguments() {
        return std::tuple_cat(
            detail::pool_arguments(),
            std::tuple{argument("count_include_pad", &pool_kind_options::count_include_pad)});
    }
    static constexpr std::array<kind_alias, 1> aliases{{{"avg_pool2d"}}};
    static constexpr layer_output output(const options& o, const sample_dims& in) {
        return detail::pool_output(o, in);
    }
    template <class T>
    static avg_pool2d_layer<T> make(const options& o, const sample_dims&) {
        return avg_pool2d_layer<T>(o.kernel, o.stride, o.padding, o.count_include_pad);
    }
};

/// nn::avg_pool2d<Kernel, Options>: `nn::avg_pool2d<2>`,
/// `nn::avg_pool2d<3, nn::pool_options{.stride = 1, .padding = 1, .count_include_pad = false}>`.
template <std::size_t Kernel, pool_options Options = pool_options{}>
struct avg_pool2d_spec
    : fixed_layer<avg_pool2d_kind, pool_kind_options{Kernel, Options.stride, Options.padding,
                                                     Options.count_include_pad}> {};
template <std::size_t Kernel, pool_options Options = pool_options{}>
inline constexpr avg_pool2d_spec<Kernel, Options> avg_pool2d{};

}  // namespace dendrite::inline DENDRITE_TARGET::nn
