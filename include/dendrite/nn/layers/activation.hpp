#pragma once
// An element-wise activation as a layer of its own (one fused tape node), for activations that
// no dense layer or convolution before them absorbs.

#include <string>

#include "dendrite/autodiff/fused.hpp"
#include "dendrite/config.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/tensor/random.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// An element-wise activation as a layer: one fused tape node.
template <class T, class F>
class activation_layer {
  public:
    using value_type = T;
    explicit activation_layer(F f, std::string name = "activation")
        : f_(f), name_(std::move(name)) {}

    var<T> forward(const context&, const var<T>& x) { return var<T>(f_(x)); }
    void init(rng&) {}
    template <class G>
    void for_each_parameter(G&&) {}
    std::string describe() const { return name_; }
    const F& function() const noexcept { return f_; }
    const std::string& name() const noexcept { return name_; }

  private:
    [[no_unique_address]] F f_;
    std::string name_;
};
}  // namespace dendrite::inline DENDRITE_TARGET::nn
