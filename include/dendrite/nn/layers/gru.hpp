#pragma once
// Gated recurrent unit (Cho et al. 2014), unrolled over time on one tape and written only from
// differentiable primitives.

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
///     r = sigmoid(x_r + h_r),  z = sigmoid(x_z + h_z),  n = tanh(x_n + r h_n)
///     h_t = (1 - z) n + z h_{t-1}
///
/// where x_* = x_t W_ih + b_ih and h_* = h_{t-1} W_hh + b_hh, split in three. The input
/// projection of every step is one GEMM; each step then costs one GEMM of h and ONE fused
/// element-wise node for all three gates and the update.
template <class T>
class gru_layer : public recurrent_weights<T> {
  public:
    gru_layer(std::size_t in, std::size_t hidden, std::string name = "gru")
        : recurrent_weights<T>(in, hidden, 3, "gru", std::move(name)) {}

    var<T> forward(const context& ctx, const var<T>& x) { return run(ctx, x, {}).first; }

    /// The outputs of every step and the state after the last (only h), starting from `state`.
    std::pair<var<T>, recurrent_state<T>> run(const context& ctx, const var<T>& x,
                                              recurrent_state<T> state) {
        const auto [wih, whh, bih, bhh, B, steps] = this->bind(ctx, x);
        const std::size_t H = this->hidden();
        const var<T> projected = matmul(x, wih) + bih;  // [B, time, 3H], one GEMM
        std::vector<var<T>> outputs;
        outputs.reserve(steps);
        for (std::size_t step = 0; step < steps; ++step) {
            const auto xg =
                chunk<3>(reshape(slice(projected, 1, step, step + 1), shape{B, 3 * H}), 1);
            // With no previous state, h W_hh + b_hh is the bias alone (broadcast over the batch).
            const auto hg =
                state.h.valid() ? chunk<3>(matmul(state.h, whh) + bhh, 1) : chunk<3>(bhh, 0);
            const auto z = sigmoid(xg[1] + hg[1]);
            const auto n = tanh(xg[2] + sigmoid(xg[0] + hg[0]) * hg[2]);
            if (state.h.valid())
                state.h = (1 - z) * n + z * state.h;
            else
                state.h = (1 - z) * n;
            outputs.push_back(state.h);
        }
        return {stack(outputs, 1), state};
    }
};

inline constexpr char gru_kind_name[] = "gru";
/// "gru:HIDDEN".
using gru_kind = recurrent_kind<gru_layer, gru_kind_name>;

/// nn::gru<Hidden>: a GRU over the previous layer's sequence.
template <std::size_t Hidden>
struct gru_spec : fixed_layer<gru_kind, recurrent_options{Hidden}> {};
template <std::size_t Hidden>
inline constexpr gru_spec<Hidden> gru{};

}  // namespace dendrite::inline DENDRITE_TARGET::nn
