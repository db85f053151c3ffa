#pragma once
// The last step of a sequence: what a sequence classifier reads after a recurrent layer.

#include <cstddef>
#include <string>
#include <tuple>

#include "dendrite/autodiff/shape_ops.hpp"
#include "dendrite/config.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/nn/kind.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// x [batch, steps, features] -> x[:, steps - 1, :] as [batch, features].
template <class T>
class last_step_layer {
  public:
    using value_type = T;
    var<T> forward(const context&, const var<T>& x) const {
        const shape& s = x.shape();
        if (s.rank() != 3 || s[1] == 0)
            throw shape_error("last: expects [batch, steps >= 1, features], got " + s.str());
        return reshape(slice(x, 1, s[1] - 1, s[1]), shape{s[0], s[2]});
    }
    std::string describe() const { return "last"; }
};

struct last_step_options {};

/// "last": a sequence [steps, features] to the features of its last step.
struct last_step_kind {
    static constexpr const char* name = "last";
    using options = last_step_options;
    static constexpr auto arguments() { return std::tuple{}; }
    static constexpr layer_output output(const options&, const sample_dims& in) {
        if (!in.is_sequence()) return layer_output::needs_sequence();
        return sample_dims::features(in.features_per_step());
    }
    template <class T>
    static last_step_layer<T> make(const options&, const sample_dims&) {
        return {};
    }
};

/// nn::last: the last step of the previous layer's sequence.
inline constexpr fixed_layer<last_step_kind, last_step_options{}> last{};

}  // namespace dendrite::inline DENDRITE_TARGET::nn
