#pragma once
// nn::sequential: a network written as a list of layers and activations, composed at compile
// time (Boost.Hana). Layer sizes are resolved and checked by the compiler; a dense layer absorbs
// the element-wise activations after it (one GEMM with a fused epilogue forward and a fused
// derivative backward), and consecutive activations merge into one kernel.

#include <array>
#include <boost/hana/append.hpp>
#include <boost/hana/back.hpp>
#include <boost/hana/drop_back.hpp>
#include <boost/hana/fold_left.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/integral_constant.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/pair.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/unpack.hpp>
#include <cstddef>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "dendrite/autodiff/leaves.hpp"
#include "dendrite/autodiff/shape_ops.hpp"
#include "dendrite/config.hpp"
#include "dendrite/nn/activations.hpp"
#include "dendrite/nn/conv.hpp"
#include "dendrite/nn/dense.hpp"
#include "dendrite/nn/dims.hpp"
#include "dendrite/nn/dropout.hpp"
#include "dendrite/nn/embedding.hpp"
#include "dendrite/nn/flatten.hpp"
#include "dendrite/nn/layer.hpp"
#include "dendrite/nn/normalization.hpp"
#include "dendrite/nn/softmax_layer.hpp"
#include "dendrite/nn/specs.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// A layer of a static network with its sizes known to the compiler: In and Out features per
/// sample, and the extents of its output (dims<Out>, or dims<C, H, W> for an image).
template <class Layer, std::size_t In, std::size_t Out, class OutDims = dims<Out>>
struct sized_layer {
    static_assert(OutDims::size == Out);
    static constexpr std::size_t in_features = In;
    static constexpr std::size_t out_features = Out;
    using out_dims = OutDims;
    Layer layer;
};

namespace detail {

// The names in a shape diagnostic: the compiler prints them with the values filled in.
template <std::size_t N>
struct layer_number {};
template <std::size_t N>
struct expects_inputs {};
template <std::size_t N>
struct receives_inputs {};
template <class D>
struct expects {};
template <class D>
struct receives {};

template <class Index, class Layer, class Expected, class Received>
struct check_input_size;
template <std::size_t I, class Layer, std::size_t E, std::size_t R>
struct check_input_size<layer_number<I>, Layer, expects_inputs<E>, receives_inputs<R>> {
    static_assert(
        E == R,
        "nn::sequential: input size mismatch: the layer at layer_number<i> (its position in the "
        "list, "
        "the input being 0), shown above with its type, expects_inputs<n> but receives_inputs<m>");
    static constexpr bool value = true;
};

template <class Index, class Layer, class Received>
struct check_flat_input;
template <std::size_t I, class Layer, class D>
struct check_flat_input<layer_number<I>, Layer, receives<D>> {
    static_assert(
        D::rank == 1,
        "nn::sequential: the layer at layer_number<i>, shown above with its type, works on flat "
        "[features] samples but receives<dims<channels, height, width>>; put nn::flatten (or "
        "nn::global_avg_pool2d) before it");
    static constexpr bool value = true;
};

template <class Index, class Layer, class Received>
struct check_image_input;
template <std::size_t I, class Layer, class D>
struct check_image_input<layer_number<I>, Layer, receives<D>> {
    static_assert(
        D::rank == 3,
        "nn::sequential: the layer at layer_number<i>, shown above with its type, works on "
        "[channels, height, width] samples but receives<dims<features>>; start the network with "
        "nn::input<C, H, W>");
    static constexpr bool value = true;
};

template <std::size_t G>
struct groups {};
template <std::size_t C>
struct in_channels {};
template <std::size_t C>
struct out_channels {};
template <class Index, class Layer, class Groups, class In, class Out>
struct check_groups;
template <std::size_t I, class Layer, std::size_t G, std::size_t In, std::size_t Out>
struct check_groups<layer_number<I>, Layer, groups<G>, in_channels<In>, out_channels<Out>> {
    static_assert(G >= 1 && In % G == 0 && Out % G == 0,
                  "nn::conv2d: at layer_number<i>, groups<g> must divide both in_channels<c> and "
                  "out_channels<o>");
    static constexpr bool value = true;
};

template <std::size_t H, std::size_t W>
struct output_extent {};
template <class Index, class Layer, class Received, class Output>
struct check_window_fits;
template <std::size_t I, class Layer, class D, std::size_t H, std::size_t W>
struct check_window_fits<layer_number<I>, Layer, receives<D>, output_extent<H, W>> {
    static_assert(
        H > 0 && W > 0,
        "nn::sequential: the window of the layer at layer_number<i>, shown above with its type, is "
        "larger than its padded input receives<dims<channels, height, width>>: output_extent<0, "
        "0>");
    static constexpr bool value = true;
};

template <class Index, class Layer, class Expected, class Received>
struct check_same_dims;
template <std::size_t I, class Layer, class E, class R>
struct check_same_dims<layer_number<I>, Layer, expects<E>, receives<R>> {
    static_assert(std::is_same_v<E, R>,
                  "nn::residual: the body of layer_number<i> must give the shape it receives: "
                  "expects<dims<...>> "
                  "(its output) but receives<dims<...>>");
    static constexpr bool value = true;
};

template <class S>
inline constexpr bool is_activation_spec = false;
template <class F>
inline constexpr bool is_activation_spec<activation<F>> = true;

template <class L>
inline constexpr bool is_activation_layer = false;
template <class T, class F, std::size_t N, class D>
inline constexpr bool is_activation_layer<sized_layer<activation_layer<T, F>, N, N, D>> = true;

template <class L>
inline constexpr bool is_dense = false;
template <class T, class F, std::size_t I, std::size_t O>
inline constexpr bool is_dense<sized_layer<dense_layer<T, F>, I, O>> = true;

template <class L>
inline constexpr bool is_conv = false;
template <class T, class F, std::size_t I, std::size_t O, class D>
inline constexpr bool is_conv<sized_layer<conv2d_layer<T, F>, I, O, D>> = true;

template <class S, class T>
concept custom_layer_spec = layer<S, T> && requires {
    S::in_features;
    S::out_features;
};

template <class S>
concept bare_activation = !custom_layer_spec<S, float> && requires(const S& s, float x) {
    { s(x) } -> std::convertible_to<double>;
};

template <class T, class InDims, class SpecTuple>
auto build_chain(const SpecTuple& specs);

template <class... D>
struct branch_outputs {};
template <class Index, class Branches>
struct check_equal_branches;
template <std::size_t I, class D0, class... D>
struct check_equal_branches<layer_number<I>, branch_outputs<D0, D...>> {
    static_assert((std::is_same_v<D0, D> && ...),
                  "nn::add: the branches of layer_number<i> give different shapes (branch_outputs "
                  "above); every "
                  "branch of a sum must give the same");
    static constexpr bool value = true;
};
template <class Index, class Branches>
struct check_concat_branches;
template <std::size_t I, class D0, class... D>
struct check_concat_branches<layer_number<I>, branch_outputs<D0, D...>> {
    static_assert((D0::rank == 1 && ((D::rank == 1) && ...)) ||
                      (D0::rank == 3 && ((D::rank == 3 && D::extents[1] == D0::extents[1] &&
                                          D::extents[2] == D0::extents[2]) &&
                                         ...)),
                  "nn::concat: the branches of layer_number<i> give shapes that cannot be joined "
                  "(branch_outputs "
                  "above): flat outputs join along the features, images along the channels, with "
                  "equal height "
                  "and width");
    static constexpr bool value = true;
};

// The shape of concatenated branch outputs (flat: features add up; images: channels add up).
template <class D0, class... D>
auto concat_dims() {
    if constexpr (D0::rank == 3)
        return dims<(D0::extents[0] + ... + D::extents[0]), D0::extents[1], D0::extents[2]>{};
    else
        return dims<(D0::size + ... + D::size)>{};
}

template <class InDims, class Chain>
auto chain_out_dims() {
    if constexpr (decltype(boost::hana::length(std::declval<Chain&>()))::value == 0)
        return InDims{};
    else
        return typename std::remove_cvref_t<decltype(boost::hana::back(
            std::declval<Chain&>()))>::out_dims{};
}
template <class InDims, class Chain>
using chain_out = decltype(chain_out_dims<InDims, Chain>());

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
        boost::hana::for_each(layers_, [&](const auto& l) {
            s += (s.empty() ? "" : ", ") + describe_layer(l.layer);
        });
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
    var<T> forward(const context& ctx, const var<T>& x) {
        return var<T>(x + body_.forward(ctx, x));
    }
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

/// Branches on one input, concatenated along the features or channels (Sum = false) or summed.
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
            for (std::size_t k = 1; k < outs.size(); ++k)
                total = var<T>(total + outs[k]);
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
        boost::hana::for_each(branches_,
                              [&](const auto& b) { s += (s.empty() ? "" : " | ") + b.describe(); });
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

// A layer that keeps its input's shape.
template <class L, class D>
using same_shape = sized_layer<L, D::size, D::size, D>;

/// A convolution or pooling layer built for In, or a stand-in of the same type when a check has
/// failed (so that the failed static_assert is the one diagnostic).
template <class T, class InDims, std::size_t Index, class Spec, std::size_t Out, std::size_t Kernel,
          std::size_t Stride, std::size_t Padding, std::size_t Dilation, class Make>
auto windowed_layer(Make make) {
    static_assert(check_image_input<layer_number<Index>, Spec, receives<InDims>>::value);
    if constexpr (InDims::rank != 3) {
        using L = decltype(make(std::size_t{1}));
        return sized_layer<L, InDims::size, InDims::size, InDims>{make(std::size_t{1})};
    } else {
        constexpr std::size_t h = linalg::conv_geometry::out_extent(InDims::extents[1], Kernel,
                                                                    Stride, Padding, Dilation);
        constexpr std::size_t w = linalg::conv_geometry::out_extent(InDims::extents[2], Kernel,
                                                                    Stride, Padding, Dilation);
        static_assert(check_window_fits<layer_number<Index>, Spec, receives<InDims>,
                                        output_extent<h, w>>::value);
        constexpr std::size_t channels = Out ? Out : InDims::extents[0];
        return sized_layer<decltype(make(InDims::extents[0])), InDims::size, channels * h * w,
                           dims<channels, h, w>>{make(InDims::extents[0])};
    }
}

/// The concrete layer for `spec` at position Index, receiving samples of shape InDims.
template <class T, class InDims, std::size_t Index, class Spec>
auto build_layer(const Spec& spec) {
    constexpr std::size_t In = InDims::size;
    if constexpr (requires { []<std::size_t O, bool B>(const dense_spec<O, B>&) {}(spec); }) {
        static_assert(check_flat_input<layer_number<Index>, Spec, receives<InDims>>::value);
        return [&]<std::size_t O, bool B>(const dense_spec<O, B>&) {
            return sized_layer<dense_layer<T>, In, O>{dense_layer<T>(In, O, B, {}, "dense")};
        }(spec);
    } else if constexpr (requires {
                             []<std::size_t I, std::size_t O, bool B>(const linear_spec<I, O, B>&) {
                             }(spec);
                         }) {
        static_assert(check_flat_input<layer_number<Index>, Spec, receives<InDims>>::value);
        return [&]<std::size_t I, std::size_t O, bool B>(const linear_spec<I, O, B>&) {
            static_assert(check_input_size<layer_number<Index>, linear_spec<I, O, B>,
                                           expects_inputs<I>, receives_inputs<In>>::value);
            return sized_layer<dense_layer<T>, In, O>{dense_layer<T>(In, O, B, {}, "dense")};
        }(spec);
    } else if constexpr (requires {
                             []<std::size_t O, std::size_t K, conv_options C>(
                                 const conv2d_spec<O, K, C>&) {}(spec);
                         }) {
        return [&]<std::size_t O, std::size_t K, conv_options C>(const conv2d_spec<O, K, C>&) {
            if constexpr (InDims::rank == 3)
                static_assert(
                    check_groups<layer_number<Index>, Spec, groups<C.groups>,
                                 in_channels<InDims::extents[0]>, out_channels<O>>::value);
            return windowed_layer<T, InDims, Index, Spec, O, K, C.stride, C.padding, C.dilation>(
                [](std::size_t in) {
                    return conv2d_layer<T>(in, O, K, C.stride, C.padding, C.dilation, C.groups,
                                           C.bias, {}, "conv2d");
                });
        }(spec);
    } else if constexpr (requires {
                             []<std::size_t K, pool_options P>(const max_pool2d_spec<K, P>&) {
                             }(spec);
                         }) {
        return [&]<std::size_t K, pool_options P>(const max_pool2d_spec<K, P>&) {
            static_assert(
                2 * P.padding <= K,
                "nn::max_pool2d, nn::avg_pool2d: the padding must be at most half the window");
            return windowed_layer < T, InDims, Index, Spec, 0, K, P.stride ? P.stride : K,
                   P.padding,
                   1 > ([](std::size_t) { return max_pool2d_layer<T>(K, P.stride, P.padding); });
        }(spec);
    } else if constexpr (requires {
                             []<std::size_t K, pool_options P>(const avg_pool2d_spec<K, P>&) {
                             }(spec);
                         }) {
        return [&]<std::size_t K, pool_options P>(const avg_pool2d_spec<K, P>&) {
            static_assert(
                2 * P.padding <= K,
                "nn::max_pool2d, nn::avg_pool2d: the padding must be at most half the window");
            return windowed_layer < T, InDims, Index, Spec, 0, K, P.stride ? P.stride : K,
                   P.padding,
                   1 > ([](std::size_t) {
                       return avg_pool2d_layer<T>(K, P.stride, P.padding, P.count_include_pad);
                   });
        }(spec);
    } else if constexpr (std::is_same_v<Spec, global_avg_pool2d_spec>) {
        static_assert(check_image_input<layer_number<Index>, Spec, receives<InDims>>::value);
        constexpr std::size_t channels = InDims::rank == 3 ? InDims::extents[0] : In;
        return sized_layer<global_avg_pool2d_layer<T>, In, channels>{};
    } else if constexpr (is_activation_spec<Spec>) {
        return same_shape<activation_layer<T, Spec>, InDims>{
            activation_layer<T, Spec>(spec, spec.name)};
    } else if constexpr (std::is_same_v<Spec, dropout_spec>) {
        return same_shape<dropout_layer<T>, InDims>{dropout_layer<T>(spec.p)};
    } else if constexpr (std::is_same_v<Spec, batch_norm_spec>) {
        if constexpr (InDims::rank == 3)
            return same_shape<batch_norm2d_layer<T>, InDims>{
                batch_norm2d_layer<T>(InDims::extents[0], spec.momentum, spec.eps, "batch_norm2d")};
        else
            return sized_layer<batch_norm_layer<T>, In, In>{
                batch_norm_layer<T>(In, spec.momentum, spec.eps, "batch_norm")};
    } else if constexpr (std::is_same_v<Spec, layer_norm_spec>) {
        static_assert(check_flat_input<layer_number<Index>, Spec, receives<InDims>>::value);
        return sized_layer<layer_norm_layer<T>, In, In>{
            layer_norm_layer<T>(In, spec.eps, "layer_norm")};
    } else if constexpr (std::is_same_v<Spec, softmax_spec>) {
        static_assert(check_flat_input<layer_number<Index>, Spec, receives<InDims>>::value);
        return sized_layer<softmax_layer<T, false>, In, In>{};
    } else if constexpr (std::is_same_v<Spec, log_softmax_spec>) {
        static_assert(check_flat_input<layer_number<Index>, Spec, receives<InDims>>::value);
        return sized_layer<softmax_layer<T, true>, In, In>{};
    } else if constexpr (std::is_same_v<Spec, flatten_spec>) {
        return sized_layer<flatten_layer<T>, In, In>{flatten_layer<T>(In)};
    } else if constexpr (requires {
                             []<std::size_t V, std::size_t D>(const embedding_spec<V, D>&) {}(spec);
                         }) {
        return [&]<std::size_t V, std::size_t D>(const embedding_spec<V, D>&) {
            static_assert(check_input_size<layer_number<Index>, embedding_spec<V, D>,
                                           expects_inputs<1>, receives_inputs<In>>::value);
            return sized_layer<embedding_layer<T>, In, D>{embedding_layer<T>(V, D, "embedding")};
        }(spec);
    } else if constexpr (requires { []<class... S>(const chain_spec<S...>&) {}(spec); }) {
        auto layers = build_chain<T, InDims>(spec.specs);
        using Out = chain_out<InDims, decltype(layers)>;
        return sized_layer<chain_layer<T, decltype(layers)>, In, Out::size, Out>{
            chain_layer<T, decltype(layers)>(std::move(layers))};
    } else if constexpr (requires { []<class... S>(const residual_spec<S...>&) {}(spec); }) {
        auto layers = build_chain<T, InDims>(spec.specs);
        using Out = chain_out<InDims, decltype(layers)>;
        static_assert(check_input_size<layer_number<Index>, Spec, expects_inputs<Out::size>,
                                       receives_inputs<In>>::value,
                      "nn::residual: the body must give as many features as it receives");
        if constexpr (Out::size == In)
            static_assert(
                check_same_dims<layer_number<Index>, Spec, expects<Out>, receives<InDims>>::value);
        return same_shape<residual_layer<T, decltype(layers)>, InDims>{
            residual_layer<T, decltype(layers)>(std::move(layers))};
    } else if constexpr (requires { spec.branches; }) {
        constexpr bool sum = requires {
            []<class... S>(const sum_spec<S...>&) {}(spec);
        };
        return boost::hana::unpack(spec.branches, [&](const auto&... branches) {
            auto make = [&](const auto& branch) {
                using B = std::remove_cvref_t<decltype(branch)>;
                auto layers = build_chain<T, InDims>(as_chain_spec<B>::get(branch).specs);
                return chain_layer<T, decltype(layers)>(std::move(layers));
            };
            using Layer = parallel_layer<T, sum, decltype(make(branches))...>;
            using Outs = branch_outputs<chain_out<
                InDims, decltype(build_chain<T, InDims>(
                            as_chain_spec<std::remove_cvref_t<decltype(branches)>>::get(branches)
                                .specs))>...>;
            return [&]<class D0, class... D>(branch_outputs<D0, D...>) {
                if constexpr (sum) {
                    static_assert(check_equal_branches<layer_number<Index>, Outs>::value);
                    return sized_layer<Layer, In, D0::size, D0>{Layer(make(branches)...)};
                } else {
                    static_assert(check_concat_branches<layer_number<Index>, Outs>::value);
                    using Out = decltype(concat_dims<D0, D...>());
                    return sized_layer<Layer, In, Out::size, Out>{Layer(make(branches)...)};
                }
            }(Outs{});
        });
    } else if constexpr (custom_layer_spec<Spec, T>) {
        static_assert(check_input_size<layer_number<Index>, Spec, expects_inputs<Spec::in_features>,
                                       receives_inputs<In>>::value);
        return sized_layer<Spec, In, Spec::out_features>{spec};
    } else if constexpr (bare_activation<Spec>) {
        return same_shape<activation_layer<T, Spec>, InDims>{
            activation_layer<T, Spec>(spec, "activation")};
    } else {
        static_assert(
            sizeof(Spec) == 0,
            "nn::sequential: an argument is neither a layer spec (nn::dense<N>, nn::dropout(p), "
            "...), "
            "an activation (nn::relu or a lambda over one argument), nor a layer type with "
            "in_features, out_features and forward(const nn::context&, const var<T>&)");
    }
}

/// A dense layer or convolution `prev` taking the activation `next` into its epilogue: the first
/// activation as it is, a further one composed with those before.
template <template <class, class> class L, class T, class A, std::size_t I, std::size_t O, class D,
          class Next>
auto absorb_activation(sized_layer<L<T, A>, I, O, D>&& prev, const Next& next) {
    using F = std::remove_cvref_t<decltype(next.layer.function())>;
    if constexpr (std::is_same_v<A, identity_activation> ||
                  std::is_same_v<A, std::remove_cvref_t<decltype(fn::identity)>>) {
        return sized_layer<L<T, F>, I, O, D>{
            L<T, F>(std::move(prev.layer), next.layer.function(), next.layer.name())};
    } else {
        using G = composed_fn<A, F>;
        std::string label = prev.layer.activation_name() + "+" + next.layer.name();
        const G g{prev.layer.activation(), next.layer.function()};
        return sized_layer<L<T, G>, I, O, D>{L<T, G>(std::move(prev.layer), g, std::move(label))};
    }
}

/// Appends the layer for `spec` to the layers built so far, fusing element-wise activations into
/// the dense layer, convolution or activation before them.
template <class T, class InDims0, std::size_t Position, class Acc, class Spec>
auto append_layer(Acc acc, const Spec& spec) {
    using in = chain_out<InDims0, Acc>;
    auto next = build_layer<T, in, Position>(spec);
    using Next = decltype(next);
    constexpr std::size_t count = decltype(boost::hana::length(acc))::value;
    if constexpr (count > 0 && is_activation_layer<Next>) {
        using Prev = std::remove_cvref_t<decltype(boost::hana::back(acc))>;
        auto& prev = boost::hana::back(acc);
        if constexpr (is_dense<Prev>) {
            return boost::hana::append(boost::hana::drop_back(std::move(acc)),
                                       absorb_activation<dense_layer>(std::move(prev), next));
        } else if constexpr (is_conv<Prev>) {
            return boost::hana::append(boost::hana::drop_back(std::move(acc)),
                                       absorb_activation<conv2d_layer>(std::move(prev), next));
        } else if constexpr (is_activation_layer<Prev>) {
            using F1 = std::remove_cvref_t<decltype(prev.layer.function())>;
            using F2 = std::remove_cvref_t<decltype(next.layer.function())>;
            using G = composed_fn<F1, F2>;
            same_shape<activation_layer<T, G>, in> merged{
                activation_layer<T, G>(G{prev.layer.function(), next.layer.function()},
                                       prev.layer.name() + "+" + next.layer.name())};
            return boost::hana::append(boost::hana::drop_back(std::move(acc)), std::move(merged));
        } else {
            return boost::hana::append(std::move(acc), std::move(next));
        }
    } else {
        return boost::hana::append(std::move(acc), std::move(next));
    }
}

template <class T, class InDims, class SpecTuple>
auto build_chain(const SpecTuple& specs) {
    // Each spec travels with its position in the user's list, for diagnostics.
    auto indexed = boost::hana::unpack(specs, [](const auto&... s) {
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return boost::hana::make_tuple(
                boost::hana::make_pair(boost::hana::size_c<I + 1>, s)...);
        }
        (std::index_sequence_for<decltype(s)...>{});
    });
    return boost::hana::fold_left(
        indexed, boost::hana::make_tuple(), [](auto acc, const auto& entry) {
            constexpr std::size_t position = decltype(+boost::hana::first(entry))::value;
            return append_layer<T, InDims, position>(std::move(acc), boost::hana::second(entry));
        });
}

}  // namespace detail

/// A network whose structure is a type: layers held in a hana::tuple, sizes checked at compile
/// time. Owns its parameters; records its forward pass on a tape.
template <class T, class InDims, class Layers>
class sequential_model {
    static constexpr std::size_t In = InDims::size;

  public:
    using value_type = T;
    /// The extents of one input sample: dims<784>, dims<1, 28, 28>.
    using input_dims = InDims;
    using output_dims = detail::chain_out<InDims, Layers>;
    static constexpr std::size_t in_features = In;
    static constexpr std::size_t out_features =
        std::remove_cvref_t<decltype(boost::hana::back(std::declval<Layers&>()))>::out_features;
    static constexpr std::size_t layer_count =
        decltype(boost::hana::length(std::declval<Layers&>()))::value;

    explicit sequential_model(Layers layers, std::uint64_t seed = 0)
        : layers_(std::move(layers)), random_(seed) {
        name_parameters();
        init(seed);
    }

    /// Re-initialises every parameter from `seed` (and reseeds dropout's generator).
    void init(std::uint64_t seed) {
        rng g(seed);
        boost::hana::for_each(layers_, [&](auto& l) { init_layer(l.layer, g); });
        random_.reseed(seed ^ 0xD1B54A32D192ED03ull);
    }

    /// Records the forward pass of a batch on `t`: [batch, input dims...], or [batch, in_features]
    /// for an image network (the rows are then viewed as images).
    var<T> forward(tape& t, const var<T>& x) {
        if (x.shape().rank() < 1 || x.size() != x.shape()[0] * In)
            throw shape_error("sequential: expects input " + expected_input() + ", got " +
                              x.shape().str());
        const context ctx{t, training_, &random_};
        var<T> v = x;
        if constexpr (InDims::rank > 1)
            if (x.shape() != InDims::batched(x.shape()[0]))
                v = reshape(x, InDims::batched(x.shape()[0]));
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
        boost::hana::for_each(layers_, [&](auto& l) {
            for_each_parameter(l.layer, [&](auto& p) { out.push_back(p); });
        });
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
        boost::hana::for_each(
            layers_, [&](auto& l) { for_each_parameter(l.layer, [](auto& p) { p.zero_grad(); }); });
    }
    std::size_t parameter_count() {
        std::size_t n = 0;
        boost::hana::for_each(layers_, [&](auto& l) {
            for_each_parameter(l.layer, [&](auto& p) { n += p.size(); });
        });
        return n;
    }

    /// One line per layer: what it is and its output size ([C, H, W] for images).
    std::string summary() {
        std::string s = "input(" + dims_text<InDims>() + ")\n";
        boost::hana::for_each(layers_, [&](auto& l) {
            using L = std::remove_cvref_t<decltype(l)>;
            s += describe_layer(l.layer) + " -> " + dims_text<typename L::out_dims>() + "\n";
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
    template <class D>
    static std::string dims_text() {
        return D::rank == 1 ? std::to_string(D::size) : D::str();
    }
    static std::string expected_input() {
        return "[batch, " +
               (InDims::rank == 1 ? std::to_string(In) + "]" : InDims::str().substr(1));
    }

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
                for (const auto& s : seen)
                    repeats += s == name;
                seen.push_back(name);
                p.name = repeats ? name + "." + std::to_string(repeats) : name;
            });
        });
    }

    Layers layers_;
    rng random_;
    bool training_ = true;
};

/// Builds a network of value type T: `nn::sequential_of<double>(nn::input<4>, nn::dense<8>,
/// nn::tanh, ...)`.
template <class T, std::size_t... Dims, class... Specs>
auto sequential_of(input_spec<Dims...>, const Specs&... specs) {
    using in = dims<Dims...>;
    auto layers = detail::build_chain<T, in>(boost::hana::make_tuple(specs...));
    static_assert(sizeof...(Specs) > 0, "nn::sequential: give at least one layer after the input");
    return sequential_model<T, in, decltype(layers)>(std::move(layers));
}

/// Builds a float network: `auto net = nn::sequential(nn::input<784>, nn::dense<256>, nn::relu,
/// nn::dense<10>);`.
template <std::size_t... Dims, class... Specs>
auto sequential(input_spec<Dims...> in, const Specs&... specs) {
    return sequential_of<float>(in, specs...);
}

}  // namespace dendrite::inline DENDRITE_TARGET::nn
