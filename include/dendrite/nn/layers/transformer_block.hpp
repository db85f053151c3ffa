#pragma once
// A pre-layer-norm transformer block (Xiong et al. 2020; GPT-2's arrangement): attention and a
// GELU MLP, each behind a layer norm and around a residual. Composed from layers built only from
// differentiable primitives; no gradient code.

#include <cstddef>
#include <string>
#include <tuple>

#include "dendrite/config.hpp"
#include "dendrite/nn/activations.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/nn/kind.hpp"
#include "dendrite/nn/layers/attention.hpp"
#include "dendrite/nn/layers/dense.hpp"
#include "dendrite/nn/layers/layer_norm.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// x [batch, time, dim] -> [batch, time, dim]:
///
///     x = x + attention(layer_norm(x))
///     x = x + W_2 gelu(W_1 layer_norm(x) + b_1) + b_2      (W_1: dim -> ff, W_2: ff -> dim)
///
/// The first MLP layer applies GELU in its GEMM's epilogue.
template <class T>
class transformer_block_layer {
  public:
    using value_type = T;
    transformer_block_layer(std::size_t dim, std::size_t heads, std::size_t ff,
                            attention_options options = {}, std::string name = "block")
        : norm1(dim, 1e-5, name + ".ln_1"),
          attention(dim, heads, options, name + ".attn"),
          norm2(dim, 1e-5, name + ".ln_2"),
          expand(dim, ff, true, fn::gelu, name + ".mlp.fc"),
          project(ff, dim, true, {}, name + ".mlp.proj") {}

    var<T> forward(const context& ctx, const var<T>& x) {
        const var<T> mixed = x + attention.forward(ctx, norm1.forward(ctx, x));
        return mixed + project.forward(ctx, expand.forward(ctx, norm2.forward(ctx, mixed)));
    }

    void init(rng& g) {
        norm1.init(g);
        attention.init(g);
        norm2.init(g);
        expand.init(g);
        project.init(g);
    }
    template <class F>
    void for_each_parameter(F&& f) {
        norm1.for_each_parameter(f);
        attention.for_each_parameter(f);
        norm2.for_each_parameter(f);
        expand.for_each_parameter(f);
        project.for_each_parameter(f);
    }
    std::string describe() const {
        return "transformer_block(" + std::to_string(attention.dim()) + ", " +
               std::to_string(attention.heads()) + " heads, ff " +
               std::to_string(expand.out_features()) + ")";
    }

    layer_norm_layer<T> norm1;
    multi_head_attention_layer<T> attention;
    layer_norm_layer<T> norm2;
    dense_layer<T, std::remove_cvref_t<decltype(fn::gelu)>> expand;
    dense_layer<T> project;
};

/// What a transformer block's description sets.
struct transformer_block_options {
    std::size_t heads = 0;
    std::size_t ff = 0;
    bool causal = false;
};

/// "transformer:HEADS:FF[:CAUSAL]", JSON {"type": "transformer", "heads": 4, "ff": 512}: a
/// pre-norm block over a sequence [steps, features], giving the same shape.
struct transformer_block_kind {
    static constexpr const char* name = "transformer";
    using options = transformer_block_options;
    static constexpr auto arguments() {
        return std::tuple{argument("heads", &options::heads).required(),
                          argument("ff", &options::ff).required(),
                          argument("causal", &options::causal)};
    }
    static constexpr layer_output output(const options& o, const sample_dims& in) {
        if (o.ff == 0) return layer_output::bad_options("needs an MLP of at least one unit");
        return detail::attention_output(o.heads, in);
    }
    template <class T>
    static transformer_block_layer<T> make(const options& o, const sample_dims& in) {
        return transformer_block_layer<T>(in.features_per_step(), o.heads, o.ff,
                                          {.causal = o.causal}, name);
    }
};

/// nn::transformer_block<Heads, FF, Causal>: a pre-norm transformer block (attention with Heads
/// heads, a GELU MLP of FF units) over the previous layer's sequence.
template <std::size_t Heads, std::size_t FF, bool Causal = false>
struct transformer_block_spec
    : fixed_layer<transformer_block_kind, transformer_block_options{Heads, FF, Causal}> {};
template <std::size_t Heads, std::size_t FF, bool Causal = false>
inline constexpr transformer_block_spec<Heads, FF, Causal> transformer_block{};

}  // namespace dendrite::inline DENDRITE_TARGET::nn
