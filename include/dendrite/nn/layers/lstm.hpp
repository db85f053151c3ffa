#pragma once
// Long short-term memory (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al.
// 2000), unrolled over time on one tape and written only from differentiable primitives.

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "dendrite/autodiff/matmul.hpp"
#include "dendrite/autodiff/shape_ops.hpp"
#include "dendrite/config.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/nn/kind.hpp"
#include "dendrite/nn/layers/recurrent.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// x [batch, time, in] -> h [batch, time, hidden], PyTorch's gate order and equations:
///
///     i, f, g, o = split(x_t W_ih + b_ih + h_{t-1} W_hh + b_hh)
///     c_t = sigmoid(f) c_{t-1} + sigmoid(i) tanh(g)
///     h_t = sigmoid(o) tanh(c_t)
///
/// The input projection of every step is one GEMM; each step then costs one GEMM of h and two
/// fused element-wise nodes (the cell update and the output).
template <class T>
class lstm_layer : public recurrent_weights<T> {
  public:
    lstm_layer(std::size_t in, std::size_t hidden, std::string name = "lstm")
        : recurrent_weights<T>(in, hidden, 4, "lstm", std::move(name)) {}

    var<T> forward(const context& ctx, const var<T>& x) { return run(ctx, x, {}).first; }

    /// The outputs of every step and the state after the last, starting from `state` (zeros
    /// where its vars are empty): what a sampler feeding one step at a time needs.
    std::pair<var<T>, recurrent_state<T>> run(const context& ctx, const var<T>& x,
                                              recurrent_state<T> state) {
        const auto [wih, whh, bih, bhh, B, steps] = this->bind(ctx, x);
        const std::size_t H = this->hidden();
        const var<T> projected = matmul(x, wih) + (bih + bhh);  // [B, time, 4H], one GEMM
        std::vector<var<T>> outputs;
        outputs.reserve(steps);
        for (std::size_t step = 0; step < steps; ++step) {
            var<T> gates = reshape(slice(projected, 1, step, step + 1), shape{B, 4 * H});
            if (state.h.valid()) gates = gates + matmul(state.h, whh);
            const auto [i, f, g, o] = chunk<4>(gates, 1);
            if (state.c.valid())
                state.c = sigmoid(f) * state.c + sigmoid(i) * tanh(g);
            else
                state.c = sigmoid(i) * tanh(g);
            state.h = sigmoid(o) * tanh(state.c);
            outputs.push_back(state.h);
        }
        return {stack(outputs, 1), state};
    }
};

inline constexpr char lstm_kind_name[] = "lstm";
/// "lstm:HIDDEN".
using lstm_kind = recurrent_kind<lstm_layer, lstm_kind_name>;

/// nn::lstm<Hidden>: an LSTM over the previous layer's sequence, giving its Hidden outputs at
/// every step.
template <std::size_t Hidden>
struct lstm_spec : fixed_layer<lstm_kind, recurrent_options{Hidden}> {};
template <std::size_t Hidden>
inline constexpr lstm_spec<Hidden> lstm{};

}  // namespace dendrite::inline DENDRITE_TARGET::nn
