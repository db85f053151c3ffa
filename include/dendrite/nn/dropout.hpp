#pragma once
// Dropout: zeroes each input with probability p while training, scaling the rest by 1 / (1 - p).

#include <cstdio>
#include <stdexcept>
#include <string>

#include "dendrite/autodiff/fused.hpp"
#include "dendrite/autodiff/leaves.hpp"
#include "dendrite/config.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/nn/parameter.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// Inverted dropout (Srivastava et al. 2014): the identity when evaluating. The mask is drawn
/// from the context's generator into a tape buffer and applied as one fused node, whose
/// derivative (the mask itself) is derived.
template <class T>
class dropout_layer {
  public:
    using value_type = T;
    explicit dropout_layer(double p) : p_(p) {
        if (!(p >= 0 && p < 1))
            throw std::invalid_argument("dropout: probability must be in [0, 1), got " +
                                        std::to_string(p));
    }

    var<T> forward(const context& ctx, const var<T>& x) {
        if (!ctx.training || p_ == 0) return x;
        if (!ctx.random)
            throw std::invalid_argument(
                "dropout: training needs a random generator in the context");
        tensor<T> mask = ctx.tape.acquire_value<T>(x.shape());
        const T keep = static_cast<T>(1 / (1 - p_));
        for (T& m : mask.span())
            m = ctx.random->uniform() < p_ ? T(0) : keep;
        return var<T>(x * mask);
    }
    void init(rng&) {}
    template <class F>
    void for_each_parameter(F&&) {}
    std::string describe() const {
        char buf[32];
        std::snprintf(buf, sizeof buf, "dropout(%g)", p_);
        return buf;
    }
    double probability() const noexcept { return p_; }

  private:
    double p_;
};

}  // namespace dendrite::inline DENDRITE_TARGET::nn
