#pragma once
// Multi-head scaled dot-product attention (Vaswani et al. 2017), written only from
// differentiable primitives: batched matmul, permute, the fused masked softmax.

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <tuple>

#include "dendrite/autodiff/leaves.hpp"
#include "dendrite/autodiff/masks.hpp"
#include "dendrite/autodiff/matmul.hpp"
#include "dendrite/autodiff/permute.hpp"
#include "dendrite/autodiff/shape_ops.hpp"
#include "dendrite/autodiff/softmax.hpp"
#include "dendrite/config.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/nn/init.hpp"
#include "dendrite/nn/kind.hpp"
#include "dendrite/nn/parameter.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// What a multi-head attention layer is asked for besides its sizes.
struct attention_options {
    bool causal = false;  ///< position t attends to positions <= t only
    double dropout = 0;   ///< dropout on the attention weights while training
};

/// Self-attention over x [batch, time, dim] with `heads` heads of dim / heads features:
///
///     q, k, v = split(x W_qkv + b_qkv)            (one GEMM of batch x time rows)
///     A = softmax(q k^T / sqrt(d), masked)        (per head: [time, time])
///     y = concat_heads(A v) W_o + b_o
///
/// Projections start Glorot-uniform with zero biases (PyTorch's nn.MultiheadAttention).
template <class T>
class multi_head_attention_layer {
  public:
    using value_type = T;
    multi_head_attention_layer(std::size_t dim, std::size_t heads, attention_options options = {},
                               std::string name = "attention")
        : w_qkv(shape{dim, 3 * dim}, name + ".in_proj_weight"),
          b_qkv(shape{3 * dim}, name + ".in_proj_bias", false),
          w_o(shape{dim, dim}, name + ".out_proj.weight"),
          b_o(shape{dim}, name + ".out_proj.bias", false),
          heads_(heads),
          options_(options),
          name_(std::move(name)) {
        if (heads == 0 || dim % heads != 0)
            throw std::invalid_argument(name_ + ": " + std::to_string(heads) +
                                        " heads do not divide the dimension " +
                                        std::to_string(dim));
        if (!(options.dropout >= 0 && options.dropout < 1))
            throw std::invalid_argument(name_ + ": dropout must be in [0, 1), got " +
                                        std::to_string(options.dropout));
    }

    var<T> forward(const context& ctx, const var<T>& x) {
        const std::size_t D = dim(), H = heads_, d = D / H;
        const shape& s = x.shape();
        if (s.rank() != 3 || s[2] != D)
            throw shape_error(name_ + ": expects [batch, time, " + std::to_string(D) + "], got " +
                              s.str());
        const std::size_t B = s[0], L = s[1];
        tape& t = ctx.tape;
        const auto qkv = split(matmul(x, dendrite::parameter(t, w_qkv.value, w_qkv.grad)) +
                                   dendrite::parameter(t, b_qkv.value, b_qkv.grad),
                               2, {D, D, D});
        auto split_heads = [&](const var<T>& m) {  // [B, L, D] -> [B, H, L, d]
            return permute(reshape(m, shape{B, L, H, d}), {0, 2, 1, 3});
        };
        const var<T> q = split_heads(qkv[0]), k = split_heads(qkv[1]), v = split_heads(qkv[2]);
        const tensor<T> mask = options_.causal ? causal_mask<T>(L) : tensor<T>(shape{1}, T(0));
        var<T> weights = masked_softmax(matmul(q, k, false, true), mask, 3,
                                        1 / std::sqrt(static_cast<double>(d)));
        if (ctx.training && options_.dropout > 0) weights = dropout_of(ctx, weights);
        const var<T> heads_out = permute(matmul(weights, v), {0, 2, 1, 3});  // [B, L, H, d]
        return matmul(reshape(heads_out, shape{B, L, D}),
                      dendrite::parameter(t, w_o.value, w_o.grad)) +
               dendrite::parameter(t, b_o.value, b_o.grad);
    }

    void init(rng& g) {
        init::glorot_uniform(w_qkv.value, g);
        init::glorot_uniform(w_o.value, g);
        b_qkv.value.fill(T(0));
        b_o.value.fill(T(0));
    }
    template <class F>
    void for_each_parameter(F&& f) {
        f(w_qkv);
        f(b_qkv);
        f(w_o);
        f(b_o);
    }
    std::string describe() const {
        return "multi_head_attention(" + std::to_string(dim()) + ", " + std::to_string(heads_) +
               " heads" + (options_.causal ? ", causal" : "") + ")";
    }
    std::size_t dim() const noexcept { return w_o.value.dim(0); }
    std::size_t heads() const noexcept { return heads_; }

    nn::parameter<T> w_qkv, b_qkv, w_o, b_o;

  private:
    var<T> dropout_of(const context& ctx, const var<T>& w) const {
        if (!ctx.random)
            throw std::invalid_argument(name_ +
                                        ": dropout needs a random generator in the context");
        tensor<T> keep = ctx.tape.acquire_value<T>(w.shape());
        const T scale = static_cast<T>(1 / (1 - options_.dropout));
        for (T& m : keep.span())
            m = ctx.random->uniform() < options_.dropout ? T(0) : scale;
        return w * keep;
    }

    std::size_t heads_;
    attention_options options_;
    std::string name_;
};

/// What a multi-head attention's description sets (dropout on the weights is the layer's own
/// option: a spec's options are template arguments, and a double is not one before clang 18).
struct attention_kind_options {
    std::size_t heads = 0;
    bool causal = false;
};

namespace detail {
/// The shape rule of attention and transformer blocks: a sequence to the same sequence, its
/// features split evenly among the heads.
constexpr layer_output attention_output(std::size_t heads, const sample_dims& in) {
    if (heads == 0) return layer_output::bad_options("needs at least one head");
    if (!in.is_sequence()) return layer_output::needs_sequence();
    if (in.features_per_step() % heads != 0)
        return layer_output::bad_options("the heads must divide the features of each step");
    return in;
}
}  // namespace detail

/// "attention:HEADS[:CAUSAL]", JSON {"type": "attention", "heads": 4, "causal": true}:
/// self-attention over a sequence [steps, features].
struct attention_kind {
    static constexpr const char* name = "attention";
    using options = attention_kind_options;
    static constexpr auto arguments() {
        return std::tuple{argument("heads", &options::heads).required(),
                          argument("causal", &options::causal)};
    }
    static constexpr layer_output output(const options& o, const sample_dims& in) {
        return detail::attention_output(o.heads, in);
    }
    template <class T>
    static multi_head_attention_layer<T> make(const options& o, const sample_dims& in) {
        return multi_head_attention_layer<T>(in.features_per_step(), o.heads, {.causal = o.causal},
                                             name);
    }
};

/// nn::multi_head_attention<Heads, Causal>: self-attention with Heads heads over the previous
/// layer's sequence.
template <std::size_t Heads, bool Causal = false>
struct multi_head_attention_spec
    : fixed_layer<attention_kind, attention_kind_options{Heads, Causal}> {};
template <std::size_t Heads, bool Causal = false>
inline constexpr multi_head_attention_spec<Heads, Causal> multi_head_attention{};

}  // namespace dendrite::inline DENDRITE_TARGET::nn
