#pragma once
// Global average pooling and its kind: `nn::global_avg_pool2d` in nn::sequential,
// "global_avg_pool2d" in a run-time description.

#include <array>
#include <string>
#include <tuple>

#include "dendrite/autodiff/pooling.hpp"
#include "dendrite/config.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/nn/kind.hpp"
#include "dendrite/tensor/random.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// Global average pooling: the mean of each channel, [N, C, H, W] -> [N, C].
template <class T>
class global_avg_pool2d_layer {
  public:
    using value_type = T;
    var<T> forward(const context&, const var<T>& x) { return dendrite::global_avg_pool2d(x); }
    void init(rng&) {}
    template <class F>
    void for_each_parameter(F&&) {}
    std::string describe() const { return "global_avg_pool2d"; }
};

/// "global_avg_pool2d" (also "globalavgpool"): no arguments.
struct global_avg_pool2d_kind {
    static constexpr const char* name = "global_avg_pool2d";
    struct options {};
    static constexpr std::tuple<> arguments() { return {}; }
    static constexpr std::array<kind_alias, 1> aliases{{{"globalavgpool"}}};
    static constexpr layer_output output(const options&, const sample_dims& in) {
        if (!in.is_image()) return layer_output::needs_image();
        return sample_dims::features(in.channels());
    }
    template <class T>
    static global_avg_pool2d_layer<T> make(const options&, const sample_dims&) {
        return {};
    }
};

/// nn::global_avg_pool2d: [C, H, W] -> [C].
inline constexpr fixed_layer<global_avg_pool2d_kind, global_avg_pool2d_kind::options{}>
    global_avg_pool2d{};

}  // namespace dendrite::inline DENDRITE_TARGET::nn
