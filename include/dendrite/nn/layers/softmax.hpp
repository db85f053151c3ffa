#pragma once
// softmax and log_softmax over the features, as layers, and their kinds: `nn::softmax` in
// nn::sequential, "softmax" in a run-time description.

#include <string>
#include <tuple>

#include "dendrite/autodiff/softmax.hpp"
#include "dendrite/config.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/nn/kind.hpp"

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

namespace detail {
/// The kind of softmax (Log = false) or log_softmax (Log = true) as a layer.
template <bool Log>
struct softmax_kind {
    static constexpr const char* name = Log ? "log_softmax" : "softmax";
    struct options {};
    static constexpr std::tuple<> arguments() { return {}; }
    static constexpr layer_output output(const options&, const sample_dims& in) {
        if (in.is_image()) return layer_output::needs_features();
        return in;
    }
    template <class T>
    static softmax_layer<T, Log> make(const options&, const sample_dims&) {
        return {};
    }
};
}  // namespace detail

/// "softmax" and "log_softmax": no arguments.
using softmax_kind = detail::softmax_kind<false>;
using log_softmax_kind = detail::softmax_kind<true>;

/// nn::softmax / nn::log_softmax over the features, as layers.
inline constexpr fixed_layer<softmax_kind, softmax_kind::options{}> softmax{};
inline constexpr fixed_layer<log_softmax_kind, log_softmax_kind::options{}> log_softmax{};

}  // namespace dendrite::inline DENDRITE_TARGET::nn
