#pragma once
// Dropout: zeroes each input with probability p while training, scaling the rest by 1 / (1 - p);
// and its kind: `nn::dropout(0.2)` in nn::sequential, "dropout:0.2" in a run-time description.

#include <cstdio>
#include <stdexcept>
#include <string>
#include <tuple>

#include "dendrite/autodiff/fused.hpp"
#include "dendrite/autodiff/leaves.hpp"
#include "dendrite/config.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/nn/kind.hpp"
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

/// What a dropout's description sets.
struct dropout_options {
    double p = 0.5;
};

/// "dropout:P", JSON {"type": "dropout", "p": 0.2}.
struct dropout_kind {
    static constexpr const char* name = "dropout";
    using options = dropout_options;
    static constexpr auto arguments() { return std::tuple{argument("p", &options::p).required()}; }
    static constexpr layer_output output(const options& o, const sample_dims& in) {
        if (!(o.p >= 0 && o.p < 1))
            return layer_output::bad_options("needs a probability in [0, 1), as in 'dropout:0.2'");
        return in;
    }
    template <class T>
    static dropout_layer<T> make(const options& o, const sample_dims&) {
        return dropout_layer<T>(o.p);
    }
};

/// nn::dropout(p): dropout with probability p (training only).
constexpr valued_layer<dropout_kind> dropout(double p) {
    return {{p}};
}

}  // namespace dendrite::inline DENDRITE_TARGET::nn
