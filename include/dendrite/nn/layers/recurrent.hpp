#pragma once
// What recurrent layers share: the state carried between steps, and the four weights of a layer
// of `gates` gates, named and initialised as PyTorch's.

#include <cmath>
#include <cstddef>
#include <string>
#include <tuple>
#include <utility>

#include "dendrite/autodiff/leaves.hpp"
#include "dendrite/config.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/nn/init.hpp"
#include "dendrite/nn/kind.hpp"
#include "dendrite/nn/parameter.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// The state a recurrent layer carries from one step to the next: the hidden output h [batch,
/// hidden] and, for an LSTM, the cell c. Empty vars (no node) stand for zeros.
template <class T>
struct recurrent_state {
    var<T> h, c;
};

/// W_ih [in, gates hidden], W_hh [hidden, gates hidden], b_ih and b_hh [gates hidden]
/// (PyTorch's weight_ih_l0 transposed, so a step is x W), each starting
/// U(-1/sqrt(hidden), 1/sqrt(hidden)) as in PyTorch.
template <class T>
class recurrent_weights {
  public:
    using value_type = T;

    /// The weights on a tape, for one sequence x [batch, time, in].
    struct on_tape {
        var<T> w_ih, w_hh, b_ih, b_hh;
        std::size_t batch, steps;
    };

    recurrent_weights(std::size_t in, std::size_t hidden, std::size_t gates, std::string kind,
                      std::string name)
        : w_ih(shape{in, gates * hidden}, name + ".weight_ih"),
          w_hh(shape{hidden, gates * hidden}, name + ".weight_hh"),
          b_ih(shape{gates * hidden}, name + ".bias_ih", false),
          b_hh(shape{gates * hidden}, name + ".bias_hh", false),
          kind_(std::move(kind)),
          name_(std::move(name)) {}

    void init(rng& g) {
        const double bound = 1 / std::sqrt(static_cast<double>(hidden()));
        for (nn::parameter<T>* p : {&w_ih, &w_hh, &b_ih, &b_hh})
            init::fill_uniform(p->value, bound, g);
    }
    template <class F>
    void for_each_parameter(F&& f) {
        f(w_ih);
        f(w_hh);
        f(b_ih);
        f(b_hh);
    }
    std::string describe() const {
        return kind_ + "(" + std::to_string(inputs()) + " -> " + std::to_string(hidden()) + ")";
    }
    std::size_t inputs() const noexcept { return w_ih.value.dim(0); }
    std::size_t hidden() const noexcept { return w_hh.value.dim(0); }

    nn::parameter<T> w_ih, w_hh, b_ih, b_hh;

  protected:
    /// Checks x against the weights and puts them on x's tape.
    on_tape bind(const context& ctx, const var<T>& x) const {
        const shape& s = x.shape();
        if (s.rank() != 3 || s[2] != inputs())
            throw shape_error(name_ + ": expects [batch, time, " + std::to_string(inputs()) +
                              "], got " + s.str());
        if (s[1] == 0) throw shape_error(name_ + ": a sequence of no steps, " + s.str());
        tape& t = ctx.tape;
        return {dendrite::parameter(t, w_ih.value, w_ih.grad),
                dendrite::parameter(t, w_hh.value, w_hh.grad),
                dendrite::parameter(t, b_ih.value, b_ih.grad),
                dendrite::parameter(t, b_hh.value, b_hh.grad),
                s[0],
                s[1]};
    }

  private:
    std::string kind_, name_;
};

/// What a recurrent layer's description sets.
struct recurrent_options {
    std::size_t hidden = 0;
};

/// The kind of recurrent layer `Layer` (lstm_layer, gru_layer), named `Name` in descriptions:
/// "NAME:HIDDEN", JSON {"type": NAME, "hidden": 256}, a sequence [steps, features] to
/// [steps, hidden].
template <template <class> class Layer, const char* Name>
struct recurrent_kind {
    static constexpr const char* name = Name;
    using options = recurrent_options;
    static constexpr auto arguments() {
        return std::tuple{argument("hidden", &options::hidden).required()};
    }
    static constexpr layer_output output(const options& o, const sample_dims& in) {
        if (!in.is_sequence()) return layer_output::needs_sequence();
        return sample_dims::sequence(in.steps(), o.hidden);
    }
    template <class T>
    static Layer<T> make(const options& o, const sample_dims& in) {
        return Layer<T>(in.features_per_step(), o.hidden, name);
    }
};

}  // namespace dendrite::inline DENDRITE_TARGET::nn
