#pragma once
// Embedding: a lookup table of learned vectors indexed by integer ids; and its kind:
// `nn::embedding<96, 64>` in nn::sequential, "embedding:96:64" in a run-time description.

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <tuple>

#include "dendrite/autodiff/indexing.hpp"
#include "dendrite/autodiff/leaves.hpp"
#include "dendrite/autodiff/op_node.hpp"
#include "dendrite/config.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/nn/init.hpp"
#include "dendrite/nn/kind.hpp"
#include "dendrite/nn/parameter.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// Maps ids (held as values of T, each an integer in [0, vocabulary)) to rows of a table
/// [vocabulary, dim]: ids [batch] or [batch, 1] give [batch, dim], a sequence's [batch, time]
/// gives [batch, time, dim]. Written with embedding_lookup: backward scatter-adds into the used
/// rows only. The table starts N(0, 1), as in PyTorch.
template <class T>
class embedding_layer {
  public:
    using value_type = T;
    embedding_layer(std::size_t vocabulary, std::size_t dim, std::string name = "embedding")
        : table(shape{vocabulary, dim}, name + ".weight"), name_(std::move(name)) {}

    var<T> forward(const context& ctx, const var<T>& ids) {
        const shape& s = ids.shape();
        const bool per_sample = s.rank() <= 1 || (s.rank() == 2 && s[1] == 1);
        if (!per_sample && s.rank() != 2)
            throw shape_error(name_ + ": expects ids [batch], [batch, 1] or [batch, time], got " +
                              s.str());
        return lookup(ctx, ids, per_sample ? shape{s.rank() == 0 ? 1 : s[0]} : s);
    }
    /// A sequence's ids [batch, time] give [batch, time, dim] whatever `time` is, 1 included
    /// (where forward would read [batch, 1] as one id per sample).
    var<T> forward_sequence(const context& ctx, const var<T>& ids) {
        if (ids.shape().rank() != 2)
            throw shape_error(name_ + ": expects ids [batch, time], got " + ids.shape().str());
        return lookup(ctx, ids, ids.shape());
    }
    void init(rng& g) { init::fill_normal(table.value, 1.0, g); }
    template <class F>
    void for_each_parameter(F&& f) {
        f(table);
    }
    std::string describe() const {
        return "embedding(" + std::to_string(table.value.dim(0)) + " x " +
               std::to_string(table.value.dim(1)) + ")";
    }

    nn::parameter<T> table;

  private:
    var<T> lookup(const context& ctx, const var<T>& ids, const shape& index_shape) {
        const std::size_t vocab = table.value.dim(0);
        tensor<std::int64_t> index = ctx.tape.acquire_value<std::int64_t>(index_shape);
        const T* id = ids.value().data();
        for (std::size_t i = 0; i < index.size(); ++i) {
            const T v = id[i];
            if (!(v >= 0 && v < static_cast<T>(vocab)) || v != std::floor(v))
                throw std::out_of_range(name_ + ": id " + std::to_string(v) + " at index " +
                                        std::to_string(i) + " is not an integer in [0, " +
                                        std::to_string(vocab) + ")");
            index.data()[i] = static_cast<std::int64_t>(v);
        }
        return embedding_lookup(dendrite::parameter(ctx.tape, table.value, table.grad), index);
    }

    std::string name_;
};

/// What an embedding's description sets.
struct embedding_options {
    std::size_t vocabulary = 0;
    std::size_t dim = 0;
};

/// "embedding:VOCABULARY:DIM", JSON {"type": "embedding", "vocabulary": 96, "dim": 64}: the input
/// is one id per sample (giving [dim]) or a sequence of `steps` ids (giving [steps, dim]).
struct embedding_kind {
    static constexpr const char* name = "embedding";
    using options = embedding_options;
    static constexpr auto arguments() {
        return std::tuple{argument("vocabulary", &options::vocabulary).required(),
                          argument("dim", &options::dim).required()};
    }
    static constexpr layer_output output(const options& o, const sample_dims& in) {
        if (in.is_image() || in.is_sequence()) return layer_output::needs_features();
        // One id per sample gives its vector; ids [steps] give a sequence of vectors.
        if (in.size() == 1) return sample_dims::features(o.dim);
        return sample_dims::sequence(in.size(), o.dim);
    }
    template <class T>
    static embedding_layer<T> make(const options& o, const sample_dims&) {
        return embedding_layer<T>(o.vocabulary, o.dim, "embedding");
    }
};

/// nn::embedding<Vocabulary, Dim>: an embedding of `Vocabulary` ids into `Dim` features.
template <std::size_t Vocabulary, std::size_t Dim>
struct embedding_spec : fixed_layer<embedding_kind, embedding_options{Vocabulary, Dim}> {};
template <std::size_t Vocabulary, std::size_t Dim>
inline constexpr embedding_spec<Vocabulary, Dim> embedding{};

}  // namespace dendrite::inline DENDRITE_TARGET::nn
