#pragma once
// The layer concept, and what the library does for layers that only declare their parameters.

#include <concepts>
#include <string>
#include <tuple>
#include <type_traits>

#include "dendrite/autodiff/leaves.hpp"
#include "dendrite/config.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/nn/init.hpp"
#include "dendrite/nn/parameter.hpp"
#include "dendrite/nn/reflect.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// A layer maps a var<T> to a var<T> on the context's tape: `forward(const context&, const
/// var<T>&)`. Everything else is optional and found by the library:
/// - parameters: `for_each_parameter(f)` if present, else every `nn::parameter<T>` member of an
///   aggregate struct (found by reflection: no registration code);
/// - `init(rng&)` if present, else rank >= 2 parameters get Glorot-uniform values and others keep
///   the values their constructor gave (biases 0, a learnable slope its chosen start);
/// - `describe()` for summaries, `for_each_buffer(f(name, tensor&))` for non-trained state saved
///   in checkpoints (running statistics).
/// A layer used in nn::sequential also states `static constexpr std::size_t in_features,
/// out_features` (checked at compile time), unless the library builds it from a spec.
template <class L, class T>
concept layer = requires(L& l, const context& ctx, const var<T>& x) {
    { l.forward(ctx, x) } -> std::convertible_to<var<T>>;
};

template <class L>
concept has_parameter_visitor = requires(L& l) {
    l.for_each_parameter([](auto&) {});
};

/// Calls f(parameter&) for every parameter of layer l.
template <class L, class F>
void for_each_parameter(L& l, F&& f) {
    if constexpr (has_parameter_visitor<L>) {
        l.for_each_parameter(f);
    } else {
        static_assert(
            std::is_aggregate_v<L>,
            "nn: a custom layer's parameters are found by reflection only in an aggregate struct "
            "(no "
            "user-declared constructor); give the struct default member initialisers instead, or a "
            "member template <class F> void for_each_parameter(F&& f) calling f on each parameter");
        detail::for_each_field(l, [&](auto& field) {
            using M = std::remove_cvref_t<decltype(field)>;
            if constexpr (requires { typename M::value_type; } &&
                          std::is_same_v<M, nn::parameter<typename M::value_type>>)
                f(field);
        });
    }
}

/// Initialises layer l: its own init(rng&) if it has one, else the default described above.
template <class L>
void init_layer(L& l, rng& g) {
    if constexpr (requires { l.init(g); }) {
        l.init(g);
    } else {
        for_each_parameter(l, [&](auto& p) {
            if (p.value.rank() >= 2) init::glorot_uniform(p.value, g);
        });
    }
}

/// "what it is" for summaries.
template <class L>
std::string describe_layer(const L& l) {
    if constexpr (requires { l.describe(); })
        return l.describe();
    else
        return "custom layer";
}

/// Records parameters on the context's tape for a custom layer's forward:
/// `auto [w, b] = nn::bind(ctx, weight, bias);`.
template <class... P>
auto bind(const context& ctx, P&... params) {
    return std::make_tuple(dendrite::parameter(ctx.tape, params.value, params.grad)...);
}

}  // namespace dendrite::inline DENDRITE_TARGET::nn
