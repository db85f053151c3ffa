#pragma once
// Positional encodings for sequences [batch, time, dim]: the fixed sinusoids of Vaswani et al.
// 2017 and learned per-position vectors (GPT-2), each added to the input.

#include <cmath>
#include <cstddef>
#include <string>
#include <tuple>

#include "dendrite/autodiff/leaves.hpp"
#include "dendrite/autodiff/shape_ops.hpp"
#include "dendrite/config.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/nn/init.hpp"
#include "dendrite/nn/kind.hpp"
#include "dendrite/nn/parameter.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// [length, dim] with PE(p, 2i) = sin(p / 10000^(2i / dim)), PE(p, 2i + 1) = cos(the same).
template <class T>
tensor<T> sinusoidal_positions(std::size_t length, std::size_t dim) {
    tensor<T> pe(shape{length, dim}, T(0));
    for (std::size_t p = 0; p < length; ++p)
        for (std::size_t i = 0; i < dim; ++i) {
            const double angle =
                static_cast<double>(p) /
                std::pow(10000.0, static_cast<double>(i - i % 2) / static_cast<double>(dim));
            pe(p, i) = static_cast<T>(i % 2 == 0 ? std::sin(angle) : std::cos(angle));
        }
    return pe;
}

/// Adds a position's vector to every position of x [batch, time, dim], time <= max_length:
/// learned vectors (starting N(0, 0.02), as GPT-2's) or fixed sinusoids (no parameters).
template <class T>
class positional_encoding_layer {
  public:
    using value_type = T;
    enum class kind { learned, sinusoidal };

    positional_encoding_layer(std::size_t max_length, std::size_t dim, kind k = kind::learned,
                              std::string name = "positions")
        : table(shape{k == kind::learned ? max_length : 0, dim}, name + ".weight", false),
          fixed_(k == kind::sinusoidal ? sinusoidal_positions<T>(max_length, dim)
                                       : tensor<T>(shape{0, dim}, T(0))),
          max_length_(max_length),
          name_(std::move(name)) {}

    var<T> forward(const context& ctx, const var<T>& x) {
        const shape& s = x.shape();
        const std::size_t dim = table.value.dim(1);
        if (s.rank() != 3 || s[2] != dim || s[1] > max_length_)
            throw shape_error(name_ + ": expects [batch, time <= " + std::to_string(max_length_) +
                              ", " + std::to_string(dim) + "], got " + s.str());
        if (table.value.dim(0) == 0) return x + fixed_.rows(0, s[1]);
        return x + slice(dendrite::parameter(ctx.tape, table.value, table.grad), 0, 0, s[1]);
    }
    void init(rng& g) {
        if (table.value.size()) init::fill_normal(table.value, 0.02, g);
    }
    template <class F>
    void for_each_parameter(F&& f) {
        if (table.value.size()) f(table);
    }
    std::string describe() const {
        return std::string(table.value.dim(0) ? "learned" : "sinusoidal") + "_positions(" +
               std::to_string(max_length_) + " x " + std::to_string(table.value.dim(1)) + ")";
    }

    nn::parameter<T> table;

  private:
    tensor<T> fixed_;
    std::size_t max_length_;
    std::string name_;
};

/// What a positional encoding's description sets.
struct positions_options {
    bool learned = true;
};

/// "positions[:LEARNED]", JSON {"type": "positions", "learned": false}: adds learned vectors
/// (1, the default) or sinusoids (0) to a sequence [steps, features], one per step.
struct positions_kind {
    static constexpr const char* name = "positions";
    using options = positions_options;
    static constexpr auto arguments() { return std::tuple{argument("learned", &options::learned)}; }
    static constexpr layer_output output(const options&, const sample_dims& in) {
        if (!in.is_sequence()) return layer_output::needs_sequence();
        return in;
    }
    template <class T>
    static positional_encoding_layer<T> make(const options& o, const sample_dims& in) {
        using kind = typename positional_encoding_layer<T>::kind;
        return positional_encoding_layer<T>(in.steps(), in.features_per_step(),
                                            o.learned ? kind::learned : kind::sinusoidal, name);
    }
};

/// nn::learned_positions and nn::sine_positions: a position's vector added at every step.
inline constexpr fixed_layer<positions_kind, positions_options{true}> learned_positions{};
inline constexpr fixed_layer<positions_kind, positions_options{false}> sine_positions{};

}  // namespace dendrite::inline DENDRITE_TARGET::nn
