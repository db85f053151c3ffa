#pragma once
// A layer kind: everything the library knows about one kind of layer, written once, in the
// layer's own header (nn/layers/<kind>.hpp). From it the compile-time nn::sequential checks shapes
// and builds the layer, the run-time nn::network parses "dense:256" and {"type": "dense",
// "units": 256} and builds the same layer, and summaries, pictures and checkpoints name it.
// docs/adding-a-layer.md walks through writing one.
//
//     struct dropout_kind {
//         static constexpr const char* name = "dropout";    // "dropout:0.2"
//         using options = dropout_options;                 // what a description sets
//         static constexpr auto arguments() {              // "p" is also the JSON key
//             return std::tuple{argument("p", &dropout_options::p).required()};
//         }
//         static constexpr layer_output output(const options&, const sample_dims& in);
//         template <class T>
//         static dropout_layer<T> make(const options&, const sample_dims& in);
//     };

#include <array>
#include <concepts>
#include <cstddef>
#include <tuple>
#include <type_traits>

#include "dendrite/config.hpp"
#include "dendrite/nn/dims.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// The extents of one sample as a value: [features] (rank 1), a sequence [steps, features]
/// (rank 2) or an image [channels, height, width] (rank 3). What a kind's shape rule reads and
/// gives, at compile time and at run time alike.
struct sample_dims {
    std::size_t rank = 1;
    std::array<std::size_t, 3> extents{};

    static constexpr sample_dims features(std::size_t n) noexcept { return {1, {n, 0, 0}}; }
    static constexpr sample_dims sequence(std::size_t steps, std::size_t features) noexcept {
        return {2, {steps, features, 0}};
    }
    static constexpr sample_dims image(std::size_t c, std::size_t h, std::size_t w) noexcept {
        return {3, {c, h, w}};
    }
    constexpr bool is_image() const noexcept { return rank == 3; }
    constexpr bool is_sequence() const noexcept { return rank == 2; }
    constexpr std::size_t channels() const noexcept { return extents[0]; }
    constexpr std::size_t height() const noexcept { return extents[1]; }
    constexpr std::size_t width() const noexcept { return extents[2]; }
    constexpr std::size_t steps() const noexcept { return extents[0]; }
    /// Features per position: of the sample, or of each step of a sequence.
    constexpr std::size_t features_per_step() const noexcept {
        return rank == 2 ? extents[1] : extents[0];
    }
    /// Values per sample.
    constexpr std::size_t size() const noexcept {
        return rank == 3   ? extents[0] * extents[1] * extents[2]
               : rank == 2 ? extents[0] * extents[1]
                           : extents[0];
    }
    friend constexpr bool operator==(const sample_dims&, const sample_dims&) = default;
};

/// sample_dims of the compile-time extents D (dims<784>, dims<64, 128>, dims<1, 28, 28>).
template <class D>
inline constexpr sample_dims sample_dims_of =
    D::rank == 3
        ? sample_dims::image(D::extents[0], D::extents[D::rank - 2], D::extents[D::rank - 1])
    : D::rank == 2 ? sample_dims::sequence(D::extents[0], D::extents[D::rank - 1])
                   : sample_dims::features(D::size);

namespace detail {
template <sample_dims S>
auto dims_type() {
    if constexpr (S.rank == 3)
        return dims<S.extents[0], S.extents[1], S.extents[2]>{};
    else if constexpr (S.rank == 2)
        return dims<S.extents[0], S.extents[1]>{};
    else
        return dims<S.extents[0]>{};
}
}  // namespace detail

/// The compile-time extents of a sample_dims value: dims_of<sample_dims::features(10)> is
/// dims<10>.
template <sample_dims S>
using dims_of = decltype(detail::dims_type<S>());

/// Why a layer cannot take its input or its options.
enum class layer_problem {
    none,
    needs_features,    ///< works on [features] but receives an image (or a sequence)
    needs_image,       ///< works on [channels, height, width] but receives features
    needs_sequence,    ///< works on a sequence [steps, features] but receives something else
    input_size,        ///< values = {expected, received} features
    window_too_large,  ///< the window does not fit the padded input; values = {kernel, padding}
    groups,            ///< values = {groups, in channels, out channels}: groups must divide both
    options,           ///< the options themselves are wrong; `message` says how
};

/// What a kind's shape rule gives: the output's extents, or why there is none.
struct layer_output {
    sample_dims dims{};
    layer_problem problem = layer_problem::none;
    std::array<std::size_t, 3> values{};
    const char* message = nullptr;

    constexpr layer_output() = default;
    constexpr layer_output(const sample_dims& d) noexcept : dims(d) {}  // NOLINT: a result
    constexpr layer_output(layer_problem p, std::array<std::size_t, 3> v = {},
                           const char* what = nullptr) noexcept
        : problem(p), values(v), message(what) {}

    constexpr bool ok() const noexcept { return problem == layer_problem::none; }

    static constexpr layer_output needs_features() noexcept {
        return {layer_problem::needs_features};
    }
    static constexpr layer_output needs_image() noexcept { return {layer_problem::needs_image}; }
    static constexpr layer_output needs_sequence() noexcept {
        return {layer_problem::needs_sequence};
    }
    static constexpr layer_output wrong_input_size(std::size_t expected,
                                                   std::size_t received) noexcept {
        return {layer_problem::input_size, {expected, received, 0}};
    }
    static constexpr layer_output window_too_large(std::size_t kernel,
                                                   std::size_t padding) noexcept {
        return {layer_problem::window_too_large, {kernel, padding, 0}};
    }
    static constexpr layer_output groups_do_not_divide(std::size_t groups, std::size_t in,
                                                       std::size_t out) noexcept {
        return {layer_problem::groups, {groups, in, out}};
    }
    /// Options that no input could make right: `what` is a sentence about them.
    static constexpr layer_output bad_options(const char* what) noexcept {
        return {layer_problem::options, {}, what};
    }
};

/// One argument of a kind's description: its name (the JSON key; its position in "kind:a:b" is
/// its place in the kind's `arguments`) and the member of the options it sets. Whole-number
/// members take whole numbers of at least `least()` (1 unless said otherwise), bool members 0/1
/// (JSON true/false), double members any finite number; an argument left out keeps the member's
/// default unless it is required.
template <class Options, class Member>
struct argument_binding {
    const char* name;
    Member Options::*member;
    bool is_required = false;
    std::size_t minimum = 1;

    /// The description must give this argument.
    constexpr argument_binding required() const noexcept {
        argument_binding a = *this;
        a.is_required = true;
        return a;
    }
    /// A whole number of at least n (0 for a padding).
    constexpr argument_binding at_least(std::size_t n) const noexcept {
        argument_binding a = *this;
        a.minimum = n;
        return a;
    }
};

/// `argument("units", &dense_options::units).required()`.
template <class Options, class Member>
constexpr argument_binding<Options, Member> argument(const char* name,
                                                     Member Options::*member) noexcept {
    static_assert(std::is_same_v<Member, std::size_t> || std::is_same_v<Member, bool> ||
                      std::is_same_v<Member, double>,
                  "nn::argument: an option set from a description is a std::size_t, a bool or a "
                  "double");
    return {name, member};
}

/// Another name of a kind in run-time descriptions, optionally presetting one argument:
/// {"conv_no_bias", "bias", 0}, {"maxpool"}.
struct kind_alias {
    const char* name;
    const char* argument = nullptr;
    double value = 0;
};

/// A kind of layer (see the top of this header and docs/adding-a-layer.md):
/// - `name`: its name in run-time descriptions and the stem of its parameters' names;
/// - `options`: a literal type with default member initialisers, what a description sets;
/// - `arguments()`: a std::tuple of `argument(...)` bindings, in positional order (a function, so
///   that only the run-time builders instantiate it);
/// - `output(options, sample_dims in)`: the output's extents or why there are none (constexpr:
///   nn::sequential evaluates it while compiling);
/// - optionally `aliases`: a std::array of kind_alias;
/// - `make<T>(options, sample_dims in)`: the layer, for an input `output` accepted; a kind whose
///   layer is another type for images also has `make_image<T>(options, in)`.
template <class K>
concept layer_kind = requires(const typename K::options& o, const sample_dims& in) {
    { K::name } -> std::convertible_to<const char*>;
    K::arguments();
    { K::output(o, in) } -> std::same_as<layer_output>;
};

/// A list of kinds: what nn::builtin_layer_kinds is.
template <class... K>
struct kind_list {};

/// A layer of kind K whose options are fixed while compiling: what nn::sequential needs of every
/// option that changes the output's shape. `dense_spec<256>` derives from one, so that
/// diagnostics name it.
template <class K, typename K::options Options>
struct fixed_layer {
    using kind = K;
    static constexpr typename K::options options = Options;
};

/// A layer of kind K whose options are run-time values that do not change the output's shape
/// (a dropout probability, a normalisation's epsilon): `nn::dropout(0.2)`.
template <class K>
struct valued_layer {
    using kind = K;
    typename K::options options{};
};

/// A spec of nn::sequential that names a kind: fixed_layer, valued_layer, or a type derived from
/// one.
template <class S>
concept kind_spec = requires {
    typename S::kind;
}
&&layer_kind<typename S::kind>;

/// The options of spec `s`.
template <kind_spec S>
constexpr typename S::kind::options options_of(const S& s) noexcept {
    return s.options;
}

/// The options of S as far as the compiler knows them: all of them for a fixed_layer, the
/// defaults (which must not change the output's shape) for a valued_layer.
template <kind_spec S>
constexpr typename S::kind::options static_options_of() noexcept {
    if constexpr (!std::is_member_object_pointer_v<decltype(&S::options)>)
        return S::options;
    else
        return {};
}

}  // namespace dendrite::inline DENDRITE_TARGET::nn
