#pragma once
// nn::sequential: a network written as a list of layers and activations, composed at compile
// time (Boost.Hana). Layer sizes are resolved and checked by the compiler; a dense layer absorbs
// the element-wise activations after it (one GEMM with a fused epilogue forward and a fused
// derivative backward), and consecutive activations merge into one kernel.

#include <boost/hana/append.hpp>
#include <boost/hana/back.hpp>
#include <boost/hana/drop_back.hpp>
#include <boost/hana/fold_left.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/pair.hpp>
#include <boost/hana/integral_constant.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/unpack.hpp>
#include <array>
#include <span>
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "dendrite/autodiff/leaves.hpp"
#include "dendrite/autodiff/shape_ops.hpp"
#include "dendrite/nn/activations.hpp"
#include "dendrite/nn/dense.hpp"
#include "dendrite/nn/dropout.hpp"
#include "dendrite/nn/embedding.hpp"
#include "dendrite/nn/layer.hpp"
#include "dendrite/nn/normalization.hpp"
#include "dendrite/nn/softmax_layer.hpp"
#include "dendrite/nn/specs.hpp"

namespace dendrite::nn {

/// A layer of a static network with its sizes known to the compiler.
template <class Layer, std::size_t In, std::size_t Out>
struct sized_layer {
    static constexpr std::size_t in_features = In;
    static constexpr std::size_t out_features = Out;
    Layer layer;
};

/// Reshapes [batch, ...] into [batch, features].
template <class T>
class flatten_layer {
public:
    explicit flatten_layer(std::size_t features) : features_(features) {}
    var<T> forward(const context&, const var<T>& x) {
        const std::size_t batch = x.shape().rank() == 0 ? 1 : x.shape()[0];
        return reshape(x, shape{batch, features_});
    }
    template <class F>
    void for_each_parameter(F&&) {}
    void init(rng&) {}
    std::string describe() const { return "flatten(" + std::to_string(features_) + ")"; }

private:
    std::size_t features_;
};

namespace detail {

// The names in a size-mismatch diagnostic: the compiler prints them with the values filled in.
template <std::size_t N>
struct layer_number {};
template <std::size_t N>
struct expects_inputs {};
template <std::size_t N>
struct receives_inputs {};

template <class Index, class Layer, class Expected, class Received>
struct check_input_size;
template <std::size_t I, class Layer, std::size_t E, std::size_t R>
struct check_input_size<layer_number<I>, Layer, expects_inputs<E>, receives_inputs<R>> {
    static_assert(E == R,
                  "nn::sequential: input size mismatch: the layer at layer_number<i> (its position in the list, "
                  "the input being 0), shown above with its type, expects_inputs<n> but receives_inputs<m>");
    static constexpr bool value = true;
};

template <class S>
inline constexpr bool is_activation_spec = false;
template <class F>
inline constexpr bool is_activation_spec<activation<F>> = true;

template <class L>
inline constexpr bool is_activation_layer = false;
template <class T, class F, std::size_t N>
inline constexpr bool is_activation_layer<sized_layer<activation_layer<T, F>, N, N>> = true;

template <class L>
inline constexpr bool is_plain_dense = false;
template <class T, std::size_t I, std::size_t O>
inline constexpr bool is_plain_dense<sized_layer<dense_layer<T, std::remove_cvref_t<decltype(fn::identity)>>, I, O>> =
    true;

template <class L>
inline constexpr bool is_dense = false;
template <class T, class F, std::size_t I, std::size_t O>
inline constexpr bool is_dense<sized_layer<dense_layer<T, F>, I, O>> = true;

template <class S, class T>
concept custom_layer_spec = layer<S, T> && requires {
    S::in_features;
    S::out_features;
};

template <class S>
concept bare_activation = !custom_layer_spec<S, float> && requires(const S& s, float x) {
    { s(x) } -> std::convertible_to<double>;
};

template <class T, std::size_t In, class SpecTuple>
auto build_chain(const SpecTuple& specs);

template <std::size_t... N>
struct branch_outputs {};
template <class Index, class Branches>
struct check_equal_branches;
template <std::size_t I, std::size_t... N>
struct check_equal_branches<layer_number<I>, branch_outputs<N...>> {
    static_assert(((N == (N + ... + 0) / sizeof...(N)) && ...),
                  "nn::add: the branches of layer_number<i> give different numbers of features (branch_outputs "
                  "above); every branch of a sum must give the same");
    static constexpr bool value = true;
};

template <class Chain>
constexpr std::size_t chain_out(std::size_t in) {
    if constexpr (decltype(boost::hana::length(std::declval<Chain&>()))::value == 0)
        return in;
    else
        return std::remove_cvref_t<decltype(boost::hana::back(std::declval<Chain&>()))>::out_features;
}

/// The layers of a chain, applied in turn.
template <class T, class Layers>
class chain_layer {
public:
    using value_type = T;
    explicit chain_layer(Layers layers) : layers_(std::move(layers)) {}
    var<T> forward(const context& ctx, const var<T>& x) {
        var<T> v = x;
        boost::hana::for_each(layers_, [&](auto& l) { v = l.layer.forward(ctx, v); });
        return v;
    }
    template <class F>
    void for_each_parameter(F&& f) {
        boost::hana::for_each(layers_, [&](auto& l) { nn::for_each_parameter(l.layer, f); });
    }
    template <class F>
    void for_each_buffer(F&& f) {
        boost::hana::for_each(layers_, [&](auto& l) {
            if constexpr (requires { l.layer.for_each_buffer(f); }) l.layer.for_each_buffer(f);
        });
    }
    void init(rng& g) {
        boost::hana::for_each(layers_, [&](auto& l) { init_layer(l.layer, g); });
    }
    std::string describe() const {
        std::string s;
        boost::hana::for_each(layers_, [&](const auto& l) { s += (s.empty() ? "" : ", ") + describe_layer(l.layer); });
        return "[" + s + "]";
    }

private:
    Layers layers_;
};

/// x + f(x).
template <class T, class Layers>
class residual_layer {
public:
    using value_type = T;
    explicit residual_layer(Layers layers) : body_(std::move(layers)) {}
    var<T> forward(const context& ctx, const var<T>& x) { return var<T>(x + body_.forward(ctx, x)); }
    template <class F>
    void for_each_parameter(F&& f) {
        body_.for_each_parameter(f);
    }
    template <class F>
    void for_each_buffer(F&& f) {
        body_.for_each_buffer(f);
    }
    void init(rng& g) { body_.init(g); }
    std::string describe() const { return "residual" + body_.describe(); }

private:
    chain_layer<T, Layers> body_;
};

/// Branches on one input, concatenated along the features (Sum = false) or summed.
template <class T, bool Sum, class... Chains>
class parallel_layer {
public:
    using value_type = T;
    explicit parallel_layer(Chains... branches) : branches_(std::move(branches)...) {}
    var<T> forward(const context& ctx, const var<T>& x) {
        std::array<var<T>, sizeof...(Chains)> outs;
        std::size_t i = 0;
        boost::hana::for_each(branches_, [&](auto& b) { outs[i++] = b.forward(ctx, x); });
        if constexpr (Sum) {
            var<T> total = outs[0];
            for (std::size_t k = 1; k < outs.size(); ++k) total = var<T>(total + outs[k]);
            return total;
        } else {
            return dendrite::concat(std::span<const var<T>>(outs), 1);
        }
    }
    template <class F>
    void for_each_parameter(F&& f) {
        boost::hana::for_each(branches_, [&](auto& b) { b.for_each_parameter(f); });
    }
    template <class F>
    void for_each_buffer(F&& f) {
        boost::hana::for_each(branches_, [&](auto& b) { b.for_each_buffer(f); });
    }
    void init(rng& g) {
        boost::hana::for_each(branches_, [&](auto& b) { b.init(g); });
    }
    std::string describe() const {
        std::string s;
        boost::hana::for_each(branches_, [&](const auto& b) { s += (s.empty() ? "" : " | ") + b.describe(); });
        return std::string(Sum ? "add" : "concat") + "(" + s + ")";
    }

private:
    boost::hana::tuple<Chains...> branches_;
};

template <class S>
struct as_chain_spec {
    static auto get(const S& s) { return chain(s); }
};
template <class... S>
struct as_chain_spec<chain_spec<S...>> {
    static auto get(const chain_spec<S...>& s) { return s; }
};

/// The concrete layer for `spec` at position Index, receiving In features.
template <class T, std::size_t In, std::size_t Index, class Spec>
auto build_layer(const Spec& spec) {
    if constexpr (requires { []<std::size_t O, bool B>(const dense_spec<O, B>&) {}(spec); }) {
        return [&]<std::size_t O, bool B>(const dense_spec<O, B>&) {
            return sized_layer<dense_layer<T>, In, O>{dense_layer<T>(In, O, B, {}, "dense")};
        }(spec);
    } else if constexpr (requires { []<std::size_t I, std::size_t O, bool B>(const linear_spec<I, O, B>&) {}(spec); }) {
        return [&]<std::size_t I, std::size_t O, bool B>(const linear_spec<I, O, B>&) {
            static_assert(check_input_size<layer_number<Index>, linear_spec<I, O, B>, expects_inputs<I>,
                                           receives_inputs<In>>::value);
            return sized_layer<dense_layer<T>, In, O>{dense_layer<T>(In, O, B, {}, "dense")};
        }(spec);
    } else if constexpr (is_activation_spec<Spec>) {
        return sized_layer<activation_layer<T, Spec>, In, In>{activation_layer<T, Spec>(spec, spec.name)};
    } else if constexpr (std::is_same_v<Spec, dropout_spec>) {
        return sized_layer<dropout_layer<T>, In, In>{dropout_layer<T>(spec.p)};
    } else if constexpr (std::is_same_v<Spec, batch_norm_spec>) {
        return sized_layer<batch_norm_layer<T>, In, In>{batch_norm_layer<T>(In, spec.momentum, spec.eps, "batch_norm")};
    } else if constexpr (std::is_same_v<Spec, layer_norm_spec>) {
        return sized_layer<layer_norm_layer<T>, In, In>{layer_norm_layer<T>(In, spec.eps, "layer_norm")};
    } else if constexpr (std::is_same_v<Spec, softmax_spec>) {
        return sized_layer<softmax_layer<T, false>, In, In>{};
    } else if constexpr (std::is_same_v<Spec, log_softmax_spec>) {
        return sized_layer<softmax_layer<T, true>, In, In>{};
    } else if constexpr (std::is_same_v<Spec, flatten_spec>) {
        return sized_layer<flatten_layer<T>, In, In>{flatten_layer<T>(In)};
    } else if constexpr (requires { []<std::size_t V, std::size_t D>(const embedding_spec<V, D>&) {}(spec); }) {
        return [&]<std::size_t V, std::size_t D>(const embedding_spec<V, D>&) {
            static_assert(check_input_size<layer_number<Index>, embedding_spec<V, D>, expects_inputs<1>,
                                           receives_inputs<In>>::value);
            return sized_layer<embedding_layer<T>, In, D>{embedding_layer<T>(V, D, "embedding")};
        }(spec);
    } else if constexpr (requires { []<class... S>(const chain_spec<S...>&) {}(spec); }) {
        auto layers = build_chain<T, In>(spec.specs);
        constexpr std::size_t out = chain_out<decltype(layers)>(In);
        return sized_layer<chain_layer<T, decltype(layers)>, In, out>{chain_layer<T, decltype(layers)>(std::move(layers))};
    } else if constexpr (requires { []<class... S>(const residual_spec<S...>&) {}(spec); }) {
        auto layers = build_chain<T, In>(spec.specs);
        constexpr std::size_t out = chain_out<decltype(layers)>(In);
        static_assert(check_input_size<layer_number<Index>, Spec, expects_inputs<out>, receives_inputs<In>>::value,
                      "nn::residual: the body must give as many features as it receives");
        return sized_layer<residual_layer<T, decltype(layers)>, In, In>{residual_layer<T, decltype(layers)>(std::move(layers))};
    } else if constexpr (requires { spec.branches; }) {
        constexpr bool sum = requires { []<class... S>(const sum_spec<S...>&) {}(spec); };
        return boost::hana::unpack(spec.branches, [&](const auto&... branches) {
            auto make = [&](const auto& branch) {
                using B = std::remove_cvref_t<decltype(branch)>;
                auto layers = build_chain<T, In>(as_chain_spec<B>::get(branch).specs);
                return chain_layer<T, decltype(layers)>(std::move(layers));
            };
            using Layer = parallel_layer<T, sum, decltype(make(branches))...>;
            constexpr std::size_t outs[] = {chain_out<decltype(build_chain<T, In>(as_chain_spec<std::remove_cvref_t<decltype(branches)>>::get(branches).specs))>(In)...};
            constexpr std::size_t out = [&] {
                std::size_t total = 0;
                for (std::size_t o : outs) total += o;
                return sum ? outs[0] : total;
            }();
            if constexpr (sum)
                static_assert(check_equal_branches<layer_number<Index>,
                                                   branch_outputs<chain_out<decltype(build_chain<T, In>(
                                                       as_chain_spec<std::remove_cvref_t<decltype(branches)>>::get(branches).specs))>(In)...>>::value);
            return sized_layer<Layer, In, out>{Layer(make(branches)...)};
        });
    } else if constexpr (custom_layer_spec<Spec, T>) {
        static_assert(check_input_size<layer_number<Index>, Spec, expects_inputs<Spec::in_features>,
                                       receives_inputs<In>>::value);
        return sized_layer<Spec, In, Spec::out_features>{spec};
    } else if constexpr (bare_activation<Spec>) {
        return sized_layer<activation_layer<T, Spec>, In, In>{activation_layer<T, Spec>(spec, "activation")};
    } else {
        static_assert(sizeof(Spec) == 0,
                      "nn::sequential: an argument is neither a layer spec (nn::dense<N>, nn::dropout(p), ...), "
                      "an activation (nn::relu or a lambda over one argument), nor a layer type with "
                      "in_features, out_features and forward(const nn::context&, const var<T>&)");
    }
}

/// Appends the layer for `spec` to the layers built so far, fusing element-wise activations into
/// the dense layer or activation before them.
template <class T, std::size_t In0, std::size_t Position, class Acc, class Spec>
auto append_layer(Acc acc, const Spec& spec) {
    constexpr std::size_t count = decltype(boost::hana::length(acc))::value;
    constexpr std::size_t in = [] {
        if constexpr (count == 0)
            return In0;
        else
            return std::remove_cvref_t<decltype(boost::hana::back(std::declval<Acc&>()))>::out_features;
    }();
    auto next = build_layer<T, in, Position>(spec);
    using Next = decltype(next);
    if constexpr (count > 0 && is_activation_layer<Next>) {
        using Prev = std::remove_cvref_t<decltype(boost::hana::back(acc))>;
        if constexpr (is_plain_dense<Prev>) {
            auto& prev = boost::hana::back(acc);
            using F = std::remove_cvref_t<decltype(next.layer.function())>;
            using Fused = sized_layer<dense_layer<T, F>, Prev::in_features, Prev::out_features>;
            Fused fused{dense_layer<T, F>(std::move(prev.layer), next.layer.function(), next.layer.name())};
            return boost::hana::append(boost::hana::drop_back(std::move(acc)), std::move(fused));
        } else if constexpr (is_dense<Prev>) {
            auto& prev = boost::hana::back(acc);
            using F1 = std::remove_cvref_t<decltype(prev.layer.activation())>;
            using F2 = std::remove_cvref_t<decltype(next.layer.function())>;
            using G = composed_fn<F1, F2>;
            using Fused = sized_layer<dense_layer<T, G>, Prev::in_features, Prev::out_features>;
            const G g{prev.layer.activation(), next.layer.function()};
            std::string label = prev.layer.activation_name() + "+" + next.layer.name();
            Fused fused{dense_layer<T, G>(std::move(prev.layer), g, std::move(label))};
            return boost::hana::append(boost::hana::drop_back(std::move(acc)), std::move(fused));
        } else if constexpr (is_activation_layer<Prev>) {
            auto& prev = boost::hana::back(acc);
            using F1 = std::remove_cvref_t<decltype(prev.layer.function())>;
            using F2 = std::remove_cvref_t<decltype(next.layer.function())>;
            using G = composed_fn<F1, F2>;
            sized_layer<activation_layer<T, G>, in, in> merged{activation_layer<T, G>(
                G{prev.layer.function(), next.layer.function()}, prev.layer.name() + "+" + next.layer.name())};
            return boost::hana::append(boost::hana::drop_back(std::move(acc)), std::move(merged));
        } else {
            return boost::hana::append(std::move(acc), std::move(next));
        }
    } else {
        return boost::hana::append(std::move(acc), std::move(next));
    }
}

template <class T, std::size_t In, class SpecTuple>
auto build_chain(const SpecTuple& specs) {
    // Each spec travels with its position in the user's list, for diagnostics.
    auto indexed = boost::hana::unpack(specs, [](const auto&... s) {
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return boost::hana::make_tuple(boost::hana::make_pair(boost::hana::size_c<I + 1>, s)...);
        }(std::index_sequence_for<decltype(s)...>{});
    });
    return boost::hana::fold_left(indexed, boost::hana::make_tuple(), [](auto acc, const auto& entry) {
        constexpr std::size_t position = decltype(+boost::hana::first(entry))::value;
        return append_layer<T, In, position>(std::move(acc), boost::hana::second(entry));
    });
}

}  // namespace detail

/// A network whose structure is a type: layers held in a hana::tuple, sizes checked at compile
/// time. Owns its parameters; records its forward pass on a tape.
template <class T, std::size_t In, class Layers>
class sequential_model {
public:
    using value_type = T;
    static constexpr std::size_t in_features = In;
    static constexpr std::size_t out_features =
        std::remove_cvref_t<decltype(boost::hana::back(std::declval<Layers&>()))>::out_features;
    static constexpr std::size_t layer_count = decltype(boost::hana::length(std::declval<Layers&>()))::value;

    explicit sequential_model(Layers layers, std::uint64_t seed = 0) : layers_(std::move(layers)), random_(seed) {
        name_parameters();
        init(seed);
    }

    /// Re-initialises every parameter from `seed` (and reseeds dropout's generator).
    void init(std::uint64_t seed) {
        rng g(seed);
        boost::hana::for_each(layers_, [&](auto& l) { init_layer(l.layer, g); });
        random_.reseed(seed ^ 0xD1B54A32D192ED03ull);
    }

    /// Records the forward pass of a batch [batch, in_features] on `t`.
    var<T> forward(tape& t, const var<T>& x) {
        if (x.shape().rank() < 1 || x.size() != x.shape()[0] * In)
            throw shape_error("sequential: expects input [batch, " + std::to_string(In) + "], got " + x.shape().str());
        const context ctx{t, training_, &random_};
        var<T> v = x;
        boost::hana::for_each(layers_, [&](auto& l) { v = l.layer.forward(ctx, v); });
        return v;
    }
    var<T> operator()(tape& t, const var<T>& x) { return forward(t, x); }
    /// Forward from a plain tensor (the input becomes a constant on the tape).
    var<T> operator()(tape& t, const tensor<T>& x) { return forward(t, constant(t, x)); }

    /// Training mode (dropout on, batch statistics) or evaluation mode.
    void train(bool on = true) noexcept { training_ = on; }
    void eval() noexcept { training_ = false; }
    bool training() const noexcept { return training_; }

    /// Every parameter, in layer order; the tensors are shared with the layers.
    parameter_list<T> parameters() {
        parameter_list<T> out;
        boost::hana::for_each(layers_, [&](auto& l) { for_each_parameter(l.layer, [&](auto& p) { out.push_back(p); }); });
        return out;
    }
    /// Calls f(name, tensor&) for non-trained state (running statistics).
    template <class F>
    void for_each_buffer(F&& f) {
        boost::hana::for_each(layers_, [&](auto& l) {
            if constexpr (requires { l.layer.for_each_buffer(f); }) l.layer.for_each_buffer(f);
        });
    }
    void zero_grad() {
        boost::hana::for_each(layers_, [&](auto& l) { for_each_parameter(l.layer, [](auto& p) { p.zero_grad(); }); });
    }
    std::size_t parameter_count() {
        std::size_t n = 0;
        boost::hana::for_each(layers_, [&](auto& l) { for_each_parameter(l.layer, [&](auto& p) { n += p.size(); }); });
        return n;
    }

    /// One line per layer: what it is and its output size.
    std::string summary() {
        std::string s = "input(" + std::to_string(In) + ")\n";
        boost::hana::for_each(layers_, [&](auto& l) {
            using L = std::remove_cvref_t<decltype(l)>;
            s += describe_layer(l.layer) + " -> " + std::to_string(L::out_features) + "\n";
        });
        return s + std::to_string(parameter_count()) + " parameters\n";
    }

    /// (what, output size) for the input and every layer: what network pictures draw.
    std::vector<std::pair<std::string, std::size_t>> layer_sizes() {
        std::vector<std::pair<std::string, std::size_t>> out{{"input", In}};
        boost::hana::for_each(layers_, [&](auto& l) {
            using L = std::remove_cvref_t<decltype(l)>;
            out.emplace_back(describe_layer(l.layer), L::out_features);
        });
        return out;
    }

    Layers& layers() noexcept { return layers_; }
    rng& random() noexcept { return random_; }

private:
    // Checkpoint names: "<position>.<what>", position counting the input as 0 ("1.dense.weight");
    // a name repeated inside one position (parallel branches) gets ".1", ".2"... appended.
    void name_parameters() {
        std::size_t position = 0;
        boost::hana::for_each(layers_, [&](auto& l) {
            ++position;
            std::vector<std::string> seen;
            for_each_parameter(l.layer, [&](auto& p) {
                std::string name = std::to_string(position) + "." + p.name;
                std::size_t repeats = 0;
                for (const auto& s : seen) repeats += s == name;
                seen.push_back(name);
                p.name = repeats ? name + "." + std::to_string(repeats) : name;
            });
        });
    }

    Layers layers_;
    rng random_;
    bool training_ = true;
};

/// Builds a network of value type T: `nn::sequential_of<double>(nn::input<4>, nn::dense<8>, nn::tanh, ...)`.
template <class T, std::size_t... Dims, class... Specs>
auto sequential_of(input_spec<Dims...>, const Specs&... specs) {
    constexpr std::size_t in = input_spec<Dims...>::features;
    auto layers = detail::build_chain<T, in>(boost::hana::make_tuple(specs...));
    static_assert(sizeof...(Specs) > 0, "nn::sequential: give at least one layer after the input");
    return sequential_model<T, in, decltype(layers)>(std::move(layers));
}

/// Builds a float network: `auto net = nn::sequential(nn::input<784>, nn::dense<256>, nn::relu, nn::dense<10>);`.
template <std::size_t... Dims, class... Specs>
auto sequential(input_spec<Dims...> in, const Specs&... specs) {
    return sequential_of<float>(in, specs...);
}

}  // namespace dendrite::nn
