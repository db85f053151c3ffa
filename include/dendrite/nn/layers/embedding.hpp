#pragma once
// Embedding: a lookup table of learned vectors indexed by integer ids; and its kind:
// `nn::embedding<96, 64>` in nn::sequential, "embedding:96:64" in a run-time description.

#include <cmath>
#include <stdexcept>
#include <string>
#include <tuple>

#include "dendrite/autodiff/op_node.hpp"
#include "dendrite/config.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/nn/init.hpp"
#include "dendrite/nn/kind.hpp"
#include "dendrite/nn/parameter.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// Maps ids [batch] (held as values of T, each an integer in [0, vocabulary)) to rows of a table
/// [vocabulary, dim], giving [batch, dim]. Backward scatter-adds into the used rows only.
/// The table starts N(0, 1), as in PyTorch.
template <class T>
class embedding_layer {
  public:
    using value_type = T;
    embedding_layer(std::size_t vocabulary, std::size_t dim, std::string name = "embedding")
        : table(shape{vocabulary, dim}, name + ".weight"), name_(std::move(name)) {}

    var<T> forward(const context& ctx, const var<T>& ids) {
        const std::size_t vocab = table.value.dim(0), dim = table.value.dim(1);
        if (ids.size() != (ids.shape().rank() == 0 ? 1 : ids.shape()[0]))
            throw shape_error(name_ + ": expects one id per sample ([batch] or [batch, 1]), got " +
                              ids.shape().str());
        const std::size_t batch = ids.shape()[0];
        tensor<T> out = ctx.tape.acquire_value<T>(shape{batch, dim});
        const T* id = ids.value().data();
        for (std::size_t i = 0; i < batch; ++i) {
            const T v = id[i];
            if (!(v >= 0 && v < static_cast<T>(vocab)) || v != std::floor(v))
                throw std::out_of_range(name_ + ": id " + std::to_string(v) + " at index " +
                                        std::to_string(i) + " is not an integer in [0, " +
                                        std::to_string(vocab) + ")");
            const T* row = table.value.data() + static_cast<std::size_t>(v) * dim;
            std::copy(row, row + dim, out.data() + i * dim);
        }
        auto w = dendrite::parameter(ctx.tape, table.value, table.grad);
        return record_op(
            ctx.tape, "embedding", out, w.requires_grad(),
            [w, ids, dim](tape& t, const tensor<T>& g) {
                T* dw = w.node().grad_accumulator(t).data();
                const std::size_t batch = ids.shape()[0];
                for (std::size_t i = 0; i < batch; ++i) {
                    T* row = dw + static_cast<std::size_t>(ids.value().data()[i]) * dim;
                    const T* gi = g.data() + i * dim;
                    for (std::size_t j = 0; j < dim; ++j)
                        row[j] += gi[j];
                }
            },
            // Linear in the table: the tangent is the lookup of its tangent.
            linear_in(w, [ids, dim](tape& t, const tensor<T>& dw) {
                const std::size_t batch = ids.shape()[0];
                tensor<T> d = t.acquire_value<T>(shape{batch, dim});
                for (std::size_t i = 0; i < batch; ++i) {
                    const T* row =
                        dw.data() + static_cast<std::size_t>(ids.value().data()[i]) * dim;
                    std::copy(row, row + dim, d.data() + i * dim);
                }
                return d;
            }));
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
    std::string name_;
};

/// What an embedding's description sets.
struct embedding_options {
    std::size_t vocabulary = 0;
    std::size_t dim = 0;
};

/// "embedding:VOCABULARY:DIM", JSON {"type": "embedding", "vocabulary": 96, "dim": 64}: the input
/// is one id per sample.
struct embedding_kind {
    static constexpr const char* name = "embedding";
    using options = embedding_options;
    static constexpr auto arguments() {
        return std::tuple{argument("vocabulary", &options::vocabulary).required(),
                          argument("dim", &options::dim).required()};
    }
    static constexpr layer_output output(const options& o, const sample_dims& in) {
        if (in.is_image()) return layer_output::needs_features();
        if (in.size() != 1) return layer_output::wrong_input_size(1, in.size());
        return sample_dims::features(o.dim);
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
