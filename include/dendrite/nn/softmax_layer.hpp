#pragma once
// softmax and log_softmax over the features, as layers.

#include <string>

#include "dendrite/autodiff/softmax.hpp"
#include "dendrite/config.hpp"
#include "dendrite/nn/context.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// softmax (Log = false) or log_softmax (Log = true) of each row of [batch, features]; stable,
/// with the Jacobian-free backward of autodiff/softmax.hpp. End a classifier trained with
/// nll_loss with log_softmax; with softmax_cross_entropy, which takes logits, leave it out.
template <class T, bool Log>
class softmax_layer {
  public:
    using value_type = T;
    var<T> forward(const context&, const var<T>& x) {
        const std::size_t axis = x.shape().rank() - 1;
        if constexpr (Log)
            return dendrite::log_softmax(x, axis);
        else
            return dendrite::softmax(x, axis);
    }
    template <class F>
    void for_each_parameter(F&&) {}
    void init(rng&) {}
    std::string describe() const { return Log ? "log_softmax" : "softmax"; }
};

}  // namespace dendrite::inline DENDRITE_TARGET::nn
