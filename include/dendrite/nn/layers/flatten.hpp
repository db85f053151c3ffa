#pragma once
// Flatten: [batch, d1, d2, ...] viewed as [batch, d1 * d2 * ...], the bridge from images to
// dense layers; and its kind: `nn::flatten` in nn::sequential, "flatten" in a run-time description.

#include <string>
#include <tuple>

#include "dendrite/autodiff/shape_ops.hpp"
#include "dendrite/config.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/nn/kind.hpp"
#include "dendrite/tensor/random.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// Reshapes [batch, ...] into [batch, features]: a view, no copy either way.
template <class T>
class flatten_layer {
  public:
    using value_type = T;
    explicit flatten_layer(std::size_t features) : features_(features) {}
    var<T> forward(const context&, const var<T>& x) {
        const std::size_t batch = x.shape().rank() == 0 ? 1 : x.shape()[0];
        return reshape(x, shape{batch, features_});
    }
    template <class F>
    void for_each_parameter(F&&) {}
    void init(rng&) {}
    std::string describe() const { return "flatten(" + std::to_string(features_) + ")"; }

  private:
    std::size_t features_;
};

/// "flatten": no arguments.
struct flatten_kind {
    static constexpr const char* name = "flatten";
    struct options {};
    static constexpr std::tuple<> arguments() { return {}; }
    static constexpr layer_output output(const options&, const sample_dims& in) {
        return sample_dims::features(in.size());
    }
    template <class T>
    static flatten_layer<T> make(const options&, const sample_dims& in) {
        return flatten_layer<T>(in.size());
    }
};

/// nn::flatten: [C, H, W] samples as [C H W] features.
inline constexpr fixed_layer<flatten_kind, flatten_kind::options{}> flatten{};

}  // namespace dendrite::inline DENDRITE_TARGET::nn
