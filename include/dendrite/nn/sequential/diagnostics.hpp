#pragma once
// The compile-time diagnostics of nn::sequential. Each problem is one static_assert whose
// template arguments carry the facts (the compiler prints them with the values filled in):
// layer_number<3>, the spec's type, expects_inputs<200>, receives_inputs<256>...

#include <array>
#include <cstddef>
#include <type_traits>

#include "dendrite/config.hpp"
#include "dendrite/nn/kind.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn::detail {

// The names in a shape diagnostic.
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
template <std::size_t G>
struct groups {};
template <std::size_t C>
struct in_channels {};
template <std::size_t C>
struct out_channels {};
template <std::size_t K, std::size_t P>
struct window_and_padding {};
template <class... D>
struct branch_outputs {};

/// The text of a rejected option, as a template argument.
template <std::size_t N>
struct option_text {
    char text[N]{};
    constexpr option_text(const char* s) {  // NOLINT: built from a kind's message
        for (std::size_t i = 0; i + 1 < N && s[i]; ++i)
            text[i] = s[i];
    }
};

template <class... Facts>
inline constexpr bool never = false;

template <class Index, class Layer, class Expected, class Received>
struct check_input_size;
template <std::size_t I, class Layer, std::size_t E, std::size_t R>
struct check_input_size<layer_number<I>, Layer, expects_inputs<E>, receives_inputs<R>> {
    static_assert(
        E == R,
        "nn::sequential: input size mismatch: the layer at layer_number<i> (its position in the "
        "list, the input being 0), shown above with its type, expects_inputs<n> but "
        "receives_inputs<m>");
    static constexpr bool value = true;
};

template <class Index, class Layer, class Received>
struct reject_image_input {
    static_assert(never<Index, Layer, Received>,
                  "nn::sequential: the layer at layer_number<i>, shown above with its type, works "
                  "on flat [features] samples but receives<dims<channels, height, width>>; put "
                  "nn::flatten (or nn::global_avg_pool2d) before it");
    static constexpr bool value = true;  // the static_assert above is the one diagnostic
};

template <class Index, class Layer, class Received>
struct reject_sequence_input {
    static_assert(never<Index, Layer, Received>,
                  "nn::sequential: the layer at layer_number<i>, shown above with its type, works "
                  "on flat [features] samples but receives<dims<steps, features>>, a sequence; "
                  "put nn::last (or nn::flatten) before it");
    static constexpr bool value = true;  // the static_assert above is the one diagnostic
};

template <class Index, class Layer, class Received>
struct reject_non_sequence_input {
    static_assert(never<Index, Layer, Received>,
                  "nn::sequential: the layer at layer_number<i>, shown above with its type, works "
                  "on sequences [steps, features] but receives<dims<...>> that is not one; start "
                  "the network with nn::input<Steps, Features>, or ids nn::input<Steps> and "
                  "nn::embedding");
    static constexpr bool value = true;  // the static_assert above is the one diagnostic
};

template <class Index, class Layer, class Received>
struct reject_flat_input {
    static_assert(never<Index, Layer, Received>,
                  "nn::sequential: the layer at layer_number<i>, shown above with its type, works "
                  "on [channels, height, width] samples but receives<dims<features>>; start the "
                  "network with nn::input<C, H, W>");
    static constexpr bool value = true;  // the static_assert above is the one diagnostic
};

template <class Index, class Layer, class Groups, class In, class Out>
struct reject_groups {
    static_assert(never<Index, Layer, Groups, In, Out>,
                  "nn::conv2d: at layer_number<i>, groups<g> must divide both in_channels<c> and "
                  "out_channels<o>");
    static constexpr bool value = true;  // the static_assert above is the one diagnostic
};

template <class Index, class Layer, class Received, class Window>
struct reject_window {
    static_assert(never<Index, Layer, Received, Window>,
                  "nn::sequential: the window of the layer at layer_number<i>, shown above with "
                  "its type, is larger than its padded input receives<dims<channels, height, "
                  "width>> (window_and_padding<kernel, padding>)");
    static constexpr bool value = true;  // the static_assert above is the one diagnostic
};

template <option_text What>
struct because {};

template <class Index, class Layer, option_text What>
struct reject_options {
    static_assert(never<Index, Layer, because<What>>,
                  "nn::sequential: the options of the layer at layer_number<i>, shown above with "
                  "its type, are rejected: option_text says why");
    static constexpr bool value = true;  // the static_assert above is the one diagnostic
};

/// One static_assert naming what the shape rule of Spec's kind finds wrong with the layer at
/// position Index receiving InDims; true (and nothing said) when it is fine.
template <std::size_t Index, kind_spec Spec, class InDims>
constexpr bool report_layer_output() {
    using I = layer_number<Index>;
    constexpr layer_output out =
        Spec::kind::output(static_options_of<Spec>(), sample_dims_of<InDims>);
    constexpr std::array<std::size_t, 3> v = out.values;
    if constexpr (out.problem == layer_problem::needs_features && InDims::rank == 2)
        return reject_sequence_input<I, Spec, receives<InDims>>::value;
    else if constexpr (out.problem == layer_problem::needs_features)
        return reject_image_input<I, Spec, receives<InDims>>::value;
    else if constexpr (out.problem == layer_problem::needs_sequence)
        return reject_non_sequence_input<I, Spec, receives<InDims>>::value;
    else if constexpr (out.problem == layer_problem::needs_image)
        return reject_flat_input<I, Spec, receives<InDims>>::value;
    else if constexpr (out.problem == layer_problem::input_size)
        return check_input_size<I, Spec, expects_inputs<v[0]>, receives_inputs<v[1]>>::value;
    else if constexpr (out.problem == layer_problem::groups)
        return reject_groups<I, Spec, groups<v[0]>, in_channels<v[1]>, out_channels<v[2]>>::value;
    else if constexpr (out.problem == layer_problem::window_too_large)
        return reject_window<I, Spec, receives<InDims>, window_and_padding<v[0], v[1]>>::value;
    else if constexpr (out.problem == layer_problem::options)
        return reject_options<I, Spec, option_text<64>(out.message)>::value;
    else
        return true;
}

template <class Index, class Layer, class Expected, class Received>
struct check_same_dims;
template <std::size_t I, class Layer, class E, class R>
struct check_same_dims<layer_number<I>, Layer, expects<E>, receives<R>> {
    static_assert(std::is_same_v<E, R>,
                  "nn::residual: the body of layer_number<i> must give the shape it receives: "
                  "expects<dims<...>> (its output) but receives<dims<...>>");
    static constexpr bool value = true;
};

template <class Index, class Branches>
struct check_equal_branches;
template <std::size_t I, class D0, class... D>
struct check_equal_branches<layer_number<I>, branch_outputs<D0, D...>> {
    static_assert((std::is_same_v<D0, D> && ...),
                  "nn::add: the branches of layer_number<i> give different shapes (branch_outputs "
                  "above); every branch of a sum must give the same");
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
                  "(branch_outputs above): flat outputs join along the features, images along the "
                  "channels, with equal height and width");
    static constexpr bool value = true;
};

}  // namespace dendrite::inline DENDRITE_TARGET::nn::detail
